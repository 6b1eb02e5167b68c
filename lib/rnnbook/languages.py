"""Substitute language data: a generated language that needs computation, and text read from
the local Python installation's standard library (no download).

Introduced for the part "Reasoning by recurrence" and its neighbours, which train small
language models where the papers use pretraining corpora:

- :func:`modular_recurrence` (A14): sentences whose every token after the first two is the
  sum of the two before it modulo ``mod``, with a share of tokens replaced by uniform draws, so
  that a model must compute each token from its context rather than recall a sentence.
- :func:`stdlib_source` (A32): Python source files of the standard library, as characters.
- :func:`stdlib_docstrings` (A39): docstrings of standard-library modules and their public
  members, lower-cased and reduced to a small character set: English-like prose.

The two text sources depend slightly on the Python version that reads them; a chapter says so.
"""

from __future__ import annotations

import importlib
import inspect
import re
import string
import sysconfig
from collections.abc import Sequence
from pathlib import Path

import torch
from torch import Tensor

__all__ = ["modular_recurrence", "obeys_recurrence", "stdlib_docstrings", "stdlib_source"]


def modular_recurrence(gen: torch.Generator, count: int, length: int, mod: int, noise: float) -> Tensor:
    """Sentences ``(count, length)``: ``x_t = (x_{t-1} + x_{t-2}) mod mod`` for ``t >= 2``,
    each such token replaced by a uniform draw with probability ``noise``. The first two
    tokens are uniform. The same generator state gives the same sentences."""
    x = torch.zeros(count, length, dtype=torch.long)
    x[:, :2] = torch.randint(0, mod, (count, 2), generator=gen)
    for t in range(2, length):
        rule = (x[:, t - 1] + x[:, t - 2]) % mod
        flip = torch.rand(count, generator=gen) < noise
        draw = torch.randint(0, mod, (count,), generator=gen)
        x[:, t] = torch.where(flip, draw, rule)
    return x


def obeys_recurrence(tok: Tensor, start: int, mod: int) -> Tensor:
    """Share of the tokens from position ``start`` on (``start >= 2``) that obey the rule of
    :func:`modular_recurrence`, given the two tokens before each; one value per sequence
    (the last axis is the position)."""
    if start < 2:
        raise ValueError("the rule needs two tokens of context: start >= 2")
    ok = tok[..., start:] == (tok[..., start - 1 : -1] + tok[..., start - 2 : -2]) % mod
    return ok.float().mean(-1)


def stdlib_source(files: Sequence[str], limit: int, stdlib: Path | None = None) -> str:
    """The first ``limit`` characters of the standard library's source: ``files`` first (a
    module that is a package in this Python is read from its ``__init__.py``), then the other
    top-level modules in name order."""
    root = Path(sysconfig.get_paths()["stdlib"]) if stdlib is None else stdlib
    rest = sorted(p.name for p in root.glob("*.py") if p.name not in files)
    parts, total = [], 0
    for name in [*files, *rest]:
        path = root / name
        if not path.exists():
            path = root / name.removesuffix(".py") / "__init__.py"
        if path.exists() and total < limit:
            parts.append(path.read_text(encoding="utf-8", errors="replace"))
            total += len(parts[-1])
    return "".join(parts)[:limit]


DOC_CHARACTERS = set(string.ascii_lowercase + " .,()'-=_:\"0")


def stdlib_docstrings(modules: Sequence[str]) -> str:
    """Docstrings of ``modules`` and of their public members (in name order), joined; white
    space collapsed, lower case, every digit written ``0``, and any character outside
    :data:`DOC_CHARACTERS` written ``#``."""
    docs = []
    for name in modules:
        mod = importlib.import_module(name)
        if mod.__doc__:
            docs.append(inspect.cleandoc(mod.__doc__))
        for member, obj in sorted(vars(mod).items()):
            if member.startswith("_") or getattr(obj, "__module__", "") != name:
                continue
            doc = inspect.getdoc(obj)
            if doc:
                docs.append(doc)
    text = re.sub(r"\s+", " ", " ".join(docs).lower())
    text = re.sub(r"[0-9]", "0", text)
    return "".join(ch if ch in DOC_CHARACTERS else "#" for ch in text)
