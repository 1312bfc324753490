"""Tests for regcode.optim: SGD, Adam and AdamW against their update formulas, and decay groups."""

import numpy as np
import pytest

from regcode.layers import BatchNorm1d, LayerNorm, Linear, Parameter, mlp
from regcode.optim import SGD, Adam, AdamW, MaxNormSGD, decay_groups, max_norm_


def param_with(data):
    return Parameter(np.array(data, dtype=float))


def run(optimizer, param, grads):
    """Apply one optimizer step per gradient; return the trajectory of param.data."""
    path = []
    for g in grads:
        optimizer.zero_grad()
        param.grad = np.array(g, dtype=float)
        optimizer.step()
        path.append(param.data.copy())
    return path


GRADS = [[0.5, -1.0, 2.0], [0.1, 0.3, -0.7], [-0.4, 0.2, 0.9]]
THETA0 = [1.0, -2.0, 0.5]


# ---------------------------------------------------------------- SGD


def test_sgd_momentum_and_weight_decay_by_hand():
    lr, mu, wd = 0.1, 0.9, 0.01
    p = param_with(THETA0)
    path = run(SGD([p], lr=lr, momentum=mu, weight_decay=wd), p, GRADS)
    theta, buf = np.array(THETA0), None
    for g, got in zip(GRADS, path, strict=True):
        g = np.array(g) + wd * theta  # coupled decay: added to the gradient
        buf = g if buf is None else mu * buf + g  # first step: buffer = gradient (no dampening)
        theta = theta - lr * buf
        np.testing.assert_allclose(got, theta, rtol=1e-14)


def test_sgd_without_momentum_decay_is_shrink_then_step():
    # For momentum 0, coupled decay is "weight decay": w <- (1 - lr*wd) w - lr * grad.
    lr, wd = 0.05, 0.2
    p = param_with(THETA0)
    path = run(SGD([p], lr=lr, weight_decay=wd), p, GRADS)
    theta = np.array(THETA0)
    for g, got in zip(GRADS, path, strict=True):
        theta = (1 - lr * wd) * theta - lr * np.array(g)
        np.testing.assert_allclose(got, theta, rtol=1e-14)


def test_sgd_plain_step():
    p = param_with(THETA0)
    run(SGD([p], lr=0.5), p, [GRADS[0]])
    np.testing.assert_allclose(p.data, np.array(THETA0) - 0.5 * np.array(GRADS[0]))


def test_parameters_without_gradient_are_left_alone():
    a, b = param_with([1.0]), param_with([2.0])
    opt = SGD([a, b], lr=0.1, momentum=0.9, weight_decay=0.5)
    a.grad = np.array([1.0])
    opt.step()
    np.testing.assert_array_equal(b.data, [2.0])  # no grad: no step, not even decay
    opt.zero_grad()
    assert a.grad is None and b.grad is None


def test_parameter_groups_override_defaults():
    a, b = param_with([1.0]), param_with([1.0])
    opt = SGD([{"params": [a]}, {"params": [b], "lr": 0.5}], lr=0.1)
    a.grad, b.grad = np.array([1.0]), np.array([1.0])
    opt.step()
    np.testing.assert_allclose([a.data[0], b.data[0]], [0.9, 0.5])


def test_sgd_keeps_float32():
    p = Parameter(np.ones(3, dtype=np.float32))
    p.grad = np.full(3, 0.5, dtype=np.float32)
    SGD([p], lr=0.1, momentum=0.9, weight_decay=0.1, dtype=np.float32).step()
    assert p.data.dtype == np.float32


# ---------------------------------------------------------------- Adam and AdamW


def adam_by_hand(theta, grads, lr, betas, eps, wd, decoupled):
    theta = np.array(theta, dtype=float)
    m, v = np.zeros_like(theta), np.zeros_like(theta)
    path = []
    for t, g in enumerate(grads, start=1):
        g = np.array(g, dtype=float)
        if decoupled:
            theta = theta - lr * wd * theta
        else:
            g = g + wd * theta
        m = betas[0] * m + (1 - betas[0]) * g
        v = betas[1] * v + (1 - betas[1]) * g**2
        m_hat, v_hat = m / (1 - betas[0] ** t), v / (1 - betas[1] ** t)
        theta = theta - lr * m_hat / (np.sqrt(v_hat) + eps)
        path.append(theta)
    return path


