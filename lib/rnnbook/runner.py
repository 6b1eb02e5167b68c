"""The book machine: execute chapters headlessly, stamp and check them, tabulate results.

Introduced in A01. A tool for the Makefile, not used by chapters::

    python -m rnnbook.runner run a01 [--profile ci|full]   # .py -> .ipynb -> papermill -> commit-ready files
    python -m rnnbook.runner stale                        # chapters whose notebook is out of date
    python -m rnnbook.runner run-stale                    # re-execute exactly those
    python -m rnnbook.runner check                        # the book checks (also run by pytest)
    python -m rnnbook.runner compare _build/ci-results    # fresh ci results vs committed results/
    python -m rnnbook.runner status [--check]             # book/status.md and the README table

Writes are atomic: the notebook and the results are executed into a scratch folder and moved
into place only when the whole chapter succeeded, so a failing or killed run leaves the
committed files byte-identical.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

PROFILES = ("ci", "full")
VERDICTS = (
    "reproduced",
    "partly",
    "not reproduced",
    "inconclusive",
    "not testable at this scale",
    "verified",
)
MAX_NOTEBOOK_BYTES = 3 * 1024 * 1024
RESULT_KEYS = ("chapter", "title", "profile", "device", "torch", "seeds", "wall_s", "claims")
CLAIM_KEYS = ("id", "text", "kind", "paper", "rule", "partial", "checks", "verdict")
ABSOLUTE_PATH = re.compile(r"(?<![\w.])(/work/|/home/|/root/|/tmp/|/content/|/Users/|[A-Z]:\\\\)")
# glibc returns freed memory to the OS eagerly and page-faults it back on the next training
# step; with these thresholds (1 GiB) small-model training runs 1.3-1.6x faster (measured in A01).
MALLOC_ENV = {"MALLOC_MMAP_THRESHOLD_": str(2**30), "MALLOC_TRIM_THRESHOLD_": str(2**30)}
# One instruction-set path on every x86-64 CPU: MKL (BLAS/LAPACK), ATen's vector kernels and
# oneDNN otherwise pick AVX-512 on Intel and AVX2 on AMD, and trained numbers drift apart.
CPU_ENV = {"MKL_CBWR": "AVX2,STRICT", "ATEN_CPU_CAPABILITY": "avx2", "ONEDNN_MAX_CPU_ISA": "AVX2"}
README_START, README_END = "<!-- chapters:start -->", "<!-- chapters:end -->"


class RunnerError(RuntimeError):
    """A problem the user can fix; printed as one line, exit status 2."""


# ----------------------------------------------------------------------------- discovery


def repo_root() -> Path:
    """The repository root: the folder with ``_toc.yml`` above the cwd or this file."""
    for start in (Path.cwd(), Path(__file__).resolve()):
        for folder in (start, *start.parents):
            if (folder / "_toc.yml").exists() and (folder / "lib" / "rnnbook").exists():
                return folder
    raise RunnerError("cannot find the book's root (a folder with _toc.yml and lib/rnnbook)")


@dataclass(frozen=True)
class Chapter:
    """A chapter listed in ``_toc.yml``: ``book/<part>/aNN_slug`` with a ``.py`` source."""

    id: str
    doc: str
    root: Path

    @property
    def py(self) -> Path:
        return self.root / f"{self.doc}.py"

    @property
    def ipynb(self) -> Path:
        return self.root / f"{self.doc}.ipynb"

    def results(self, profile: str) -> Path:
        return self.root / "results" / f"{self.id}.{profile}.json"


def toc_files(root: Path) -> list[str]:
    """Every ``file:`` entry of ``_toc.yml``, in order (plus the root document)."""
    import yaml

    toc = yaml.safe_load((root / "_toc.yml").read_text())
    found = [toc["root"]]

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            if "file" in node:
                found.append(node["file"])
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for item in node:
                walk(item)

    walk({k: v for k, v in toc.items() if k != "root"})
    return found


def chapters(root: Path | None = None) -> list[Chapter]:
    """The chapters (toc entries whose name starts with an abstract id such as ``a01_``)."""
    root = root or repo_root()
    out = []
    for doc in toc_files(root):
        name = Path(doc).name
        if re.fullmatch(r"a\d\d_\w+", name):
            out.append(Chapter(id=name[:3], doc=doc, root=root))
    return out


def find_chapter(name: str, root: Path | None = None) -> Chapter:
    """A chapter by id (``a01``) or file stem; a clear error lists the valid ones."""
    known = chapters(root)
    for ch in known:
        if name in (ch.id, Path(ch.doc).name, ch.doc):
            return ch
    valid = ", ".join(ch.id for ch in known) or "(none)"
    shown = repr(name) if name else "(none given)"
    raise RunnerError(f"unknown chapter {shown}; valid chapters: {valid} (e.g. make run CHAPTER=a01)")


# ----------------------------------------------------------------------------- hashes


def sha256_bytes(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def source_hash(ch: Chapter) -> str:
    """Hash of the chapter's text source."""
    return sha256_bytes(ch.py.read_bytes())


