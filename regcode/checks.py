r"""Checkers for the labs: run a student's function on many cases and name the classic mistake.

Each ``check_*`` function takes the student's function (or forward/backward pair), written with
the signature of the regcode function of the same name. It runs it on several shapes, both float
dtypes, several seeds and the edge cases (:math:`\lambda = 0`, :math:`p = 0`, a batch of two),
compares the results with regcode's implementation and, for a backward pass, with centred
finite differences of the student's own forward pass. When everything agrees it prints one line
and returns ``None``. Otherwise it raises ``AssertionError`` with a diagnosis, and when the wrong
results are exactly those of a known mistake (the ones the book runs beside the correct code),
the message names that mistake::

    AssertionError: dropout_forward: the survivors were not scaled by 1/(1-p). ...

A function that still raises ``NotImplementedError`` gets "not implemented yet". Passing
something that is not callable raises ``TypeError`` naming the argument.

The conventions are the book's: L1 is :math:`\lambda\sum|w|`, L2 is
:math:`\frac{\lambda}{2}\sum w^2`, the data loss is :math:`\frac{1}{2m}\lVert Xw - y\rVert^2`;
``p`` is the probability of *dropping* a unit and dropout is inverted; batch norm normalises with
the biased batch variance and keeps ``torch.nn.BatchNorm1d``'s running buffers; AdamW decays
:math:`\theta \leftarrow \theta - \eta\,\mathrm{wd}\,\theta` before the Adam step.

Examples
--------
>>> from regcode.penalties import l1_penalty
>>> check_l1_penalty(l1_penalty)
l1_penalty: all 7 cases pass (3 shapes, float32 and float64, lam = 0 included).
"""

from __future__ import annotations

import contextlib
import io
import math
import numbers
from collections.abc import Callable
from typing import NamedTuple

import numpy as np

from . import batchnorm as _bn
from . import dropout as _dropout
from . import optim as _optim
from . import penalties as _penalties
from .gradcheck import numerical_gradient_array, rel_error
from .linear_model import penalized_loss as _penalized_loss

__all__ = [
    "GRAD_THRESHOLD",
    "check_adamw_update",
    "check_batchnorm_backward",
    "check_batchnorm_forward",
    "check_dropout_backward",
    "check_dropout_forward",
    "check_l1_penalty",
    "check_l2_penalty",
    "check_penalized_loss",
    "check_soft_threshold",
    "check_update_running_stats",
]

#: Largest relative error (:func:`regcode.gradcheck.rel_error`) a float64 backward pass may have
#: against centred differences. Correct passes land orders of magnitude below it, missing terms
#: above 1e-2.
GRAD_THRESHOLD = 1e-7


# --- plumbing shared by every checker ---


class _Case(NamedTuple):
    """One call of the student's function: its arguments and a description for the messages."""

    args: tuple
    kwargs: dict
    text: str
    dtype: np.dtype


def _require_callable(fn, name):
    if not callable(fn):
        raise TypeError(f"{name} must be your function (a callable), got {type(fn).__name__}")


def _name(fn):
    return getattr(fn, "__name__", type(fn).__name__)


def _copy(value):
    return value.copy() if isinstance(value, np.ndarray) else value


def _call(fn, case):
    """The student's result for ``case`` (inputs copied), with friendly messages for failures."""
    args = tuple(_copy(a) for a in case.args)
    kwargs = {k: _copy(v) for k, v in case.kwargs.items()}
    return _call_raw(fn, args, kwargs, case.text)


def _call_raw(fn, args, kwargs, text):
    try:
        with np.errstate(all="ignore"):  # a NaN or infinity is diagnosed from the result
            return fn(*args, **kwargs)
    except NotImplementedError:
        raise AssertionError(
            f"{_name(fn)} is not implemented yet: replace `raise NotImplementedError()` with your code."
        ) from None
    except Exception as exc:  # the student's own error, reported with the input that caused it
        raise AssertionError(f"{_name(fn)} raised {type(exc).__name__}: {exc}\n  on {text}.") from exc


def _tolerance(dtype):
    """(rtol, atol) for comparing results computed in ``dtype``."""
    return (2e-4, 1e-6) if np.dtype(dtype) == np.float32 else (1e-9, 1e-12)


def _close(a, b, dtype):
    """Whether ``a`` (a student's result) equals ``b`` to the rounding error of ``dtype``."""
    if isinstance(b, tuple):
        return (
            isinstance(a, (tuple, list))
            and len(a) == len(b)
            and all(_close(x, y, dtype) for x, y in zip(a, b, strict=True))
        )
    try:
        a = np.asarray(a, dtype=np.float64)
    except (TypeError, ValueError):
        return False
    b = np.asarray(b, dtype=np.float64)
    if a.shape != b.shape or not np.all(np.isfinite(a)):
        return False
    rtol, atol = _tolerance(dtype)
    scale = max(1.0, float(np.max(np.abs(b)))) if b.size else 1.0
    return bool(np.allclose(a, b, rtol=rtol, atol=atol * scale))


def _show(value):
    """A short text for a number, an array or a tuple of them."""
    if isinstance(value, (tuple, list)):
        return "(" + ", ".join(_show(v) for v in value) + ")"
    try:
        arr = np.asarray(value, dtype=np.float64)
    except (TypeError, ValueError):
        return repr(value)
    if arr.ndim == 0:
        return f"{float(arr):.6g}"
    text = np.array2string(arr.ravel()[:6], precision=4, separator=", ", suppress_small=False)
    shape = f" (shape {arr.shape})" if arr.ndim > 1 or arr.size > 6 else ""
    return (text[:-1] + ", ...]" if arr.size > 6 else text) + shape


def _safe(wrong, case):
    """A known mistake's result on ``case``, or ``None`` if that mistake cannot be evaluated there."""
    try:
        with np.errstate(all="ignore"):
            return wrong(*case.args, **case.kwargs)
    except (ArithmeticError, ValueError):
        return None


def _judge(fn, outputs, cases, expected, mistakes, what="result"):
    """Raise with a diagnosis unless every output equals the expected one.

    A mistake is named only if the student's outputs equal that mistake's on *every* case, so a
    mistake that only shows on some inputs (the sign of a weight, a non-zero batch mean) is still
    told apart from the correct code and from the other mistakes.
    """
    bad = [
        i
        for i, (out, exp, case) in enumerate(zip(outputs, expected, cases, strict=True))
        if not _close(out, exp, case.dtype)
    ]
    if not bad:
        return
    first = bad[0]
    example = (
        f"For example, on {cases[first].text}: expected {_show(expected[first])}, "
        f"got {_show(outputs[first])}."
    )
    for message, wrong in mistakes:
        wrong_outputs = [_safe(wrong, case) for case in cases]
        if all(
            w is not None and _close(out, w, case.dtype)
            for out, w, case in zip(outputs, wrong_outputs, cases, strict=True)
        ):
            raise AssertionError(f"{_name(fn)}: {message}\n  {example}")
    raise AssertionError(f"{_name(fn)}: wrong {what}. {example}")


def _check_scalar_outputs(fn, outputs, cases):
    for out, case in zip(outputs, cases, strict=True):
        if isinstance(out, bool) or not (isinstance(out, numbers.Real) or np.ndim(out) == 0):
            shape = f" of shape {np.shape(out)}" if np.ndim(out) else ""
            raise AssertionError(
                f"{_name(fn)} must return one number, got {type(out).__name__}{shape} on {case.text}: "
                "sum over all the weights."
            )


def _check_array_outputs(fn, outputs, cases, shape_of, what="the output"):
    """Shape and dtype of array results: the shape of the input and its dtype (float32 stays float32)."""
    for out, case in zip(outputs, cases, strict=True):
        shape = shape_of(case)
        if not isinstance(out, np.ndarray):
            raise AssertionError(
                f"{_name(fn)}: {what} must be a numpy array, got {type(out).__name__} on {case.text}."
            )
        if out.shape != shape:
            raise AssertionError(
                f"{_name(fn)}: {what} must have shape {shape}, got {out.shape} on {case.text}."
            )


