"""Benchmarks: regcode against PyTorch (CPU, eager) and scikit-learn, and the book's notebooks.

Run from the repository root::

    make bench                                   # everything (a few minutes)
    .venv/bin/python benchmarks/run.py --quick   # fewer repetitions
    .venv/bin/python benchmarks/run.py --only kernels,mlp

Sections (``--only`` takes a comma-separated subset):

``kernels``
    Dropout, batch norm and layer norm, forward + backward, as layers in
    training mode (regcode ``layer.forward`` / ``layer.backward``; torch
    ``module(x)`` and ``torch.autograd.grad``), at the book's sizes (batch 64
    and 128, width 256) and at 4x both (batch 256 and 512, width 1024).
``mlp``
    One training step of the book's digits MLP (64-256-256-10, batch norm,
    ReLU, dropout 0.5, AdamW with decay on the weights only, cross-entropy):
    zero_grad, forward, loss, backward, optimiser step. Same initial weights
    and batch on both sides. ``matmul floor`` is the step's eight matrix
    products alone (three forward, three weight gradients, two input
    gradients), in numpy with the same dtype: no implementation beats it.
``lasso``
    ``regcode.linear_model.lasso_path`` against ``sklearn.linear_model.lasso_path``
    on the diabetes data (standardised, centred target), 100 strengths from
    lam_max down to lam_max / 1000, both with ``tol=1e-10``; the coefficients
    must agree to 1e-6 (asserted). Accuracy is also reported as the largest
    violation of the lasso optimality conditions, which favours neither solver.
``seeds``
    ``regcode.seeds.run_seeds`` on the chapters' typical job (one training run of the digits
    MLP, float64, 200 images) for 6 seeds: in this process (``n_jobs=1``) against 2 worker
    processes, with the pool already started (as from a chapter's second call on). The results
    must be identical (asserted); the target is a speedup of at least 1.8x on 2 cores.
``notebooks``
    Every ``book/*.ipynb`` executed top to bottom in a fresh kernel (nbclient,
    working directory ``book/``, the executed copy written to a temporary
    directory, ``book/`` untouched): wall time, CPU time (user + sys of the
    kernel and its children) and peak resident memory.

Method: one process, one thread everywhere (BLAS, OpenMP, torch intra-op),
the same dtype, inputs and initial weights on both sides. The competing
implementations of one comparison are measured interleaved (round robin,
rotating the order), so that the load of a shared machine hits them alike:
each round times a batch of calls long enough for the clock, and the tables
report the median per call over the rounds, in CPU time (wall time is in the
JSON). Ratios are taken between medians measured in the same process.
PyTorch and scikit-learn are optional: what is missing is skipped and said.

Results are printed as markdown tables and written as JSON to
``benchmarks/results/`` (ignored by git). Nothing in ``benchmarks/`` is
imported by the book.
"""

from __future__ import annotations

import argparse
import os
import sys

SECTIONS = ("kernels", "mlp", "lasso", "seeds", "notebooks")


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--only", default=",".join(SECTIONS), help=f"comma-separated subset of {SECTIONS}")
    parser.add_argument("--quick", action="store_true", help="fewer rounds (a smoke run, noisier numbers)")
    parser.add_argument("--rounds", type=int, default=None, help="timing rounds per comparison")
    parser.add_argument(
        "--threads", type=int, default=1, help="threads for BLAS, OpenMP and torch (default 1)"
    )
    parser.add_argument("--out", default=None, help="JSON output path (default benchmarks/results/...)")
    parser.add_argument(
        "--keep-openblas-coretype",
        action="store_true",
        help="keep OPENBLAS_CORETYPE/OPENBLAS_L2_SIZE if set (by default they are unset in this process)",
    )
    args = parser.parse_args(argv)
    args.only = [s.strip() for s in args.only.split(",") if s.strip()]
    unknown = sorted(set(args.only) - set(SECTIONS))
    if unknown:
        parser.error(f"unknown sections {unknown}; choose from {SECTIONS}")
    if args.rounds is None:
        args.rounds = 15 if args.quick else 60
    return args


ARGS = parse_args() if __name__ == "__main__" else parse_args([])

