"""The book machine on a miniature book: execution, atomicity, errors, checks.

These tests execute real (tiny) chapters with papermill in a temporary book that shares the
real library, so they take a few seconds each.
"""

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import nbformat
import pytest

from rnnbook import runner

ROOT = Path(__file__).resolve().parents[1]

HEADER = """# ---
# jupyter:
#   kernelspec:
#     display_name: Python 3
#     language: python
#     name: python3
# ---
"""

CHAPTER = (
    HEADER
    + """
# %% [markdown]
# # A98 · a miniature chapter

# %% tags=["hide-cell"]
import sys
if "google.colab" in sys.modules:
    pass

# %%
import time
from rnnbook import claims, runtime
ctx = runtime.setup("a98", default_seeds=[0])

# %% tags=["parameters"]
P = ctx.pick(ci=dict(n=3, sleep=0.0), full=dict(n=30, sleep=0.0))

# %%
report = claims.Report(ctx, title="Miniature")
report.claim("C1", "sum is right", paper=6, rule="exact", judge=lambda v: claims.REPRODUCED if v == 6 else claims.NOT_REPRODUCED)
time.sleep(P["sleep"])
SHOULD_FAIL = False
if SHOULD_FAIL:
    raise ValueError("this chapter was told to fail")

# %% tags=["nbval-check-output"]
print(sum(range(P["n"] + 1)))

# %%
report.measure("C1", sum(range(P["n"] + 1)))
print(report.write().name)
"""
)


def make_book(tmp_path: Path, source: str = CHAPTER) -> Path:
    (tmp_path / "lib").mkdir()
    (tmp_path / "lib" / "rnnbook").symlink_to(ROOT / "lib" / "rnnbook")
    (tmp_path / "book" / "core").mkdir(parents=True)
    (tmp_path / "book" / "index.md").write_text("# Index\n")
    (tmp_path / "book" / "core" / "a98_mini.py").write_text(source)
    (tmp_path / "_toc.yml").write_text(
        "format: jb-book\nroot: book/index\nchapters:\n  - file: book/core/a98_mini\n"
    )
    return tmp_path


def run_cli(book: Path, *args: str, env: dict | None = None) -> subprocess.CompletedProcess:
    full_env = {**os.environ, "BOOK_PROFILE": "", **(env or {})}
    return subprocess.run(
        [sys.executable, "-m", "rnnbook.runner", *args],
        cwd=book,
        env=full_env,
        capture_output=True,
        text=True,
        timeout=300,
    )


@pytest.fixture(scope="module")
def executed(tmp_path_factory) -> Path:
    book = make_book(tmp_path_factory.mktemp("book"))
    result = run_cli(book, "run", "a98", "--profile", "ci")
    assert result.returncode == 0, result.stderr + result.stdout
    return book


def test_run_writes_stamped_notebook_and_results(executed):
    nb = nbformat.read(executed / "book/core/a98_mini.ipynb", as_version=4)
    meta = nb.metadata["book"]
    assert meta["profile"] == "ci" and meta["chapter"] == "a98" and meta["wall_s"] > 0
    ch = runner.find_chapter("a98", executed)
    assert meta["source_sha256"] == runner.source_hash(ch)
    assert meta["library_sha256"] == runner.library_hash(executed, ch)
    assert "papermill" not in nb.metadata
    assert not any(
        c.cell_type == "code" and "injected-parameters" in c.metadata.get("tags", []) for c in nb.cells
    )
    res = json.loads((executed / "results/a98.ci.json").read_text())
    assert res["claims"][0]["verdict"] == "reproduced" and res["wall_s"] == meta["wall_s"]
    assert runner.notebook_problems(nb, ch) == []
    assert runner.stale_chapters(executed) == []


def test_library_hash_follows_the_chapter_imports(tmp_path):
    pkg = tmp_path / "rnnbook"
    pkg.mkdir()
    (pkg / "__init__.py").write_text("")
    (pkg / "a.py").write_text("from rnnbook import b\n")
    (pkg / "b.py").write_text("x = 1\n")
    (pkg / "c.py").write_text("y = 2\n")
    (pkg / "d.py").write_text("z = 3\n")
    source = "from rnnbook import a\nimport rnnbook.d\nfrom rnnbook.missing import q\n"
    assert runner.imported_modules(source, pkg) == {"a", "d"}
    assert [p.name for p in runner.library_modules(source, pkg)] == ["a.py", "b.py", "d.py"]


def test_chapter_data_files_make_its_notebook_stale(executed):
    ch = runner.find_chapter("a98", executed)
    before = runner.library_hash(executed, ch)
    (executed / "data").mkdir(exist_ok=True)
    (executed / "data" / "a99_other.json").write_text("{}")  # another chapter's file
    assert runner.library_hash(executed, ch) == before
    ckpt = executed / "data" / "a98_checkpoint.json"
    ckpt.write_text('{"steps": 1}')
    assert runner.library_hash(executed, ch) != before
    assert [c.id for c in runner.stale_chapters(executed)] == ["a98"]
    ckpt.unlink()
    assert runner.stale_chapters(executed) == []