def _check_dtypes(fn, outputs, cases, what="the output"):
    for out, case in zip(outputs, cases, strict=True):
        for arr in out if isinstance(out, tuple) else (out,):
            if np.asarray(arr).dtype != case.dtype:
                raise AssertionError(
                    f"{_name(fn)}: {what} must keep the dtype of the input ({case.dtype}), got "
                    f"{np.asarray(arr).dtype} on {case.text}. Create new arrays with dtype=x.dtype "
                    "(or cast with .astype(x.dtype))."
                )


def _check_unchanged(fn, case, before, after, names):
    for name, old, new in zip(names, before, after, strict=True):
        if isinstance(old, np.ndarray) and not np.array_equal(old, new):
            raise AssertionError(
                f"{_name(fn)} changed its input {name} in place on {case.text}: compute a new array "
                f"instead (e.g. out = {name} * mask, not {name} *= mask)."
            )


def _pass(fn, n_cases, detail):
    print(f"{_name(fn)}: all {n_cases} cases pass ({detail}).")


def _below(error):
    """An order of magnitude above ``error`` ("below 1e-09"), stable across CPUs and BLAS builds."""
    if error == 0.0:
        return "0"
    return f"below 1e{math.floor(math.log10(error)) + 1:+03d}"


def _quietly(check, *fns):
    """Run another checker without its printed line; re-raise its diagnosis with a pointer to it."""
    try:
        with contextlib.redirect_stdout(io.StringIO()):
            check(*fns)
    except AssertionError as exc:
        raise AssertionError(
            f"fix {_name(fns[0])} first ({check.__name__} fails); the backward pass is checked "
            f"against it.\n  {exc}"
        ) from None


# --- chapter 2: penalties, the penalised loss and the proximal step ---


def _weight_cases(lams):
    rng = np.random.default_rng(0)
    shapes = [(6,), (3, 4), (2, 3, 2)]
    cases = []
    for dtype in (np.float64, np.float32):
        for shape, lam in zip(shapes, lams, strict=False):
            w = (1.5 * rng.standard_normal(shape)).astype(dtype)
            w.flat[0], w.flat[1] = -abs(w.flat[0]) - 0.5, abs(w.flat[1]) + 0.5  # both signs, always
            cases.append(
                _Case((w, lam), {}, f"w of shape {shape}, {np.dtype(dtype)}, lam = {lam}", np.dtype(dtype))
            )
    zero = np.zeros(4)
    cases.append(_Case((zero, 0.7), {}, "w = 0 (4 entries), float64, lam = 0.7", np.dtype(np.float64)))
    return cases


def _penalty_checker(fn, reference, mistakes, lams, label):
    cases = _weight_cases(lams)
    outputs = [_call(fn, case) for case in cases]
    _check_scalar_outputs(fn, outputs, cases)
    expected = [reference(*case.args) for case in cases]
    _judge(fn, outputs, cases, expected, mistakes, what=f"{label} value")
    _pass(fn, len(cases), "3 shapes, float32 and float64, lam = 0 included")


_L1_MISTAKES = [
    (
        "this is the source article's 'L1 penalty' sum|w| + lam*sum(w). The strength must multiply "
        "the absolute values, and the linear term lam*sum(w) is no penalty: it rewards negative weights "
        "and has no minimum. The L1 penalty is lam * sum(|w|).",
        lambda w, lam: float(np.abs(w).sum() + lam * w.sum()),
    ),
    (
        "the absolute value is missing: lam*sum(w) is linear, rewards negative weights and has no minimum. "
        "The L1 penalty is lam * sum(|w|).",
        lambda w, lam: float(lam * w.sum()),
    ),
    ("lam is missing: the penalty is lam * sum(|w|).", lambda w, lam: float(np.abs(w).sum())),
    (
        "the penalty is counted twice (added to itself): 2*lam*sum(|w|). The L1 penalty is lam * sum(|w|).",
        lambda w, lam: float(2 * lam * np.abs(w).sum()),
    ),
    (
        "you averaged |w| instead of summing it: the penalty is lam * sum(|w|), whatever the number "
        "of weights.",
        lambda w, lam: float(lam * np.abs(w).mean()),
    ),
    (
        "this is the L2 penalty (lam/2)*sum(w**2); L1 is lam * sum(|w|).",
        lambda w, lam: float(lam / 2 * (w**2).sum()),
    ),
    ("this is lam*sum(w**2), an L2 penalty; L1 is lam * sum(|w|).", lambda w, lam: float(lam * (w**2).sum())),
]


def check_l1_penalty(fn: Callable[[np.ndarray, float], float]) -> None:
    r"""Check ``fn(w, lam) -> float`` against :func:`regcode.penalties.l1_penalty`, :math:`\lambda\sum|w|`.

    Names the source article's :math:`\sum|w| + \lambda\sum w`, a missing absolute value, a missing
    or doubled :math:`\lambda`, a mean instead of a sum and an L2 penalty in its place.

    Parameters
    ----------
    fn : callable
        Your ``l1_penalty(w, lam)``, returning one number.

    Raises
    ------
    TypeError
        If ``fn`` is not callable.
    AssertionError
        With a diagnosis that names the mistake, if a result is wrong; "not implemented yet"
        for a function that still raises ``NotImplementedError``.
    """
    _require_callable(fn, "fn")
    _penalty_checker(fn, _penalties.l1_penalty, _L1_MISTAKES, (0.5, 2.0, 0.0), "L1 penalty")


_L2_MISTAKES = [
    (
        "the 1/2 is missing (or the penalty is added to itself, l2 + l2): you return lam*sum(w**2). "
        "The book's L2 penalty is (lam/2) * sum(w**2), whose gradient is lam*w, so that SGD on it is "
        "weight decay by lr*lam.",
        lambda w, lam: float(lam * (w**2).sum()),
    ),
    ("lam is missing: the penalty is (lam/2) * sum(w**2).", lambda w, lam: float(0.5 * (w**2).sum())),
    (
        "the square is missing: (lam/2)*sum(|w|) is an L1 penalty. L2 is (lam/2) * sum(w**2).",
        lambda w, lam: float(lam / 2 * np.abs(w).sum()),
    ),
    (
        "this is the L1 penalty lam*sum(|w|); L2 is (lam/2) * sum(w**2).",
        lambda w, lam: float(lam * np.abs(w).sum()),
    ),
    (
        "you used the norm ||w|| instead of the squared norm: L2 is (lam/2) * sum(w**2).",
        lambda w, lam: float(lam / 2 * np.sqrt((w**2).sum())),
    ),
    (
        "you averaged w**2 instead of summing it: the penalty is (lam/2) * sum(w**2).",
        lambda w, lam: float(lam / 2 * (w**2).mean()),
    ),
]


def check_l2_penalty(fn: Callable[[np.ndarray, float], float]) -> None:
    r"""Check ``fn(w, lam) -> float`` against :func:`regcode.penalties.l2_penalty`:

    :math:`\frac{\lambda}{2}\sum w^2`.

    Names a missing :math:`\frac12` (which is also the penalty added to itself), a missing square or
    :math:`\lambda`, the norm in place of the squared norm and a mean instead of a sum.

    Parameters
    ----------
    fn : callable
        Your ``l2_penalty(w, lam)``, returning one number.

    Raises
    ------
    TypeError
        If ``fn`` is not callable.
    AssertionError
        With a diagnosis that names the mistake, if a result is wrong; "not implemented yet"
        for a function that still raises ``NotImplementedError``.
    """
    _require_callable(fn, "fn")
    _penalty_checker(fn, _penalties.l2_penalty, _L2_MISTAKES, (0.5, 2.0, 0.0), "L2 penalty")


def _loss_parts(X, y, w, lam):
    m = X.shape[0]
    resid = X @ w - y
    sq = float(resid @ resid)
    return m, sq, float(lam * np.abs(w).sum()), float(lam / 2 * (w @ w))