# Thread counts are read when numpy and torch load: set them first.
for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[_var] = str(ARGS.threads)
# Some machines set OPENBLAS_CORETYPE (and OPENBLAS_L2_SIZE) for old OpenBLAS builds; they slow a
# current numpy. Unset both together, in this process only, so that numpy's BLAS picks its kernel.
UNSET_OPENBLAS = {}
if not ARGS.keep_openblas_coretype:
    for _var in ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE"):
        if _var in os.environ:
            UNSET_OPENBLAS[_var] = os.environ.pop(_var)

import contextlib  # noqa: E402
import datetime  # noqa: E402
import functools  # noqa: E402
import glob  # noqa: E402
import json  # noqa: E402
import platform  # noqa: E402
import re  # noqa: E402
import subprocess  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from regcode import layers  # noqa: E402
from regcode.data import load_diabetes  # noqa: E402
from regcode.linear_model import lasso_lam_max, lasso_path  # noqa: E402
from regcode.losses import softmax_cross_entropy  # noqa: E402
from regcode.optim import AdamW, decay_groups  # noqa: E402

try:
    import torch
except ImportError:  # pragma: no cover - depends on the environment
    torch = None
try:
    import sklearn
    import sklearn.linear_model
except ImportError:  # pragma: no cover
    sklearn = None
try:
    import threadpoolctl
except ImportError:  # pragma: no cover
    threadpoolctl = None

if threadpoolctl is not None:
    _LIMITS = threadpoolctl.threadpool_limits(ARGS.threads)  # a guard if a library ignored the variables
if torch is not None:
    torch.set_num_threads(ARGS.threads)
    with contextlib.suppress(RuntimeError):  # only settable before torch's first parallel work
        torch.set_num_interop_threads(1)

SEED = 0
SKIPPED = []


# ----------------------------------------------------------------------------- timing


def _batch(fn, calls):
    c0, w0 = time.process_time_ns(), time.perf_counter_ns()
    for _ in range(calls):
        fn()
    return (time.process_time_ns() - c0) / calls / 1e3, (time.perf_counter_ns() - w0) / calls / 1e3


def measure(cases, rounds, min_batch_s=0.004, warmup_s=0.05):
    """Time zero-argument callables interleaved; return per-call medians in microseconds.

    Each case is first warmed up, then calibrated to a number of calls per
    batch that lasts at least ``min_batch_s``. Every round times one batch
    of each case, in an order that rotates from round to round.
    """
    calls = {}
    for name, fn in cases.items():
        t0, n = time.perf_counter(), 0
        while time.perf_counter() - t0 < warmup_s or n < 3:
            fn()
            n += 1
        per_call = (time.perf_counter() - t0) / n
        calls[name] = max(1, int(np.ceil(min_batch_s / per_call)))
    cpu = {name: [] for name in cases}
    wall = {name: [] for name in cases}
    names = list(cases)
    for r in range(rounds):
        order = names[r % len(names) :] + names[: r % len(names)]
        for name in order:
            c, w = _batch(cases[name], calls[name])
            cpu[name].append(c)
            wall[name].append(w)
    return {
        name: {
            "cpu_us": float(np.median(cpu[name])),
            "cpu_us_q25": float(np.percentile(cpu[name], 25)),
            "cpu_us_q75": float(np.percentile(cpu[name], 75)),
            "wall_us": float(np.median(wall[name])),
            "calls_per_round": calls[name],
            "rounds": rounds,
        }
        for name in cases
    }


def fmt_us(us):
    return f"{us / 1000:.2f} ms" if us >= 1000 else f"{us:.0f} µs" if us >= 10 else f"{us:.1f} µs"


def markdown_table(header, rows):
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    lines += ["| " + " | ".join(str(c) for c in row) + " |" for row in rows]
    return "\n".join(lines)


# ----------------------------------------------------------------------------- machine


