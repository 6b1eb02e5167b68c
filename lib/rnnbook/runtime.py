"""Runtime of a chapter: profile, seeds, threads, device and determinism.

Introduced in A01. Every chapter calls :func:`setup` once, right after its imports.

Environment variables (all optional):

- ``BOOK_PROFILE``: ``ci`` (2 CPU cores, at most 60 s) or ``full`` (paper scale, one GPU).
  Default: ``full`` when a CUDA GPU is visible, else ``ci``.
- ``BOOK_SEEDS``: comma-separated integers that replace the chapter's default seed list.
- ``BOOK_THREADS``: torch intra-op threads (default 1 in ``ci``, all cores in ``full``).
- ``BOOK_DEVICE``: force ``cpu`` or ``cuda``.
- ``BOOK_RESULTS_DIR``: where the chapter writes ``<chapter>.<profile>.json``.
- ``BOOK_PROGRESS``: ``0`` turns the training progress bars off (the book machine does).
"""

from __future__ import annotations

import os
import platform
import random
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import numpy as np
import torch

PROFILES: tuple[str, ...] = ("ci", "full")
T = TypeVar("T")


class BookError(RuntimeError):
    """A configuration problem with a one-line explanation for the reader."""


def gpu_available() -> bool:
    """True when torch sees a CUDA device."""
    return bool(torch.cuda.is_available())


def profile() -> str:
    """The active profile: ``$BOOK_PROFILE`` or, if unset, ``full`` on a GPU and ``ci`` otherwise."""
    value = os.environ.get("BOOK_PROFILE", "").strip()
    if not value:
        return "full" if gpu_available() else "ci"
    if value not in PROFILES:
        raise BookError(f"unknown profile {value!r}; valid profiles: {', '.join(PROFILES)}")
    return value


def seeds(default: list[int] | Mapping[str, list[int]], prof: str | None = None) -> list[int]:
    """The seed list: ``$BOOK_SEEDS`` (e.g. ``"3,4"``) if set, else the chapter's ``default``.

    ``default`` is one list, or one list per profile (``{"ci": [0, 1], "full": [0, 1, 2, 3, 4]}``).
    """
    value = os.environ.get("BOOK_SEEDS", "").strip()
    if not value:
        if isinstance(default, Mapping):
            return list(pick(prof or profile(), **default))
        return list(default)
    try:
        parsed = [int(v) for v in value.replace(" ", "").split(",") if v]
    except ValueError as err:
        raise BookError(f"BOOK_SEEDS must be comma-separated integers, got {value!r}") from err
    if not parsed:
        raise BookError("BOOK_SEEDS is set but empty")
    return parsed


def device() -> torch.device:
    """``$BOOK_DEVICE`` if set, else ``cuda`` when available, else ``cpu``."""
    forced = os.environ.get("BOOK_DEVICE", "").strip()
    if forced:
        return torch.device(forced)
    return torch.device("cuda" if gpu_available() else "cpu")


def device_name(dev: torch.device) -> str:
    """A human-readable device name, e.g. ``cpu (2 threads)`` or ``NVIDIA H100 80GB HBM3``."""
    if dev.type == "cuda":
        return torch.cuda.get_device_name(dev)
    return f"cpu ({torch.get_num_threads()} threads, {platform.machine()})"


def seed_everything(seed: int) -> None:
    """Seed python's ``random``, numpy's legacy global state and torch (CPU and CUDA)."""
    random.seed(seed)
    np.random.seed(seed % 2**32)
    torch.manual_seed(seed)


def generator(seed: int, tag: int, device: torch.device | str | None = None) -> torch.Generator:
    """An independent random stream per (seed, experiment tag), on ``device`` (default CPU).

    Introduced in A04. Chapters draw each experiment from its own stream, so adding or
    reordering experiments does not change the numbers of the others.
    """
    return torch.Generator(device=device or "cpu").manual_seed(1_000_003 * seed + tag)


def pick(prof: str, **by_profile: T) -> T:
    """Select the value for the active profile: ``pick(p, ci=..., full=...)``."""
    if prof not in by_profile:
        raise BookError(f"no setting for profile {prof!r}; given: {', '.join(by_profile)}")
    return by_profile[prof]


