"""The fast paths agree with the readable reference code they replace in training loops.

Bit for bit where the fast path performs the same floating-point operations in
the same order (batch/layer norm written into fewer arrays, optimisers updating
in place, layers skipping checks that a well-formed input passes anyway): the
arrays must be equal, with the same dtype and the same signs of zero. The
lasso path changed its algorithm (exact solves on a guessed support before
FISTA), so there the tests check optimality, exact zeros and agreement with
the FISTA-only result. Speed itself is measured by ``benchmarks/run.py``,
never asserted here.
"""

from __future__ import annotations

import numpy as np
import pytest

import regcode.batchnorm as bn
import regcode.layers as layers
import regcode.linear as linear
from regcode.losses import softmax_cross_entropy
from regcode.optim import SGD, Adam, AdamW, Optimizer, decay_groups
from regcode.penalties import soft_threshold
from regcode.train import fit

DTYPES = [np.float32, np.float64]
SHAPES = [(2, 1), (3, 5), (32, 256), (127, 33)]


def assert_bits_equal(fast, ref, what=""):
    """Same shape, dtype, values (NaN in the same places) and signs of zero."""
    fast, ref = np.asarray(fast), np.asarray(ref)
    assert fast.dtype == ref.dtype, f"{what}: dtype {fast.dtype} != {ref.dtype}"
    assert fast.shape == ref.shape, f"{what}: shape {fast.shape} != {ref.shape}"
    np.testing.assert_array_equal(fast, ref, err_msg=what)
    np.testing.assert_array_equal(np.signbit(fast), np.signbit(ref), err_msg=f"{what} (signs)")


def _affine(rng, n, d, dtype):
    x = (3.0 * rng.standard_normal((n, d)) + 1.0).astype(dtype)
    dout = rng.standard_normal((n, d)).astype(dtype)
    gamma = rng.standard_normal(d).astype(dtype)
    beta = rng.standard_normal(d).astype(dtype)
    return x, dout, gamma, beta


# ------------------------------------------------------------------ batch norm, layer norm


def test_mean_is_numpys_mean(rng):
    for dtype in DTYPES:
        x = rng.standard_normal((37, 29)).astype(dtype)
        for axis in (0, 1):
            for keepdims in (False, True):
                assert_bits_equal(
                    bn._mean(x, axis, keepdims), np.mean(x, axis=axis, keepdims=keepdims), f"axis={axis}"
                )


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize(
    "forward, forward_ref, backward, backward_ref",
    [
        (
            bn._batchnorm_forward,
            bn._batchnorm_forward_reference,
            bn._batchnorm_backward,
            bn._batchnorm_backward_reference,
        ),
        (
            bn._layernorm_forward,
            bn._layernorm_forward_reference,
            bn._layernorm_backward,
            bn._layernorm_backward_reference,
        ),
    ],
    ids=["batchnorm", "layernorm"],
)
def test_norm_fast_paths_match_the_reference_bit_for_bit(
    rng, dtype, shape, forward, forward_ref, backward, backward_ref
):
    x, dout, gamma, beta = _affine(rng, *shape, dtype)
    x_before, dout_before = x.copy(), dout.copy()
    out, cache = forward(x, gamma, beta, 1e-5)
    out_ref, cache_ref = forward_ref(x, gamma, beta, 1e-5)
    assert_bits_equal(out, out_ref, "out")
    for name in cache._fields:
        assert_bits_equal(getattr(cache, name), getattr(cache_ref, name), f"cache.{name}")
    for a, b, name in zip(
        backward(dout, cache), backward_ref(dout, cache_ref), ("dx", "dgamma", "dbeta"), strict=True
    ):
        assert_bits_equal(a, b, name)
    assert_bits_equal(x, x_before, "x is not modified")
    assert_bits_equal(dout, dout_before, "dout is not modified")


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shape", SHAPES)
def test_batchnorm_inference_fast_path_matches_the_reference(rng, dtype, shape):
    x, dout, gamma, beta = _affine(rng, *shape, dtype)
    running_mean = rng.standard_normal(shape[1]).astype(dtype)
    running_var = (rng.random(shape[1]) + 0.5).astype(dtype)
    out, cache = bn._batchnorm_inference(x, gamma, beta, running_mean, running_var, 1e-5)
    out_ref, cache_ref = bn._batchnorm_inference_reference(x, gamma, beta, running_mean, running_var, 1e-5)
    assert_bits_equal(out, out_ref, "out")
    assert_bits_equal(cache.xhat, cache_ref.xhat, "xhat")


