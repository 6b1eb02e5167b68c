"""The A08 checkpoint in data/ was made by the chapter's current training code (A08).

The chapter records, with its checkpoint, a SHA-256 over the syntax trees (``ast.dump``) of the
cells tagged ``checkpoint-code`` (in order) and of ``rnnbook/transport.py``. This test recomputes that hash from
the chapter's source; if the recipe changed, the checkpoint must be retrained
(``A08_TRAIN_CHECKPOINT=1``) and committed again.
"""

import ast
import hashlib
import json
import re
from pathlib import Path

import numpy as np
import pytest

from rnnbook import transport

ROOT = Path(__file__).resolve().parents[1]
CHAPTER = ROOT / "book" / "related" / "a08_rnn_hmm_mechanisms.py"
META = ROOT / "data" / "a08_checkpoint.json"
WEIGHTS = ROOT / "data" / "a08_checkpoint.npz"


def code_hash(chapter_py: Path, transport_py: Path) -> str:
    h = hashlib.sha256()
    for cell in re.split(r"^# %%", chapter_py.read_text(), flags=re.M):
        head, _, body = cell.partition("\n")
        if "checkpoint-code" in head:
            h.update(ast.dump(ast.parse(body)).encode() + b"\0")
    h.update(ast.dump(ast.parse(transport_py.read_text())).encode())
    return h.hexdigest()


pytestmark = pytest.mark.skipif(not META.exists(), reason="no A08 checkpoint in data/")


def test_chapter_has_checkpoint_cells():
    heads = [c.partition("\n")[0] for c in re.split(r"^# %%", CHAPTER.read_text(), flags=re.M)]
    assert sum("checkpoint-code" in h for h in heads) >= 3


def test_recorded_code_hash_matches_the_chapter():
    meta = json.loads(META.read_text())
    assert meta["code_sha256"] == code_hash(CHAPTER, Path(transport.__file__)), (
        "the chapter's checkpoint-code cells or transport.py changed: retrain the checkpoint "
        "(A08_TRAIN_CHECKPOINT=1) and commit data/a08_checkpoint.*"
    )


def test_hash_detects_a_changed_recipe(tmp_path):
    changed = tmp_path / "a08.py"
    changed.write_text(CHAPTER.read_text().replace("lr=2e-3", "lr=3e-3", 1))
    assert code_hash(changed, Path(transport.__file__)) != code_hash(CHAPTER, Path(transport.__file__))


def test_hash_ignores_comments_and_formatting(tmp_path):
    text = CHAPTER.read_text().replace("def rnn_run(", "# a comment\ndef  rnn_run(", 1)
    changed = tmp_path / "a08.py"
    changed.write_text(text)
    assert code_hash(changed, Path(transport.__file__)) == code_hash(CHAPTER, Path(transport.__file__))


def test_checkpoint_loads_with_recorded_shapes_and_config():
    meta = json.loads(META.read_text())
    cfg = meta["config"]
    with np.load(WEIGHTS) as npz:
        for key, shape in meta["shapes"].items():
            assert list(npz[key].shape) == shape, key
            assert np.isfinite(npz[key]).all(), key
        assert npz["W_hh"].shape == (cfg["H"], cfg["H"])
        assert npz["W_ih"].shape == (cfg["H"], cfg["d"])
        assert npz["W_out"].shape == (cfg["K"], cfg["H"])
        assert list(npz["snapshot_steps"]) == [s for s in cfg["snapshots"] if s <= cfg["steps"]]
    assert meta["steps"] == cfg["steps"] and meta["seed"] == cfg["seed"]
    assert WEIGHTS.stat().st_size < 1_000_000