_IMPORT = re.compile(
    r"^\s*(?:from\s+rnnbook(?:\.(\w+))?\s+import\s+([\w ,()]+)|import\s+rnnbook\.(\w+))", re.M
)


def imported_modules(source: str, pkg: Path) -> set[str]:
    """Names of the ``rnnbook`` modules that ``source`` imports (directly)."""
    names: set[str] = set()
    for sub, imported, plain in _IMPORT.findall(source):
        if sub or plain:
            names.add(sub or plain)
        else:
            names |= {n.strip() for n in imported.replace("(", "").replace(")", "").split(",") if n.strip()}
    return {n for n in names if (pkg / f"{n}.py").exists()}


def library_modules(source: str, pkg: Path) -> list[Path]:
    """The library files a chapter depends on: its imports and their imports.

    ``__init__.py`` holds only the package docstring and version, so it is not among them.
    """
    todo, seen = imported_modules(source, pkg), set()
    while todo:
        name = todo.pop()
        if name in seen:
            continue
        seen.add(name)
        todo |= imported_modules((pkg / f"{name}.py").read_text(), pkg) - seen
    return sorted(pkg / f"{n}.py" for n in seen)


def data_files(root: Path, ch: Chapter) -> list[Path]:
    """The files in ``data/`` that belong to the chapter: ``data/aNN_*`` (e.g. a checkpoint)."""
    return sorted(p for p in (root / "data").glob(f"{ch.id}_*") if p.is_file())


def library_hash(root: Path, ch: Chapter) -> str:
    """Hash of what the chapter reads besides its source: library modules and its data files.

    The modules are those the chapter imports, directly or through other modules: a change
    to a module that a chapter does not use does not make that chapter stale, so a new module
    for one chapter never forces a (possibly GPU) re-run of the others. Its files in
    ``data/`` (``data/aNN_*``, e.g. a checkpoint the full profile writes and ci loads) count
    too: a new checkpoint makes the notebooks that read the old one stale.
    """
    h = hashlib.sha256()
    pkg = root / "lib" / "rnnbook"
    for path in library_modules(ch.py.read_text(), pkg):
        h.update(path.name.encode() + b"\0" + path.read_bytes() + b"\0")
    for path in data_files(root, ch):
        h.update(b"data/" + path.name.encode() + b"\0" + path.read_bytes() + b"\0")
    return h.hexdigest()


# ----------------------------------------------------------------------------- conversion


def to_notebook(ch: Chapter) -> Any:
    """Convert the ``.py`` source into a notebook (one way) with stable cell ids.

    A cell's id is derived from its source (plus a counter for identical cells), so ids
    survive re-execution and insertions elsewhere; only edited cells get new ids.
    """
    import jupytext

    nb = jupytext.read(ch.py)
    seen: dict[str, int] = {}
    for cell in nb.cells:
        digest = sha256_bytes(f"{cell.cell_type}\0{cell.source}".encode())[:10]
        seen[digest] = seen.get(digest, 0) + 1
        cell["id"] = digest if seen[digest] == 1 else f"{digest}-{seen[digest]}"
    nb.metadata.pop("jupytext", None)
    nb.metadata["jupytext"] = {"formats": "ipynb,py:percent"}
    return nb