def find_root(start: Path | None = None) -> Path | None:
    """The book's repository root (the folder holding ``_toc.yml``), searching upwards."""
    here = (start or Path.cwd()).resolve()
    for folder in (here, *here.parents):
        if (folder / "_toc.yml").exists() and (folder / "lib" / "rnnbook").exists():
            return folder
    return None


def results_dir() -> Path:
    """``$BOOK_RESULTS_DIR``, else ``<root>/results``, else ``./results`` (e.g. in Colab)."""
    env = os.environ.get("BOOK_RESULTS_DIR", "").strip()
    if env:
        return Path(env)
    root = find_root()
    return (root / "results") if root else Path("results")


@dataclass
class Context:
    """What a chapter needs to know about its run; returned by :func:`setup`."""

    chapter: str
    profile: str
    seeds: list[int]
    device: torch.device
    threads: int
    torch_version: str = field(default_factory=lambda: torch.__version__)

    @property
    def device_name(self) -> str:
        return device_name(self.device)

    def pick(self, **by_profile: Any) -> Any:
        """``ctx.pick(ci=..., full=...)``: the value for this run's profile."""
        return pick(self.profile, **by_profile)

    def describe(self) -> str:
        return (
            f"chapter {self.chapter} | profile {self.profile} | seeds {self.seeds} | "
            f"device {self.device_name} | torch {self.torch_version}"
        )


def setup(
    chapter: str, default_seeds: list[int] | Mapping[str, list[int]], deterministic: bool = True
) -> Context:
    """Configure a chapter's run and return its :class:`Context`.

    ``default_seeds``: one list, or one per profile (``{"ci": [0, 1], "full": [0, 1, 2, 3, 4]}``);
    ``$BOOK_SEEDS`` replaces it.

    Sets the thread count, seeds everything with the first seed, and asks torch for
    deterministic algorithms (``warn_only``: a few CUDA kernels have no deterministic form).
    """
    prof = profile()
    dev = device()
    if prof == "full" and dev.type != "cuda" and os.environ.get("BOOK_ALLOW_CPU_FULL") != "1":
        raise BookError(
            "profile 'full' is sized for a GPU and none is visible; "
            "use BOOK_PROFILE=ci, or set BOOK_ALLOW_CPU_FULL=1 to run it on the CPU anyway"
        )
    threads_env = os.environ.get("BOOK_THREADS", "").strip()
    threads = int(threads_env) if threads_env else (1 if prof == "ci" else (os.cpu_count() or 1))
    torch.set_num_threads(threads)
    if deterministic:
        os.environ.setdefault("CUBLAS_WORKSPACE_CONFIG", ":4096:8")
        torch.use_deterministic_algorithms(True, warn_only=True)
        torch.backends.cudnn.benchmark = False
    # One precision policy everywhere: no TF32 shortcuts on Ampere/Hopper GPUs.
    torch.backends.cuda.matmul.allow_tf32 = False
    torch.backends.cudnn.allow_tf32 = False
    run_seeds = seeds(default_seeds, prof)
    seed_everything(run_seeds[0])
    return Context(chapter=chapter, profile=prof, seeds=run_seeds, device=dev, threads=threads)


def progress(iterable: Any, total: int | None = None, desc: str = "") -> Any:
    """``iterable`` with a progress bar (``tqdm.auto``) when a person runs the chapter.

    Off when ``BOOK_PROGRESS=0``, which the book machine sets under papermill and nbval, so that
    committed notebooks stay clean; on in Jupyter, Colab and scripts otherwise.
    """
    if os.environ.get("BOOK_PROGRESS", "1") == "0":
        return iterable
    from tqdm.auto import tqdm

    return tqdm(iterable, total=total, desc=desc, leave=False, mininterval=0.5)


def glue(name: str, value: Any, display: bool = False) -> None:
    """Make ``value`` quotable in the prose as ``{glue:}`name```; a no-op outside the book.

    ``myst_nb`` is only installed with the book tools, so readers in Colab do not need it.
    Returns nothing, so that a cell ending in ``glue(...)`` shows no stray value.
    """
    if getattr(value, "ndim", None) == 0 and hasattr(value, "item"):
        # numpy scalars and 0-d tensors: their repr ("np.float64(0.5)") is what myst-nb would
        # store as text/plain, and a format spec such as {glue:text}`x:.2f` cannot parse it
        value = value.item()
    try:
        from myst_nb import glue as _glue
    except ImportError:  # pragma: no cover - depends on the reader's environment
        return
    _glue(name, value, display=display)
