"""Hashes that stamp an executed chapter: source, library, data, outputs and results.

A notebook's metadata and its results file carry the hashes of what produced them; the book
checks recompute them, so that an edit to the source, the library, the data, a printed
output or a committed result shows up as stale or as edited.
"""

from __future__ import annotations

import ast
import hashlib
import json
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from rnnbook.machine.layout import Chapter


def sha256_bytes(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def canonical(obj: Any) -> bytes:
    """A stable byte form of a JSON-like object (sorted keys, no whitespace)."""
    return json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def source_hash(ch: Chapter) -> str:
    """Hash of the chapter's text source."""
    return sha256_bytes(ch.py.read_bytes())


_MODULE_STRING = re.compile(r"\brnnbook\.(\w+)")
# The book machine's command line: chapters never run it (docstrings name it, e.g.
# "python -m rnnbook.runner variation"), so a change to it leaves every chapter current.
NOT_SCIENCE = {"runner"}


def imported_modules(source: str, pkg: Path) -> set[str]:
    """Names of the ``rnnbook`` modules that ``source`` imports, found on its syntax tree.

    Aliased (``import rnnbook.tasks as t``), parenthesised and multi-line imports all count;
    ``import rnnbook`` or ``from rnnbook import *`` count as every module. Dotted names in
    strings (``importlib.import_module("rnnbook.x")``) count too. A source that does not parse
    counts as importing every module (the safe side).
    """
    every = {p.stem for p in pkg.glob("*.py") if p.stem != "__init__"} - NOT_SCIENCE
    try:
        tree = ast.parse(source)
    except SyntaxError:
        return every
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                parts = alias.name.split(".")
                if parts[0] == "rnnbook":
                    names |= {parts[1]} if len(parts) > 1 else every
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            parts = node.module.split(".")
            if parts[0] != "rnnbook":
                continue
            if len(parts) > 1:
                names.add(parts[1])
            else:
                for alias in node.names:
                    names |= every if alias.name == "*" else {alias.name}
        elif isinstance(node, ast.Constant) and isinstance(node.value, str):
            names |= set(_MODULE_STRING.findall(node.value))
    return {n for n in names - NOT_SCIENCE if (pkg / f"{n}.py").exists()}


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
    """Hash of the library modules the chapter imports, directly or through other modules.

    A change to a module that a chapter does not use does not make that chapter stale, so a
    new module for one chapter never forces a (possibly GPU) re-run of the others.
    """
    h = hashlib.sha256()
    pkg = root / "lib" / "rnnbook"
    for path in library_modules(ch.py.read_text(), pkg):
        h.update(path.name.encode() + b"\0" + path.read_bytes() + b"\0")
    return h.hexdigest()


def data_hash(root: Path, ch: Chapter) -> str:
    """Hash of the chapter's files in ``data/`` (``data/aNN_*``: checkpoints, variation tables)."""
    h = hashlib.sha256()
    for path in data_files(root, ch):
        h.update(b"data/" + path.name.encode() + b"\0" + path.read_bytes() + b"\0")
    return h.hexdigest()


def outputs_hash(nb: Any) -> str:
    """Hash of every code cell's outputs and execution count (what the site shows)."""
    cells = [
        [c.get("execution_count"), c.get("outputs", [])] for c in nb["cells"] if c["cell_type"] == "code"
    ]
    return sha256_bytes(canonical(cells))


def results_hash(results: Mapping[str, Any]) -> str:
    """Hash of a results payload without its stamp (the stamp then carries it)."""
    return sha256_bytes(canonical({k: v for k, v in results.items() if k != "stamp"}))


def inputs_stamp(root: Path, ch: Chapter) -> dict[str, str]:
    """The hashes of what a run reads: source, library and data."""
    return {
        "source_sha256": source_hash(ch),
        "library_sha256": library_hash(root, ch),
        "data_sha256": data_hash(root, ch),
    }