def clean_executed(nb: Any) -> None:
    """Drop run-specific metadata (papermill timings, absolute paths) from an executed notebook."""
    nb.metadata.pop("papermill", None)
    for cell in nb.cells:
        cell.metadata.pop("papermill", None)
        cell.metadata.pop("execution", None)
        tags = [t for t in cell.metadata.get("tags", []) if t != "papermill-error-cell-tag"]
        if "tags" in cell.metadata:
            cell.metadata["tags"] = tags


# ----------------------------------------------------------------------------- execution


def _gpu_available() -> bool:
    try:
        import torch
    except ImportError:  # pragma: no cover
        return False
    return bool(torch.cuda.is_available())


def resolve_profile(profile: str | None) -> str:
    """``profile`` or ``$BOOK_PROFILE`` or the default; refuses ``full`` without a GPU."""
    value = (profile or os.environ.get("BOOK_PROFILE", "")).strip()
    if not value:
        value = "full" if _gpu_available() else "ci"
    if value not in PROFILES:
        raise RunnerError(f"unknown profile {value!r}; valid profiles: {', '.join(PROFILES)}")
    if value == "full" and not _gpu_available() and os.environ.get("BOOK_ALLOW_CPU_FULL") != "1":
        raise RunnerError(
            "profile 'full' needs a GPU and none is visible; use PROFILE=ci, "
            "or set BOOK_ALLOW_CPU_FULL=1 to run the full profile on the CPU anyway (slow)"
        )
    return value


def _write_atomic(path: Path, data: bytes) -> None:
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
        mask = os.umask(0)
        os.umask(mask)
        os.chmod(tmp, 0o666 & ~mask)  # mkstemp creates 0600; give the usual permissions
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _terminate_as_exit(signum: int, frame: Any) -> None:  # pragma: no cover - signal path
    raise SystemExit(128 + signum)


def run_chapter(ch: Chapter, profile: str | None = None, timeout_s: int = 1800) -> dict[str, Any]:
    """Execute one chapter and, only if it succeeds, replace its notebook and results file."""
    import nbformat
    import papermill

    prof = resolve_profile(profile)
    root = ch.root
    if not ch.py.exists():
        raise RunnerError(f"{ch.doc}.py is listed in _toc.yml but does not exist")
    nb = to_notebook(ch)
    scratch = Path(tempfile.mkdtemp(prefix=f"run-{ch.id}-", dir=_scratch_dir(root)))
    signal.signal(signal.SIGTERM, _terminate_as_exit)
    env_backup = dict(os.environ)
    try:
        os.environ.update(
            BOOK_PROFILE=prof,
            BOOK_RESULTS_DIR=str(scratch),
            PYTHONHASHSEED="0",
            **MALLOC_ENV,
            **CPU_ENV,
            MPLBACKEND="module://matplotlib_inline.backend_inline",
        )
        out_path = scratch / ch.ipynb.name
        print(f"running {ch.id} ({ch.doc}.py) in profile {prof} ...", flush=True)
        t0 = time.perf_counter()
        try:
            papermill.execute_notebook(
                nb,
                str(out_path),
                cwd=str(ch.py.parent),
                kernel_name="python3",
                progress_bar=False,
                log_output=False,
                execution_timeout=timeout_s,
            )
        except papermill.PapermillExecutionError as err:
            failed = _scratch_dir(root) / f"{ch.id}.failed.ipynb"
            if out_path.exists():
                shutil.copyfile(out_path, failed)
            source = nb.cells[err.cell_index].source.strip().splitlines()
            shown = "\n".join(f"    | {line}" for line in source[:6]) + (
                "\n    | ..." if len(source) > 6 else ""
            )
            message = err.evalue.strip().splitlines()[-1] if err.evalue and err.evalue.strip() else ""
            raise RunnerError(
                f"chapter {ch.id} failed in cell {err.cell_index} (execution count {err.exec_count}): "
                f"{err.ename}: {message}\n{shown}\n"
                f"  the failed notebook is kept at {failed.relative_to(root)}; "
                f"the committed notebook and results are unchanged"
            ) from None
        wall = round(time.perf_counter() - t0, 1)
        result_file = scratch / f"{ch.id}.{prof}.json"
        if not result_file.exists():
            raise RunnerError(f"chapter {ch.id} ran but wrote no {result_file.name} (call report.write())")
        results = json.loads(result_file.read_text())
        results["wall_s"] = wall
        executed = nbformat.read(out_path, as_version=4)
        clean_executed(executed)
        executed.metadata["book"] = {
            "chapter": ch.id,
            "profile": prof,
            "device": results.get("device"),
            "torch": results.get("torch"),
            "seeds": results.get("seeds"),
            "wall_s": wall,
            "source_sha256": source_hash(ch),
            "library_sha256": library_hash(root, ch),
        }
        problems = notebook_problems(executed, ch, check_hashes=False)
        if problems:
            raise RunnerError(f"chapter {ch.id} executed but is not publishable: {problems[0]}")
        ch.results(prof).parent.mkdir(parents=True, exist_ok=True)
        _write_atomic(ch.results(prof), (json.dumps(results, indent=2) + "\n").encode())
        _write_atomic(ch.ipynb, (nbformat.writes(executed) + "\n").encode())
        print(f"{ch.id}: {wall} s, profile {prof}, device {results.get('device')}", flush=True)
        for c in results["claims"]:
            print(f"  {c['id']}: {c['verdict']}")
        return results
    finally:
        os.environ.clear()
        os.environ.update(env_backup)
        shutil.rmtree(scratch, ignore_errors=True)


