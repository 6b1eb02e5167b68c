"""Tests of rnnbook.sudoku: solver, uniqueness check, generator and constraint graph (A20)."""

import numpy as np
import pytest

from rnnbook import sudoku

# A well-known 9x9 puzzle (the example of Wikipedia's "Sudoku" article) and its unique solution.
PUZZLE = "530070000600195000098000060800060003400803001700020006060000280000419005000080079"
SOLUTION = "534678912672195348198342567859761423426853791713924856961537284287419635345286179"


def grid(s: str) -> np.ndarray:
    return np.array([int(c) for c in s], dtype=np.int64)


def test_the_288_shidoku_grids():
    g = sudoku.all_grids(2)
    assert g.shape == (288, 16)
    assert len({tuple(x) for x in g}) == 288
    assert all(sudoku.is_solution(x, 2) for x in g)
    assert sudoku.count_solutions(np.zeros(16, dtype=int), 2, limit=1000) == 288


def test_is_solution_rejects_a_swap():
    s = grid(SOLUTION)
    assert sudoku.is_solution(s, 3)
    bad = s.copy()
    bad[[0, 1]] = bad[[1, 0]]  # rows still hold 1..9, columns and the box do not
    assert not sudoku.is_solution(bad, 3)


def test_known_puzzle_has_the_known_unique_solution():
    p, s = grid(PUZZLE), grid(SOLUTION)
    assert np.array_equal(sudoku.solve(p, 3), s)
    assert sudoku.count_solutions(p, 3) == 1
    assert sudoku.is_solution(s, 3)
    assert np.array_equal(s[p > 0], p[p > 0])


def test_two_solutions_are_detected():
    s = grid(SOLUTION)
    # An unavoidable rectangle: cells a b / b a in two rows of one band and two boxes; emptied,
    # the two digits can be swapped, so the puzzle has exactly two solutions.
    g = s.reshape(9, 9)
    hole = None
    for r1 in range(9):
        for r2 in range(r1 + 1, (r1 // 3 + 1) * 3):  # same band: the rectangle spans two boxes
            for c1 in range(9):
                for c2 in range(c1 + 1, 9):
                    if c1 // 3 != c2 // 3 and g[r1, c1] == g[r2, c2] and g[r1, c2] == g[r2, c1]:
                        hole = [(r1, c1), (r1, c2), (r2, c1), (r2, c2)]
    assert hole is not None
    p = g.copy()
    for r, c in hole:
        p[r, c] = 0
    assert sudoku.count_solutions(p.reshape(-1), 3, limit=2) == 2
    assert sudoku.count_solutions(p.reshape(-1), 3, limit=10) == 2


def test_inconsistent_givens_have_no_solution():
    p = np.zeros(81, dtype=np.int64)
    p[0] = p[5] = 7  # same row
    assert sudoku.count_solutions(p, 3) == 0
    assert sudoku.solve(p, 3) is None
    with pytest.raises(ValueError):
        sudoku.count_solutions(np.zeros(80, dtype=int), 3)


@pytest.mark.parametrize("b", [2, 3])
def test_generated_puzzles_are_unique_minimal_and_consistent(b):
    rng = np.random.default_rng(1)
    for _ in range(4 if b == 3 else 20):
        s = sudoku.random_grid(b, rng)
        assert sudoku.is_solution(s, b)
        p = sudoku.make_puzzle(s, b, rng)
        assert sudoku.count_solutions(p, b) == 1
        assert np.array_equal(sudoku.solve(p, b), s)
        givens = np.flatnonzero(p)
        assert np.array_equal(p[givens], s[givens])
        for k in givens:  # minimal: every given is needed
            q = p.copy()
            q[k] = 0
            assert sudoku.count_solutions(q, b) == 2
    p = sudoku.make_puzzle(s, b, rng, min_givens=b**4 - 3)
    assert (p > 0).sum() == b**4 - 3


def test_add_givens_and_symmetry_keep_the_puzzle_valid():
    rng = np.random.default_rng(2)
    p, s = grid(PUZZLE), grid(SOLUTION)
    q = sudoku.add_givens(p, s, 5, rng)
    assert (q > 0).sum() == (p > 0).sum() + 5 and np.array_equal(q[q > 0], s[q > 0])
    for _ in range(5):
        tp, ts = sudoku.random_symmetry(np.stack([p, s]), 3, rng)
        assert sudoku.is_solution(ts, 3) and not np.array_equal(ts, s)
        assert (tp > 0).sum() == (p > 0).sum()
        assert np.array_equal(sudoku.solve(tp, 3), ts)


@pytest.mark.parametrize(("b", "count"), [(2, 112), (3, 1620)])
def test_constraint_graph(b, count):
    e = sudoku.sudoku_edges(b)
    n = b * b
    assert e.shape == (count, 2)
    assert (e[:, 0] != e[:, 1]).all()
    assert set(map(tuple, e)) == set(map(tuple, e[:, ::-1]))  # symmetric
    assert (np.bincount(e[:, 1], minlength=n * n) == 3 * n - 2 * b - 1).all()  # 7 or 20 peers
    # cell 0's peers for b = 2: row 1,2,3; column 4,8,12; box 5
    if b == 2:
        assert sorted(e[e[:, 1] == 0, 0].tolist()) == [1, 2, 3, 4, 5, 8, 12]


def test_generate_puzzles_is_reproducible():
    p, s = sudoku.generate_puzzles(3, 3, seed=7)
    assert p.shape == s.shape == (3, 81)
    q, t = sudoku.generate_puzzles(3, 3, seed=7)
    assert np.array_equal(p, q) and np.array_equal(s, t)
    assert all(sudoku.count_solutions(x, 3) == 1 for x in p)
    assert all(np.array_equal(sudoku.solve(x, 3), y) for x, y in zip(p, s, strict=True))
