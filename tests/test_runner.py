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
from rnnbook.claims import control, evidence
report = claims.Report(ctx, title="Miniature")
report.claim(
    "C1", "sum is right", kind="empirical", paper=6,
    checks=[
        evidence("total", "==", 6, tol=0),
        control("total_shuffled", of="total", what="off by one"),
    ],
)

# %%
time.sleep(P["sleep"])
SHOULD_FAIL = False
if SHOULD_FAIL:
    raise ValueError("this chapter was told to fail")

# %% tags=["nbval-check-output"]
print(sum(range(P["n"] + 1)))

# %%
print("a printed number:", 0.125)

# %% [markdown]
# Some prose.

# %%
n = P["n"]
report.measure("C1", total=sum(range(n + 1)), total_shuffled=sum(range(n)))
report.table()

# %%
report.tolerances("../../data/a98_variation.json")

# %%
print(report.write().name)
"""
)


def make_book(tmp_path: Path, source: str = CHAPTER) -> Path:
    (tmp_path / "lib").mkdir()
    (tmp_path / "lib" / "rnnbook").symlink_to(ROOT / "lib" / "rnnbook")
    (tmp_path / "book" / "core").mkdir(parents=True)
    (tmp_path / "book" / "index.md").write_text("# Index\n")
    (tmp_path / "book" / "core" / "a98_mini.py").write_text(source)
    (tmp_path / "data").mkdir()
    rows = [
        {
            "claim": "C1",
            "check": name,
            "role": role,
            "values": {},
            "verdicts": {},
            "thread_delta": 0,
            "seed_delta": 0,
        }
        for name, role in (("total", "evidence"), ("total_shuffled", "control"))
    ]
    (tmp_path / "data" / "a98_variation.json").write_text(json.dumps({"chapter": "a98", "checks": rows}))
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
    runner.write_status(book)
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
    # the kernel's CPU time is counted (a child process that ran Python for a while)
    assert 0 < res["cpu_s"] and set(res["load"]) == {"before", "after"}
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
    # aliased, parenthesised, multi-line and indirect imports do not escape the hash
    assert runner.imported_modules("import rnnbook.c as cc\n", pkg) == {"c"}
    assert runner.imported_modules("from rnnbook import (\n    a,\n    c as cc,\n)\n", pkg) == {"a", "c"}
    assert runner.imported_modules("from rnnbook.d import z as zz\n", pkg) == {"d"}
    assert runner.imported_modules("import importlib\nm = importlib.import_module('rnnbook.c')\n", pkg) == {
        "c"
    }
    assert runner.imported_modules("import rnnbook\n", pkg) == {"a", "b", "c", "d"}
    assert runner.imported_modules("if True:\n    from rnnbook import d\n", pkg) == {"d"}
    # the book machine's command line is not a dependency, even where a docstring names it
    (pkg / "runner.py").write_text("w = 4\n")
    assert runner.imported_modules(
        '"""python -m rnnbook.runner run a01"""\nfrom rnnbook import a\n', pkg
    ) == {"a"}
    assert runner.imported_modules("import rnnbook\n", pkg) == {"a", "b", "c", "d"}


def test_chapter_data_files_make_its_notebook_stale(executed):
    ch = runner.find_chapter("a98", executed)
    before = runner.data_hash(executed, ch)
    (executed / "data" / "a99_other.json").write_text("{}")  # another chapter's file
    assert runner.data_hash(executed, ch) == before
    ckpt = executed / "data" / "a98_checkpoint.json"
    ckpt.write_text('{"steps": 1}')
    assert runner.data_hash(executed, ch) != before
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


# ----------------------------------------------------------------------------- tampering
# Each edit below once passed `make test`. A copy of the tiny book, tampered with, must fail
# the book checks with a one-line error naming what is wrong.


def _edit_json(path: Path, edit) -> None:
    data = json.loads(path.read_text())
    edit(data)
    path.write_text(json.dumps(data, indent=2) + "\n")


def _edit_nb(path: Path, edit) -> None:
    nb = nbformat.read(path, as_version=4)
    edit(nb)
    nbformat.write(nb, path)


def _printed_number(nb):
    cell = next(c for c in nb.cells if c.cell_type == "code" and "a printed number" in c.source)
    cell.outputs[0]["text"] = cell.outputs[0]["text"].replace("0.125", "0.925")


def _tag_moved_to_markdown(nb):
    for c in nb.cells:
        tags = c.metadata.get("tags", [])
        if "nbval-check-output" in tags:
            tags.remove("nbval-check-output")
    next(c for c in nb.cells if c.cell_type == "markdown" and "prose" in c.source).metadata["tags"] = [
        "nbval-check-output"
    ]


def _skip_tag(nb):
    next(c for c in nb.cells if "nbval-check-output" in c.metadata.get("tags", [])).metadata["tags"].append(
        "nbval-skip"
    )


def _check(data, **kw):
    data["claims"][0]["checks"][0].update(kw)


def _append_code(book: Path, line: str) -> None:
    py = book / "book/core/a98_mini.py"
    py.write_text(py.read_text() + f"\n# %%\n{line}\n")


def _fabricated_full(book: Path) -> None:
    data = json.loads((book / "results/a98.ci.json").read_text())
    data["profile"], data["device"] = "full", "NVIDIA H100"
    data.pop("stamp")
    (book / "results/a98.full.json").write_text(json.dumps(data))


def _copied_stamp_full(book: Path) -> None:
    data = json.loads((book / "results/a98.ci.json").read_text())
    data["profile"], data["device"] = "full", "NVIDIA H100"
    (book / "results/a98.full.json").write_text(json.dumps(data))


RESULTS = "results/a98.ci.json"
NOTEBOOK = "book/core/a98_mini.ipynb"
TAMPERS = {
    "printed number": (NOTEBOOK, _printed_number, "outputs were edited"),
    "long code line": (None, lambda b: _append_code(b, "x = " + "1 + " * 30 + "1"), "scroll sideways"),
    "tag moved to markdown": (NOTEBOOK, _tag_moved_to_markdown, "tags differ"),
    "nbval-skip added": (NOTEBOOK, _skip_tag, "tags differ"),
    "tolerance widened": (RESULTS, lambda d: _check(d, tol=1e9), "edited after execution"),
    "value edited": (RESULTS, lambda d: _check(d, value=7), "edited after execution"),
    "boolean edited": (RESULTS, lambda d: _check(d, passed=False), "says otherwise"),
    "rule edited": (RESULTS, lambda d: d["claims"][0].update(rule="anything"), "edited after execution"),
    "paper edited": (RESULTS, lambda d: d["claims"][0].update(paper=7), "edited after execution"),
    "text edited": (RESULTS, lambda d: d["claims"][0].update(text="more"), "edited after execution"),
    "seeds edited": (RESULTS, lambda d: d.update(seeds=[5]), "edited after execution"),
    "device edited": (RESULTS, lambda d: d.update(device="NVIDIA H100"), "edited after execution"),
    "wall_s edited": (RESULTS, lambda d: d.update(wall_s=1.0), "edited after execution"),
    "verdict edited": (RESULTS, lambda d: d["claims"][0].update(verdict="partly"), "its checks give"),
    "fabricated full results": (None, _fabricated_full, "a98.full.json: missing key 'stamp'"),
    "full results with a copied stamp": (None, _copied_stamp_full, "a98.full.json: edited after execution"),
}


@pytest.mark.parametrize("name", list(TAMPERS))
def test_a_tampered_book_fails_its_checks_with_one_line(executed, tmp_path, name):
    import shutil

    book = tmp_path / "book"
    shutil.copytree(executed, book, symlinks=True)
    assert runner.check_book(book) == []
    target, edit, expected = TAMPERS[name]
    if target is None:
        edit(book)
    elif target.endswith(".ipynb"):
        _edit_nb(book / target, edit)
    else:
        _edit_json(book / target, edit)
    runner.write_status(book)  # as a tamperer would: the status page agrees with the edit
    problems = runner.check_book(book)
    assert any(expected in p for p in problems), (name, problems)
    assert all("\n" not in p for p in problems)
    if name == "printed number":  # and the command line says it in one line per problem
        r = run_cli(book, "check")
        assert r.returncode == 1 and expected in r.stderr
        assert all(line.startswith("error: ") for line in r.stderr.strip().splitlines())


def test_the_claims_table_must_agree_with_the_results(executed, tmp_path):
    import shutil

    book = tmp_path / "book"
    shutil.copytree(executed, book, symlinks=True)
    ch = runner.find_chapter("a98", book)
    nb = nbformat.read(ch.ipynb, as_version=4)
    for cell in nb.cells:
        for out in cell.get("outputs", []):
            if "rnnbook" in out.get("metadata", {}):
                out["metadata"]["rnnbook"]["claims"]["C1"] = "not reproduced"
    assert any("claims table disagrees" in p for p in runner.notebook_problems(nb, ch))


def test_profile_only_code_is_found(tmp_path):
    """Code that only the full profile runs: a branch on the profile, or a ci size of zero/empty."""
    from rnnbook.machine.checks import profile_only_problems
    from rnnbook.machine.layout import Chapter

    (tmp_path / "book" / "core").mkdir(parents=True)
    ch = Chapter("a97", "book/core/a97_x", tmp_path)
    ch.py.write_text(
        "P = ctx.pick(ci=dict(n=4, arms=[], iters=0, lr=0.1), full=dict(n=64, arms=['gru'], iters=9, lr=0.1))\n"
        "extra = runtime.pick(ctx.profile, ci=False, full=True)\n"
        "if ctx.profile == 'full':\n    report.measure('C1', x=1)\n"
        "y = 3 if P['n'] > 8 else 4\n"  # a size test: allowed
        "z = [a for a in P['arms'] if a != 'full']\n"
        "for _ in range(P['iters']):\n    pass\n"
    )
    found = profile_only_problems(ch)
    assert any("sets arms to []" in p for p in found)
    assert any("sets iters to 0" in p for p in found)
    assert any("line 2 sets to False" in p for p in found)
    assert any("line 3 branches on the profile" in p for p in found)
    assert any("line 6 branches on the profile" in p for p in found)  # the 'full' string in a filter
    assert len(found) == 5, found
    ch.py.write_text(
        "P = ctx.pick(ci=dict(n=4, iters=2), full=dict(n=64, iters=9))\nif P['iters']:\n    pass\n"
    )
    assert profile_only_problems(ch) == []


def test_full_runs_resume_and_estimate_first(tmp_path):
    """`runner full` prints an estimate, runs what has no current full results, then skips it."""
    book = make_book(tmp_path)
    r = run_cli(book, "full")
    assert r.returncode == 2 and "BOOK_ALLOW_CPU_FULL=1" in r.stderr  # no GPU, not allowed
    (book / "data" / "full_profile_times.json").write_text(
        json.dumps({"a98": {"seconds": 120, "machine": "a test", "how": "made up"}})
    )
    r = run_cli(book, "full", env={"BOOK_ALLOW_CPU_FULL": "1"})
    assert r.returncode == 0, r.stderr + r.stdout
    first = r.stdout.splitlines()
    assert first[0] == "a98: about 2 min (made up, a test)"
    assert first[1].startswith("1 chapter(s) to run, estimated 2 min")
    res = json.loads((book / "results/a98.full.json").read_text())
    assert res["profile"] == "full" and res["claims"][0]["checks"][0]["value"] == 465
    # the full notebook lies beside its results; the page keeps its ci notebook
    full_nb = nbformat.read(book / "results/a98.full.ipynb", as_version=4)
    assert full_nb.metadata["book"]["profile"] == "full"
    assert not (book / "book/core/a98_mini.ipynb").exists()  # no ci run yet: no page notebook either
    r = run_cli(book, "full", "a98", env={"BOOK_ALLOW_CPU_FULL": "1"})
    assert "a98: results/a98.full.json is current; skipped" in r.stdout
    assert "nothing to run" in r.stdout


def test_full_runs_as_submitit_jobs(tmp_path):
    """The cluster path, through submitit's local executor: one job per chapter, same files."""
    pytest.importorskip("submitit")
    book = make_book(tmp_path)
    r = run_cli(book, "full", "a98", "--executor", "local", env={"BOOK_ALLOW_CPU_FULL": "1"})
    assert r.returncode == 0, r.stderr + r.stdout
    assert "a98: about ? (no estimate: never run)" in r.stdout
    assert "submitted as job" in r.stdout and "[a98] done:" in r.stdout
    res = json.loads((book / "results/a98.full.json").read_text())
    assert res["profile"] == "full" and res["stamp"]["results_sha256"]
    assert runner.results_problems(book / "results/a98.full.json", runner.find_chapter("a98", book)) == []