def variation(ch: Chapter, seed_sets: Sequence[str], threads: Sequence[int] = (1, 2)) -> dict[str, Any]:
    """Execute ``ch`` in ci under several thread counts and seed sets; tabulate every check.

    Nothing committed changes: each run executes into a scratch folder. The table (printed,
    and written to ``data/<id>_variation.json``, which the chapter shows with
    :meth:`rnnbook.claims.Report.tolerances`) gives, per check, the value of every run,
    the largest change between thread paths (same seeds) and between seed sets, from which a
    chapter derives its ``tol``.
    """
    import papermill

    root = ch.root
    variants: list[tuple[str, dict[str, str]]] = [(f"threads={t}", {"BOOK_THREADS": str(t)}) for t in threads]
    variants += [(f"seeds={s}", {"BOOK_SEEDS": s, "BOOK_THREADS": "1"}) for s in seed_sets]
    runs: dict[str, dict[str, Any]] = {}
    env_backup = dict(os.environ)
    for label, extra in variants:
        scratch = Path(tempfile.mkdtemp(prefix=f"var-{ch.id}-", dir=_scratch_dir(root)))
        try:
            os.environ.update(
                BOOK_PROFILE="ci",
                BOOK_RESULTS_DIR=str(scratch),
                PYTHONHASHSEED="0",
                **MALLOC_ENV,
                **CPU_ENV,
                MPLBACKEND="agg",
                **extra,
            )
            t0 = time.perf_counter()
            papermill.execute_notebook(
                to_notebook(ch),
                str(scratch / "out.ipynb"),
                cwd=str(ch.py.parent),
                kernel_name="python3",
                progress_bar=False,
                log_output=False,
            )
            runs[label] = json.loads((scratch / f"{ch.id}.ci.json").read_text())
            print(f"{ch.id} {label}: {time.perf_counter() - t0:.0f} s", flush=True)
        finally:
            os.environ.clear()
            os.environ.update(env_backup)
            shutil.rmtree(scratch, ignore_errors=True)
    table: list[dict[str, Any]] = []
    thread_labels = [f"threads={t}" for t in threads]
    for claim in runs[thread_labels[0]]["claims"]:
        for i, check in enumerate(claim.get("checks", [])):
            vals = {}
            for label, res in runs.items():
                c = next(c for c in res["claims"] if c["id"] == claim["id"])
                vals[label] = c["checks"][i]["value"] if i < len(c.get("checks", [])) else None
            nums = {k: v for k, v in vals.items() if isinstance(v, int | float) and not isinstance(v, bool)}

            def spread(labels: list[str], nums: dict[str, float] = nums) -> float | None:
                xs = [nums[k] for k in labels if k in nums]
                return max(xs) - min(xs) if len(xs) > 1 else None

            table.append(
                {
                    "claim": claim["id"],
                    "check": check["name"],
                    "role": check["role"],
                    "values": vals,
                    "verdicts": {
                        k: next(c["verdict"] for c in r["claims"] if c["id"] == claim["id"])
                        for k, r in runs.items()
                    },
                    "thread_delta": spread(thread_labels),
                    "seed_delta": spread([thread_labels[0]] + [f"seeds={s}" for s in seed_sets]),
                }
            )
    payload = {"chapter": ch.id, "seed_sets": list(seed_sets), "threads": list(threads), "checks": table}
    _write_atomic(root / "data" / f"{ch.id}_variation.json", (json.dumps(payload, indent=1) + "\n").encode())
    for row in table:
        vals = ", ".join(f"{k}: {v}" for k, v in row["values"].items())
        print(
            f"{row['claim']} {row['check']} [{row['role']}] thread Δ {row['thread_delta']}, "
            f"seed Δ {row['seed_delta']} | {vals}"
        )
    return {"runs": runs, "table": table}