def machine_info():
    cpu_model = "unknown"
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu_model = line.split(":", 1)[1].strip()
                break
    info = {
        "date": datetime.datetime.now().isoformat(timespec="seconds"),
        "nproc": os.cpu_count(),
        "cpu_model": cpu_model,
        "loadavg_at_start": os.getloadavg(),
        "python": platform.python_version(),
        "numpy": np.__version__,
        "torch": None if torch is None else torch.__version__,
        "sklearn": None if sklearn is None else sklearn.__version__,
        "threads": ARGS.threads,
        "openblas_vars_unset": UNSET_OPENBLAS,
        "blas": [],
    }
    if threadpoolctl is not None:
        for lib in threadpoolctl.threadpool_info():
            info["blas"].append(
                {k: lib.get(k) for k in ("internal_api", "prefix", "version", "architecture", "num_threads")}
            )
    if torch is not None:
        info["torch_threads"] = torch.get_num_threads()
        info["torch_blas"] = "MKL" if torch.backends.mkl.is_available() else "other"
    return info


def machine_markdown(info):
    blas = "; ".join(
        f"{b['internal_api']} {b['version']} ({b.get('architecture') or '-'}, {b['num_threads']} thr)"
        for b in info["blas"]
        if b["internal_api"] == "openblas"
    )
    lines = [
        f"- machine: {info['nproc']} cores, {info['cpu_model']}, load average at start "
        f"{info['loadavg_at_start'][0]:.2f}",
        f"- python {info['python']}, numpy {info['numpy']} (BLAS: {blas or 'unknown'}), "
        f"torch {info['torch'] or 'not installed'}"
        + (f" ({info.get('torch_blas')}, {info.get('torch_threads')} thr)" if info["torch"] else "")
        + f", scikit-learn {info['sklearn'] or 'not installed'}",
        f"- threads: {info['threads']} (OMP/OPENBLAS/MKL_NUM_THREADS, threadpoolctl, torch.set_num_threads)",
    ]
    if info["openblas_vars_unset"]:
        lines.append(f"- unset in this process for numpy's BLAS: {sorted(info['openblas_vars_unset'])}")
    return "\n".join(lines)


# ----------------------------------------------------------------------------- kernels

KERNEL_SIZES = [(64, 256), (128, 256), (256, 1024), (512, 1024)]
BOOK_SIZES = {(64, 256), (128, 256)}


def _regcode_kernel(kind, n, d, dtype, rng):
    if kind == "dropout":
        layer = layers.Dropout(0.5, rng)
    elif kind == "batchnorm":
        layer = layers.BatchNorm1d(d, dtype=dtype)
    else:
        layer = layers.LayerNorm(d, dtype=dtype)
    x = rng.standard_normal((n, d)).astype(dtype)
    g = rng.standard_normal((n, d)).astype(dtype)

    def step():
        layer.zero_grad()
        layer.forward(x)
        return layer.backward(g)

    return step, layer, x, g


def _torch_kernel(kind, x, g):
    n, d = x.shape
    tdtype = getattr(torch, x.dtype.name)
    if kind == "dropout":
        module = torch.nn.Dropout(0.5)
    elif kind == "batchnorm":
        module = torch.nn.BatchNorm1d(d).to(tdtype)
    else:
        module = torch.nn.LayerNorm(d).to(tdtype)
    module.train()
    tx = torch.from_numpy(x.copy()).requires_grad_(True)
    tg = torch.from_numpy(g.copy())
    inputs = [tx, *module.parameters()]

    def step():
        out = module(tx)
        return torch.autograd.grad(out, inputs, tg)

    return step, module


def _check_kernel(kind, layer, module, x, g):
    """regcode and torch compute the same thing (dropout: the same rate and scale)."""
    tol = 1e-4 if x.dtype == np.float32 else 1e-10
    out = layer.forward(x)
    dx = layer.backward(g)
    tx = torch.from_numpy(x.copy()).requires_grad_(True)
    tout = module(tx)
    (tdx,) = torch.autograd.grad(tout, [tx], torch.from_numpy(g.copy()))
    if kind == "dropout":
        kept = out != 0
        assert abs(kept.mean() - 0.5) < 0.05 and np.allclose(out[kept], 2 * x[kept])
        assert np.array_equal(dx != 0, kept)
        return
    np.testing.assert_allclose(out, tout.detach().numpy(), rtol=tol, atol=tol)
    np.testing.assert_allclose(dx, tdx.numpy(), rtol=tol, atol=tol * 10)