def test_chapter_page_opens_with_both_profiles(executed, tmp_path):
    """The Sphinx extension puts the chapter's ci and full verdicts at the top of its page,
    from the same results files as the status page; a new full result shows without
    re-executing the chapter, and an incremental build picks it up."""
    import shutil

    from sphinx.application import Sphinx

    from rnnbook.machine.status import profiles_html

    book = tmp_path / "book"
    shutil.copytree(executed, book, symlinks=True)
    ch = runner.find_chapter("a98", book)
    box = profiles_html(book, ch)
    ci = json.loads(ch.results("ci").read_text())
    assert ci["claims"][0]["verdict"] in box and "not run" in box
    assert f"{ci['wall_s']:.0f} s ({ci['cpu_s']:.0f} s CPU, load " in box

    def build() -> str:
        app = Sphinx(
            srcdir=str(book),
            confdir=None,
            outdir=str(book / "_build/html"),
            doctreedir=str(book / "_build/doctrees"),
            buildername="html",
            confoverrides={
                "extensions": ["myst_nb", "rnnbook.machine.sphinx_profiles"],
                "nb_execution_mode": "off",
                "exclude_patterns": ["_build", "**/*.py", "lib", "results", "data"],
                "root_doc": "book/index",
            },
            status=None,
            warning=None,
        )
        app.build()
        return (book / "_build/html/book/core/a98_mini.html").read_text()

    (book / "data" / "full_profile_times.json").write_text("{}")  # every dependency exists
    page = build()
    assert "This chapter in both profiles" in page and "not run" in page
    # a full run appears: same claims, another device; the next (incremental) build shows it
    full = {**ci, "profile": "full", "device": "cpu (2 threads, test)", "wall_s": 1234.0}
    full.update(cpu_s=2000.0, load={"before": 1.0, "after": 1.5})
    ch.results("full").write_text(json.dumps(full))
    page = build()
    assert "1234 s (2000 s CPU, load 1.0) on cpu (2 threads, test)" in page
    assert "this page shows the ci run" not in page
    (book / "results" / "a98.full.ipynb").write_text("{}")  # the full notebook kept aside
    assert "results/a98.full.ipynb</code> in the repository; this page shows the ci run" in profiles_html(
        book, ch
    )
    assert "This chapter in both profiles" not in (book / "_build/html/book/index.html").read_text()