def _scratch_dir(root: Path) -> Path:
    path = root / "_build" / "runner"
    path.mkdir(parents=True, exist_ok=True)
    return path


# ----------------------------------------------------------------------------- checks


def notebook_problems(nb: Any, ch: Chapter, check_hashes: bool = True) -> list[str]:
    """Everything wrong with an executed chapter notebook (empty list: publishable)."""
    problems: list[str] = []
    expected = to_notebook(ch)
    got = [(c.cell_type, c.source) for c in nb.cells]
    want = [(c.cell_type, c.source) for c in expected.cells]
    if got != want:
        n = next(
            (i for i, (a, b) in enumerate(zip(got, want, strict=False)) if a != b), min(len(got), len(want))
        )
        problems.append(
            f"{ch.id}: notebook cells differ from {ch.doc}.py (first at cell {n}); re-run the chapter"
        )
    counts = [c.get("execution_count") for c in nb.cells if c.cell_type == "code"]
    if counts != list(range(1, len(counts) + 1)):
        problems.append(
            f"{ch.id}: code cells not executed once each, in order (execution counts {counts[:8]}...)"
        )
    for i, cell in enumerate(nb.cells):
        for out in cell.get("outputs", []):
            if out.get("output_type") == "error":
                problems.append(f"{ch.id}: cell {i} has an error output ({out.get('ename')})")
            if out.get("name") == "stderr" and "Traceback" in out.get("text", ""):
                problems.append(f"{ch.id}: cell {i} printed a traceback to stderr")
    tags = {t for c in nb.cells for t in c.metadata.get("tags", [])}
    for needed in ("parameters", "nbval-check-output", "hide-cell"):
        if needed not in tags:
            problems.append(f"{ch.id}: no cell tagged {needed!r}")
    colab = [
        c.source for c in nb.cells if "hide-cell" in c.metadata.get("tags", []) and "google.colab" in c.source
    ]
    if not colab:
        problems.append(f"{ch.id}: the hidden Colab setup cell is missing")
    elif (url := repository_url(ch.root)) and f"git+{url}@" not in colab[0]:
        problems.append(
            f"{ch.id}: the Colab setup cell does not install from {url} (_config.yml repository.url)"
        )
    if any("{bibliography}" in c.source for c in nb.cells if c.cell_type == "markdown"):
        problems.append(
            f"{ch.id}: use {{footcite}} and {{footbibliography}}, not {{bibliography}} (duplicate citations)"
        )
    meta = nb.metadata.get("book", {})
    if meta.get("profile") not in PROFILES:
        problems.append(f"{ch.id}: notebook metadata has no valid book.profile")
    if check_hashes:
        if meta.get("source_sha256") != source_hash(ch):
            problems.append(f"{ch.id}: stale: {ch.doc}.py changed since execution (make run CHAPTER={ch.id})")
        if meta.get("library_sha256") != library_hash(ch.root, ch):
            problems.append(f"{ch.id}: stale: the library changed since execution (make run CHAPTER={ch.id})")
    text = _text_without_images(nb)
    match = ABSOLUTE_PATH.search(text)
    if match:
        start = max(0, match.start() - 40)
        problems.append(f"{ch.id}: absolute path in the notebook: ...{text[start : match.end() + 40]!r}...")
    return problems