def bench_kernels(rounds):
    rows, results = [], []
    if torch is None:
        SKIPPED.append("kernels vs torch: torch not installed (regcode timed alone)")
    for dtype in (np.float32, np.float64):
        for kind in ("dropout", "batchnorm", "layernorm"):
            for n, d in KERNEL_SIZES:
                rng = np.random.default_rng(SEED)
                r_step, layer, x, g = _regcode_kernel(kind, n, d, dtype, rng)
                cases = {"regcode": r_step}
                if torch is not None:
                    t_step, module = _torch_kernel(kind, x, g)
                    _check_kernel(kind, layer, module, x, g)
                    cases["torch"] = t_step
                res = measure(cases, rounds)
                r_us = res["regcode"]["cpu_us"]
                t_us = res["torch"]["cpu_us"] if "torch" in res else None
                speedup = None if t_us is None else t_us / r_us
                book = (n, d) in BOOK_SIZES
                results.append(
                    {"kernel": kind, "dtype": np.dtype(dtype).name, "n": n, "d": d, "book_size": book, **res}
                )
                results[-1]["speedup_vs_torch"] = speedup
                target = "" if speedup is None or not book else ("yes" if speedup >= 1.0 else "NO")
                rows.append(
                    [
                        kind,
                        np.dtype(dtype).name,
                        f"{n}x{d}" + (" (book)" if book else ""),
                        fmt_us(r_us),
                        "-" if t_us is None else fmt_us(t_us),
                        "-" if speedup is None else f"{speedup:.2f}x",
                        target,
                    ]
                )
    table = markdown_table(
        ["kernel (fwd+bwd)", "dtype", "N x D", "regcode", "torch", "torch / regcode", "target ≥ 1 met"], rows
    )
    return table, results


# ----------------------------------------------------------------------------- MLP step

MLP_SIZES = (64, 256, 256, 10)
MLP_BATCHES = (32, 64, 128)
DROP_PROB, LR, WEIGHT_DECAY = 0.5, 1e-3, 1e-2


def _regcode_mlp(dtype, rng):
    model = layers.mlp(MLP_SIZES, rng, drop_prob=DROP_PROB, batchnorm=True, dtype=dtype)
    opt = AdamW(decay_groups(model.parameters(), WEIGHT_DECAY), lr=LR)
    return model, opt


def _torch_mlp(model, foreach=None):
    """The same network in torch, with regcode's initial weights (torch stores W transposed).

    ``foreach=None`` is torch's default (on CPU, a Python loop over the parameters).
    """
    nn = torch.nn
    tdtype = getattr(torch, model[0].weight.data.dtype.name)
    modules = []
    for layer in model.layers:
        if isinstance(layer, layers.Linear):
            lin = nn.Linear(layer.in_features, layer.out_features, bias=layer.bias is not None).to(tdtype)
            with torch.no_grad():
                lin.weight.copy_(torch.from_numpy(layer.weight.data.T.copy()))
                if layer.bias is not None:
                    lin.bias.copy_(torch.from_numpy(layer.bias.data))
            modules.append(lin)
        elif isinstance(layer, layers.BatchNorm1d):
            modules.append(
                nn.BatchNorm1d(layer.num_features, eps=layer.eps, momentum=layer.momentum).to(tdtype)
            )
        elif isinstance(layer, layers.ReLU):
            modules.append(nn.ReLU())
        elif isinstance(layer, layers.Dropout):
            modules.append(nn.Dropout(layer.p))
        else:  # pragma: no cover
            raise TypeError(type(layer).__name__)
    tmodel = nn.Sequential(*modules)
    decay = [m.weight for m in modules if isinstance(m, nn.Linear)]
    no_decay = [p for p in tmodel.parameters() if all(p is not q for q in decay)]
    opt = torch.optim.AdamW(
        [{"params": decay, "weight_decay": WEIGHT_DECAY}, {"params": no_decay, "weight_decay": 0.0}],
        lr=LR,
        foreach=foreach,
    )
    return tmodel, opt