def _loss_mistakes(kind):
    """Known wrong versions of the penalised loss, as functions of (X, y, w, lam, kind)."""

    def mistake(f):
        def wrong(X, y, w, lam, kind):
            m, sq, l1, l2 = _loss_parts(np.asarray(X, float), np.asarray(y, float), np.asarray(w, float), lam)
            return f(m, sq, l1 if kind == "l1" else l2, l2 if kind == "l1" else l1, X, y, w, lam)

        return wrong

    common = [
        (
            "the data term is missing: you return the penalty alone. The total loss is "
            "(1/2m)*||Xw - y||^2 + penalty; without the data term the weights are pushed to 0 "
            "whatever the data say.",
            mistake(lambda m, sq, pen, other, *_: pen),
        ),
        (
            "the penalty is added to itself instead of to the data loss (loss = pen + pen). "
            "The data never enter the loss, and gradient descent drives every weight to 0. "
            "The total loss is (1/2m)*||Xw - y||^2 + penalty.",
            mistake(lambda m, sq, pen, other, *_: 2 * pen),
        ),
        (
            "the penalty is missing: for lam > 0 the loss must add it to the data term.",
            mistake(lambda m, sq, pen, other, *_: sq / (2 * m)),
        ),
        (
            "the 1/m is missing: you summed the squared errors, (1/2)*||Xw - y||^2. Then lam means "
            "something different for every data set size; the book averages: (1/2m)*||Xw - y||^2.",
            mistake(lambda m, sq, pen, other, *_: sq / 2 + pen),
        ),
        (
            "the 1/2 of the data term is missing: (1/m)*||Xw - y||^2 is the mean squared error; the "
            "book's data term is (1/2m)*||Xw - y||^2.",
            mistake(lambda m, sq, pen, other, *_: sq / m + pen),
        ),
        (
            "the penalty is divided by m too: only the data term is averaged, (1/2m)*||Xw - y||^2 + penalty.",
            mistake(lambda m, sq, pen, other, *_: (sq / 2 + pen) / m),
        ),
        (
            f"kind {kind!r} computes the other penalty: 'l1' is lam*sum(|w|), 'l2' is (lam/2)*sum(w**2).",
            mistake(lambda m, sq, pen, other, *_: sq / (2 * m) + other),
        ),
    ]
    if kind == "l2":
        return [
            (
                "for kind 'l2' the penalty is lam*sum(w**2): either its 1/2 is missing or the penalty "
                "is counted twice (data + pen + pen). The book's L2 penalty is (lam/2) * sum(w**2).",
                mistake(lambda m, sq, pen, other, *_: sq / (2 * m) + 2 * pen),
            ),
            *common,
        ]
    return [
        (
            "for kind 'l1' this is the source article's penalty sum|w| + lam*sum(w). The strength must "
            "multiply the absolute values, and lam*sum(w) rewards negative weights. Use lam * sum(|w|).",
            mistake(
                lambda m, sq, pen, other, X, y, w, lam: (
                    sq / (2 * m) + float(np.abs(w).sum() + lam * np.sum(w))
                )
            ),
        ),
        (
            "for kind 'l1' the absolute value is missing: lam*sum(w) rewards negative weights and has no "
            "minimum. Use lam * sum(|w|).",
            mistake(lambda m, sq, pen, other, X, y, w, lam: sq / (2 * m) + float(lam * np.sum(w))),
        ),
        (
            "for kind 'l1' the penalty is counted twice (data + pen + pen): that is L1 with 2*lam.",
            mistake(lambda m, sq, pen, other, *_: sq / (2 * m) + 2 * pen),
        ),
        *common,
    ]


def check_penalized_loss(fn: Callable[..., float]) -> None:
    r"""Check ``fn(X, y, w, lam, kind) -> float``, the objective of chapter 2.

    .. math:: J(w) = \frac{1}{2m}\lVert Xw - y\rVert^2 + \lambda\sum_j|w_j| \ \text{(kind "l1")}
              \quad\text{or}\quad + \frac{\lambda}{2}\sum_j w_j^2 \ \text{(kind "l2")},

    compared with the loss of :func:`regcode.linear_model.penalized_loss`. Names a missing data
    term, a penalty added to itself or counted twice, a missing :math:`\frac1m` or :math:`\frac12`,
    the article's L1 and the two kinds swapped. Each kind is judged on its own cases.

    Parameters
    ----------
    fn : callable
        Your ``penalized_loss(X, y, w, lam, kind)``, returning one number.

    Raises
    ------
    TypeError
        If ``fn`` is not callable.
    AssertionError
        With a diagnosis that names the mistake, if a result is wrong; "not implemented yet"
        for a function that still raises ``NotImplementedError``.
    """
    _require_callable(fn, "fn")
    rng = np.random.default_rng(1)
    setups = [
        (20, 5, np.float64, 0.3),
        (7, 3, np.float32, 1.5),
        (12, 4, np.float64, 0.0),
        (9, 6, np.float64, 0.8),
    ]
    n_cases = 0
    for kind in ("l1", "l2"):
        cases = []
        for m, n, dtype, lam in setups:
            X = rng.standard_normal((m, n))
            w_true = rng.standard_normal(n)
            y = X @ w_true + 0.5 * rng.standard_normal(m)
            w = rng.standard_normal(n)
            w[0] = -abs(w[0]) - 0.5  # a negative weight, so that |w| and w differ
            X, y, w = X.astype(dtype), y.astype(dtype), w.astype(dtype)
            text = f"X of shape {(m, n)}, {np.dtype(dtype)}, lam = {lam}, kind = {kind!r}"
            cases.append(_Case((X, y, w, lam, kind), {}, text, np.dtype(dtype)))
        outputs = [_call(fn, case) for case in cases]
        _check_scalar_outputs(fn, outputs, cases)
        expected = [_penalized_loss(*case.args)[0] for case in cases]
        _judge(fn, outputs, cases, expected, _loss_mistakes(kind), what="loss")
        n_cases += len(cases)
    _pass(fn, n_cases, "kinds 'l1' and 'l2', 4 data sets, float32 and float64, lam = 0 included")


_PROX_MISTAKES = [
    (
        "this is a subgradient step w - t*sign(w), not the proximal step. Entries with |w| <= t must "
        "become exactly 0; a subgradient step overshoots 0 and flips their sign, so it never gives "
        "exact zeros. Soft-thresholding is sign(w) * max(|w| - t, 0).",
        lambda w, t: w - t * np.sign(w),
    ),
    (
        "this is hard thresholding: the entries above t must also shrink by t. "
        "Soft-thresholding is sign(w) * max(|w| - t, 0).",
        lambda w, t: np.where(np.abs(w) > t, w, 0.0),
    ),
    (
        "the sign is lost: max(|w| - t, 0) must be multiplied by sign(w).",
        lambda w, t: np.maximum(np.abs(w) - t, 0.0),
    ),
    (
        "only positive entries are handled: max(w - t, 0) sets every negative entry to 0. "
        "Soft-thresholding is sign(w) * max(|w| - t, 0).",
        lambda w, t: np.maximum(w - t, 0.0),
    ),
    (
        "this is the L2 prox w / (1 + t) (it shrinks but never reaches 0); the L1 prox is "
        "sign(w) * max(|w| - t, 0).",
        lambda w, t: w / (1.0 + t),
    ),
]


def check_soft_threshold(fn: Callable[[np.ndarray, float], np.ndarray]) -> None:
    r"""Check ``fn(w, t) -> ndarray``, the proximal map of :math:`t\lVert\cdot\rVert_1`.

    Compared with :func:`regcode.penalties.soft_threshold`, :math:`\mathrm{sign}(w)\max(|w|-t, 0)`,
    including entries exactly at :math:`\pm t`, :math:`t = 0` (the identity) and a large :math:`t`
    (all zeros). Entries with :math:`|w_i| \le t` must be *exactly* 0. Names a subgradient step
    (no exact zeros, sign flips), hard thresholding and a lost sign.

    Parameters
    ----------
    fn : callable
        Your ``soft_threshold(w, t)``, returning a new array.

    Raises
    ------
    TypeError
        If ``fn`` is not callable.
    AssertionError
        With a diagnosis that names the mistake, if a result is wrong; "not implemented yet"
        for a function that still raises ``NotImplementedError``.
    """
    _require_callable(fn, "fn")
    rng = np.random.default_rng(2)
    grid = np.array([-2.0, -0.5, -0.3, 0.0, 0.2, 0.5, 0.7, 3.0])
    cases = []
    for dtype in (np.float64, np.float32):
        name = np.dtype(dtype)
        cases.append(_Case((grid.astype(dtype), 0.5), {}, f"w = {grid.tolist()}, {name}, t = 0.5", name))
        w2 = rng.standard_normal((4, 5)).astype(dtype)
        cases.append(_Case((w2, 0.25), {}, f"w of shape (4, 5), {name}, t = 0.25", name))
    w3 = rng.standard_normal(7)
    cases.append(_Case((w3, 0.0), {}, "w of shape (7,), float64, t = 0 (the identity)", np.dtype(np.float64)))
    cases.append(
        _Case((w3, 10.0), {}, "w of shape (7,), float64, t = 10 (every entry to 0)", np.dtype(np.float64))
    )
    outputs = []
    for case in cases:
        w = case.args[0].copy()
        outputs.append(_call_raw(fn, (w, case.args[1]), {}, case.text))
        _check_unchanged(fn, case, case.args[:1], (w,), ["w"])
    _check_array_outputs(fn, outputs, cases, lambda case: case.args[0].shape)
    expected = [_penalties.soft_threshold(*case.args) for case in cases]
    _judge(fn, outputs, cases, expected, _PROX_MISTAKES, what="result")
    for out, case in zip(outputs, cases, strict=True):
        w, t = case.args
        small = np.abs(w) <= t
        if np.any(out[small] != 0):
            raise AssertionError(
                f"{_name(fn)}: entries with |w| <= t must be exactly 0 (that is what makes the lasso "
                f"sparse); yours are close to 0 but not 0 on {case.text}. Use np.where or np.maximum(..., 0)."
            )
    _check_dtypes(fn, outputs, cases)
    _pass(fn, len(cases), "entries at +-t, t = 0 and a large t, float32 and float64, exact zeros")