def repository_url(root: Path) -> str | None:
    """``repository.url`` of ``_config.yml`` (where Colab installs the library from)."""
    import yaml

    config = root / "_config.yml"
    if not config.exists():
        return None
    return (yaml.safe_load(config.read_text()).get("repository") or {}).get("url")


def _text_without_images(nb: Any) -> str:
    """The notebook's JSON text with binary payloads (base64 images) removed."""
    clone = json.loads(json.dumps(nb))
    for cell in clone.get("cells", []):
        for out in cell.get("outputs", []):
            data = out.get("data", {})
            for key in list(data):
                if key.startswith("image/") and key != "image/svg+xml":
                    data[key] = ""
    return json.dumps(clone)


def results_problems(path: Path) -> list[str]:
    """Schema problems of a results JSON file."""
    try:
        res = json.loads(path.read_text())
    except (OSError, ValueError) as err:
        return [f"{path.name}: unreadable ({err})"]
    problems = [f"{path.name}: missing key {k!r}" for k in RESULT_KEYS if k not in res]
    for c in res.get("claims", []):
        problems += [f"{path.name}: claim {c.get('id')} lacks {k!r}" for k in CLAIM_KEYS if k not in c]
        if c.get("verdict") not in VERDICTS:
            problems.append(f"{path.name}: claim {c.get('id')} has verdict {c.get('verdict')!r}")
    if not res.get("claims"):
        problems.append(f"{path.name}: no claims")
    return problems


def check_book(root: Path | None = None) -> list[str]:
    """All book checks on the committed files (what ``make test`` requires)."""
    import nbformat

    root = root or repo_root()
    problems: list[str] = []
    chs = chapters(root)
    if not chs:
        problems.append("_toc.yml lists no chapter")
    tracked = _git_tracked(root)
    for ch in chs:
        if not ch.py.exists():
            problems.append(f"{ch.id}: {ch.doc}.py missing")
            continue
        if not ch.ipynb.exists():
            problems.append(f"{ch.id}: no executed notebook {ch.doc}.ipynb (make run CHAPTER={ch.id})")
            continue
        if tracked is not None:
            for path in (ch.py, ch.ipynb, ch.results("ci")):
                rel = path.relative_to(root).as_posix()
                if rel not in tracked:
                    problems.append(f"{ch.id}: {rel} is not committed (Colab and CI need it)")
        size = ch.ipynb.stat().st_size
        if size > MAX_NOTEBOOK_BYTES:
            problems.append(f"{ch.id}: notebook is {size / 1e6:.1f} MB (limit 3 MB)")
        problems += notebook_problems(nbformat.read(ch.ipynb, as_version=4), ch)
        for prof in PROFILES:
            if ch.results(prof).exists():
                problems += results_problems(ch.results(prof))
        if not ch.results("ci").exists():
            problems.append(f"{ch.id}: no results/{ch.id}.ci.json (make run CHAPTER={ch.id} PROFILE=ci)")
    for doc in toc_files(root):
        if not any((root / f"{doc}{ext}").exists() for ext in (".md", ".ipynb")):
            problems.append(f"_toc.yml entry {doc} has no .md or .ipynb")
    problems += status_problems(root)
    problems += bibliography_problems(root)
    return problems


def bibliography_problems(root: Path) -> list[str]:
    """Every ``book/bib/*.bib`` listed in ``_config.yml``, and no BibTeX key defined twice."""
    import yaml

    listed = yaml.safe_load((root / "_config.yml").read_text()).get("bibtex_bibfiles", [])
    present = sorted(p.relative_to(root).as_posix() for p in (root / "book" / "bib").glob("*.bib"))
    problems = [f"{f} is not listed in _config.yml bibtex_bibfiles" for f in present if f not in listed]
    problems += [f"_config.yml lists {f}, which does not exist" for f in listed if not (root / f).exists()]
    seen: dict[str, str] = {}
    for f in present:
        for key in re.findall(r"^\s*@\w+\s*\{\s*([^,\s]+)\s*,", (root / f).read_text(), re.M):
            if key in seen:
                problems.append(f"BibTeX key {key!r} is defined in {seen[key]} and in {f}")
            seen.setdefault(key, f)
    return problems