def _matmul_floor(model, x):
    """The step's matrix products alone: 3 forward, 3 weight gradients, 2 input gradients."""
    w1, w2, w3 = (layer.weight.data for layer in model.layers if isinstance(layer, layers.Linear))
    rng = np.random.default_rng(SEED)
    dtype = x.dtype
    n = x.shape[0]
    h1 = np.empty((n, w1.shape[1]), dtype)
    h2 = np.empty((n, w2.shape[1]), dtype)
    out = np.empty((n, w3.shape[1]), dtype)
    dout = rng.standard_normal(out.shape).astype(dtype)

    def step():
        np.matmul(x, w1, out=h1)
        np.matmul(h1, w2, out=h2)
        np.matmul(h2, w3, out=out)
        g3 = h2.T @ dout
        d2 = dout @ w3.T
        g2 = h1.T @ d2
        d1 = d2 @ w2.T
        g1 = x.T @ d1
        return g1, g2, g3

    return step


def bench_mlp(rounds):
    rows, results = [], []
    if torch is None:
        SKIPPED.append("MLP step vs torch: torch not installed (regcode and the matmul floor only)")
    for dtype in (np.float32, np.float64):
        for batch in MLP_BATCHES:
            rng = np.random.default_rng(SEED)
            model, opt = _regcode_mlp(dtype, rng)
            x = rng.standard_normal((batch, MLP_SIZES[0])).astype(dtype)
            y = rng.integers(0, MLP_SIZES[-1], batch)

            def r_step(model=model, opt=opt, x=x, y=y):
                opt.zero_grad()
                out = model(x)
                _, dout = softmax_cross_entropy(out, y)
                model.backward(dout)
                opt.step()

            cases = {"regcode": r_step}
            if torch is not None:
                tmodel, topt = _torch_mlp(model)
                tx, ty = torch.from_numpy(x.copy()), torch.from_numpy(y)
                loss_fn = torch.nn.CrossEntropyLoss()
                # Same function before timing: evaluation mode (no dropout), same weights, same output.
                model.eval(), tmodel.eval()
                tol = 1e-4 if dtype == np.float32 else 1e-10
                np.testing.assert_allclose(model(x), tmodel(tx).detach().numpy(), rtol=tol, atol=tol)
                model.train(), tmodel.train()

                def t_step(tmodel=tmodel, topt=topt, tx=tx, ty=ty, loss_fn=loss_fn):
                    topt.zero_grad()
                    loss = loss_fn(tmodel(tx), ty)
                    loss.backward()
                    topt.step()

                cases["torch"] = t_step
                # For information: torch's multi-tensor ("foreach") AdamW, not its CPU default.
                fmodel, fopt = _torch_mlp(model, foreach=True)
                cases["torch foreach"] = functools.partial(t_step, tmodel=fmodel, topt=fopt)
            cases["matmul floor"] = _matmul_floor(model, x)
            res = measure(cases, rounds)
            r_us, f_us = res["regcode"]["cpu_us"], res["matmul floor"]["cpu_us"]
            t_us = res["torch"]["cpu_us"] if "torch" in res else None
            tf_us = res["torch foreach"]["cpu_us"] if "torch foreach" in res else None
            speedup = None if t_us is None else t_us / r_us
            results.append(
                {
                    "dtype": np.dtype(dtype).name,
                    "batch": batch,
                    **res,
                    "speedup_vs_torch": speedup,
                    "regcode_over_floor": r_us / f_us,
                }
            )
            rows.append(
                [
                    np.dtype(dtype).name,
                    batch,
                    fmt_us(r_us),
                    "-" if t_us is None else fmt_us(t_us),
                    "-" if tf_us is None else fmt_us(tf_us),
                    fmt_us(f_us),
                    "-" if speedup is None else f"{speedup:.2f}x" + (" ✓" if speedup >= 1.5 else " ✗"),
                    "-" if tf_us is None else f"{tf_us / r_us:.2f}x",
                    f"{r_us / f_us:.2f}x" + (" ✓" if r_us / f_us <= 1.3 else " ✗"),
                ]
            )
    table = markdown_table(
        [
            "dtype",
            "batch",
            "regcode",
            "torch",
            "torch, foreach AdamW",
            "matmul floor",
            "torch / regcode (≥ 1.5)",
            "torch foreach / regcode",
            "regcode / floor (≤ 1.3)",
        ],
        rows,
    )
    return table, results


