"""Sphinx extension: each chapter's page opens with its verdicts in both profiles (issue 22).

The box is built when the book is built, from ``results/aNN.{ci,full}.json`` by
:func:`rnnbook.machine.status.profiles_html`, the same source as the status page, so a new full
run shows on the chapter's page without re-executing (or editing) the chapter. The results
files are noted as dependencies of the page, so an incremental build re-reads a chapter whose
results changed.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from docutils import nodes

from rnnbook.machine.layout import PROFILES, chapters
from rnnbook.machine.status import profiles_html

CLASS = "rnnbook-profiles"


def insert_profiles(app: Any, doctree: nodes.document) -> None:
    """After the page title of a chapter, a raw HTML box with its two profiles."""
    root = Path(app.srcdir)
    chapter = {ch.doc: ch for ch in chapters(root)}.get(app.env.docname)
    if chapter is None:
        return
    for prof in PROFILES:
        app.env.note_dependency(str(chapter.results(prof)))
    app.env.note_dependency(str(root / "data" / "full_profile_times.json"))
    variation = root / "data" / f"{chapter.id}_variation.json"
    if variation.exists():
        app.env.note_dependency(str(variation))
    section = next(iter(doctree.findall(nodes.section)), None)
    if section is None:
        return
    box = nodes.raw("", profiles_html(root, chapter), format="html", classes=[CLASS])
    section.insert(1, box)


def setup(app: Any) -> dict[str, Any]:
    app.connect("doctree-read", insert_profiles)
    return {"version": "1", "parallel_read_safe": True, "parallel_write_safe": True}
