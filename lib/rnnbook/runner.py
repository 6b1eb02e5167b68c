"""The book machine's command line (``python -m rnnbook.runner``), used by the Makefile.

::

    python -m rnnbook.runner run a01 [--profile ci|full]   # .py -> .ipynb -> papermill -> stamped files
    python -m rnnbook.runner stale                        # chapters whose notebook is out of date
    python -m rnnbook.runner run-stale                    # re-execute exactly those
    python -m rnnbook.runner variation a01 --seeds 2,3    # thread paths and seed sets -> tolerances
    python -m rnnbook.runner check                        # the book checks (also run by pytest)
    python -m rnnbook.runner compare _build/ci-results    # fresh ci results vs committed results/
    python -m rnnbook.runner status [--check]             # book/status.md and the README table
    python -m rnnbook.runner full [a01 ...] [--executor inline|local|slurm]   # resumable full runs

The machinery lives in :mod:`rnnbook.machine` (layout, stamps, execute, checks, compare,
status); this module only parses arguments and re-exports its main functions.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Sequence
from pathlib import Path

from rnnbook.machine.checks import (
    bibliography_problems,
    check_book,
    notebook_problems,
    results_problems,
    stale_chapters,
)
from rnnbook.machine.compare import compare, compare_dir
from rnnbook.machine.execute import resolve_profile, run_chapter, to_notebook, variation
from rnnbook.machine.full import run_full
from rnnbook.machine.layout import Chapter, RunnerError, chapters, find_chapter, repo_root
from rnnbook.machine.stamps import (
    data_hash,
    imported_modules,
    inputs_stamp,
    library_hash,
    library_modules,
    outputs_hash,
    source_hash,
)
from rnnbook.machine.status import status_markdown, status_problems, write_status

__all__ = [
    "Chapter",
    "RunnerError",
    "bibliography_problems",
    "chapters",
    "check_book",
    "compare",
    "compare_dir",
    "data_hash",
    "find_chapter",
    "imported_modules",
    "inputs_stamp",
    "library_hash",
    "library_modules",
    "main",
    "notebook_problems",
    "outputs_hash",
    "repo_root",
    "resolve_profile",
    "results_problems",
    "run_chapter",
    "run_full",
    "source_hash",
    "stale_chapters",
    "status_markdown",
    "status_problems",
    "to_notebook",
    "variation",
    "write_status",
]


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
    sub.add_parser("list", help="list chapters")
    var = sub.add_parser("variation", help="re-run a chapter under thread counts and seed sets (tolerances)")
    var.add_argument("chapter")
    var.add_argument("--seeds", action="append", default=[], help="a seed set, e.g. 2,3 (repeatable)")
    var.add_argument("--threads", default="1,2", help="thread counts to run with the default seeds")
    full = sub.add_parser("full", help="the full profile of some or all chapters; resumes, estimates first")
    full.add_argument("chapters", nargs="*", help="chapter ids (default: all)")
    full.add_argument(
        "--executor", default="inline", help="inline (here, in turn), local or slurm (submitit)"
    )
    full.add_argument("--timeout", type=int, default=4 * 3600, help="seconds per chapter")
    full.add_argument("--partition", default=None, help="SLURM partition")
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
                t0 = time.perf_counter()
                run_chapter(ch, args.profile)
                print(f"[{ch.id}] done in {time.perf_counter() - t0:.0f} s", flush=True)
            if not todo:
                print("no stale chapters")
        elif args.command == "stale":
            for ch in stale_chapters(root):
                print(ch.id)
        elif args.command == "list":
            for ch in chapters(root):
                print(f"{ch.id}  {ch.doc}.py")
        elif args.command == "full":
            slurm = {"slurm_partition": args.partition} if args.partition else {}
            return 1 if run_full(root, args.chapters, args.executor, args.timeout, slurm) else 0
        elif args.command == "variation":
            threads = [int(t) for t in args.threads.split(",") if t]
            variation(find_chapter(args.chapter, root), args.seeds, threads)
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