def _git_tracked(root: Path) -> set[str] | None:
    try:
        out = subprocess.run(["git", "ls-files"], cwd=root, capture_output=True, text=True, check=True)
    except (OSError, subprocess.CalledProcessError):
        return None
    return set(out.stdout.splitlines())


def stale_chapters(root: Path | None = None) -> list[Chapter]:
    """Chapters whose notebook is missing or whose source or library hash changed."""
    import nbformat

    out = []
    for ch in chapters(root):
        if not ch.ipynb.exists():
            out.append(ch)
            continue
        meta = nbformat.read(ch.ipynb, as_version=4).metadata.get("book", {})
        fresh = (meta.get("source_sha256"), meta.get("library_sha256")) == (
            source_hash(ch),
            library_hash(ch.root, ch),
        )
        if not fresh:
            out.append(ch)
    return out


# ----------------------------------------------------------------------------- results


def compare_dir(fresh_dir: Path, root: Path | None = None) -> list[str]:
    """Compare every chapter's fresh ci results with the committed ``results/<id>.ci.json``."""
    from rnnbook.claims import compare

    root = root or repo_root()
    problems = []
    for ch in chapters(root):
        fresh, committed = fresh_dir / f"{ch.id}.ci.json", ch.results("ci")
        if not fresh.exists():
            problems.append(f"{ch.id}: the ci re-execution wrote no {fresh.name}")
            continue
        if not committed.exists():
            problems.append(f"{ch.id}: no committed results/{committed.name} to compare with")
            continue
        problems += compare(json.loads(fresh.read_text()), json.loads(committed.read_text()))
    return problems


def _load_results(root: Path) -> list[dict[str, Any]]:
    rows = []
    for ch in chapters(root):
        for prof in PROFILES:
            path = ch.results(prof)
            if path.exists():
                res = json.loads(path.read_text())
                res["_doc"] = ch.doc
                rows.append(res)
    return rows


def _summary(res: dict[str, Any]) -> str:
    counts: dict[str, int] = {}
    for c in res["claims"]:
        counts[c["verdict"]] = counts.get(c["verdict"], 0) + 1
    return ", ".join(f"{n} {v}" for v, n in counts.items())


def status_markdown(root: Path) -> str:
    """The status page: every chapter's claims and verdicts, from ``results/*.json``."""
    lines = [
        "# Status of the reproductions",
        "",
        "Generated by `python -m rnnbook.runner status` from `results/*.json`; do not edit by hand.",
        "Each chapter is executed in the `ci` profile (2 CPU cores, miniature sizes) on every CI run,",
        "and in the `full` profile (paper scale, one GPU) when a GPU was available to its authors.",
        "",
        "| Chapter | Profile | Device | Runtime | Seeds | Verdicts |",
        "|---|---|---|---|---|---|",
    ]
    rows = _load_results(root)
    for res in rows:
        lines.append(
            f"| [{res['chapter'].upper()} · {res['title']}]({_rel_from_book(res['_doc'])}.ipynb) | {res['profile']} | "
            f"{res['device']} | {res['wall_s']:.0f} s | {', '.join(map(str, res['seeds']))} | {_summary(res)} |"
        )
    for res in rows:
        lines += [
            "",
            f"## {res['chapter'].upper()} ({res['profile']} profile)",
            "",
            "| Claim | Paper | Ours | Pass rule | Verdict |",
            "|---|---|---|---|---|",
        ]
        from rnnbook.claims import format_value

        for c in res["claims"]:
            cells = [
                f"{c['id']}. {c['text']}",
                format_value(c["paper"]),
                format_value(c["ours"]),
                c["rule"],
                c["verdict"],
            ]
            lines.append("| " + " | ".join(_md_cell(x) for x in cells) + " |")
    return "\n".join(lines) + "\n"


def _rel_from_book(doc: str) -> str:
    return doc[len("book/") :] if doc.startswith("book/") else f"../{doc}"


def _md_cell(text: str) -> str:
    return str(text).replace("|", "\\|").replace("\n", " ")


