"""Print the BLAS kernel, thread count and numpy code paths in use; fail if they are not the ones asked for.

``make nbval`` runs this first, so every strict-nbval log says what arithmetic
produced it. Under ``make test-portability`` the environment asks for other
OpenBLAS kernels (``OPENBLAS_CORETYPE``), thread counts (``OPENBLAS_NUM_THREADS``)
and numpy SIMD paths (``NPY_DISABLE_CPU_FEATURES``); if any of them did not take
effect the run would silently test the native arithmetic again, so this exits 1.

Usage: python scripts/blas_info.py
"""

from __future__ import annotations

import os
import sys

import numpy  # noqa: F401 - threadpoolctl sees only the BLAS of modules already loaded
from threadpoolctl import threadpool_info

# OpenBLAS reports some kernels under another name.
ALIASES = {"prescott": "katmai"}


def main():
    blas = [i for i in threadpool_info() if i["user_api"] == "blas" and "numpy" in i["filepath"]]
    if not blas:
        print("blas_info: numpy's BLAS is not OpenBLAS; nothing to check")
        return 0
    info = blas[0]
    features = _simd()
    print(
        f"BLAS: {info['internal_api']} {info['version']}, kernel {info.get('architecture')}, "
        f"{info['num_threads']} thread(s); numpy SIMD: {' '.join(features)}"
    )
    problems = []
    wanted_kernel = os.environ.get("OPENBLAS_CORETYPE")
    if wanted_kernel:
        expected = ALIASES.get(wanted_kernel.lower(), wanted_kernel.lower())
        if str(info.get("architecture", "")).lower() != expected:
            in_use = info.get("architecture")
            problems.append(f"OPENBLAS_CORETYPE={wanted_kernel} but the kernel in use is {in_use}")
    wanted_threads = os.environ.get("OPENBLAS_NUM_THREADS")
    if wanted_threads and int(wanted_threads) != info["num_threads"]:
        threads = info["num_threads"]
        problems.append(f"OPENBLAS_NUM_THREADS={wanted_threads} but OpenBLAS uses {threads} thread(s)")
    for feature in os.environ.get("NPY_DISABLE_CPU_FEATURES", "").split():
        if feature in features:
            problems.append(f"NPY_DISABLE_CPU_FEATURES names {feature}, which numpy still uses")
    for problem in problems:
        print(f"blas_info: {problem}", file=sys.stderr)
    return 1 if problems else 0


def _simd():
    """The SIMD extensions numpy dispatches to on this machine (baseline and found)."""
    from numpy._core._multiarray_umath import __cpu_baseline__, __cpu_dispatch__, __cpu_features__

    return [f for f in __cpu_baseline__ + __cpu_dispatch__ if __cpu_features__.get(f)]


if __name__ == "__main__":
    sys.exit(main())