def test_norm_fast_paths_fall_back_for_mixed_dtypes(rng):
    # float32 data with float64 affine parameters: the reference promotes; so must the fast path.
    x, dout, gamma, beta = _affine(rng, 8, 6, np.float32)
    gamma64, beta64 = gamma.astype(np.float64), beta.astype(np.float64)
    for forward, forward_ref in (
        (bn._batchnorm_forward, bn._batchnorm_forward_reference),
        (bn._layernorm_forward, bn._layernorm_forward_reference),
    ):
        out, _ = forward(x, gamma64, beta64, 1e-5)
        assert out.dtype == np.float64
        assert_bits_equal(out, forward_ref(x, gamma64, beta64, 1e-5)[0])
    dout64 = dout.astype(np.float64)
    for forward, backward, backward_ref in (
        (bn._batchnorm_forward, bn._batchnorm_backward, bn._batchnorm_backward_reference),
        (bn._layernorm_forward, bn._layernorm_backward, bn._layernorm_backward_reference),
    ):
        _, cache = forward(x, gamma, beta, 1e-5)
        for a, b in zip(backward(dout64, cache), backward_ref(dout64, cache), strict=True):
            assert_bits_equal(a, b)


# ------------------------------------------------------------------ optimisers


def _params(rng, dtype):
    shapes = [(5, 7), (7,), (7, 3), (3,)]
    return [layers.Parameter(rng.standard_normal(s).astype(dtype), decay=len(s) == 2) for s in shapes]


def _run(make_optimizer, dtype, *, reference, steps=25):
    """Parameters and optimiser state after ``steps`` updates with the same random gradients."""
    rng = np.random.default_rng(3)
    params = _params(rng, dtype)
    opt = make_optimizer(params)
    if reference:
        opt._fast_path_ok = lambda p: False  # every update through the readable reference code
    for _ in range(steps):
        for p in params:
            p.grad = (0.1 * rng.standard_normal(p.data.shape)).astype(dtype)
        opt.step()
    return params, opt


OPTIMIZERS = {
    "sgd": lambda ps: SGD(ps, lr=0.1),
    "sgd-momentum-decay": lambda ps: SGD(ps, lr=0.1, momentum=0.9, weight_decay=0.01),
    "adam": lambda ps: Adam(ps, lr=1e-2),
    "adam-coupled-decay": lambda ps: Adam(decay_groups(ps, 0.1), lr=1e-2),
    "adamw": lambda ps: AdamW(decay_groups(ps, 0.1), lr=1e-2),
    "adamw-all-decayed": lambda ps: AdamW(ps, lr=1e-2, weight_decay=0.05),
}


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("name", list(OPTIMIZERS))
def test_inplace_updates_match_the_reference_bit_for_bit(name, dtype):
    fast_params, fast_opt = _run(OPTIMIZERS[name], dtype, reference=False)
    ref_params, ref_opt = _run(OPTIMIZERS[name], dtype, reference=True)
    assert fast_opt._scratch and not ref_opt._scratch  # each run took the path it was meant to
    for i, (p, q) in enumerate(zip(fast_params, ref_params, strict=True)):
        assert_bits_equal(p.data, q.data, f"{name} param {i}")
        fast_state, ref_state = fast_opt.state.get(id(p)), ref_opt.state.get(id(q))
        if fast_state is None:  # plain SGD keeps no state
            assert ref_state is None
        elif isinstance(fast_state, dict):
            for key in ("m", "v"):
                assert_bits_equal(fast_state[key], ref_state[key], f"{name} param {i} state {key}")
            assert fast_state["step"] == ref_state["step"]
        else:
            assert_bits_equal(fast_state, ref_state, f"{name} param {i} momentum buffer")


def test_float32_adam_keeps_the_references_float64_denominator():
    # np.sqrt(1 - beta2**t) is a float64 scalar, so the reference computes the step in float64
    # and rounds the result once into the float32 weights; the fast path must do the same.
    params, opt = _run(OPTIMIZERS["adamw"], np.float32, reference=False, steps=2)
    assert all(arrays["denom"].dtype == np.float64 for arrays in opt._scratch.values())
    assert all(p.data.dtype == np.float32 for p in params)