def test_cell_ids_are_stable(executed):
    ch = runner.find_chapter("a98", executed)
    ids = [c.id for c in runner.to_notebook(ch).cells]
    assert ids == [c.id for c in runner.to_notebook(ch).cells]
    assert ids == [c.id for c in nbformat.read(ch.ipynb, as_version=4).cells]
    assert len(set(ids)) == len(ids)


def test_checks_catch_stale_edited_and_broken_notebooks(executed):
    ch = runner.find_chapter("a98", executed)
    nb = nbformat.read(ch.ipynb, as_version=4)
    code = [c for c in nb.cells if c.cell_type == "code"]
    code[-1].source += "\n# edited by hand"
    code[1].execution_count = 7
    code[2].outputs.append(nbformat.v4.new_output("error", ename="ValueError", evalue="x", traceback=[]))
    code[3].outputs.append(nbformat.v4.new_output("stream", name="stdout", text="saved to /home/someone/x\n"))
    nb.metadata["book"]["library_sha256"] = "0" * 64
    (executed / "_config.yml").write_text("repository:\n  url: https://github.com/someone/else\n")
    try:
        problems = "\n".join(runner.notebook_problems(nb, ch))
    finally:
        (executed / "_config.yml").unlink()
    for expected in (
        "differ from",
        "in order",
        "error output",
        "absolute path",
        "library changed",
        "does not install from",
    ):
        assert expected in problems
    ch.py.write_text(ch.py.read_text() + "\n# %%\nprint(1)\n")
    try:
        assert runner.stale_chapters(executed) == [ch]
    finally:
        ch.py.write_text(CHAPTER)


def test_bad_input_gives_one_line_errors(executed):
    r = run_cli(executed, "run", "nope")
    assert r.returncode == 2 and "unknown chapter 'nope'; valid chapters: a98" in r.stderr
    r = run_cli(executed, "run", "a98", "--profile", "fast")
    assert r.returncode == 2 and "valid profiles: ci, full" in r.stderr
    r = run_cli(
        executed,
        "run",
        "a98",
        "--profile",
        "full",
        env={"CUDA_VISIBLE_DEVICES": "", "BOOK_ALLOW_CPU_FULL": ""},
    )
    assert r.returncode == 2 and "needs a GPU" in r.stderr and "PROFILE=ci" in r.stderr
    for r in (run_cli(executed, "run"),):
        assert "valid chapters" in r.stderr
    assert len(r.stderr.strip().splitlines()) == 1


def _snapshot(book: Path) -> dict[str, bytes]:
    return {p: (book / p).read_bytes() for p in ("book/core/a98_mini.ipynb", "results/a98.ci.json")}


def test_failing_chapter_leaves_committed_files_untouched(executed):
    before = _snapshot(executed)
    ch = runner.find_chapter("a98", executed)
    ch.py.write_text(CHAPTER.replace("SHOULD_FAIL = False", "SHOULD_FAIL = True"))
    try:
        r = run_cli(executed, "run", "a98", "--profile", "ci")
    finally:
        ch.py.write_text(CHAPTER)
    assert r.returncode == 2
    assert "failed in cell" in r.stderr and "ValueError: this chapter was told to fail" in r.stderr
    assert "SHOULD_FAIL = True" in r.stderr or "cell starts" in r.stderr
    assert _snapshot(executed) == before
    assert (executed / "_build/runner/a98.failed.ipynb").exists()


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGKILL])
def test_killed_run_leaves_committed_files_untouched(executed, sig):
    before = _snapshot(executed)
    ch = runner.find_chapter("a98", executed)
    ch.py.write_text(CHAPTER.replace("sleep=0.0), full", "sleep=60.0), full"))
    try:
        proc = subprocess.Popen(
            [sys.executable, "-m", "rnnbook.runner", "run", "a98", "--profile", "ci"],
            cwd=executed,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            env={**os.environ, "BOOK_PROFILE": ""},
            start_new_session=True,
        )
        deadline = time.time() + 60
        while time.time() < deadline and not list((executed / "_build/runner").glob("run-a98-*/*.ipynb")):
            time.sleep(0.2)
        time.sleep(1.0)
        os.killpg(proc.pid, sig)
        proc.wait(timeout=60)
    finally:
        ch.py.write_text(CHAPTER)
    assert proc.returncode != 0
    assert _snapshot(executed) == before


def test_bibliography_files_must_be_listed_and_keys_unique(tmp_path):
    (tmp_path / "book" / "bib").mkdir(parents=True)
    (tmp_path / "book" / "bib" / "a01.bib").write_text("@article{smith2020x,\n  title={A}\n}\n")
    (tmp_path / "book" / "bib" / "a02.bib").write_text("@misc{ smith2020x ,\n  title={B}\n}\n")
    (tmp_path / "_config.yml").write_text("bibtex_bibfiles:\n  - book/bib/a01.bib\n  - book/bib/a03.bib\n")
    problems = "\n".join(runner.bibliography_problems(tmp_path))
    assert "book/bib/a02.bib is not listed" in problems
    assert "lists book/bib/a03.bib, which does not exist" in problems
    assert "'smith2020x' is defined in book/bib/a01.bib and in book/bib/a02.bib" in problems