@pytest.mark.parametrize(("cls", "decoupled"), [(Adam, False), (AdamW, True)])
@pytest.mark.parametrize("wd", [0.0, 0.1])
def test_adam_and_adamw_by_hand(cls, decoupled, wd):
    kwargs = {"lr": 0.01, "betas": (0.8, 0.95), "eps": 1e-6, "weight_decay": wd}
    p = param_with(THETA0)
    path = run(cls([p], **kwargs), p, GRADS)
    expected = adam_by_hand(THETA0, GRADS, 0.01, (0.8, 0.95), 1e-6, wd, decoupled)
    np.testing.assert_allclose(path, expected, rtol=1e-12)


def test_adam_first_step_has_magnitude_lr():
    # Bias correction at t = 1: m_hat = (1 - b1) g / (1 - b1) = g and v_hat = g^2, so the step
    # is lr * g / (|g| + eps): lr * sign(g) up to a relative error eps / |g| (here <= 1e-6).
    # Without the correction the step would be lr * (1 - b1) / sqrt(1 - b2) ~ 3.2 lr.
    lr = 0.01
    g = np.array([1e-2, -3.0, 250.0, -1e-1])
    p = Parameter(np.zeros(4))
    run(Adam([p], lr=lr), p, [g])
    np.testing.assert_allclose(p.data, -lr * np.sign(g), rtol=1e-6)
    assert np.all(np.abs(p.data) < lr)  # eps makes it slightly smaller, never larger


def test_adamw_decay_is_decoupled_from_the_gradient_scale():
    # With a zero loss gradient, AdamW only shrinks: theta <- (1 - lr*wd) theta, whatever theta's scale.
    lr, wd = 0.01, 0.1
    theta0 = np.array([1e-3, 1.0, 100.0])
    p = Parameter(theta0.copy())
    run(AdamW([p], lr=lr, weight_decay=wd), p, [np.zeros(3)] * 5)
    np.testing.assert_allclose(p.data, theta0 * (1 - lr * wd) ** 5, rtol=1e-12)
    # Adam with the same L2 term divides the decay gradient wd*theta by its own size:
    # every weight moves by ~lr per step, so small weights collapse and large ones barely shrink.
    q = Parameter(theta0.copy())
    run(Adam([q], lr=lr, weight_decay=wd), q, [np.zeros(3)] * 5)
    assert q.data[2] == pytest.approx(100.0 - 5 * lr, rel=1e-6)
    assert abs(q.data[0]) < 5 * lr
    assert not np.allclose(q.data, p.data, rtol=1e-3)


def test_adamw_differs_from_adam_with_l2():
    p, q = param_with(THETA0), param_with(THETA0)
    run(AdamW([p], lr=0.01, weight_decay=0.5), p, GRADS)
    run(Adam([q], lr=0.01, weight_decay=0.5), q, GRADS)
    assert np.max(np.abs(p.data - q.data)) > 1e-3


def test_adamw_default_weight_decay_is_pytorchs():
    assert AdamW([param_with([1.0])]).param_groups[0]["weight_decay"] == 0.01
    assert Adam([param_with([1.0])]).param_groups[0]["weight_decay"] == 0.0


def test_state_is_per_parameter():
    a, b = param_with([1.0]), param_with([1.0])
    opt = Adam([a, b], lr=0.1)
    a.grad = np.array([1.0])
    opt.step()
    b.grad = np.array([1.0])
    opt.step()  # b's first step also has bias correction t = 1
    np.testing.assert_allclose(b.data, 1.0 - 0.1, rtol=1e-6)


# ---------------------------------------------------------------- decay groups


def test_decay_groups_exclude_biases_and_norm_parameters(rng):
    model = mlp((4, 8, 8, 3), rng, batchnorm=True)
    decayed, undecayed = decay_groups(model.parameters(), 1e-3)
    weights = [m.weight for m in model if isinstance(m, Linear)]
    norm_params = [p for m in model if isinstance(m, BatchNorm1d) for p in (m.gamma, m.beta)]
    assert [id(p) for p in decayed["params"]] == [id(p) for p in weights]
    assert {id(p) for p in undecayed["params"]} == {id(p) for p in norm_params + [model[-1].bias]}
    assert (decayed["weight_decay"], undecayed["weight_decay"]) == (1e-3, 0.0)
    layer_norm = LayerNorm(3)
    assert decay_groups(layer_norm.parameters(), 0.1)[0]["params"] == []


def test_decay_groups_in_an_optimizer_leave_biases_undecayed(rng):
    layer = Linear(3, 2, rng)
    layer.bias.data[...] = 1.0
    w0 = layer.weight.data.copy()
    opt = SGD(decay_groups(layer.parameters(), weight_decay=0.5), lr=0.1)
    layer.weight.grad, layer.bias.grad = np.zeros((3, 2)), np.zeros(2)
    opt.step()
    np.testing.assert_allclose(layer.weight.data, 0.95 * w0)
    np.testing.assert_array_equal(layer.bias.data, 1.0)