def test_gradients_of_another_dtype_take_the_reference_path():
    rng = np.random.default_rng(1)
    for make in OPTIMIZERS.values():
        fast_params = _params(rng, np.float32)
        ref_params = [layers.Parameter(p.data.copy(), decay=p.decay) for p in fast_params]
        fast, ref = make(fast_params), make(ref_params)
        ref._fast_path_ok = lambda p: False
        for _ in range(3):
            for p, q in zip(fast_params, ref_params, strict=True):
                p.grad = q.grad = rng.standard_normal(p.data.shape)  # float64 gradients
            fast.step()
            ref.step()
        for p, q in zip(fast_params, ref_params, strict=True):
            assert_bits_equal(p.data, q.data)


def test_scratch_arrays_follow_a_parameter_that_changes_shape():
    p = layers.Parameter(np.ones(3))
    opt = SGD([p], lr=0.1, weight_decay=0.1)
    p.grad = np.ones(3)
    opt.step()
    p.data, p.grad = np.ones((2, 2)), np.ones((2, 2))
    opt.step()
    np.testing.assert_allclose(p.data, 1 - 0.1 * (1 + 0.1))


# ------------------------------------------------------------------ layers


def test_check_input_fast_path_accepts_exactly_what_the_checks_accept():
    layer = layers.Linear(3, 2, np.random.default_rng(0), dtype=np.float32)
    x = np.ones((4, 3), np.float32)
    assert layer._check_input(x, 3) is x
    with pytest.raises(TypeError, match="dtype float32"):
        layer._check_input(np.ones((4, 3)), 3)
    with pytest.raises(TypeError, match="float32 or float64"):
        layer._check_input(np.ones((4, 3), int), 3)
    with pytest.raises(ValueError, match="3 columns"):
        layer._check_input(np.ones((4, 2), np.float32), 3)
    with pytest.raises(ValueError, match="2-D"):
        layer._check_input(np.ones(3, np.float32), 3)
    # Anything but an ndarray goes through the full checks (a list becomes float64, the wrong dtype here).
    with pytest.raises(TypeError, match="dtype float32"):
        layer._check_input([[1.0, 2.0, 3.0]], 3)


def test_float_array_fast_path():
    x = np.ones((2, 2), np.float32)
    assert layers._float_array(x) is x
    np.testing.assert_array_equal(layers._float_array([1.0, np.inf]), [1.0, np.inf])  # non-finite allowed
    for bad in (np.ones(2, int), np.ones(2, bool), np.ones(2, np.float16)):
        with pytest.raises(TypeError, match="x must be a float32 or float64 array"):
            layers.ReLU().forward(bad)
        with pytest.raises(TypeError, match="x must be a float32 or float64 array"):
            layers.Dropout(0.5, np.random.default_rng(0)).forward(bad)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("norm", ["batchnorm", "layernorm"])
def test_training_run_is_bit_identical_to_the_reference_code(monkeypatch, dtype, norm):
    def train():
        rng = np.random.default_rng(5)
        X = rng.standard_normal((60, 8)).astype(dtype)
        y = rng.integers(0, 3, 60)
        model = layers.mlp((8, 16, 16, 3), rng, drop_prob=0.3, **{norm: True}, dtype=dtype)
        opt = AdamW(decay_groups(model.parameters(), 0.01), lr=1e-2)
        history = fit(
            model,
            softmax_cross_entropy,
            opt,
            X[:40],
            y[:40],
            epochs=4,
            batch_size=8,
            rng=rng,
            X_val=X[40:],
            y_val=y[40:],
        )
        return model.state_dict(), history

    fast_state, fast_history = train()
    for name in (
        "_batchnorm_forward",
        "_batchnorm_backward",
        "_batchnorm_inference",
        "_layernorm_forward",
        "_layernorm_backward",
    ):
        monkeypatch.setattr(layers, name, getattr(bn, name + "_reference"))
    # BatchNorm1d holds its training-mode pair as class attributes.
    monkeypatch.setattr(layers.BatchNorm1d, "_train_forward", staticmethod(bn._batchnorm_forward_reference))
    monkeypatch.setattr(layers.BatchNorm1d, "_train_backward", staticmethod(bn._batchnorm_backward_reference))
    monkeypatch.setattr(Optimizer, "_fast_path_ok", staticmethod(lambda p: False))
    ref_state, ref_history = train()
    assert fast_history.val_loss == ref_history.val_loss
    for key in ref_state:
        assert_bits_equal(fast_state[key], ref_state[key], key)


# ------------------------------------------------------------------ lasso