# --- chapter 3: inverted dropout ---


def _dropout_call(forward, x, p, seed, train=True):
    text = f"x of shape {x.shape}, {x.dtype}, p = {p}, train={train}"
    before = x.copy()
    result = _call_raw(forward, (x, p, np.random.default_rng(seed)), {"train": train}, text)
    if not (isinstance(result, tuple) and len(result) == 2):
        raise AssertionError(
            f"{_name(forward)} must return (out, cache), got {type(result).__name__} on {text}."
        )
    out = result[0]
    case = _Case((), {}, text, x.dtype)
    _check_unchanged(forward, case, (before,), (x,), ["x"])
    _check_array_outputs(forward, [out], [case], lambda _: x.shape, what="out")
    return result, case


def _dropout_inputs(shape, dtype, seed):
    """Entries in [1, 2): never 0, so out / x reads off the factor each entry was multiplied by."""
    return (1.0 + np.random.default_rng(seed).random(shape)).astype(dtype)


def check_dropout_forward(fn: Callable[..., tuple]) -> None:
    r"""Check ``fn(x, p, rng, train=True) -> (out, cache)``, inverted dropout with drop probability ``p``.

    In training every entry must be 0 or :math:`x/(1-p)`, with a fraction close to ``p`` dropped
    (measured on :math:`10^5` entries for :math:`p = 0.2` and :math:`0.7`); the mask must come from
    ``rng`` (the same seed gives the same mask, another seed another); ``p = 0`` and evaluation mode
    are the identity; ``x`` is not changed and its dtype is kept. Names survivors not scaled by
    :math:`1/(1-p)`, ``p`` read as the keep probability, dropout active at evaluation and
    vanilla dropout's test-time scaling.

    Parameters
    ----------
    fn : callable
        Your ``dropout_forward(x, p, rng, train=True)``, returning ``(out, cache)``.

    Raises
    ------
    TypeError
        If ``fn`` is not callable.
    AssertionError
        With a diagnosis that names the mistake, if a result is wrong; "not implemented yet"
        for a function that still raises ``NotImplementedError``.
    """
    _require_callable(fn, "fn")
    n_checks = 0
    for dtype in (np.float64, np.float32):
        for p in (0.0, 0.5):  # evaluation mode first: the identity
            n_checks += _check_identity_case(fn, dtype, p, train=False)
        for p, shape in ((0.2, (200, 500)), (0.7, (500, 200)), (0.5, (3, 4, 5))):
            x = _dropout_inputs(shape, dtype, seed=3)
            (out, _), case = _dropout_call(fn, x, p, seed=10)
            n_checks += 1
            _check_dropout_factors(fn, x, np.asarray(out), p, case, large=shape[0] >= 200)
            _check_dtypes(fn, [out], [case], what="out")
            (again, _), _ = _dropout_call(fn, x, p, seed=10)
            (other, _), _ = _dropout_call(fn, x, p, seed=11)
            n_checks += 2
            if not np.array_equal(out, again) or np.array_equal(out, other):
                raise AssertionError(
                    f"{_name(fn)}: the mask must be drawn from the rng argument (e.g. rng.random(x.shape)); "
                    "two generators with the same seed must give the same mask and other seeds other masks. "
                    f"Yours does not on {case.text}."
                )
        n_checks += _check_identity_case(fn, dtype, 0.0, train=True)  # p = 0: nothing dropped, factor 1
    print(
        f"{_name(fn)}: all {n_checks} checks pass (scaling 1/(1-p), fraction dropped, mask from rng, "
        "p = 0 and evaluation mode, float32 and float64)."
    )


def _check_dropout_factors(fn, x, out, p, case, large):
    factor = out.astype(np.float64) / x.astype(np.float64)
    tol = _tolerance(x.dtype)[0] * 10
    kept = factor != 0
    if not np.all(np.isfinite(factor)):
        raise AssertionError(f"{_name(fn)}: out contains NaN or infinity on {case.text}.")
    if np.any(kept):
        values = factor[kept]
        for target, message in (
            (1.0 / (1.0 - p), None),
            (
                1.0,
                "the survivors were not scaled by 1/(1-p). Without the factor the next layer sees "
                "activations (1-p) times smaller in training than in evaluation. Inverted dropout "
                "returns mask * x / (1 - p).",
            ),
            (
                1.0 / p,
                "p was read as the keep probability: survivors were scaled by 1/p. In this book "
                "(and PyTorch, Keras, regcode) p is the probability of DROPPING a unit: drop with "
                "probability p and scale the survivors by 1/(1-p).",
            ),
            (
                1.0 - p,
                "survivors were multiplied by (1-p): scale them by 1/(1-p) instead, so that E[out] = x.",
            ),
        ):
            if np.allclose(values, target, rtol=tol):
                if message is not None:
                    raise AssertionError(f"{_name(fn)}: {message}\n  On {case.text}.")
                break
        else:
            raise AssertionError(
                f"{_name(fn)}: every entry of out must be 0 (dropped) or x/(1-p) = {1 / (1 - p):.4g}*x "
                f"(kept); yours multiplied entries by {_show(np.unique(np.round(values, 4))[:6])} "
                f"on {case.text}."
            )
    dropped = float(np.mean(~kept))
    if large:
        sd = math.sqrt(p * (1 - p) / out.size)
        if abs(dropped - (1 - p)) < 8 * sd and abs(p - 0.5) > 0.1:
            raise AssertionError(
                f"{_name(fn)}: p was read as the keep probability: you dropped {dropped:.1%} of the entries "
                f"with p = {p}. In this book p is the probability of DROPPING a unit (keep with "
                "probability 1-p).\n"
                f"  On {case.text}."
            )
        if abs(dropped - p) > 8 * sd:
            raise AssertionError(
                f"{_name(fn)}: you dropped {dropped:.1%} of the entries with p = {p}; each entry must be "
                f"dropped with probability p (e.g. mask = rng.random(x.shape) >= p).\n  On {case.text}."
            )
    elif p > 0 and not np.any(~kept) and out.size >= 50:
        raise AssertionError(f"{_name(fn)}: no entry was dropped with p = {p} on {case.text}.")


def _check_identity_case(fn, dtype, p, train):
    x = _dropout_inputs((6, 7), dtype, seed=4)
    (out, _), case = _dropout_call(fn, x, p, seed=12, train=train)
    _check_identity(fn, x, np.asarray(out), p, train, case)
    _check_dtypes(fn, [out], [case], what="out")
    return 1