# ---------------------------------------------------------------- the functional updates the classes call


def test_functional_updates_chain_like_the_optimisers(rng):
    from regcode.optim import adam_update, adamw_update, sgd_update

    grads = [rng.standard_normal(4) for _ in range(5)]
    start = rng.standard_normal(4)
    cases = [
        (SGD, {"lr": 0.1, "momentum": 0.9, "weight_decay": 0.01}, "sgd"),
        (Adam, {"lr": 0.01, "weight_decay": 0.01}, "adam"),
        (AdamW, {"lr": 0.01, "weight_decay": 0.1}, "adamw"),
    ]
    for cls, options, kind in cases:
        p = Parameter(start)
        opt = cls([p], **options)
        theta, buf, m, v = start.copy(), None, np.zeros(4), np.zeros(4)
        for t, g in enumerate(grads, start=1):
            p.grad = g
            opt.step()
            if kind == "sgd":
                theta, buf = sgd_update(theta, g, buf, **options)
            else:
                update = adam_update if kind == "adam" else adamw_update
                theta, m, v = update(theta, g, m, v, t, **options)
        np.testing.assert_array_equal(p.data, theta)


def test_functional_updates_do_not_modify_their_inputs(rng):
    from regcode.optim import adamw_update

    theta, grad, m, v = (rng.standard_normal(3) for _ in range(4))
    v = np.abs(v)
    copies = [a.copy() for a in (theta, grad, m, v)]
    adamw_update(theta, grad, m, v, t=3, lr=0.1)
    for a, b in zip((theta, grad, m, v), copies, strict=True):
        np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("cls", [SGD, Adam, AdamW])
def test_float32_parameters_are_updated_in_float32(cls, rng):
    from regcode.optim import adam_update, adamw_update

    p = Parameter(rng.standard_normal(5).astype(np.float32))
    opt = cls([p], lr=0.01) if cls is not SGD else cls([p], lr=0.01, momentum=0.9)
    for _ in range(3):
        p.grad = rng.standard_normal(5).astype(np.float32)
        opt.step()
        assert p.data.dtype == np.float32
    theta = np.ones(3, dtype=np.float32)
    for update in (adam_update, adamw_update):
        out = update(theta, theta, np.zeros_like(theta), np.zeros_like(theta), t=7, lr=0.1)
        assert all(a.dtype == np.float32 for a in out), update.__name__


def test_adamw_decay_is_decoupled_from_the_adaptive_scaling():
    from regcode.optim import adam_update, adamw_update

    theta = np.array([1.0, 1.0])
    grad = np.array([0.0, 100.0])  # one weight with no gradient, one with a large one
    zeros = np.zeros(2)
    w_adamw, _, _ = adamw_update(theta, grad, zeros, zeros, t=1, lr=0.1, weight_decay=0.1)
    w_adam, _, _ = adam_update(theta, grad, zeros, zeros, t=1, lr=0.1, weight_decay=0.1)
    # AdamW shrinks both by lr * wd before the step; Adam + L2 lets the decay of the weight
    # without gradient take a whole normalised step (lr), 10x the decoupled decay.
    assert w_adamw[0] == pytest.approx(1.0 - 0.1 * 0.1)
    assert w_adam[0] == pytest.approx(1.0 - 0.1, rel=1e-6)


@pytest.mark.parametrize("cls", [SGD, Adam, AdamW])
def test_in_place_step_and_functional_update_give_the_same_bits(cls, rng):
    # The optimisers update in place into reused arrays; a gradient of another dtype takes the
    # functional path instead. Both must follow the same arithmetic.
    kwargs = {"lr": 0.01, "weight_decay": 0.05} | ({"momentum": 0.9} if cls is SGD else {})
    start = rng.standard_normal(6)
    fast, slow = Parameter(start), Parameter(start)
    opt_fast, opt_slow = cls([fast], **kwargs), cls([slow], **kwargs)
    for _ in range(4):
        g = rng.standard_normal(6)
        fast.grad = g
        slow.grad = [float(v) for v in g]  # a list: not an ndarray, so the functional path runs
        opt_fast.step()
        opt_slow.step()
    assert opt_fast._scratch and not opt_slow._scratch  # each took the path it was meant to
    np.testing.assert_array_equal(fast.data, slow.data)