def test_verdicts_that_change_with_the_seeds_are_shown(executed, tmp_path):
    """A claim whose verdict a variation run (other seeds) changes is marked on the status
    page, listed under its own heading, and named in the chapter's profile box; with a
    variation table that agrees, nothing is marked."""
    import shutil

    from rnnbook.machine.status import profiles_html, readme_table, status_markdown

    book = tmp_path / "book"
    shutil.copytree(executed, book, symlinks=True)
    ch = runner.find_chapter("a98", book)
    claim = json.loads(ch.results("ci").read_text())["claims"][0]
    table = book / "data" / "a98_variation.json"

    def write(other: str) -> None:
        row = {
            "claim": claim["id"],
            "check": claim["checks"][0]["name"],
            "role": "evidence",
            "values": {"threads=1": 1.0, "seeds=7": 0.0},
            "verdicts": {"threads=1": claim["verdict"], "seeds=7": other},
            "thread_delta": 0.0,
            "seed_delta": 1.0,
        }
        table.write_text(json.dumps({"chapter": "a98", "seed_sets": ["7"], "threads": [1], "checks": [row]}))
        # as if the chapter had run with this table (a chapter shows its own variation table)
        res = json.loads(ch.results("ci").read_text())
        res["stamp"]["data_sha256"] = runner.data_hash(book, ch)
        ch.results("ci").write_text(json.dumps(res))

    write(claim["verdict"])
    assert "No ci verdict changes" in status_markdown(book)
    assert "other seeds" not in profiles_html(book, ch)
    write("not reproduced")
    page = status_markdown(book)
    assert "## Verdicts that change with the seeds" in page
    assert f"| A98 {claim['id']} | {claim['verdict']} | seeds=7: not reproduced |" in page
    assert "±" in page and "1 verdict varying with seeds (not counted)" in readme_table(book)
    # counted under "varies", not under its verdict: the chapter's row reads 0 / 0 / 0 / 0 / 1
    row = next(line for line in page.splitlines() if line.startswith("| [A98]"))
    assert row.split(" | ")[1] == "0 / 0 / 0 / 0 / 1"
    assert "other seeds: seeds=7: not reproduced" in profiles_html(book, ch)


def test_an_unpublishable_run_keeps_its_notebook_for_inspection(tmp_path):
    """A run whose notebook fails the publishing checks (here: an absolute path in an output,
    as a warning's file name prints) changes nothing committed and keeps the executed notebook
    where the error message says."""
    book = make_book(tmp_path, CHAPTER.replace('print("a printed number:", 0.125)', 'print("/tmp/x.py:16")'))
    r = run_cli(book, "run", "a98", "--profile", "ci")
    assert r.returncode == 2 and "not publishable" in r.stderr and "absolute path" in r.stderr
    kept = book / "_build" / "runner" / "a98.failed.ipynb"
    assert kept.exists() and "/tmp/x.py:16" in kept.read_text()
    assert not (book / "results" / "a98.ci.json").exists()
    assert not (book / "book" / "core" / "a98_mini.ipynb").exists()
