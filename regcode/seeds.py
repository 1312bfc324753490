"""Random streams, and one experiment run over several seeds in parallel.

Every random choice of the book takes an explicit ``numpy.random.Generator``.
:func:`streams` turns one integer seed into independent generators for the
separate jobs of a training run, so that changing one of them (a dropout
probability, say) changes nothing else: the split of the data, the initial
weights, the dropout masks and the order of the mini-batches each have their
own stream.

:func:`run_seeds` runs one experiment for several seeds in worker processes
(:func:`start_workers` starts them ahead, in the background) and
:func:`summarize` reduces the per-seed results to the numbers the book prints.
"""

from __future__ import annotations

import atexit
import importlib
import os
import sys
import threading
from typing import NamedTuple

import numpy as np
from joblib import Parallel, delayed
from threadpoolctl import threadpool_limits

from ._validation import check_int


class Streams(NamedTuple):
    """Independent generators for the four random jobs of a training run."""

    # The ``#:`` comments document the fields on the API page (autodoc lists a NamedTuple's
    # fields itself, so an Attributes section would describe them a second time).
    #: Splits and subsamples the data set.
    data: np.random.Generator
    #: Draws the initial weights.
    init: np.random.Generator
    #: Draws the dropout masks.
    dropout: np.random.Generator
    #: Shuffles the training set into mini-batches.
    batches: np.random.Generator


def streams(seed):
    """Four independent generators (:class:`Streams`) spawned from one integer seed.

    The streams are children of ``numpy.random.SeedSequence(seed)``, so they
    are statistically independent and the same seed always gives the same
    four streams.

    Parameters
    ----------
    seed : int >= 0

    Returns
    -------
    Streams

    Raises
    ------
    TypeError
        If ``seed`` is not an integer.
    ValueError
        If ``seed`` is negative.

    Examples
    --------
    >>> rngs = streams(0)
    >>> a = rngs.init.standard_normal(2)
    >>> b = streams(0).init.standard_normal(2)
    >>> bool((a == b).all())
    True
    """
    seed = check_int(seed, "seed", low=0)
    children = np.random.SeedSequence(seed).spawn(len(Streams._fields))
    return Streams(*(np.random.default_rng(child) for child in children))


def _call_one_thread(fn, *args):
    """``fn(*args)`` with one BLAS thread: the same arithmetic whichever process runs it."""
    with threadpool_limits(limits=1):
        return fn(*args)


_warm_up = None  # the thread of start_workers; run_seeds waits for it

# What a worker needs to train the book's networks: the data (scikit-learn) and the training code.
_WORKER_MODULES = ("regcode.data", "regcode.layers", "regcode.train")
# The edges that draw and glue run in the notebook's process only: matplotlib would cost every
# worker about a second of start-up for nothing.
_PARENT_ONLY = ("regcode.plotting", "regcode.book")


def _worker_modules():
    """The modules a worker imports ahead: the training modules and the regcode modules imported here."""
    imported = {name for name in sys.modules if name.split(".")[0] == "regcode"}
    return sorted((imported | set(_WORKER_MODULES)) - set(_PARENT_ONLY))


def _n_jobs(n_jobs):
    """The number of worker processes: ``n_jobs`` checked, or all cores when it is None."""
    return (os.cpu_count() or 1) if n_jobs is None else check_int(n_jobs, "n_jobs", low=1)


def _import(modules):
    """A worker's first task: import the modules it will need (numpy, scikit-learn, regcode)."""
    for name in modules:
        importlib.import_module(name)


def start_workers(n_jobs=None):
    """Start the worker processes of :func:`run_seeds` in the background, and return at once.

    Starting a worker (a Python process that imports numpy, scikit-learn and
    regcode) takes about a second. Called at the top of a notebook, before its
    other imports, this lets the workers start while the notebook imports and
    runs its first cells; the first :func:`run_seeds` waits for them if they are
    not ready. Each worker imports ``regcode.data`` (with scikit-learn),
    ``regcode.layers``, ``regcode.train`` and every other regcode module
    imported so far, but not the edges that need matplotlib
    (``regcode.plotting``, ``regcode.book``). Calling it again does nothing,
    and without it :func:`run_seeds` starts the workers itself.

    Parameters
    ----------
    n_jobs : int >= 1, optional
        Worker processes; default: all cores. ``1`` starts none (:func:`run_seeds`
        then runs in this process).

    Returns
    -------
    None

    Raises
    ------
    TypeError
        If ``n_jobs`` is not an integer.
    ValueError
        If ``n_jobs`` is below 1.
    """
    global _warm_up
    n_jobs = _n_jobs(n_jobs)
    if n_jobs == 1 or _warm_up is not None:
        return
    _shut_down_workers_at_exit()
    tasks = [delayed(_import)(_worker_modules()) for _ in range(n_jobs)]
    _warm_up = threading.Thread(target=Parallel(n_jobs=n_jobs), args=(tasks,), daemon=True)
    _warm_up.start()


