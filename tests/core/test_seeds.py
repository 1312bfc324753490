"""Tests for regcode.seeds: independent streams, runs over seeds in parallel, summaries."""

import json
import textwrap

import nbformat
import numpy as np
import pytest
from nbclient import NotebookClient

from regcode.layers import mlp
from regcode.losses import softmax_cross_entropy
from regcode.optim import SGD
from regcode.seeds import Summary, run_seeds, streams, summarize
from regcode.train import fit


def test_streams_are_reproducible_and_distinct():
    a, b = streams(3), streams(3)
    for x, y in zip(a, b, strict=True):
        np.testing.assert_array_equal(x.random(4), y.random(4))
    draws = [g.random(4) for g in streams(3)]
    assert len({tuple(d) for d in draws}) == 4  # four different streams
    assert not np.array_equal(streams(3).init.random(4), streams(4).init.random(4))


def train_once(seed, drop_prob=0.5):
    """A small training run from one seed: a realistic job for run_seeds."""
    rngs = streams(seed)
    X = rngs.data.standard_normal((40, 4))
    y = (X[:, 0] + X[:, 1] > 0).astype(np.int64)
    model = mlp((4, 16, 2), rngs.init, drop_prob=drop_prob, dropout_rng=rngs.dropout)
    history = fit(model, softmax_cross_entropy, SGD(model.parameters(), lr=0.1, momentum=0.9), X, y,
                  epochs=5, batch_size=8, rng=rngs.batches)  # fmt: skip
    return history.train_loss[-1], model.layers[0].weight.data.copy()


def test_run_seeds_equals_the_loop_bit_for_bit_whatever_n_jobs():
    loop = [train_once(s) for s in range(4)]
    for n_jobs in (1, 2):
        got = run_seeds(train_once, range(4), n_jobs=n_jobs)
        assert [loss for loss, _ in got] == [loss for loss, _ in loop]
        for (_, w), (_, w_loop) in zip(got, loop, strict=True):
            np.testing.assert_array_equal(w, w_loop)


def test_run_seeds_with_settings_is_one_row_per_seed_bit_for_bit_whatever_n_jobs():
    probs = (0.0, 0.2, 0.5)
    loop = [[train_once(s, p) for p in probs] for s in range(3)]
    for n_jobs in (1, 2):
        got = run_seeds(train_once, range(3), settings=probs, n_jobs=n_jobs)
        assert len(got) == 3 and all(len(row) == len(probs) for row in got)
        for row, row_loop in zip(got, loop, strict=True):
            for (loss, w), (loss_loop, w_loop) in zip(row, row_loop, strict=True):
                assert loss == loss_loop
                np.testing.assert_array_equal(w, w_loop)
    assert loop[0][0][0] != loop[0][2][0]  # the settings differ: a mix-up of rows and columns would show


def test_workers_started_ahead_give_the_same_results():
    import regcode.seeds as seeds

    loop = [train_once(s) for s in range(3)]
    seeds.start_workers(n_jobs=2)
    assert seeds._warm_up is not None
    got = run_seeds(train_once, range(3), n_jobs=2)  # waits for the warm-up, then reuses its workers
    assert not seeds._warm_up.is_alive()
    assert [loss for loss, _ in got] == [loss for loss, _ in loop]
    seeds.start_workers(n_jobs=2)  # a second call starts nothing
    assert not seeds._warm_up.is_alive()


def test_workers_import_the_training_modules_but_not_matplotlib_edges():
    import regcode.book  # noqa: F401  (imported in this process: still not in the workers)
    import regcode.seeds as seeds

    modules = seeds._worker_modules()
    assert {"regcode.data", "regcode.layers", "regcode.train", "regcode.seeds"} <= set(modules)
    assert "regcode.plotting" not in modules and "regcode.book" not in modules
    assert all(name.split(".")[0] == "regcode" for name in modules)


def test_changing_the_dropout_probability_changes_nothing_else():
    # Same seed, p = 0 and p = 0.5: the same data, initial weights and batch order.
    rngs_a, rngs_b = streams(0), streams(0)
    model_a = mlp((4, 8, 2), rngs_a.init, drop_prob=0.0, dropout_rng=rngs_a.dropout)
    model_b = mlp((4, 8, 2), rngs_b.init, drop_prob=0.5, dropout_rng=rngs_b.dropout)
    for pa, pb in zip(model_a.parameters(), model_b.parameters(), strict=True):
        np.testing.assert_array_equal(pa.data, pb.data)
    model_b(np.ones((3, 4)))  # draws masks from rngs_b.dropout only
    np.testing.assert_array_equal(rngs_a.batches.permutation(10), rngs_b.batches.permutation(10))


def test_run_seeds_works_with_a_function_defined_in_a_notebook(tmp_path):
    cells = [
        "import numpy as np\nfrom regcode.seeds import run_seeds",
        textwrap.dedent("""\
            def job(seed):  # defined in the notebook: joblib pickles it with cloudpickle
                rng = np.random.default_rng(seed)
                a = rng.standard_normal((50, 50))
                return float(np.linalg.norm(a @ a.T))
            """),
        "import json\nprint(json.dumps([run_seeds(job, range(4), n_jobs=2), [job(s) for s in range(4)]]))",
    ]
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(c) for c in cells])
    NotebookClient(
        nb, timeout=120, kernel_name="python3", resources={"metadata": {"path": str(tmp_path)}}
    ).execute()
    parallel, sequential = json.loads(nb.cells[-1].outputs[0]["text"])
    assert parallel == sequential and len(parallel) == 4


def test_run_seeds_runs_in_worker_processes_by_default(monkeypatch):
    import os

    import regcode.seeds

    calls = []
    real = regcode.seeds.Parallel
    monkeypatch.setattr(regcode.seeds, "Parallel", lambda n_jobs: calls.append(n_jobs) or real(n_jobs=n_jobs))
    pids = run_seeds(lambda s: os.getpid(), range(4))
    if (os.cpu_count() or 1) > 1:
        assert calls == [min(os.cpu_count(), 4)]  # all cores, at most one worker per seed
        assert os.getpid() not in pids  # the work ran in the workers
    else:  # pragma: no cover - a one-core machine runs the loop in this process
        assert calls == [] and set(pids) == {os.getpid()}


def test_summarize_and_its_format():
    s = summarize([94.0, 95.0, 96.5])
    assert isinstance(s, Summary)
    assert s.mean == pytest.approx(95.1666666) and s.std == pytest.approx(np.std([94.0, 95.0, 96.5], ddof=1))
    assert (s.min, s.max, s.n) == (94.0, 96.5, 3)
    assert f"{s:.1f}" == "95.2 ± 1.3"
    assert summarize([2]).std == 0.0