def _check_identity(fn, x, out, p, train, case):
    expected = _dropout.dropout_forward(x, p, np.random.default_rng(0), train=train)[0]  # x itself
    if _close(out, expected, x.dtype):
        return
    if not train and _close(out, x * (1 - p), x.dtype):
        raise AssertionError(
            f"{_name(fn)}: in evaluation mode you multiplied by (1-p): that is vanilla dropout's test-time "
            "scaling (Srivastava et al. 2014: unscaled survivors in training, x*(1-p) at test). This book "
            "uses inverted dropout: scale the survivors by 1/(1-p) in training, so that evaluation is the "
            f"identity: return x unchanged when train is False.\n  On {case.text}."
        )
    if not train:
        raise AssertionError(
            f"{_name(fn)}: dropout is active at evaluation: with train=False it must return x unchanged "
            "(no mask, no scaling); a deployed model must be deterministic.\n"
            f"  On {case.text}: expected {_show(x)}, got {_show(out)}."
        )
    raise AssertionError(
        f"{_name(fn)}: with p = 0 nothing is dropped and the factor 1/(1-p) is 1: out must equal x.\n"
        f"  On {case.text}: got {_show(out)}."
    )


def _dropout_backward_call(backward, dout, cache, text):
    dx = _call_raw(backward, (dout.copy(), cache), {}, text)
    case = _Case((), {}, text, dout.dtype)
    _check_array_outputs(backward, [dx], [case], lambda _: dout.shape, what="dx")
    return np.asarray(dx)


def check_dropout_backward(forward: Callable[..., tuple], backward: Callable[..., np.ndarray]) -> None:
    r"""Check ``backward(dout, cache) -> dx`` against the student's own ``forward``.

    ``forward`` must pass :func:`check_dropout_forward` first. Then ``dx`` must be
    ``dout`` times the factor the forward pass applied to each entry (0 or :math:`1/(1-p)`), the
    same on a second call with the same cache, ``dout`` itself in evaluation mode and for
    ``p = 0``; and a centred-difference gradient check of the forward pass (same seed at every
    call, so the same mask) must agree to :data:`GRAD_THRESHOLD`. Prints the largest relative
    error. Names a backward pass that draws a new mask, one that ignores the mask and one that
    does not scale by :math:`1/(1-p)`.

    Parameters
    ----------
    forward : callable
        Your ``dropout_forward``.
    backward : callable
        Your ``dropout_backward(dout, cache)``, returning ``dx``.

    Raises
    ------
    TypeError
        If ``forward`` or ``backward`` is not callable.
    AssertionError
        With a diagnosis that names the mistake, if a result is wrong; "not implemented yet"
        for a function that still raises ``NotImplementedError``.
    """
    _require_callable(forward, "forward")
    _require_callable(backward, "backward")
    _quietly(check_dropout_forward, forward)
    worst, n_checks = 0.0, 0
    for dtype, p, shape, seed in (
        (np.float64, 0.3, (40, 30), 20),
        (np.float64, 0.6, (5, 4, 3), 21),
        (np.float32, 0.5, (30, 20), 22),
    ):
        x = _dropout_inputs(shape, dtype, seed)
        (out, cache), case = _dropout_call(forward, x, p, seed)
        dout = np.random.default_rng(seed + 100).standard_normal(shape).astype(dtype)
        dx = _dropout_backward_call(backward, dout, cache, case.text)
        factor = np.asarray(out, dtype=np.float64) / x.astype(np.float64)
        expected = dout * factor.astype(dtype)
        n_checks += 2
        if not _close(dx, expected, dtype):
            _diagnose_dropout_backward(backward, dx, dout, factor, p, cache, case)
        _check_dtypes(backward, [dx], [case], what="dx")
        if dtype == np.float64:
            err = _dropout_gradcheck(forward, dx, x, dout, p, seed)
            worst = max(worst, err)
            n_checks += 1
            if err > GRAD_THRESHOLD:
                raise AssertionError(
                    f"{_name(backward)}: the gradient check fails: relative error {err:.1e} against centred "
                    f"differences of your forward pass (threshold {GRAD_THRESHOLD:.0e}) on {case.text}."
                )
    for p, train in ((0.5, False), (0.0, True)):
        x = _dropout_inputs((6, 5), np.float64, 30)
        (out, cache), case = _dropout_call(forward, x, p, 30, train=train)
        dout = np.random.default_rng(31).standard_normal(x.shape)
        dx = _dropout_backward_call(backward, dout, cache, case.text)
        n_checks += 1
        if not _close(dx, dout, np.float64):
            what = "in evaluation mode" if not train else "with p = 0"
            raise AssertionError(
                f"{_name(backward)}: {what} dropout is the identity, so dx must equal dout; "
                f"got {_show(dx)} for dout {_show(dout)} on {case.text}."
            )
    print(
        f"{_name(backward)}: all {n_checks} checks pass; gradient check: relative error {_below(worst)} "
        f"(threshold {GRAD_THRESHOLD:.0e})."
    )


def _dropout_gradcheck(forward, dx, x, dout, p, seed):
    def f(z):
        return forward(z, p, np.random.default_rng(seed), train=True)[0]

    numeric = numerical_gradient_array(f, x.copy(), dout)
    return rel_error(dx, numeric)


def _diagnose_dropout_backward(backward, dx, dout, factor, p, cache, case):
    name, dx64 = _name(backward), dx.astype(np.float64)
    kept = factor != 0
    second = _call_raw(backward, (dout.copy(), cache), {}, case.text)
    if not np.array_equal(np.asarray(second), dx):
        raise AssertionError(
            f"{name}: your backward pass draws a new mask: two calls with the same cache give different dx. "
            "The gradient must flow through the units the forward pass kept, so reuse the forward mask "
            f"from the cache: dx = dout * mask / (1 - p).\n  On {case.text}."
        )
    if _close(dx, dout, dout.dtype):
        raise AssertionError(
            f"{name}: dx = dout ignores the mask: dropped units must get zero gradient and kept units "
            f"the factor 1/(1-p), dx = dout * mask / (1 - p).\n  On {case.text}."
        )
    if _close(dx, dout * kept, dout.dtype):
        raise AssertionError(
            f"{name}: the gradient of the kept units is not scaled by 1/(1-p): the forward pass multiplied "
            f"them by 1/(1-p), so dx = dout * mask / (1 - p).\n  On {case.text}."
        )
    if np.any((dx64 != 0) != kept):
        raise AssertionError(
            f"{name}: dx is non-zero on different units than the forward pass kept: your backward pass "
            "draws a new mask (or uses another one). Reuse the forward mask from the cache: "
            f"dx = dout * mask / (1 - p).\n  On {case.text}."
        )
    raise AssertionError(
        f"{name}: wrong dx on {case.text}: expected {_show(dout * factor)}, got {_show(dx)}. "
        "It must be dout times the factor the forward pass applied to each entry."
    )


# --- chapter 4: batch normalization ---


def _bn_cases():
    rng = np.random.default_rng(5)
    cases = []
    for shape, dtype, eps in (
        ((16, 4), np.float64, 1e-5),
        ((16, 4), np.float32, 1e-5),
        ((2, 3), np.float64, 1e-5),
        ((10, 5), np.float64, 0.5),
        ((6, 3), np.float32, 0.1),
    ):
        x = (3.0 + 2.0 * rng.standard_normal(shape)).astype(dtype)  # batch mean far from 0
        gamma = (1.0 + 0.5 * rng.standard_normal(shape[1])).astype(dtype)
        beta = rng.standard_normal(shape[1]).astype(dtype)
        text = (
            f"x of shape {shape}{' (a batch of 2)' if shape[0] == 2 else ''}, {np.dtype(dtype)}, eps = {eps}"
        )
        cases.append(_Case((x, gamma, beta, eps), {}, text, np.dtype(dtype)))
    return cases


def _bn_mistake(normalise):
    def wrong(x, gamma, beta, eps):
        x = x.astype(np.float64)
        return normalise(x, eps) * gamma + beta

    return wrong