# ----------------------------------------------------------------------------- lasso

LASSO_TOL = 1e-10


def _kkt_violation(X, y, lams, coefs):
    """Largest violation of the lasso optimality conditions over the path.

    With ``q = X^T (y - X w) / m``: ``q_j = lam * sign(w_j)`` where ``w_j != 0``
    and ``|q_j| <= lam`` where ``w_j = 0``.
    """
    m = X.shape[0]
    worst = 0.0
    for lam, w in zip(lams, coefs, strict=True):
        q = X.T @ (y - X @ w) / m
        on = w != 0
        worst = max(
            worst,
            float(np.max(np.abs(q[on] - lam * np.sign(w[on])), initial=0.0)),
            float(np.max(np.abs(q[~on]) - lam, initial=0.0)),
        )
    return worst


def _seed_job(seed):
    """One training run of the digits MLP, as the chapters run them (float64, separate streams)."""
    from regcode.data import load_digits
    from regcode.layers import mlp
    from regcode.optim import SGD
    from regcode.seeds import streams
    from regcode.train import fit

    rngs = streams(seed)
    data = load_digits(rngs.data, n_train=200)
    model = mlp((64, 256, 256, 10), rngs.init, drop_prob=0.5, dropout_rng=rngs.dropout)
    history = fit(model, softmax_cross_entropy, SGD(model.parameters(), lr=0.01, momentum=0.9),
                  data.X_train, data.y_train, epochs=40, batch_size=32, rng=rngs.batches,
                  X_val=data.X_val, y_val=data.y_val)  # fmt: skip
    return history.val_loss[-1], model.layers[0].weight.data.sum()