# ---------------------------------------------------------------- max-norm


def test_max_norm_projects_each_units_incoming_weights(rng):

    w = Parameter(rng.standard_normal((20, 6)) * np.array([0.01, 0.1, 1.0, 2.0, 5.0, 10.0]))
    before = w.data.copy()
    max_norm_([w], c=1.5)
    norms_before, norms = np.linalg.norm(before, axis=0), np.linalg.norm(w.data, axis=0)
    assert np.all(norms <= 1.5 + 1e-12)
    inside = norms_before <= 1.5
    np.testing.assert_array_equal(w.data[:, inside], before[:, inside])  # units inside the ball untouched
    np.testing.assert_allclose(norms[~inside], 1.5)  # the others land on the sphere
    cosines = np.sum(w.data * before, axis=0) / (norms * norms_before)
    np.testing.assert_allclose(cosines, 1.0)  # directions unchanged


def test_max_norm_keeps_dtype_and_refuses_vectors():

    w = Parameter(np.full((3, 2), 2.0, dtype=np.float32))
    max_norm_([w], 1.0)
    assert w.data.dtype == np.float32
    with pytest.raises(ValueError, match=r"^params\[0\] must be a 2-D weight matrix"):
        max_norm_([Parameter(np.ones(3))], 1.0)


# ---------------------------------------------------------------- MaxNormSGD


def test_max_norm_sgd_is_the_sgd_step_then_the_projection():
    rng = np.random.default_rng(0)
    weight, bias = (
        Parameter(rng.standard_normal((5, 4))),
        Parameter(3 * np.ones(4), decay=False),
    )
    twin_w, twin_b = Parameter(weight.data.copy()), Parameter(bias.data.copy(), decay=False)
    opt = MaxNormSGD([weight, bias], lr=0.1, c=0.8, momentum=0.9, weight_decay=0.01)
    reference = SGD([twin_w, twin_b], lr=0.1, momentum=0.9, weight_decay=0.01)
    for _ in range(3):
        grads = rng.standard_normal((5, 4)), rng.standard_normal(4)
        weight.grad, bias.grad = grads[0].copy(), grads[1].copy()
        twin_w.grad, twin_b.grad = grads[0].copy(), grads[1].copy()
        opt.step()
        reference.step()
        max_norm_([twin_w], 0.8)
        np.testing.assert_array_equal(weight.data, twin_w.data)
        np.testing.assert_array_equal(bias.data, twin_b.data)  # 1-D: not constrained
        assert np.all(np.linalg.norm(weight.data, axis=0) <= 0.8 * (1 + 1e-12))
    assert np.linalg.norm(bias.data) > 0.8
    assert opt.constrained == [weight] and opt.c == 0.8


def test_max_norm_sgd_leaves_units_inside_the_ball_alone():
    w = Parameter(np.array([[0.3, 3.0], [0.4, 4.0]]))  # column norms 0.5 and 5
    opt = MaxNormSGD([{"params": [w], "weight_decay": 0.0}], lr=0.1, c=1.0)
    w.grad = np.zeros((2, 2))
    opt.step()
    np.testing.assert_allclose(w.data, [[0.3, 0.6], [0.4, 0.8]])


def test_max_norm_sgd_bad_inputs():
    with pytest.raises(ValueError, match="c must be in"):
        MaxNormSGD([Parameter(np.ones((2, 2)))], lr=0.1, c=0.0)
    with pytest.raises(TypeError, match="c must be a real number"):
        MaxNormSGD([Parameter(np.ones((2, 2)))], lr=0.1, c="1")
    with pytest.raises(ValueError, match="lr"):
        MaxNormSGD([Parameter(np.ones((2, 2)))], lr=0.0, c=1.0)


def test_max_norm_sgd_keeps_every_unit_in_the_ball_and_leaves_biases_alone(rng):
    model = mlp((5, 8, 3), rng)
    for param in model.parameters():
        param.data *= 3.0
    biases = [param.data.copy() for param in model.parameters() if not param.decay]
    opt = MaxNormSGD(model.parameters(), lr=0.1, c=1.0, momentum=0.9)
    for param in model.parameters():
        param.grad = np.zeros_like(param.data)
    opt.step()
    for param in opt.constrained:
        assert np.all(np.linalg.norm(param.data, axis=0) <= 1.0 + 1e-12)
    assert len(opt.constrained) == 2 and all(param.data.ndim == 2 for param in opt.constrained)
    for before, param in zip(biases, [param for param in model.parameters() if not param.decay], strict=True):
        np.testing.assert_array_equal(before, param.data)
