"""Sudoku puzzles: a solver, a uniqueness check, a generator and the constraint graph.

Introduced in A20. An ``n x n`` Sudoku has boxes of ``b x b`` cells, ``n = b * b`` (``b = 2``: the
4x4 "Shidoku", ``b = 3``: the usual 9x9). A grid is a flat integer array of ``n * n`` cells in row-major
order, ``0`` for an empty cell and ``1..n`` for a digit. The solver is depth-first backtracking on
bitmasks of used digits per row, column and box, always branching on the empty cell with the fewest
candidates; it is exact and fast enough to generate a few thousand 9x9 puzzles per core-minute.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np

__all__ = [
    "add_givens",
    "all_grids",
    "count_solutions",
    "generate_puzzles",
    "is_solution",
    "make_puzzle",
    "random_grid",
    "random_symmetry",
    "solve",
    "sudoku_edges",
]


@lru_cache(maxsize=8)
def _units(b: int) -> tuple[tuple[int, ...], tuple[int, ...], tuple[int, ...]]:
    """Row, column and box index of every cell."""
    n = b * b
    rows = tuple(k // n for k in range(n * n))
    cols = tuple(k % n for k in range(n * n))
    boxes = tuple((r // b) * b + c // b for r, c in zip(rows, cols, strict=True))
    return rows, cols, boxes


def sudoku_edges(b: int) -> np.ndarray:
    """Directed edges ``(i, j)``, ``i != j``, between cells sharing a row, a column or a box.

    Shape ``(n * n * (3 n - 2 b - 1), 2)``, sorted: 112 edges for ``b = 2``, 1620 for ``b = 3``.
    """
    rows, cols, boxes = (np.array(u) for u in _units(b))
    same = (rows[:, None] == rows) | (cols[:, None] == cols) | (boxes[:, None] == boxes)
    np.fill_diagonal(same, False)
    return np.argwhere(same).astype(np.int64)


def _as_cells(grid: np.ndarray | list[int], b: int) -> list[int]:
    cells = [int(v) for v in np.asarray(grid).reshape(-1)]
    n = b * b
    if len(cells) != n * n or min(cells) < 0 or max(cells) > n:
        raise ValueError(f"expected {n * n} cells with values 0..{n}")
    return cells


def is_solution(grid: np.ndarray | list[int], b: int) -> bool:
    """True when every row, column and box holds each digit ``1..n`` exactly once."""
    g = np.asarray(grid).reshape(b * b, b * b)
    want = np.arange(1, b * b + 1)
    boxes = g.reshape(b, b, b, b).transpose(0, 2, 1, 3).reshape(b * b, b * b)
    return all((np.sort(m, axis=1) == want).all() for m in (g, g.T, boxes))


def _search(cells: list[int], b: int, limit: int, rng: np.random.Generator | None = None) -> list[list[int]]:
    """Up to ``limit`` solutions of ``cells`` (digits tried in random order when ``rng`` is given)."""
    n = b * b
    full = (1 << n) - 1  # bit d - 1 stands for digit d
    R, C, X = _units(b)
    used_r, used_c, used_x = [0] * n, [0] * n, [0] * n
    empty: list[int] = []
    for k, v in enumerate(cells):
        if v == 0:
            empty.append(k)
            continue
        bit = 1 << (v - 1)
        if (used_r[R[k]] | used_c[C[k]] | used_x[X[k]]) & bit:
            return []  # two equal givens in one unit: no solution
        used_r[R[k]] |= bit
        used_c[C[k]] |= bit
        used_x[X[k]] |= bit
    grid = list(cells)
    found: list[list[int]] = []

    def descend() -> bool:  # True: stop, enough solutions found
        if not empty:
            found.append(grid.copy())
            return len(found) >= limit
        best, best_mask, best_count = 0, 0, n + 1
        for i, k in enumerate(empty):  # the most constrained empty cell
            mask = full & ~(used_r[R[k]] | used_c[C[k]] | used_x[X[k]])
            count = mask.bit_count()
            if count < best_count:
                best, best_mask, best_count = i, mask, count
                if count <= 1:
                    break
        if best_count == 0:
            return False
        k = empty[best]
        empty[best] = empty[-1]
        empty.pop()
        digits = [d for d in range(n) if best_mask >> d & 1]
        if rng is not None and len(digits) > 1:
            digits = [digits[i] for i in rng.permutation(len(digits))]
        r, c, x = R[k], C[k], X[k]
        for d in digits:
            bit = 1 << d
            used_r[r] |= bit
            used_c[c] |= bit
            used_x[x] |= bit
            grid[k] = d + 1
            stop = descend()
            used_r[r] ^= bit
            used_c[c] ^= bit
            used_x[x] ^= bit
            if stop:
                return True
        grid[k] = 0
        empty.append(k)
        return False

    descend()
    return found


def solve(puzzle: np.ndarray | list[int], b: int) -> np.ndarray | None:
    """One solution of ``puzzle`` (the first found), or ``None`` if it has none."""
    found = _search(_as_cells(puzzle, b), b, limit=1)
    return np.array(found[0], dtype=np.int64) if found else None


def count_solutions(puzzle: np.ndarray | list[int], b: int, limit: int = 2) -> int:
    """The number of solutions of ``puzzle``, counted up to ``limit`` (1 means unique)."""
    return len(_search(_as_cells(puzzle, b), b, limit=limit))


def all_grids(b: int) -> np.ndarray:
    """Every complete ``n x n`` grid, shape ``(count, n * n)`` (288 for ``b = 2``; keep ``b`` small)."""
    if b > 2:
        raise ValueError("only b = 2 can be enumerated (b = 3 has about 6.7e21 grids)")
    return np.array(_search([0] * b**4, b, limit=10**6), dtype=np.int64)


def random_grid(b: int, rng: np.random.Generator) -> np.ndarray:
    """A random complete grid: randomised backtracking from the empty grid."""
    return np.array(_search([0] * b**4, b, limit=1, rng=rng)[0], dtype=np.int64)


def make_puzzle(solution: np.ndarray, b: int, rng: np.random.Generator, min_givens: int = 0) -> np.ndarray:
    """Empty the cells of ``solution`` in random order, keeping each removal only while the
    solution stays unique; stops at ``min_givens`` givens. With ``min_givens=0`` the puzzle is
    minimal: no given can be removed without a second solution appearing."""
    cells = _as_cells(solution, b)
    givens = len(cells)
    for k in rng.permutation(len(cells)):
        if givens <= min_givens:
            break
        digit, cells[k] = cells[k], 0
        if len(_search(cells, b, limit=2)) == 1:
            givens -= 1
        else:
            cells[k] = digit
    return np.array(cells, dtype=np.int64)


def add_givens(puzzle: np.ndarray, solution: np.ndarray, k: int, rng: np.random.Generator) -> np.ndarray:
    """``puzzle`` with ``k`` of its empty cells (chosen at random) filled from ``solution``."""
    out = np.array(puzzle, dtype=np.int64).reshape(-1)
    empty = np.flatnonzero(out == 0)
    pick = rng.choice(empty, size=min(k, len(empty)), replace=False)
    out[pick] = np.asarray(solution).reshape(-1)[pick]
    return out


def random_symmetry(grids: np.ndarray, b: int, rng: np.random.Generator) -> np.ndarray:
    """Apply one random validity-preserving transformation to every grid in ``grids`` (shape
    ``(..., n * n)``): relabel the digits, permute rows within bands and the bands, the same for
    columns, and transpose with probability 1/2. Solutions stay solutions, unique puzzles unique."""
    n = b * b
    g = np.asarray(grids).reshape(*np.shape(grids)[:-1], n, n)
    digits = np.concatenate([[0], 1 + rng.permutation(n)])  # 0 (empty) stays 0

    def lines() -> np.ndarray:
        return np.concatenate([band * b + rng.permutation(b) for band in rng.permutation(b)])

    g = digits[g][..., lines(), :][..., :, lines()]
    if rng.random() < 0.5:
        g = np.swapaxes(g, -1, -2)
    return g.reshape(*g.shape[:-2], n * n)


def generate_puzzles(count: int, b: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """``count`` minimal puzzles with unique solutions and those solutions, both ``(count, n * n)``.

    A plain function of ``(count, b, seed)`` so that it can run in worker processes.
    """
    rng = np.random.default_rng(seed)
    solutions = np.stack([random_grid(b, rng) for _ in range(count)]) if count else np.zeros((0, b**4), int)
    puzzles = np.stack([make_puzzle(s, b, rng) for s in solutions]) if count else solutions.copy()
    return puzzles.astype(np.int64), solutions.astype(np.int64)