def bench_seeds(rounds):
    from regcode.seeds import run_seeds

    seeds = list(range(6))
    run_seeds(_seed_job, seeds[:2], n_jobs=2)  # start the worker pool
    times = {1: [], 2: []}
    results = {}
    for _ in range(max(2, rounds // 20)):
        for n_jobs in (1, 2):
            t0 = time.perf_counter()
            results[n_jobs] = run_seeds(_seed_job, seeds, n_jobs=n_jobs)
            times[n_jobs].append(time.perf_counter() - t0)
    assert results[1] == results[2], "run_seeds gave different results with 1 and 2 workers"
    sequential, parallel = np.median(times[1]), np.median(times[2])
    speedup = sequential / parallel
    rows = [
        ["in this process (n_jobs=1)", f"{sequential:.2f} s", ""],
        ["2 worker processes (n_jobs=2)", f"{parallel:.2f} s", f"{speedup:.2f}x"],
    ]
    table = markdown_table(["6 training runs of the digits MLP", "wall (median)", "speedup"], rows)
    verdict = "met" if speedup >= 1.8 else "NOT met"
    table += f"\n\nResults identical: yes. Target >= 1.8x on 2 cores: {verdict}."
    return table, {"sequential_s": sequential, "parallel_s": parallel, "speedup": speedup}


def bench_lasso(rounds):
    split = load_diabetes()
    X, y = split.X_train, split.y_train
    lam_max = lasso_lam_max(X, y)
    lams = lam_max * np.geomspace(1.0, 1e-3, 100)
    ours = lasso_path(X, y, lams, tol=LASSO_TOL)
    cases = {"regcode": lambda: lasso_path(X, y, lams, tol=LASSO_TOL)}
    result = {"n_lams": lams.size, "tol": LASSO_TOL, "kkt_regcode": _kkt_violation(X, y, lams, ours)}
    if sklearn is None:
        SKIPPED.append("lasso_path vs scikit-learn: scikit-learn not installed")
    else:
        sk_path = sklearn.linear_model.lasso_path

        def sk(tol):
            return sk_path(X, y, alphas=lams, tol=tol, max_iter=1_000_000)[1].T

        theirs = sk(LASSO_TOL)
        diff = float(np.max(np.abs(ours - theirs)))
        assert diff <= 1e-6, f"lasso_path disagrees with scikit-learn by {diff:.2e} > 1e-6"
        assert np.array_equal(ours == 0, theirs == 0), "lasso_path support differs from scikit-learn's"
        result.update(max_abs_diff=diff, kkt_sklearn=_kkt_violation(X, y, lams, theirs))
        default = sk(1e-4)
        result.update(
            sklearn_default_tol_diff=float(np.max(np.abs(default - ours))),
            kkt_sklearn_default_tol=_kkt_violation(X, y, lams, default),
        )
        cases["scikit-learn"] = lambda: sk(LASSO_TOL)
        cases["scikit-learn tol=1e-4"] = lambda: sk(1e-4)
    res = measure(cases, rounds, min_batch_s=0.02)
    result.update(res)
    r_ms = res["regcode"]["cpu_us"] / 1000
    rows = [
        ["regcode (FISTA + support solves)", LASSO_TOL, f"{r_ms:.1f} ms", f"{result['kkt_regcode']:.1e}", "-"]
    ]
    if "scikit-learn" in res:
        s_ms = res["scikit-learn"]["cpu_us"] / 1000
        d_ms = res["scikit-learn tol=1e-4"]["cpu_us"] / 1000
        result["regcode_over_sklearn"] = r_ms / s_ms
        rows.append(
            [
                "scikit-learn (coordinate descent)",
                LASSO_TOL,
                f"{s_ms:.1f} ms",
                f"{result['kkt_sklearn']:.1e}",
                f"{result['max_abs_diff']:.1e}",
            ]
        )
        rows.append(
            [
                "scikit-learn, its default tol (not equal accuracy)",
                "1e-4",
                f"{d_ms:.1f} ms",
                f"{result['kkt_sklearn_default_tol']:.1e}",
                f"{result['sklearn_default_tol_diff']:.1e}",
            ]
        )
    table = markdown_table(
        ["lasso_path, diabetes, 100 λ", "tol", "time", "max KKT violation", "max abs Δcoef vs regcode"], rows
    )
    if "regcode_over_sklearn" in result:
        ratio = result["regcode_over_sklearn"]
        table += f"\n\nregcode / scikit-learn at tol={LASSO_TOL:g}: {ratio:.2f}x (target ≤ 2: " + (
            "met)" if ratio <= 2 else "NOT met)"
        )
    return table, result


# ----------------------------------------------------------------------------- notebooks

_NOTEBOOK_RUNNER = r"""
import json, resource, sys, time
import nbformat
from nbclient import NotebookClient
src, dst, cwd = sys.argv[1:4]
nb = nbformat.read(src, as_version=4)
t0 = time.perf_counter()
error = None
try:
    NotebookClient(nb, timeout=1200, kernel_name="python3", resources={"metadata": {"path": cwd}}).execute()
except Exception as exc:  # reported, not hidden: the table lists failing notebooks
    lines = str(exc).strip().splitlines()
    error = type(exc).__name__ + (": " + lines[-1] if lines else "")
wall = time.perf_counter() - t0
nbformat.write(nb, dst)
# The kernel has been shut down and reaped: it is this runner's only (finished) child.
kernel, own = resource.getrusage(resource.RUSAGE_CHILDREN), resource.getrusage(resource.RUSAGE_SELF)
print(json.dumps({
    "wall_s": wall, "error": error, "cells": len(nb.cells),
    "kernel_cpu_s": kernel.ru_utime + kernel.ru_stime, "kernel_max_rss_mb": kernel.ru_maxrss / 1024,
    "runner_cpu_s": own.ru_utime + own.ru_stime, "runner_max_rss_mb": own.ru_maxrss / 1024,
}))
"""


def bench_notebooks():
    notebooks = sorted(glob.glob(str(ROOT / "book" / "*.ipynb")))
    rows, results = [], []
    if not notebooks:
        SKIPPED.append("notebooks: no book/*.ipynb found")
        return "no notebooks", results
    try:
        import nbclient  # noqa: F401
    except ImportError:
        SKIPPED.append("notebooks: nbclient not installed")
        return "nbclient not installed", results
    env = dict(os.environ, PYTHONHASHSEED="0", MPLBACKEND="Agg")
    total_wall = total_cpu = 0.0
    with tempfile.TemporaryDirectory(prefix="regcode-bench-") as tmp:
        for path in notebooks:
            name = Path(path).name
            proc = subprocess.run(
                [sys.executable, "-c", _NOTEBOOK_RUNNER, path, str(Path(tmp) / name), str(ROOT / "book")],
                capture_output=True,
                text=True,
                env=env,
                cwd=tmp,
                check=False,
            )
            try:
                report = json.loads(proc.stdout.strip().splitlines()[-1])
            except (IndexError, json.JSONDecodeError):
                report = {
                    "wall_s": float("nan"),
                    "kernel_cpu_s": float("nan"),
                    "kernel_max_rss_mb": float("nan"),
                    "cells": 0,
                    "error": f"runner failed: {proc.stderr.strip()[-300:]}",
                }
            report["notebook"] = name
            results.append(report)
            total_wall += report["wall_s"]
            total_cpu += report["kernel_cpu_s"]
            error = report["error"] and re.sub(r"\x1b\[[0-9;]*m", "", report["error"])  # no terminal colours
            report["error"] = error
            status = "ok" if error is None else f"ERROR {error[:80]}"
            rows.append(
                [
                    name,
                    report["cells"],
                    f"{report['wall_s']:.1f} s",
                    f"{report['kernel_cpu_s']:.1f} s",
                    f"{report['kernel_max_rss_mb']:.0f} MB",
                    "yes" if report["wall_s"] <= 25 else "NO",
                    status,
                ]
            )
    rows.append(
        [
            "**total**",
            "",
            f"{total_wall:.1f} s",
            f"{total_cpu:.1f} s",
            "",
            "yes" if total_wall <= 90 else "NO",
            "",
        ]
    )
    table = markdown_table(
        [
            "notebook",
            "cells",
            "wall (execute)",
            "kernel CPU",
            "kernel peak RSS",
            "wall ≤ 25 s (book ≤ 90 s)",
            "status",
        ],
        rows,
    )
    return table, results


# ----------------------------------------------------------------------------- main


def main():
    info = machine_info()
    print("# regcode benchmarks\n")
    print(machine_markdown(info) + "\n")
    report = {"machine": info, "args": {k: v for k, v in vars(ARGS).items()}, "sections": {}}
    titles = {
        "kernels": "Layers, forward + backward (CPU time per call, median)",
        "mlp": "One training step of the digits MLP (64-256-256-10, BN, ReLU, dropout, AdamW)",
        "lasso": "lasso_path on diabetes vs scikit-learn",
        "seeds": "run_seeds: one experiment over 6 seeds, sequential and on 2 workers",
        "notebooks": "Chapter notebooks, executed in a fresh kernel",
    }
    for section in ARGS.only:
        t0 = time.perf_counter()
        if section == "kernels":
            table, res = bench_kernels(ARGS.rounds)
        elif section == "mlp":
            table, res = bench_mlp(ARGS.rounds)
        elif section == "lasso":
            table, res = bench_lasso(max(5, ARGS.rounds // 3))
        elif section == "seeds":
            table, res = bench_seeds(ARGS.rounds)
        else:
            table, res = bench_notebooks()
        report["sections"][section] = res
        print(f"## {titles[section]}\n\n{table}\n\n({time.perf_counter() - t0:.0f} s)\n", flush=True)
    if SKIPPED:
        print("Skipped:\n" + "\n".join(f"- {s}" for s in SKIPPED) + "\n")
    report["skipped"] = SKIPPED
    report["machine"]["loadavg_at_end"] = os.getloadavg()
    out = (
        Path(ARGS.out)
        if ARGS.out
        else ROOT
        / "benchmarks"
        / "results"
        / ("bench-" + datetime.datetime.now().strftime("%Y%m%d-%H%M%S") + ".json")
    )
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(report, indent=1, default=float))
    latest = out.parent / "latest.json"
    if out != latest:
        latest.write_text(out.read_text())
    print(f"JSON: {out.relative_to(ROOT) if out.is_relative_to(ROOT) else out}")


if __name__ == "__main__":
    main()
