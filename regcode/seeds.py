"""Random streams, and one experiment run over several seeds in parallel.

Every random choice of the book takes an explicit ``numpy.random.Generator``.
:func:`streams` turns one integer seed into independent generators for the
separate jobs of a training run, so that changing one of them (a dropout
probability, say) changes nothing else: the split of the data, the initial
weights, the dropout masks and the order of the mini-batches each have their
own stream.

:func:`run_seeds` runs one experiment for several seeds in worker processes and
:func:`summarize` reduces the per-seed results to the numbers the book prints.
"""

from __future__ import annotations

import atexit
import os
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


def _call_one_thread(fn, seed):
    """``fn(seed)`` with one BLAS thread: the same arithmetic whichever process runs it."""
    with threadpool_limits(limits=1):
        return fn(seed)


def run_seeds(fn, seeds, *, n_jobs=None):
    """``[fn(s) for s in seeds]``, computed in parallel worker processes.

    Each call runs with one BLAS thread, in the main process or in a joblib
    worker, so the results are the same bit for bit whatever ``n_jobs`` is.
    The workers come from joblib's default (loky) backend, which pickles
    ``fn`` with cloudpickle: functions defined in a notebook work, and the
    workers are started once and reused by later calls.

    The same call runs on a cluster through joblib's other backends, for
    example ``with joblib.parallel_config(backend="dask"): run_seeds(fn, seeds)``
    with a dask ``Client`` connected (or ``backend="ray"`` after
    ``ray.util.joblib.register_ray()``).

    Parameters
    ----------
    fn : callable
        ``fn(seed)`` for one integer seed; its result must be picklable.
    seeds : iterable of int
    n_jobs : int >= 1, optional
        Worker processes; default: all cores (``os.cpu_count()``), at most one
        per seed. ``n_jobs=1`` runs the loop in this process.

    Returns
    -------
    list
        ``fn(s)`` for each ``s`` in ``seeds``, in order.

    Raises
    ------
    TypeError
        If ``fn`` is not callable, a seed is not an integer or ``n_jobs`` is
        not an integer.
    ValueError
        If ``seeds`` is empty or ``n_jobs`` is below 1.

    Examples
    --------
    >>> import numpy as np
    >>> run_seeds(lambda s: int(np.random.default_rng(s).integers(100)), [0, 1], n_jobs=1)
    [85, 47]
    """
    if not callable(fn):
        raise TypeError(f"fn must be callable, got {type(fn).__name__}")
    seeds = [check_int(s, "seeds[i]", low=0) for s in seeds]
    if not seeds:
        raise ValueError("seeds must hold at least one seed")
    n_jobs = (os.cpu_count() or 1) if n_jobs is None else check_int(n_jobs, "n_jobs", low=1)
    n_jobs = min(n_jobs, len(seeds))
    if n_jobs == 1:
        return [_call_one_thread(fn, s) for s in seeds]
    _shut_down_workers_at_exit()
    return Parallel(n_jobs=n_jobs)(delayed(_call_one_thread)(fn, s) for s in seeds)


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
