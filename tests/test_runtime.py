"""Unit tests of rnnbook.runtime: profile, seeds, threads, determinism."""

import numpy as np
import pytest
import torch

from rnnbook import runtime


def test_profile_defaults_to_ci_without_gpu(monkeypatch):
    monkeypatch.delenv("BOOK_PROFILE", raising=False)
    expected = "full" if torch.cuda.is_available() else "ci"
    assert runtime.profile() == expected


def test_unknown_profile_names_the_valid_ones(monkeypatch):
    monkeypatch.setenv("BOOK_PROFILE", "fast")
    with pytest.raises(runtime.BookError, match="valid profiles: ci, full"):
        runtime.profile()


def test_seeds_from_environment_override_defaults(monkeypatch):
    monkeypatch.delenv("BOOK_SEEDS", raising=False)
    assert runtime.seeds([0, 1]) == [0, 1]
    assert runtime.seeds({"ci": [0, 1], "full": [0, 1, 2]}, "full") == [0, 1, 2]
    with pytest.raises(runtime.BookError, match="no setting for profile 'full'"):
        runtime.seeds({"ci": [0]}, "full")
    monkeypatch.setenv("BOOK_SEEDS", "7, 8,9")
    assert runtime.seeds({"ci": [0, 1]}, "ci") == [7, 8, 9]
    assert runtime.seeds([0, 1]) == [7, 8, 9]
    monkeypatch.setenv("BOOK_SEEDS", "a,b")
    with pytest.raises(runtime.BookError, match="comma-separated integers"):
        runtime.seeds([0])


def test_seed_everything_makes_torch_and_numpy_repeat():
    runtime.seed_everything(3)
    a = (torch.randn(5), np.random.rand(3))
    runtime.seed_everything(3)
    b = (torch.randn(5), np.random.rand(3))
    assert torch.equal(a[0], b[0]) and np.array_equal(a[1], b[1])
    runtime.seed_everything(4)
    assert not torch.equal(torch.randn(5), a[0])


def test_setup_sets_threads_and_refuses_full_on_cpu(monkeypatch):
    monkeypatch.setenv("BOOK_PROFILE", "ci")
    monkeypatch.setenv("BOOK_SEEDS", "5")
    monkeypatch.delenv("BOOK_THREADS", raising=False)
    before = torch.get_num_threads()
    try:
        ctx = runtime.setup("a99", default_seeds=[0, 1])
        assert (ctx.profile, ctx.seeds, ctx.threads, torch.get_num_threads()) == ("ci", [5], 1, 1)
        assert ctx.pick(ci=1, full=2) == 1
        assert "a99" in ctx.describe()
        if not torch.cuda.is_available():
            monkeypatch.setenv("BOOK_PROFILE", "full")
            monkeypatch.delenv("BOOK_ALLOW_CPU_FULL", raising=False)
            with pytest.raises(runtime.BookError, match=r"sized for a GPU"):
                runtime.setup("a99", default_seeds=[0])
    finally:
        torch.set_num_threads(before)
        torch.use_deterministic_algorithms(False)


def test_pick_names_missing_profile():
    with pytest.raises(runtime.BookError, match="no setting for profile 'full'"):
        runtime.pick("full", ci=1)


def test_results_dir_prefers_environment(monkeypatch, tmp_path):
    monkeypatch.setenv("BOOK_RESULTS_DIR", str(tmp_path))
    assert runtime.results_dir() == tmp_path
    monkeypatch.delenv("BOOK_RESULTS_DIR")
    monkeypatch.chdir(tmp_path)
    assert runtime.results_dir() == __import__("pathlib").Path("results")


def test_glue_stores_numpy_and_tensor_scalars_as_python_numbers(monkeypatch):
    import myst_nb

    stored = {}
    monkeypatch.setattr(myst_nb, "glue", lambda name, value, display=False: stored.__setitem__(name, value))
    for raw, want in [(np.float64(0.25), 0.25), (torch.tensor(3), 3), (np.int64(7), 7), (0.5, 0.5)]:
        assert runtime.glue("x", raw) is None  # no stray value shown under the cell
        assert type(stored["x"]) is type(want) and stored["x"] == want
    arr = np.array([1.0, 2.0])
    runtime.glue("arr", arr)
    assert stored["arr"] is arr  # arrays are glued as they are


def test_generator_gives_one_reproducible_stream_per_seed_and_tag():
    draw = lambda seed, tag: torch.rand(4, generator=runtime.generator(seed, tag))  # noqa: E731
    assert torch.equal(draw(3, 1), draw(3, 1))
    assert not torch.equal(draw(3, 1), draw(3, 2)) and not torch.equal(draw(3, 1), draw(4, 1))
    assert runtime.generator(0, 0).device.type == "cpu"
    assert runtime.generator(0, 0, torch.device("cpu")).initial_seed() == 0
    assert runtime.generator(2, 5).initial_seed() == 2 * 1_000_003 + 5


def test_progress_bars_are_off_under_the_book_machine(monkeypatch):
    steps = range(3)
    monkeypatch.setenv("BOOK_PROGRESS", "0")
    assert runtime.progress(steps) is steps
    monkeypatch.setenv("BOOK_PROGRESS", "1")
    bar = runtime.progress(steps, desc="x")
    assert list(bar) == [0, 1, 2] and hasattr(bar, "close")