def test_unchecked_soft_threshold_is_soft_threshold(rng):
    for dtype in DTYPES:
        w = rng.standard_normal(50).astype(dtype)
        w[:5] = 0.0
        for t in (0.0, 0.3, np.float64(0.7), 5.0):
            assert_bits_equal(linear._soft_threshold(w, t), soft_threshold(w, t), f"t={t}")


def _kkt_violation(X, y, lam, w):
    """max over j of the violation of the lasso optimality conditions, relative to lam."""
    q = X.T @ (y - X @ w) / X.shape[0]
    on = w != 0
    inside = np.abs(q[on] - lam * np.sign(w[on]))
    outside = np.maximum(np.abs(q[~on]) - lam, 0.0)
    return float(max(inside.max(initial=0.0), outside.max(initial=0.0)) / lam)


@pytest.fixture(scope="module")
def diabetes():
    from regcode.data import load_diabetes

    split = load_diabetes()
    return split.X_train, split.y_train


def test_lasso_path_is_optimal_with_exact_zeros(diabetes):
    X, y = diabetes
    lams = linear.lasso_lam_max(X, y) * np.geomspace(1.0, 1e-3, 100)
    coefs = linear.lasso_path(X, y, lams)
    for lam, w in zip(lams, coefs, strict=True):
        assert _kkt_violation(X, y, lam, w) < 1e-9
    assert np.all(coefs[0] == 0.0) and np.all(coefs[-1] != 0.0)
    assert not np.any(np.signbit(coefs[coefs == 0.0]))  # zeros are +0.0, not -0.0


def test_lasso_path_agrees_with_fista_alone(diabetes, monkeypatch):
    X, y = diabetes
    lams = linear.lasso_lam_max(X, y) * np.geomspace(1.0, 1e-3, 40)
    new = linear.lasso_path(X, y, lams, tol=1e-12)
    monkeypatch.setattr(linear, "_SUPPORT_GUESSES", 0)  # the previous algorithm: FISTA only
    old = linear.lasso_path(X, y, lams, tol=1e-12)
    np.testing.assert_array_equal(new == 0, old == 0)
    # FISTA stops when a step moves less than tol; its distance to the solution is larger.
    assert np.max(np.abs(new - old)) < 1e-8 * np.max(np.abs(old))


def test_support_guess_that_flips_a_sign_is_repaired(diabetes):
    # Between these two strengths coefficient 6 of the diabetes lasso crosses zero: solving on the
    # old support gives it the wrong sign, so it must leave the support (no fallback to FISTA).
    X, y = diabetes
    m = X.shape[0]
    gram, xty = X.T @ X / m, X.T @ y / m
    step = 1.0 / np.linalg.eigvalsh(gram)[-1]
    lams = linear.lasso_lam_max(X, y) * np.geomspace(1.0, 1e-3, 100)
    w_prev = linear.lasso(X, y, lams[87], tol=1e-12)
    w, n_iter = linear._lasso_gram(gram, xty, lams[88], w_prev, step, 1e-10, 100_000)
    assert np.sign(w_prev[6]) != np.sign(w[6]) or w[6] == 0.0
    assert n_iter <= linear._SUPPORT_GUESSES
    assert _kkt_violation(X, y, lams[88], w) < 1e-9


def test_one_iteration_from_zero_is_one_proximal_gradient_step(rng):
    X = rng.standard_normal((30, 6))
    y = X @ rng.standard_normal(6) + 0.1 * rng.standard_normal(30)
    lam = 0.2 * linear.lasso_lam_max(X, y)
    m = X.shape[0]
    gram, xty = X.T @ X / m, X.T @ y / m
    step = 1.0 / np.linalg.eigvalsh(gram)[-1]
    expected = soft_threshold(step * xty, step * lam)
    with pytest.warns(linear.ConvergenceWarning):
        assert_bits_equal(linear.lasso(X, y, lam, max_iter=1), expected)


def test_singular_support_falls_back_to_fista(rng):
    # Two identical columns: the support system is singular; FISTA still solves the problem.
    x = rng.standard_normal((40, 1))
    X = np.hstack([x, x, rng.standard_normal((40, 2))])
    y = 2 * x[:, 0] + 0.1 * rng.standard_normal(40)
    lam = 0.05 * linear.lasso_lam_max(X, y)
    w = linear.lasso(X, y, lam)
    assert _kkt_violation(X, y, lam, w) < 1e-6
