"""rnnbook.languages: the generated language against a plain loop, and the stdlib texts."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch

from rnnbook import languages


def test_modular_recurrence_follows_its_rule_and_its_seed():
    x = languages.modular_recurrence(torch.Generator().manual_seed(1), 40, 12, 7, 0.0)
    assert x.shape == (40, 12) and x.dtype == torch.long
    assert 0 <= int(x.min()) and int(x.max()) < 7
    for row in x.tolist():  # the rule, one token at a time
        assert all(row[t] == (row[t - 1] + row[t - 2]) % 7 for t in range(2, 12))
    again = languages.modular_recurrence(torch.Generator().manual_seed(1), 40, 12, 7, 0.0)
    assert torch.equal(x, again)
    other = languages.modular_recurrence(torch.Generator().manual_seed(2), 40, 12, 7, 0.0)
    assert not torch.equal(x, other)


def test_noise_replaces_the_expected_share():
    x = languages.modular_recurrence(torch.Generator().manual_seed(0), 4000, 6, 7, 1.0)
    # every token after the first two is a uniform draw: it obeys the rule by chance, 1/7
    share = float(languages.obeys_recurrence(x, 2, 7).mean())
    assert abs(share - 1 / 7) < 0.02
    half = languages.modular_recurrence(torch.Generator().manual_seed(0), 4000, 6, 7, 0.5)
    assert abs(float(languages.obeys_recurrence(half, 2, 7).mean()) - (0.5 + 0.5 / 7)) < 0.03


def test_obeys_recurrence_against_a_loop():
    tok = torch.randint(0, 5, (3, 4, 9), generator=torch.Generator().manual_seed(3))
    got = languages.obeys_recurrence(tok, 3, 5)
    assert got.shape == (3, 4)
    for i in range(3):
        for j in range(4):
            row = tok[i, j].tolist()
            ok = [row[t] == (row[t - 1] + row[t - 2]) % 5 for t in range(3, 9)]
            assert got[i, j].item() == pytest.approx(sum(ok) / len(ok))
    with pytest.raises(ValueError):
        languages.obeys_recurrence(tok, 1, 5)


def test_stdlib_source_reads_listed_files_first_then_the_rest(tmp_path: Path):
    (tmp_path / "b.py").write_text("BBBB")
    (tmp_path / "a.py").write_text("AA")
    (tmp_path / "pkg").mkdir()
    (tmp_path / "pkg" / "__init__.py").write_text("PPP")
    text = languages.stdlib_source(["pkg.py", "b.py"], 100, stdlib=tmp_path)
    assert text == "PPP" + "BBBB" + "AA"
    assert languages.stdlib_source(["pkg.py", "b.py"], 5, stdlib=tmp_path) == "PPPBB"


def test_stdlib_source_of_this_python():
    text = languages.stdlib_source(["functools.py"], 3000)
    assert len(text) == 3000 and "functools" in text.lower()


def test_stdlib_docstrings_are_normalised():
    text = languages.stdlib_docstrings(["json"])
    assert text.startswith(" ".join(json.__doc__.split()[:3]).lower())
    assert set(text) <= languages.DOC_CHARACTERS | {"#"}
    assert "  " not in text and not any(c.isdigit() and c != "0" for c in text)