_BN_FORWARD_MISTAKES = [
    (
        "you used E[x^2] (the mean of the squares) as the variance. E[x^2] = var + mean^2, so the output "
        "is no longer normalised whenever the batch mean is not 0. Use the variance of the centred "
        "values: mean((x - mu)**2).",
        _bn_mistake(lambda x, eps: (x - x.mean(0)) / np.sqrt((x**2).mean(0) + eps)),
    ),
    (
        "you divided x by sqrt(E[x^2]) without centring: batch norm subtracts the batch mean and divides "
        "by the standard deviation, (x - mu) / sqrt(var + eps) with var = mean((x - mu)**2).",
        _bn_mistake(lambda x, eps: x / np.sqrt((x**2).mean(0) + eps)),
    ),
    (
        "you normalised with the unbiased variance (divide by N-1). In training batch norm uses the "
        "biased batch variance (divide by N), as torch.nn.BatchNorm1d does: it is the variance of the "
        "numbers being normalised. The unbiased one belongs in running_var only.",
        _bn_mistake(lambda x, eps: (x - x.mean(0)) / np.sqrt(x.var(0, ddof=1) + eps)),
    ),
    (
        "eps must go under the square root: (x - mu) / sqrt(var + eps), not / (sqrt(var) + eps).",
        _bn_mistake(lambda x, eps: (x - x.mean(0)) / (np.sqrt(x.var(0)) + eps)),
    ),
    (
        "eps is missing: divide by sqrt(var + eps) (it keeps the division finite for a constant feature).",
        _bn_mistake(lambda x, eps: (x - x.mean(0)) / np.sqrt(x.var(0))),
    ),
    (
        "you divided by the variance instead of the standard deviation: use sqrt(var + eps).",
        _bn_mistake(lambda x, eps: (x - x.mean(0)) / (x.var(0) + eps)),
    ),
    (
        "you normalised each row (sample) over its features: that is layer norm. Batch norm normalises "
        "each column (feature) over the batch: statistics with axis=0.",
        _bn_mistake(lambda x, eps: (x - x.mean(1, keepdims=True)) / np.sqrt(x.var(1, keepdims=True) + eps)),
    ),
]
_BN_AFFINE_MISTAKES = [
    (
        "gamma and beta are not applied: the output is gamma * x_hat + beta.",
        lambda x, gamma, beta, eps: (x - x.mean(0)) / np.sqrt(x.var(0) + eps),
    ),
    (
        "gamma and beta are swapped: the output is gamma * x_hat + beta.",
        lambda x, gamma, beta, eps: (x - x.mean(0)) / np.sqrt(x.var(0) + eps) * beta + gamma,
    ),
]


def _bn_forward_outputs(fn, cases):
    outputs = []
    for case in cases:
        x = case.args[0].copy()
        result = _call_raw(fn, (x, *(_copy(a) for a in case.args[1:])), {}, case.text)
        _check_unchanged(fn, case, case.args[:1], (x,), ["x"])
        if not (isinstance(result, tuple) and len(result) == 2):
            raise AssertionError(
                f"{_name(fn)} must return (out, cache), got {type(result).__name__} on {case.text}."
            )
        outputs.append(result)
    return outputs


def check_batchnorm_forward(fn: Callable[..., tuple]) -> None:
    r"""Check ``fn(x, gamma, beta, eps=1e-5) -> (out, cache)``, batch norm in training mode.

    ``out`` is compared with :func:`regcode.batchnorm.batchnorm_forward` on inputs whose batch mean
    is far from 0, for a batch of 2 and for large ``eps``. Names :math:`\mathbb E[x^2]` as the
    variance, the unbiased variance, ``eps`` outside the square root or missing, statistics over
    the wrong axis (layer norm) and a missing or swapped :math:`\gamma`, :math:`\beta`.

    Parameters
    ----------
    fn : callable
        Your ``batchnorm_forward(x, gamma, beta, eps=1e-5)``, returning ``(out, cache)``.

    Raises
    ------
    TypeError
        If ``fn`` is not callable.
    AssertionError
        With a diagnosis that names the mistake, if a result is wrong; "not implemented yet"
        for a function that still raises ``NotImplementedError``.
    """
    _require_callable(fn, "fn")
    cases = _bn_cases()
    results = _bn_forward_outputs(fn, cases)
    outputs = [result[0] for result in results]
    _check_array_outputs(fn, outputs, cases, lambda case: case.args[0].shape, what="out")
    expected = [_bn.batchnorm_forward(*case.args)[0] for case in cases]
    _judge(fn, outputs, cases, expected, _BN_FORWARD_MISTAKES + _BN_AFFINE_MISTAKES, what="out")
    _check_dtypes(fn, outputs, cases, what="out")
    _pass(fn, len(cases), "batch mean far from 0, a batch of 2, eps up to 0.5, float32 and float64")


def _bn_backward_mistakes(x, gamma, eps, dout):
    """Known wrong (dx, dgamma, dbeta), computed from the inputs of the forward pass."""
    x = x.astype(np.float64)
    n = x.shape[0]
    inv_std = 1.0 / np.sqrt(x.var(0) + eps)
    xhat = (x - x.mean(0)) * inv_std
    dbeta, dgamma = dout.sum(0), (dout * xhat).sum(0)
    right_dx = gamma * inv_std / n * (n * dout - dbeta - xhat * dgamma)
    return [
        (
            "dx treats the batch mean and variance as constants (dx = gamma * dout / sqrt(var + eps)): "
            "it misses the paths through mu and sigma^2. Every x_i also moves the statistics of its batch.",
            (gamma * inv_std * dout, dgamma, dbeta),
        ),
        (
            "dx misses the path through the variance: the term - x_hat * sum(dout * x_hat) / N is missing.",
            (gamma * inv_std * (dout - dout.mean(0)), dgamma, dbeta),
        ),
        (
            "dx misses the path through the mean: the term - sum(dout) / N is missing.",
            (gamma * inv_std * (dout - xhat * (dout * xhat).mean(0)), dgamma, dbeta),
        ),
        (
            "dx is missing the factor gamma: dL/dx_hat = gamma * dout.",
            (inv_std / n * (n * dout - dbeta - xhat * dgamma), dgamma, dbeta),
        ),
        (
            "dgamma must be sum(dout * x_hat) over the batch (x_hat, not x).",
            (right_dx, (dout * x).sum(0), dbeta),
        ),
        ("dgamma must be sum(dout * x_hat) over the batch, not sum(dout).", (right_dx, dbeta, dbeta)),
        (
            "dgamma and dbeta must be summed over the batch, not averaged.",
            (right_dx, dgamma / n, dbeta / n),
        ),
        ("dbeta must be summed over the batch, not averaged.", (right_dx, dgamma, dbeta / n)),
    ]


def _bn_backward_call(backward, dout, cache, case):
    result = _call_raw(backward, (dout.copy(), cache), {}, case.text)
    if not (isinstance(result, (tuple, list)) and len(result) == 3):
        raise AssertionError(
            f"{_name(backward)} must return (dx, dgamma, dbeta), got {type(result).__name__} on {case.text}."
        )
    n, d = dout.shape
    for name, arr, shape in zip(("dx", "dgamma", "dbeta"), result, ((n, d), (d,), (d,)), strict=True):
        _check_array_outputs(backward, [arr], [case], lambda _, s=shape: s, what=name)
    return tuple(result)


