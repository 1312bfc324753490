"""regcode.checks: regcode's own functions pass, and each classic mistake is named.

Every wrong function below is written the way a student would write it, not taken from the
checker, so a test fails if the checker stops recognising the mistake in real code.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import numpy as np
import pytest

from regcode import batchnorm, checks, dropout, optim, penalties
from regcode.linear_model import penalized_loss

ROOT = Path(__file__).resolve().parents[2]


def regcode_penalized_loss(X, y, w, lam, kind):
    return float(penalized_loss(X, y, w, lam, kind)[0])


def fails_with(check, *fns, match):
    with pytest.raises(AssertionError, match=match) as info:
        check(*fns)
    return str(info.value)


# --- regcode's own implementations pass, with one printed line ---

CORRECT = [
    (checks.check_l1_penalty, (penalties.l1_penalty,)),
    (checks.check_l2_penalty, (penalties.l2_penalty,)),
    (checks.check_penalized_loss, (regcode_penalized_loss,)),
    (checks.check_soft_threshold, (penalties.soft_threshold,)),
    (checks.check_dropout_forward, (dropout.dropout_forward,)),
    (checks.check_dropout_backward, (dropout.dropout_forward, dropout.dropout_backward)),
    (checks.check_batchnorm_forward, (batchnorm.batchnorm_forward,)),
    (checks.check_batchnorm_backward, (batchnorm.batchnorm_forward, batchnorm.batchnorm_backward)),
    (checks.check_update_running_stats, (batchnorm.update_running_stats,)),
    (checks.check_adamw_update, (optim.adamw_update,)),
]


@pytest.mark.parametrize(("check", "fns"), CORRECT, ids=[c.__name__ for c, _ in CORRECT])
def test_regcode_passes_with_one_line(check, fns, capsys):
    assert check(*fns) is None
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 1
    assert re.search(r"all \d+ (cases|checks) pass", lines[0])


@pytest.mark.parametrize(
    ("check", "fns"),
    [
        (checks.check_dropout_backward, (dropout.dropout_forward, dropout.dropout_backward)),
        (checks.check_batchnorm_backward, (batchnorm.batchnorm_forward, batchnorm.batchnorm_backward)),
    ],
)
def test_backward_checkers_print_the_relative_error_and_threshold(check, fns, capsys):
    check(*fns)
    line = capsys.readouterr().out
    match = re.search(r"relative error below 1e-(\d+) \(threshold 1e-07\)", line)
    assert match, line
    assert int(match.group(1)) >= 8  # a correct float64 pass is far below the threshold


def test_batchnorm_staged_backward_passes_too(capsys):
    checks.check_batchnorm_backward(batchnorm.batchnorm_forward, batchnorm.batchnorm_backward_staged)
    assert "all" in capsys.readouterr().out


# --- input checks and stubs ---

ALL_CHECKS = [check for check, _ in CORRECT]


@pytest.mark.parametrize("check", ALL_CHECKS, ids=[c.__name__ for c in ALL_CHECKS])
def test_not_callable_raises_type_error_naming_the_argument(check):
    n_args = len(dict(CORRECT)[check])
    first = "forward" if n_args == 2 else "fn"
    with pytest.raises(TypeError, match=rf"^{first} must be your function"):
        check(*([42] * n_args))
    if n_args == 2:
        with pytest.raises(TypeError, match=r"^backward must be your function"):
            check(dict(CORRECT)[check][0], "not a function")


@pytest.mark.parametrize("check", ALL_CHECKS, ids=[c.__name__ for c in ALL_CHECKS])
def test_stub_is_not_implemented_yet(check):
    def stub(*args, **kwargs):
        raise NotImplementedError()

    fns = dict(CORRECT)[check]
    student = (stub,) if len(fns) == 1 else (fns[0], stub)
    message = fails_with(check, *student, match="stub is not implemented yet")
    assert "raise NotImplementedError()" in message


def test_a_forward_stub_is_reported_by_the_backward_checkers():
    def stub(*args, **kwargs):
        raise NotImplementedError

    fails_with(checks.check_dropout_backward, stub, dropout.dropout_backward, match="not implemented yet")
    fails_with(
        checks.check_batchnorm_backward, stub, batchnorm.batchnorm_backward, match="not implemented yet"
    )


def test_other_errors_are_reported_with_the_input():
    def broken(w, lam):
        return lam * np.abs(w).sum() / undefined_name  # noqa: F821

    message = fails_with(checks.check_l1_penalty, broken, match="broken raised NameError")
    assert "on w of shape" in message


def test_nothing_in_regcode_imports_the_checks():
    for path in (ROOT / "regcode").rglob("*.py"):
        if path.name == "checks.py":
            continue
        tree = ast.parse(path.read_text())
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom):
                names = [node.module or ""] + [alias.name for alias in node.names]
            elif isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            else:
                continue
            assert not any(name.split(".")[-1] == "checks" for name in names), f"{path} imports checks"


# --- chapter 2: penalties ---


def l1_without_abs(w, lam):
    return lam * np.sum(w)


def l1_from_the_article(w, lam):
    return np.sum(np.abs(w)) + lam * np.sum(w)


def l1_twice(w, lam):
    l1 = lam * np.sum(np.abs(w))
    return l1 + l1


def l1_as_array(w, lam):
    return lam * np.abs(w)


def test_l1_mistakes_are_named():
    fails_with(checks.check_l1_penalty, l1_without_abs, match="the absolute value is missing")
    fails_with(
        checks.check_l1_penalty,
        l1_from_the_article,
        match=r"source article's 'L1 penalty' sum\|w\| \+ lam\*sum\(w\)",
    )
    fails_with(checks.check_l1_penalty, l1_twice, match="counted twice")
    fails_with(checks.check_l1_penalty, l1_as_array, match="must return one number")


def l2_without_half(w, lam):
    return lam * np.sum(w**2)


def l2_added_to_itself(w, lam):
    l2 = lam / 2 * np.sum(w * w)
    return l2 + l2


def l2_with_norm(w, lam):
    return lam / 2 * np.linalg.norm(w)


def test_l2_mistakes_are_named():
    fails_with(
        checks.check_l2_penalty,
        l2_without_half,
        match=r"the 1/2 is missing \(or the penalty is added to itself",
    )
    fails_with(checks.check_l2_penalty, l2_added_to_itself, match="the 1/2 is missing")
    fails_with(checks.check_l2_penalty, l2_with_norm, match="norm ||w|| instead of the squared norm")


def make_loss(data_term, penalty_l1, penalty_l2, combine=lambda data, pen: data + pen):
    def loss(X, y, w, lam, kind):
        m = X.shape[0]
        data = data_term(X @ w - y, m)
        pen = penalty_l1(w, lam) if kind == "l1" else penalty_l2(w, lam)
        return float(combine(data, pen))

    return loss


def mean_half(resid, m):
    return np.sum(resid**2) / (2 * m)


def good_l1(w, lam):
    return lam * np.sum(np.abs(w))


def good_l2(w, lam):
    return lam / 2 * np.sum(w**2)


def test_penalized_loss_correct_student_version_passes(capsys):
    checks.check_penalized_loss(make_loss(mean_half, good_l1, good_l2))
    assert "all 8 cases pass" in capsys.readouterr().out


def test_penalized_loss_mistakes_are_named():
    no_data = make_loss(mean_half, good_l1, good_l2, combine=lambda data, pen: pen)
    fails_with(checks.check_penalized_loss, no_data, match="the data term is missing")
    self_added = make_loss(mean_half, good_l1, good_l2, combine=lambda data, pen: pen + pen)
    fails_with(
        checks.check_penalized_loss,
        self_added,
        match="penalty is added to itself instead of to the data loss",
    )
    twice = make_loss(mean_half, good_l1, good_l2, combine=lambda data, pen: data + pen + pen)
    fails_with(checks.check_penalized_loss, twice, match="for kind 'l1' the penalty is counted twice")
    no_m = make_loss(lambda resid, m: 0.5 * np.sum(resid**2), good_l1, good_l2)
    fails_with(checks.check_penalized_loss, no_m, match=r"the 1/m is missing")
    mse = make_loss(lambda resid, m: np.mean(resid**2), good_l1, good_l2)
    fails_with(checks.check_penalized_loss, mse, match=r"the 1/2 of the data term is missing")
    article = make_loss(mean_half, l1_from_the_article, good_l2)
    fails_with(checks.check_penalized_loss, article, match="source article's penalty")
    no_abs = make_loss(mean_half, l1_without_abs, good_l2)
    fails_with(checks.check_penalized_loss, no_abs, match="for kind 'l1' the absolute value is missing")
    no_half_l2 = make_loss(mean_half, good_l1, l2_without_half)
    fails_with(
        checks.check_penalized_loss,
        no_half_l2,
        match="for kind 'l2'.*1/2 is missing or the penalty is counted twice",
    )
    swapped = make_loss(mean_half, good_l2, good_l1)
    fails_with(checks.check_penalized_loss, swapped, match="computes the other penalty")


def subgradient_step(w, t):
    return w - t * np.sign(w)


def hard_threshold(w, t):
    return w * (np.abs(w) > t)


def almost_zero(w, t):
    return np.sign(w) * (np.maximum(np.abs(w) - t, 0.0) + 1e-12)


def prox_in_place(w, t):
    w[np.abs(w) <= t] = 0.0
    w -= t * np.sign(w)
    return w


def prox_float64(w, t):
    return np.sign(w) * np.maximum(np.abs(w) - t, 0.0).astype(np.float64)


def test_soft_threshold_mistakes_are_named():
    message = fails_with(checks.check_soft_threshold, subgradient_step, match="subgradient step")
    assert "exact zeros" in message and "flips their sign" in message
    fails_with(checks.check_soft_threshold, hard_threshold, match="hard thresholding")
    fails_with(checks.check_soft_threshold, almost_zero, match="must be exactly 0")
    fails_with(checks.check_soft_threshold, prox_in_place, match="changed its input w in place")
    fails_with(
        checks.check_soft_threshold, prox_float64, match=r"must keep the dtype of the input \(float32\)"
    )


# --- chapter 3: dropout ---


def dropout_unscaled(x, p, rng, train=True):
    if not train:
        return x, None
    mask = rng.random(x.shape) >= p
    return x * mask, mask


def dropout_keep_prob(x, p, rng, train=True):
    if not train:
        return x, None
    mask = (rng.random(x.shape) < p) / p  # p used as the probability of keeping
    return x * mask, mask


def dropout_keep_prob_scaled_right(x, p, rng, train=True):
    if not train:
        return x, None
    mask = (rng.random(x.shape) >= 1 - p) / (1 - p)
    return x * mask, mask


def dropout_always_on(x, p, rng, train=True):
    mask = (rng.random(x.shape) >= p) / (1 - p)
    return x * mask, mask


def dropout_vanilla_eval(x, p, rng, train=True):
    if not train:
        return x * (1 - p), None
    mask = (rng.random(x.shape) >= p).astype(x.dtype)
    return x * mask, mask


def dropout_global_rng(x, p, rng, train=True):
    if not train:
        return x, None
    mask = (np.random.random(x.shape) >= p) / (1 - p)  # noqa: NPY002 (the mistake under test)
    return x * mask, mask


def dropout_float64(x, p, rng, train=True):
    if not train:
        return x, None
    mask = (rng.random(x.shape) >= p) / (1 - p)  # float64 mask promotes float32 inputs
    return x * mask, mask


def dropout_in_place(x, p, rng, train=True):
    if not train:
        return x, None
    mask = (rng.random(x.shape, dtype=x.dtype) >= p) / x.dtype.type(1 - p)
    x *= mask.astype(x.dtype)
    return x, mask


def good_dropout_forward(x, p, rng, train=True):
    if not train or p == 0:
        return x, None
    mask = (rng.random(x.shape) >= p).astype(x.dtype) / x.dtype.type(1 - p)
    return x * mask, mask


def test_a_student_dropout_forward_passes(capsys):
    checks.check_dropout_forward(good_dropout_forward)
    assert "good_dropout_forward: all" in capsys.readouterr().out


def test_dropout_forward_mistakes_are_named():
    fails_with(
        checks.check_dropout_forward, dropout_unscaled, match=r"survivors were not scaled by 1/\(1-p\)"
    )
    fails_with(checks.check_dropout_forward, dropout_keep_prob, match="p was read as the keep probability")
    fails_with(
        checks.check_dropout_forward,
        dropout_keep_prob_scaled_right,
        match="p was read as the keep probability",
    )
    fails_with(checks.check_dropout_forward, dropout_always_on, match="dropout is active at evaluation")
    fails_with(
        checks.check_dropout_forward, dropout_vanilla_eval, match="vanilla dropout's test-time scaling"
    )
    fails_with(checks.check_dropout_forward, dropout_global_rng, match="must be drawn from the rng argument")
    fails_with(
        checks.check_dropout_forward, dropout_float64, match=r"must keep the dtype of the input \(float32\)"
    )
    fails_with(checks.check_dropout_forward, dropout_in_place, match="changed its input x in place")


def forward_keeping_rng(x, p, rng, train=True):
    out, mask = good_dropout_forward(x, p, rng, train)
    return out, (mask, p, rng)


def backward_new_mask(dout, cache):
    mask, p, rng = cache
    if mask is None:
        return dout
    fresh = (rng.random(dout.shape) >= p).astype(dout.dtype) / dout.dtype.type(1 - p)
    return dout * fresh


def backward_fixed_new_mask(dout, cache):
    mask, p, _ = cache
    if mask is None:
        return dout
    fresh = (np.random.default_rng(0).random(dout.shape) >= p) / (1 - p)
    return (dout * fresh).astype(dout.dtype)


def backward_unscaled(dout, cache):
    return dout if cache is None else dout * (cache != 0)


def backward_ignores_mask(dout, cache):
    return dout


def good_backward(dout, cache):
    return dout if cache is None else dout * cache


def test_dropout_backward_mistakes_are_named():
    message = fails_with(
        checks.check_dropout_backward, forward_keeping_rng, backward_new_mask, match="draws a new mask"
    )
    assert "two calls with the same cache" in message
    fails_with(
        checks.check_dropout_backward, forward_keeping_rng, backward_fixed_new_mask, match="draws a new mask"
    )
    fails_with(
        checks.check_dropout_backward,
        good_dropout_forward,
        backward_unscaled,
        match=r"not scaled by 1/\(1-p\)",
    )
    fails_with(
        checks.check_dropout_backward, good_dropout_forward, backward_ignores_mask, match="ignores the mask"
    )


def test_dropout_backward_needs_a_correct_forward():
    message = fails_with(
        checks.check_dropout_backward, dropout_unscaled, good_backward, match="fix dropout_unscaled first"
    )
    assert "not scaled" in message


def test_dropout_backward_of_a_student_passes(capsys):
    checks.check_dropout_backward(good_dropout_forward, good_backward)
    assert "gradient check: relative error" in capsys.readouterr().out


# --- chapter 4: batch normalization ---


def bn_second_moment(x, gamma, beta, eps=1e-5):
    mu = x.mean(axis=0)
    var = np.mean(x**2, axis=0)  # the source article's "variance"
    xhat = (x - mu) / np.sqrt(var + eps)
    return gamma * xhat + beta, (xhat, gamma, var, eps)


def bn_unbiased(x, gamma, beta, eps=1e-5):
    mu = x.mean(axis=0)
    var = x.var(axis=0, ddof=1)
    xhat = (x - mu) / np.sqrt(var + eps)
    return gamma * xhat + beta, (xhat, gamma, var, eps)


def bn_eps_outside(x, gamma, beta, eps=1e-5):
    xc = x - x.mean(axis=0)
    xhat = xc / (np.sqrt(np.mean(xc**2, axis=0)) + eps)
    return gamma * xhat + beta, None


def bn_rows(x, gamma, beta, eps=1e-5):
    mu = x.mean(axis=1, keepdims=True)
    var = x.var(axis=1, keepdims=True)
    return gamma * (x - mu) / np.sqrt(var + eps) + beta, None


def bn_forward(x, gamma, beta, eps=1e-5):
    mu = x.mean(axis=0)
    xc = x - mu
    var = np.mean(xc**2, axis=0)
    inv_std = 1.0 / np.sqrt(var + eps)
    xhat = xc * inv_std
    return gamma * xhat + beta, (xhat, gamma, inv_std)


def test_batchnorm_forward_mistakes_are_named(capsys):
    checks.check_batchnorm_forward(bn_forward)
    assert "bn_forward: all" in capsys.readouterr().out
    message = fails_with(checks.check_batchnorm_forward, bn_second_moment, match=r"E\[x\^2\]")
    assert "as the variance" in message
    fails_with(checks.check_batchnorm_forward, bn_unbiased, match="unbiased variance")
    fails_with(checks.check_batchnorm_forward, bn_eps_outside, match="eps must go under the square root")
    fails_with(checks.check_batchnorm_forward, bn_rows, match="that is layer norm")


def bn_backward(dout, cache):
    xhat, gamma, inv_std = cache
    n = dout.shape[0]
    dbeta = dout.sum(axis=0)
    dgamma = (dout * xhat).sum(axis=0)
    dx = gamma * inv_std / n * (n * dout - dbeta - xhat * dgamma)
    return dx, dgamma, dbeta


def bn_backward_constant_stats(dout, cache):
    xhat, gamma, inv_std = cache
    return gamma * inv_std * dout, (dout * xhat).sum(axis=0), dout.sum(axis=0)


def bn_backward_no_variance_path(dout, cache):
    xhat, gamma, inv_std = cache
    dx = gamma * inv_std * (dout - dout.mean(axis=0))
    return dx, (dout * xhat).sum(axis=0), dout.sum(axis=0)


def bn_backward_no_mean_path(dout, cache):
    xhat, gamma, inv_std = cache
    dx = gamma * inv_std * (dout - xhat * (dout * xhat).mean(axis=0))
    return dx, (dout * xhat).sum(axis=0), dout.sum(axis=0)


def bn_backward_mean_dbeta(dout, cache):
    dx, dgamma, dbeta = bn_backward(dout, cache)
    return dx, dgamma, dout.mean(axis=0)


def test_batchnorm_backward_mistakes_show_the_relative_error(capsys):
    checks.check_batchnorm_backward(bn_forward, bn_backward)
    assert "bn_backward: all" in capsys.readouterr().out
    for wrong, phrase in (
        (bn_backward_constant_stats, "treats the batch mean and variance as constants"),
        (bn_backward_no_variance_path, "misses the path through the variance"),
        (bn_backward_no_mean_path, "misses the path through the mean"),
    ):
        message = fails_with(checks.check_batchnorm_backward, bn_forward, wrong, match=phrase)
        error = re.search(r"gradient check: relative error dx (\S+) \(threshold 1e-07\)", message)
        assert error, message
        assert float(error.group(1)) > 1e-3
    fails_with(
        checks.check_batchnorm_backward, bn_forward, bn_backward_mean_dbeta, match="dbeta must be summed"
    )


def test_batchnorm_backward_needs_a_correct_forward():
    fails_with(
        checks.check_batchnorm_backward, bn_second_moment, bn_backward, match="fix bn_second_moment first"
    )


def running_keras(running_mean, running_var, batch_mean, batch_var, n, momentum=0.1):
    new_mean = momentum * running_mean + (1 - momentum) * batch_mean
    new_var = momentum * running_var + (1 - momentum) * batch_var * n / (n - 1)
    return new_mean, new_var


def running_biased(running_mean, running_var, batch_mean, batch_var, n, momentum=0.1):
    new_mean = (1 - momentum) * running_mean + momentum * batch_mean
    new_var = (1 - momentum) * running_var + momentum * batch_var
    return new_mean, new_var


def running_default_keras(running_mean, running_var, batch_mean, batch_var, n, momentum=0.99):
    new_mean = (1 - momentum) * running_mean + momentum * batch_mean
    new_var = (1 - momentum) * running_var + momentum * batch_var * n / (n - 1)
    return new_mean, new_var


def running_good(running_mean, running_var, batch_mean, batch_var, n, momentum=0.1):
    return running_default_keras(running_mean, running_var, batch_mean, batch_var, n, momentum)


def test_running_statistics_mistakes_are_named(capsys):
    checks.check_update_running_stats(running_good)
    assert "running_good: all" in capsys.readouterr().out
    fails_with(checks.check_update_running_stats, running_keras, match="Keras's momentum convention: new")
    fails_with(checks.check_update_running_stats, running_biased, match="the running variance is biased")
    fails_with(checks.check_update_running_stats, running_default_keras, match="default momentum must be 0.1")


# --- AdamW ---


def adam_l2(theta, grad, m, v, t, lr, beta1=0.9, beta2=0.999, eps=1e-8, weight_decay=0.01):
    g = grad + weight_decay * theta
    m = beta1 * m + (1 - beta1) * g
    v = beta2 * v + (1 - beta2) * g**2
    m_hat, v_hat = m / (1 - beta1**t), v / (1 - beta2**t)
    return theta - lr * m_hat / (np.sqrt(v_hat) + eps), m, v


def adamw_no_bias_correction(theta, grad, m, v, t, lr, beta1=0.9, beta2=0.999, eps=1e-8, weight_decay=0.01):
    theta = theta - lr * weight_decay * theta
    m = beta1 * m + (1 - beta1) * grad
    v = beta2 * v + (1 - beta2) * grad**2
    return theta - lr * m / (np.sqrt(v) + eps), m, v


def adamw_good(theta, grad, m, v, t, lr, beta1=0.9, beta2=0.999, eps=1e-8, weight_decay=0.01):
    theta = theta * (1 - lr * weight_decay)
    m = beta1 * m + (1 - beta1) * grad
    v = beta2 * v + (1 - beta2) * grad**2
    m_hat, v_hat = m / (1 - beta1**t), v / (1 - beta2**t)
    return theta - lr * m_hat / (np.sqrt(v_hat) + eps), m, v


def adamw_decay_without_lr(theta, grad, m, v, t, lr, beta1=0.9, beta2=0.999, eps=1e-8, weight_decay=0.01):
    new_theta, m, v = adamw_good(theta, grad, m, v, t, lr, beta1, beta2, eps, 0.0)
    return new_theta - weight_decay * theta, m, v


def test_adamw_mistakes_are_named(capsys):
    checks.check_adamw_update(adamw_good)
    assert "adamw_good: all" in capsys.readouterr().out
    message = fails_with(checks.check_adamw_update, adam_l2, match="this is Adam \\+ L2, not AdamW")
    assert "decays first" in message
    fails_with(checks.check_adamw_update, adamw_no_bias_correction, match="the bias correction is missing")
    fails_with(checks.check_adamw_update, adamw_decay_without_lr, match="not multiplied by the learning rate")


def test_adamw_state_threading_is_checked():
    calls = {"n": 0}

    def forgets_m_after_the_first_call(theta, grad, m, v, t, lr, **kwargs):
        calls["n"] += 1
        theta, m_new, v_new = optim.adamw_update(theta, grad, m, v, t, lr, **kwargs)
        return theta, (m_new if calls["n"] <= 6 else np.zeros_like(m_new)), v_new

    fails_with(
        checks.check_adamw_update, forgets_m_after_the_first_call, match="single steps are right but step"
    )
