"""The book's chapters: discovered from ``_toc.yml`` (``book/<part>/aNN_slug``)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

PROFILES = ("ci", "full")


class RunnerError(RuntimeError):
    """A problem the user can fix; printed as one line, exit status 2."""


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