def check_batchnorm_backward(forward: Callable[..., tuple], backward: Callable[..., tuple]) -> None:
    r"""Check ``backward(dout, cache) -> (dx, dgamma, dbeta)`` against the student's own ``forward``.

    ``forward`` must pass :func:`check_batchnorm_forward` first. In float64 the three gradients
    are checked against centred differences of ``forward`` (:data:`GRAD_THRESHOLD`) and against
    :func:`regcode.batchnorm.batchnorm_backward`, including a batch of 2; in float32 against regcode
    and for the dtype. Prints the largest relative error. Names a ``dx`` that treats the batch
    statistics as constants or misses the path through the mean or the variance (the message shows
    the relative error), and wrong ``dgamma``/``dbeta``.

    Parameters
    ----------
    forward : callable
        Your ``batchnorm_forward``.
    backward : callable
        Your ``batchnorm_backward(dout, cache)``, returning ``(dx, dgamma, dbeta)``.

    Raises
    ------
    TypeError
        If ``forward`` or ``backward`` is not callable.
    AssertionError
        With a diagnosis that names the mistake, if a result is wrong; "not implemented yet"
        for a function that still raises ``NotImplementedError``.
    """
    _require_callable(forward, "forward")
    _require_callable(backward, "backward")
    _quietly(check_batchnorm_forward, forward)
    rng = np.random.default_rng(6)
    worst, n_checks = 0.0, 0
    for shape, dtype, eps in (
        ((8, 4), np.float64, 1e-5),
        ((12, 3), np.float64, 1e-3),
        ((2, 3), np.float64, 0.5),
        ((6, 5), np.float32, 1e-5),
    ):
        x = (3.0 + 2.0 * rng.standard_normal(shape)).astype(dtype)
        gamma = (1.0 + 0.5 * rng.standard_normal(shape[1])).astype(dtype)
        beta = rng.standard_normal(shape[1]).astype(dtype)
        dout = rng.standard_normal(shape).astype(dtype)
        text = (
            f"x of shape {shape}{' (a batch of 2)' if shape[0] == 2 else ''}, {np.dtype(dtype)}, eps = {eps}"
        )
        case = _Case((x, gamma, beta, eps), {}, text, np.dtype(dtype))
        _, cache = _bn_forward_outputs(forward, [case])[0]
        grads = _bn_backward_call(backward, dout, cache, case)
        _, ref_cache = _bn.batchnorm_forward(x, gamma, beta, eps)
        expected = _bn.batchnorm_backward(dout, ref_cache)
        n_checks += 1
        errors = None
        if dtype == np.float64:
            errors = _bn_gradcheck(forward, grads, x, gamma, beta, eps, dout)
            worst = max(worst, *errors.values())
            n_checks += 3
        if not _close(grads, expected, dtype) or (errors and max(errors.values()) > GRAD_THRESHOLD):
            _diagnose_bn_backward(backward, grads, expected, x, gamma, eps, dout, errors, case)
        _check_dtypes(backward, [grads], [case], what="dx, dgamma and dbeta")
    print(
        f"{_name(backward)}: all {n_checks} checks pass; gradient check: relative error {_below(worst)} "
        f"(threshold {GRAD_THRESHOLD:.0e})."
    )


def _bn_gradcheck(forward, grads, x, gamma, beta, eps, dout):
    """Relative errors of dx, dgamma, dbeta against centred differences of ``forward``."""
    numeric = {
        "dx": numerical_gradient_array(lambda z: forward(z, gamma, beta, eps)[0], x.copy(), dout),
        "dgamma": numerical_gradient_array(lambda g: forward(x, g, beta, eps)[0], gamma.copy(), dout),
        "dbeta": numerical_gradient_array(lambda b: forward(x, gamma, b, eps)[0], beta.copy(), dout),
    }
    return {name: rel_error(grad, numeric[name]) for name, grad in zip(numeric, grads, strict=True)}


def _diagnose_bn_backward(backward, grads, expected, x, gamma, eps, dout, errors, case):
    name = _name(backward)
    if errors:
        failing = [f"{k} {v:.1e}" for k, v in errors.items() if v > GRAD_THRESHOLD]
        check = (
            f"gradient check: relative error {', '.join(failing)} (threshold {GRAD_THRESHOLD:.0e})"
            if failing
            else "gradient check passes, but the gradients differ from regcode's"
        )
    else:
        check = "the gradients differ from regcode's"
    for message, wrong in _bn_backward_mistakes(x, gamma, eps, dout.astype(np.float64)):
        if _close(grads, wrong, case.dtype):
            raise AssertionError(f"{name}: {message}\n  On {case.text}: {check}.")
    labels = ("dx", "dgamma", "dbeta")
    wrong_parts = [k for k, g, e in zip(labels, grads, expected, strict=True) if not _close(g, e, case.dtype)]
    raise AssertionError(
        f"{name}: wrong {', '.join(wrong_parts) or 'gradients'} on {case.text}: {check}. "
        "dx = gamma / (N * sqrt(var + eps)) * (N * dout - sum(dout) - x_hat * sum(dout * x_hat)), "
        "sums over the batch (axis 0)."
    )


def _running_mistakes():
    def torch_like(biased=False, keras=False, factor=None, momentum_override=None):
        def wrong(running_mean, running_var, batch_mean, batch_var, n, momentum=0.1):
            m = momentum if momentum_override is None else momentum_override
            w_new = 1.0 - m if keras else m
            scale = 1.0 if biased else (n / (n - 1.0) if factor is None else factor(n))
            return (
                (1.0 - w_new) * running_mean + w_new * batch_mean,
                (1.0 - w_new) * running_var + w_new * batch_var * scale,
            )

        return wrong

    def default_099(running_mean, running_var, batch_mean, batch_var, n, momentum=0.99):
        return _bn.update_running_stats(running_mean, running_var, batch_mean, batch_var, n, momentum)

    return [
        (
            "you used Keras's momentum convention and its biased variance: new = momentum * old + "
            "(1 - momentum) * batch. In this book (and torch.nn.BatchNorm1d) momentum = 0.1 is the weight "
            "of the NEW batch, new = (1 - momentum) * old + momentum * batch, and running_var stores the "
            "unbiased variance batch_var * n / (n - 1).",
            torch_like(biased=True, keras=True),
        ),
        (
            "you used Keras's momentum convention: new = momentum * old + (1 - momentum) * batch. In this "
            "book (and torch.nn.BatchNorm1d) momentum = 0.1 is the weight of the NEW batch: "
            "new = (1 - momentum) * old + momentum * batch.",
            torch_like(keras=True),
        ),
        (
            "the running variance is biased: it must store the unbiased batch variance, "
            "batch_var * n / (n - 1), as torch.nn.BatchNorm1d does (batch_var is divided by N; its "
            "average over batches underestimates the variance by (N-1)/N).",
            torch_like(biased=True),
        ),
        (
            "the variance was multiplied by (n - 1) / n; the unbiased variance is batch_var * n / (n - 1).",
            torch_like(factor=lambda n: (n - 1.0) / n),
        ),
        (
            "the momentum argument is ignored (you always use 0.1): use the momentum passed in.",
            torch_like(momentum_override=0.1),
        ),
        (
            "the running statistics are replaced by the batch's instead of averaged: "
            "new = (1 - momentum) * old + momentum * batch.",
            torch_like(momentum_override=1.0),
        ),
        (
            "the default momentum must be 0.1, the weight of the new batch (PyTorch's convention); 0.99 is "
            "Keras's default in its own, opposite convention.",
            default_099,
        ),
    ]


def check_update_running_stats(fn: Callable[..., tuple]) -> None:
    r"""Check ``fn(running_mean, running_var, batch_mean, batch_var, n, momentum=0.1) -> (mean, var)``.

    Compared with :func:`regcode.batchnorm.update_running_stats` (``torch.nn.BatchNorm1d``'s rule:
    :math:`\hat\mu \leftarrow (1-\alpha)\hat\mu + \alpha\mu_B`,
    :math:`\hat\sigma^2 \leftarrow (1-\alpha)\hat\sigma^2 + \alpha\frac{N}{N-1}\sigma_B^2`), for a batch
    of 2, momentum 0, 0.3 and 1 and the default. Names Keras's momentum convention, a biased
    running variance, an ignored momentum and a wrong default.

    Parameters
    ----------
    fn : callable
        Your ``update_running_stats``, returning ``(new_mean, new_var)``.

    Raises
    ------
    TypeError
        If ``fn`` is not callable.
    AssertionError
        With a diagnosis that names the mistake, if a result is wrong; "not implemented yet"
        for a function that still raises ``NotImplementedError``.
    """
    _require_callable(fn, "fn")
    rng = np.random.default_rng(7)
    cases = []
    for d, dtype, n, momentum in (
        (4, np.float64, 8, 0.1),
        (3, np.float32, 2, 0.1),
        (5, np.float64, 32, 0.3),
        (4, np.float64, 16, None),
        (3, np.float64, 4, 0.0),
        (3, np.float64, 5, 1.0),
    ):
        running_mean = rng.standard_normal(d).astype(dtype)
        running_var = (0.5 + rng.random(d)).astype(dtype)
        batch_mean = (2.0 + rng.standard_normal(d)).astype(dtype)
        batch_var = (1.0 + 2.0 * rng.random(d)).astype(dtype)
        kwargs = {} if momentum is None else {"momentum": momentum}
        text = f"D = {d}, {np.dtype(dtype)}, n = {n}, " + (
            "momentum left at its default" if momentum is None else f"momentum = {momentum}"
        )
        cases.append(
            _Case((running_mean, running_var, batch_mean, batch_var, n), kwargs, text, np.dtype(dtype))
        )
    outputs = [_call(fn, case) for case in cases]
    for out, case in zip(outputs, cases, strict=True):
        if not (isinstance(out, (tuple, list)) and len(out) == 2):
            raise AssertionError(
                f"{_name(fn)} must return (new_mean, new_var), got {type(out).__name__} on {case.text}."
            )
    outputs = [tuple(out) for out in outputs]
    expected = [_bn.update_running_stats(*case.args, **case.kwargs) for case in cases]
    _judge(fn, outputs, cases, expected, _running_mistakes(), what="running statistics")
    _check_dtypes(fn, outputs, cases, what="new_mean and new_var")
    _pass(fn, len(cases), "a batch of 2, momentum 0, 0.3, 1 and the default, float32 and float64")