def run_seeds(fn, seeds, *, settings=None, n_jobs=None):
    """``[fn(s) for s in seeds]``, computed in parallel worker processes.

    Each call runs with one BLAS thread, in the main process or in a joblib
    worker, so the results are the same bit for bit whatever ``n_jobs`` is.
    The workers come from joblib's default (loky) backend, which pickles
    ``fn`` with cloudpickle: functions defined in a notebook work, and the
    workers are started once and reused by later calls.

    With ``settings``, every pair of a seed and a setting is a task of its
    own, ``fn(seed, setting)``, and the result is one row per seed. Smaller
    tasks share out better: 5 seeds on 2 workers take as long as 3 seeds, but
    5 seeds times 7 settings on 2 workers take as long as 18 settings.

    The same call runs on a cluster through joblib's other backends, for
    example ``with joblib.parallel_config(backend="dask"): run_seeds(fn, seeds)``
    with a dask ``Client`` connected (or ``backend="ray"`` after
    ``ray.util.joblib.register_ray()``).

    Parameters
    ----------
    fn : callable
        ``fn(seed)`` for one integer seed, or ``fn(seed, setting)`` when
        ``settings`` is given; its result must be picklable.
    seeds : iterable of int
    settings : sequence, optional
        The settings to run for every seed (picklable values, e.g. dropout
        probabilities or the names of runs).
    n_jobs : int >= 1, optional
        Worker processes; default: all cores (``os.cpu_count()``), at most one
        per task. ``n_jobs=1`` runs the loop in this process.

    Returns
    -------
    list
        ``fn(s)`` for each ``s`` in ``seeds``, in order; with ``settings``,
        for each seed the list ``[fn(s, c) for c in settings]``.

    Raises
    ------
    TypeError
        If ``fn`` is not callable, a seed is not an integer, ``settings`` is
        not a sequence or ``n_jobs`` is not an integer.
    ValueError
        If ``seeds`` or ``settings`` is empty or ``n_jobs`` is below 1.

    Examples
    --------
    >>> import numpy as np
    >>> run_seeds(lambda s: int(np.random.default_rng(s).integers(100)), [0, 1], n_jobs=1)
    [85, 47]
    >>> run_seeds(lambda s, c: 10 * s + c, [0, 1], settings=(1, 2, 3), n_jobs=1)
    [[1, 2, 3], [11, 12, 13]]
    """
    if not callable(fn):
        raise TypeError(f"fn must be callable, got {type(fn).__name__}")
    seeds = [check_int(s, "seeds[i]", low=0) for s in seeds]
    if not seeds:
        raise ValueError("seeds must hold at least one seed")
    if settings is None:
        tasks = [(s,) for s in seeds]
    else:
        if isinstance(settings, (str, bytes)) or not hasattr(settings, "__len__"):
            raise TypeError(f"settings must be a sequence (a list or a tuple), got {type(settings).__name__}")
        settings = list(settings)
        if not settings:
            raise ValueError("settings must hold at least one setting")
        tasks = [(s, c) for s in seeds for c in settings]
    n_jobs = _n_jobs(n_jobs)
    n_jobs = min(n_jobs, len(tasks))
    if n_jobs == 1:
        results = [_call_one_thread(fn, *task) for task in tasks]
    else:
        if _warm_up is not None:
            _warm_up.join()  # the workers of start_workers are ready
        _shut_down_workers_at_exit()
        results = Parallel(n_jobs=n_jobs)(delayed(_call_one_thread)(fn, *task) for task in tasks)
    if settings is None:
        return results
    k = len(settings)
    return [results[i * k : (i + 1) * k] for i in range(len(seeds))]


_exit_hook_registered = False


def _shut_down_workers_at_exit():
    """Stop joblib's worker processes when this process ends (a notebook's kernel shutting down).

    Otherwise the workers are killed with their parent, and loky's resource tracker warns
    about leaked semaphores on stderr.
    """
    global _exit_hook_registered
    if not _exit_hook_registered:
        from joblib.externals.loky import get_reusable_executor

        atexit.register(lambda: get_reusable_executor().shutdown(wait=True))
        _exit_hook_registered = True


class Summary(NamedTuple):
    """Mean, sample standard deviation, extremes and count of per-seed values.

    ``format(summary, ".1f")`` gives ``"94.9 ± 0.8"``: the mean and the
    standard deviation in the same format.
    """

    mean: float
    std: float
    min: float
    max: float
    n: int

    def __format__(self, spec):
        return f"{self.mean:{spec}} ± {self.std:{spec}}"


def summarize(values):
    """Summarise per-seed values: mean, standard deviation (``ddof=1``), min, max and n.

    Parameters
    ----------
    values : sequence of float, at least one
        One number per seed (NaN is not allowed: count diverged runs apart).

    Returns
    -------
    Summary
        ``std`` is 0.0 for a single value.

    Raises
    ------
    TypeError
        If ``values`` holds something other than real numbers.
    ValueError
        If ``values`` is empty, not 1-D, or holds NaN or infinity.

    Examples
    --------
    >>> s = summarize([94.0, 95.0, 96.0])
    >>> s.mean, s.std, s.n, f"{s:.1f}"
    (95.0, 1.0, 3, '95.0 ± 1.0')
    """
    arr = np.asarray(values)
    if arr.dtype == bool or arr.dtype.kind not in "fiu":
        raise TypeError(f"values must be real numbers, got dtype {arr.dtype}")
    arr = arr.astype(np.float64)
    if arr.ndim != 1 or arr.size == 0:
        raise ValueError(f"values must be a non-empty 1-D sequence, got shape {arr.shape}")
    if not np.all(np.isfinite(arr)):
        raise ValueError("values contains NaN or infinite values")
    std = float(arr.std(ddof=1)) if arr.size > 1 else 0.0
    return Summary(float(arr.mean()), std, float(arr.min()), float(arr.max()), int(arr.size))