def readme_table(root: Path) -> str:
    lines = ["| Chapter | Source | ci verdicts | full verdicts |", "|---|---|---|---|"]
    for ch in chapters(root):
        title = ch.id.upper()
        verdicts = {}
        for prof in PROFILES:
            if ch.results(prof).exists():
                res = json.loads(ch.results(prof).read_text())
                title = f"{ch.id.upper()} · {res['title']}"
                verdicts[prof] = _summary(res)
        lines.append(
            f"| {title} | [`{ch.doc}.py`]({ch.doc}.py) | {verdicts.get('ci', 'not run')} | "
            f"{verdicts.get('full', 'not run yet (needs a GPU)')} |"
        )
    return "\n".join(lines)


def _readme_with_table(root: Path) -> str:
    text = (root / "README.md").read_text()
    if README_START not in text or README_END not in text:
        raise RunnerError(f"README.md lacks the markers {README_START} / {README_END}")
    head, rest = text.split(README_START, 1)
    _, tail = rest.split(README_END, 1)
    return f"{head}{README_START}\n{readme_table(root)}\n{README_END}{tail}"


def status_problems(root: Path) -> list[str]:
    problems = []
    status = root / "book" / "status.md"
    if not status.exists() or status.read_text() != status_markdown(root):
        problems.append("book/status.md is out of date (python -m rnnbook.runner status)")
    if (root / "README.md").read_text() != _readme_with_table(root):
        problems.append("the chapter table in README.md is out of date (python -m rnnbook.runner status)")
    return problems


def write_status(root: Path) -> None:
    _write_atomic(root / "book" / "status.md", status_markdown(root).encode())
    _write_atomic(root / "README.md", _readme_with_table(root).encode())


# ----------------------------------------------------------------------------- CLI


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m rnnbook.runner", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    run = sub.add_parser("run", help="execute one chapter")
    run.add_argument("chapter", nargs="?", default="")
    run.add_argument(
        "--profile", default=None, help="ci or full (default: $BOOK_PROFILE, else full on a GPU)"
    )
    run.add_argument("--timeout", type=int, default=1800, help="per-cell timeout in seconds")
    stale = sub.add_parser("run-stale", help="execute every stale chapter")
    stale.add_argument("--profile", default=None)
    sub.add_parser("stale", help="list stale chapters")
    var = sub.add_parser("variation", help="re-run a chapter under thread counts and seed sets (tolerances)")
    var.add_argument("chapter")
    var.add_argument("--seeds", action="append", default=[], help="a seed set, e.g. 2,3 (repeatable)")
    sub.add_parser("list", help="list chapters")
    sub.add_parser("check", help="run the book checks")
    cmp_ = sub.add_parser("compare", help="compare fresh ci results with results/")
    cmp_.add_argument("fresh_dir", type=Path)
    status = sub.add_parser("status", help="write book/status.md and the README table")
    status.add_argument("--check", action="store_true", help="only check that they are up to date")
    args = parser.parse_args(argv)

    try:
        root = repo_root()
        if args.command == "run":
            run_chapter(find_chapter(args.chapter, root), args.profile, args.timeout)
        elif args.command == "run-stale":
            todo = stale_chapters(root)
            if todo:
                resolve_profile(args.profile)
            for ch in todo:
                run_chapter(ch, args.profile)
            if not todo:
                print("no stale chapters")
        elif args.command == "variation":
            variation(find_chapter(args.chapter, root), args.seeds)
        elif args.command == "stale":
            for ch in stale_chapters(root):
                print(ch.id)
        elif args.command == "list":
            for ch in chapters(root):
                print(f"{ch.id}  {ch.doc}.py")
        elif args.command in ("check", "compare") or (args.command == "status" and args.check):
            if args.command == "check":
                problems = check_book(root)
            elif args.command == "compare":
                problems = compare_dir(args.fresh_dir, root)
            else:
                problems = status_problems(root)
            for p in problems:
                print(f"error: {p}", file=sys.stderr)
            if problems:
                return 1
            print(f"{args.command}: ok")
        elif args.command == "status":
            write_status(root)
            print("wrote book/status.md and the README chapter table")
    except RunnerError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("error: interrupted; committed notebooks and results are unchanged", file=sys.stderr)
        return 130
    return 0


if __name__ == "__main__":
    sys.exit(main())