# --- chapter 2: AdamW ---


def _adam_parts(theta, grad, m, v, t, lr, beta1, beta2, eps, wd):
    m_new = beta1 * m + (1 - beta1) * grad
    v_new = beta2 * v + (1 - beta2) * grad * grad
    return m_new, v_new, m_new / (1 - beta1**t), v_new / (1 - beta2**t)


def _adamw_mistake(kind):
    def wrong(theta, grad, m, v, t, lr, beta1=0.9, beta2=0.999, eps=1e-8, weight_decay=0.01):
        theta, grad, m, v = (np.asarray(a, dtype=np.float64) for a in (theta, grad, m, v))
        args = (theta, grad, m, v, t, lr)
        if kind == "coupled":
            return _optim.adam_update(*args, beta1, beta2, eps, weight_decay)
        if kind == "no decay":
            return _optim.adam_update(*args, beta1, beta2, eps, 0.0)
        m_new, v_new, m_hat, v_hat = _adam_parts(theta, grad, m, v, t, lr, beta1, beta2, eps, weight_decay)
        step = {
            "no bias correction": lambda: m_new / (np.sqrt(v_new) + eps),
            "no m correction": lambda: m_new / (np.sqrt(v_hat) + eps),
            "no v correction": lambda: m_hat / (np.sqrt(v_new) + eps),
            "eps inside": lambda: m_hat / np.sqrt(v_hat + eps),
        }.get(kind, lambda: m_hat / (np.sqrt(v_hat) + eps))()
        if kind == "decay after":
            return (theta - lr * step) * (1 - lr * weight_decay), m_new, v_new
        decay = weight_decay if kind == "decay without lr" else lr * weight_decay
        return theta * (1 - decay) - lr * step, m_new, v_new

    return wrong


_ADAMW_MISTAKES = [
    (
        "this is Adam + L2, not AdamW: you added weight_decay * theta to the gradient, so the decay goes "
        "through m and v and is divided by sqrt(v_hat): weights with large gradients are barely decayed. "
        "AdamW decays first, theta <- theta - lr * weight_decay * theta, then takes the Adam step with "
        "the loss gradient alone.",
        _adamw_mistake("coupled"),
    ),
    ("the weight decay is missing: this is plain Adam.", _adamw_mistake("no decay")),
    (
        "the bias correction is missing: divide m by (1 - beta1**t) and v by (1 - beta2**t). Without it "
        "the first steps are far too small, because m and v start at 0.",
        _adamw_mistake("no bias correction"),
    ),
    ("m is not bias-corrected: m_hat = m / (1 - beta1**t).", _adamw_mistake("no m correction")),
    ("v is not bias-corrected: v_hat = v / (1 - beta2**t).", _adamw_mistake("no v correction")),
    (
        "the decay is not multiplied by the learning rate: this book (and torch.optim.AdamW) decays "
        "theta <- theta - lr * weight_decay * theta. (The paper's lambda is lr * weight_decay here.)",
        _adamw_mistake("decay without lr"),
    ),
    (
        "the decay is applied after the Adam step: AdamW shrinks theta first, theta * (1 - lr * "
        "weight_decay), and then subtracts lr * m_hat / (sqrt(v_hat) + eps).",
        _adamw_mistake("decay after"),
    ),
    ("eps must be added after the square root: sqrt(v_hat) + eps.", _adamw_mistake("eps inside")),
]


def check_adamw_update(fn: Callable[..., tuple]) -> None:
    r"""Check ``fn(theta, grad, m, v, t, lr, beta1=0.9, beta2=0.999, eps=1e-8, weight_decay=0.01)``.

    ``fn`` returns the updated ``(theta, m, v)``.

    Single steps are compared with :func:`regcode.optim.adamw_update` (``torch.optim.AdamW``):
    the first step from zero moments, later steps with given moments, non-default betas and eps,
    ``weight_decay = 0`` and the default; then five steps in a row that feed your own results
    back. Names Adam + L2 (coupled decay), a missing or misplaced decay, a missing bias correction
    and eps inside the square root.

    Parameters
    ----------
    fn : callable
        Your ``adamw_update``, returning ``(theta, m, v)``.

    Raises
    ------
    TypeError
        If ``fn`` is not callable.
    AssertionError
        With a diagnosis that names the mistake, if a result is wrong; "not implemented yet"
        for a function that still raises ``NotImplementedError``.
    """
    _require_callable(fn, "fn")
    rng = np.random.default_rng(8)
    cases = []
    for shape, dtype, t, lr, kwargs, grad_scale in (
        ((5,), np.float64, 1, 0.1, {"weight_decay": 0.5}, 1.0),
        ((3, 4), np.float64, 3, 0.01, {"weight_decay": 0.1}, 1.0),
        ((4,), np.float32, 10, 1e-3, {"weight_decay": 0.01}, 1.0),
        ((6,), np.float64, 2, 0.05, {"weight_decay": 0.0}, 1.0),
        (
            (2, 2),
            np.float64,
            1000,
            0.1,
            {"beta1": 0.8, "beta2": 0.99, "eps": 1e-3, "weight_decay": 0.2},
            1e-3,
        ),
        ((5,), np.float64, 4, 0.02, {}, 1.0),
    ):
        theta = rng.standard_normal(shape)
        grad = grad_scale * rng.standard_normal(shape)
        first = t == 1
        m = np.zeros(shape) if first else grad_scale * 0.5 * rng.standard_normal(shape)
        v = np.zeros(shape) if first else grad_scale**2 * (0.5 + rng.random(shape))
        options = ", ".join(f"{k} = {val}" for k, val in kwargs.items()) or "defaults for the rest"
        text = f"theta of shape {shape}, {np.dtype(dtype)}, t = {t}, lr = {lr}, {options}"
        arrays = tuple(a.astype(dtype) for a in (theta, grad, m, v))
        cases.append(_Case((*arrays, t, lr), kwargs, text, np.dtype(dtype)))
    outputs = [_call(fn, case) for case in cases]
    for out, case in zip(outputs, cases, strict=True):
        if not (isinstance(out, (tuple, list)) and len(out) == 3):
            raise AssertionError(
                f"{_name(fn)} must return (theta, m, v), got {type(out).__name__} on {case.text}."
            )
    outputs = [tuple(out) for out in outputs]
    expected = [_optim.adamw_update(*case.args, **case.kwargs) for case in cases]
    _judge(fn, outputs, cases, expected, _ADAMW_MISTAKES, what="update")
    _check_dtypes(fn, outputs, cases, what="theta, m and v")
    # Five steps in a row, each fed with the previous results.
    theta = rng.standard_normal(6)
    mine = ref = (theta, np.zeros(6), np.zeros(6))
    for t in range(1, 6):
        grad = rng.standard_normal(6)
        text = f"step {t} of five steps in a row (lr = 0.05, weight_decay = 0.1)"
        args = (mine[0].copy(), grad, mine[1].copy(), mine[2].copy(), t, 0.05)
        mine = tuple(_call_raw(fn, args, {"weight_decay": 0.1}, text))
        ref = _optim.adamw_update(ref[0], grad, ref[1], ref[2], t, 0.05, weight_decay=0.1)
        if not _close(mine, ref, np.float64):
            raise AssertionError(
                f"{_name(fn)}: single steps are right but {text} is not: expected {_show(ref)}, "
                f"got {_show(mine)}. "
                "Return new arrays for theta, m and v, and pass t = 1, 2, 3, ..."
            )
    _pass(
        fn,
        len(cases) + 5,
        "first and later steps, betas, eps, weight_decay 0 and the default, 5 steps in a row",
    )
