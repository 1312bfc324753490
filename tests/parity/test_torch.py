"""Parity of regcode with PyTorch, the reference implementation the book follows.

Every comparison runs in float64 on both sides with identical inputs, so the
only differences left are floating-point rounding (~1e-16 relative). The
tolerances below are far tighter than any real mistake in a formula would
allow: the "mistake" tests check that a known wrong variant (coupled instead
of decoupled decay, biased running variance, a resampled dropout mask) misses
the reference by many orders of magnitude more than the tolerance.

Skipped as a whole when PyTorch is not installed (``pip install torch==2.13.0``,
the CPU wheel; a bare ``pip install torch`` pulls a multi-GB CUDA build).
"""

from __future__ import annotations

import copy

import numpy as np
import pytest

from regcode import batchnorm as bn_fn
from regcode import dropout as do_fn
from regcode import layers, losses, optim

torch = pytest.importorskip(
    "torch",
    reason="PyTorch is not installed: the parity tests need it as a reference "
    "(install the CPU wheel with `pip install torch==2.13.0`)",
)
F = torch.nn.functional

pytestmark = pytest.mark.torch

# Float64 on both sides: rounding differences are ~1e-15 for O(1) values.
TIGHT = 1e-12


def tt(a, requires_grad=False):
    """A float64 torch tensor holding a copy of ``a``."""
    return torch.tensor(np.asarray(a), dtype=torch.float64, requires_grad=requires_grad)


def npy(t):
    return t.detach().cpu().numpy() if isinstance(t, torch.Tensor) else np.asarray(t)


def assert_close(actual, expected, what, atol=TIGHT):
    """Assert ``max|actual - expected| <= atol``; print the difference (``pytest -s`` shows it)."""
    actual, expected = npy(actual), npy(expected)
    assert actual.shape == expected.shape, f"{what}: shape {actual.shape} != {expected.shape}"
    diff = float(np.max(np.abs(actual - expected))) if actual.size else 0.0
    print(f"{what}: max|diff| = {diff:.1e}")
    assert diff <= atol, f"{what}: max abs difference {diff:.3e} > {atol:.1e}"
    return diff


@pytest.fixture(autouse=True)
def _seed_torch():
    torch.manual_seed(0)


# --------------------------------------------------------------------------- dropout


@pytest.mark.parametrize("p", [0.1, 0.5, 0.8])
def test_dropout_rate_and_scale_match_torch(p):
    rng = np.random.default_rng(1)
    x = rng.standard_normal((200, 500))  # 1e5 entries, none exactly 0
    ours, mask = do_fn.dropout_forward(x, p, rng)
    theirs = npy(F.dropout(tt(x), p=p, training=True))
    # Drop rate: binomial standard error sqrt(p(1-p)/n) <= 1.6e-3; allow ~6 sigma.
    for name, out in (("regcode", ours), ("torch", theirs)):
        assert abs(np.mean(out == 0) - p) < 0.01, f"{name} drop rate {np.mean(out == 0)} vs p={p}"
        kept = out != 0
        assert_close(out[kept], x[kept] / (1 - p), f"{name} survivors vs x/(1-p), p={p}")
    # The mask is 0 or 1/(1-p), and (inverted dropout) the mean is preserved.
    assert set(np.unique(mask)) == {0.0, 1 / (1 - p)}
    assert abs(ours.mean() - x.mean()) < 0.05


def test_dropout_eval_and_p0_are_identity_in_both():
    rng = np.random.default_rng(2)
    x = rng.standard_normal((8, 16))
    ours_layer = layers.Dropout(0.5, rng).eval()
    theirs_layer = torch.nn.Dropout(0.5).eval()
    np.testing.assert_array_equal(ours_layer(x), x)
    np.testing.assert_array_equal(npy(theirs_layer(tt(x))), x)
    np.testing.assert_array_equal(do_fn.dropout_forward(x, 0.5, None, train=False)[0], x)
    # p = 0 in training: identity as well, and no mask to cache.
    out, cache = do_fn.dropout_forward(x, 0.0, rng)
    np.testing.assert_array_equal(out, x)
    assert cache is None
    np.testing.assert_array_equal(npy(F.dropout(tt(x), p=0.0, training=True)), x)


def test_dropout_backward_matches_autograd_with_shared_mask():
    rng = np.random.default_rng(3)
    x, g = rng.standard_normal((2, 32, 10))
    out, mask = do_fn.dropout_forward(x, 0.3, rng)
    xt = tt(x, requires_grad=True)
    out_t = xt * tt(mask)  # torch with the same scaled mask
    out_t.backward(tt(g))
    assert_close(out, out_t, "dropout forward (shared mask)", atol=0)
    assert_close(do_fn.dropout_backward(g, mask), xt.grad, "dropout dx (shared mask)", atol=0)


def test_dropout_backward_matches_torch_native_dropout():
    # Recover torch's own mask from its output and feed it to regcode's backward.
    p = 0.4
    rng = np.random.default_rng(4)
    x, g = rng.standard_normal((2, 64, 12))
    xt = tt(x, requires_grad=True)
    out_t = F.dropout(xt, p=p, training=True)
    out_t.backward(tt(g))
    torch_mask = (npy(out_t) != 0) / (1 - p)
    assert_close(do_fn.dropout_backward(g, torch_mask), xt.grad, "dropout dx vs torch native", atol=1e-15)
    # A resampled mask (the classic bug) gives a different gradient.
    _, other = do_fn.dropout_forward(x, p, rng)
    assert np.max(np.abs(do_fn.dropout_backward(g, other) - npy(xt.grad))) > 0.1


def test_dropout_layer_backward_uses_the_forward_mask():
    p = 0.25
    rng = np.random.default_rng(5)
    x, g = rng.standard_normal((2, 16, 6))
    layer = layers.Dropout(p, np.random.default_rng(6))
    expected_mask = do_fn.dropout_mask(x.shape, p, copy.deepcopy(layer.rng))
    out = layer(x)
    xt = tt(x, requires_grad=True)
    (xt * tt(expected_mask)).backward(tt(g))
    assert_close(out, x * expected_mask, "Dropout layer forward", atol=0)
    assert_close(layer.backward(g), xt.grad, "Dropout layer dx", atol=0)


# --------------------------------------------------------------------------- batch norm


def _torch_bn(gamma, beta, momentum=0.1, eps=1e-5):
    bn = torch.nn.BatchNorm1d(gamma.size, eps=eps, momentum=momentum, dtype=torch.float64)
    with torch.no_grad():
        bn.weight.copy_(tt(gamma))
        bn.bias.copy_(tt(beta))
    return bn


def _batch(rng, n, d, loc=0.0, scale=1.0):
    return loc + scale * rng.standard_normal((n, d))


def test_batchnorm_functional_matches_torch():
    rng = np.random.default_rng(10)
    n, d = 16, 5
    x = _batch(rng, n, d, loc=rng.normal(0, 3, d), scale=rng.uniform(0.1, 4, d))
    gamma, beta = rng.uniform(0.5, 2, d), rng.normal(0, 1, d)
    g = rng.standard_normal((n, d))

    out, cache = bn_fn.batchnorm_forward(x, gamma, beta, eps=1e-5)
    xt, gt, bt = tt(x, True), tt(gamma, True), tt(beta, True)
    out_t = F.batch_norm(xt, None, None, gt, bt, training=True, eps=1e-5)
    out_t.backward(tt(g))
    assert_close(out, out_t, "batchnorm_forward")
    for name, backward in (
        ("batchnorm_backward", bn_fn.batchnorm_backward),
        ("batchnorm_backward_staged", bn_fn.batchnorm_backward_staged),
    ):
        dx, dgamma, dbeta = backward(g, cache)
        assert_close(dx, xt.grad, f"{name} dx")
        assert_close(dgamma, gt.grad, f"{name} dgamma")
        assert_close(dbeta, bt.grad, f"{name} dbeta")

    # Running statistics: F.batch_norm updates the buffers in place.
    rm, rv = rng.normal(0, 1, d), rng.uniform(0.5, 2, d)
    rm_t, rv_t = tt(rm), tt(rv)
    F.batch_norm(tt(x), rm_t, rv_t, tt(gamma), tt(beta), training=True, momentum=0.1, eps=1e-5)
    new_m, new_v = bn_fn.update_running_stats(rm, rv, cache.mean, cache.var, n, momentum=0.1)
    assert_close(new_m, rm_t, "update_running_stats mean")
    assert_close(new_v, rv_t, "update_running_stats var")
    # The mistake: storing the biased variance misses torch by (n/(n-1) - 1) * 0.1 * var.
    biased = 0.9 * rv + 0.1 * cache.var
    assert np.max(np.abs(biased - npy(rv_t))) > 1e-3

    # Evaluation mode: running statistics, and their (constant) backward.
    x_eval = _batch(rng, 7, d, loc=1.0)
    out_e, cache_e = bn_fn.batchnorm_inference(x_eval, gamma, beta, new_m, new_v, eps=1e-5)
    xt, gt, bt = tt(x_eval, True), tt(gamma, True), tt(beta, True)
    out_et = F.batch_norm(xt, tt(new_m), tt(new_v), gt, bt, training=False, eps=1e-5)
    g_eval = rng.standard_normal(x_eval.shape)
    out_et.backward(tt(g_eval))
    assert_close(out_e, out_et, "batchnorm_inference")
    dx, dgamma, dbeta = bn_fn.batchnorm_inference_backward(g_eval, cache_e)
    assert_close(dx, xt.grad, "batchnorm_inference_backward dx")
    assert_close(dgamma, gt.grad, "batchnorm_inference_backward dgamma")
    assert_close(dbeta, bt.grad, "batchnorm_inference_backward dbeta")


def test_batchnorm_layer_training_and_running_stats_match_torch():
    rng = np.random.default_rng(11)
    d = 6
    gamma, beta = rng.uniform(0.5, 2, d), rng.normal(0, 1, d)
    ours = layers.BatchNorm1d(d, eps=1e-5, momentum=0.1)
    ours.gamma.data[...] = gamma
    ours.beta.data[...] = beta
    theirs = _torch_bn(gamma, beta).train()

    # Different batch sizes (including the minimum, 2) and shifting statistics.
    for step, n in enumerate([32, 7, 2, 16, 5, 64]):
        x = _batch(rng, n, d, loc=rng.normal(step, 2, d), scale=rng.uniform(0.2, 3, d))
        g = rng.standard_normal((n, d))
        ours.zero_grad()
        theirs.zero_grad()
        out = ours(x)
        xt = tt(x, True)
        out_t = theirs(xt)
        out_t.backward(tt(g))
        dx = ours.backward(g)
        assert_close(out, out_t, f"BatchNorm1d forward, step {step} (N={n})")
        assert_close(dx, xt.grad, f"BatchNorm1d dx, step {step}", atol=1e-11)
        assert_close(ours.gamma.grad, theirs.weight.grad, f"BatchNorm1d dgamma, step {step}")
        assert_close(ours.beta.grad, theirs.bias.grad, f"BatchNorm1d dbeta, step {step}")
        assert_close(ours.running_mean, theirs.running_mean, f"running_mean after step {step}")
        assert_close(ours.running_var, theirs.running_var, f"running_var after step {step}")
    assert ours.num_batches_tracked == int(theirs.num_batches_tracked) == 6

    ours.eval()
    theirs.eval()
    x = _batch(rng, 9, d, loc=3.0, scale=2.0)
    g = rng.standard_normal(x.shape)
    ours.zero_grad()
    theirs.zero_grad()
    xt = tt(x, True)
    out_t = theirs(xt)
    out_t.backward(tt(g))
    assert_close(ours(x), out_t, "BatchNorm1d eval forward")
    assert_close(ours.backward(g), xt.grad, "BatchNorm1d eval dx")
    assert_close(ours.gamma.grad, theirs.weight.grad, "BatchNorm1d eval dgamma")
    assert_close(ours.beta.grad, theirs.bias.grad, "BatchNorm1d eval dbeta")
    # Eval mode leaves the buffers alone in both.
    assert_close(ours.running_var, theirs.running_var, "running_var after eval")
    # Eval output depends on each row alone: a batch of one is fine in eval.
    assert_close(ours(x[:1]), theirs(tt(x[:1])), "BatchNorm1d eval, batch of one")


def test_batchnorm_batch_of_one_raises_in_training_like_torch():
    x = np.ones((1, 3))
    with pytest.raises(ValueError, match="at least 2 rows"):
        layers.BatchNorm1d(3)(x)
    with pytest.raises(ValueError):
        torch.nn.BatchNorm1d(3, dtype=torch.float64)(tt(x))


# --------------------------------------------------------------------------- layer norm


@pytest.mark.parametrize("n", [1, 13])
def test_layernorm_matches_torch(n):
    rng = np.random.default_rng(20 + n)
    d = 7
    x = _batch(rng, n, d, loc=rng.normal(0, 3, (n, 1)), scale=rng.uniform(0.1, 5, (n, 1)))
    gamma, beta = rng.uniform(0.5, 2, d), rng.normal(0, 1, d)
    g = rng.standard_normal((n, d))

    theirs = torch.nn.LayerNorm(d, eps=1e-5, dtype=torch.float64)
    with torch.no_grad():
        theirs.weight.copy_(tt(gamma))
        theirs.bias.copy_(tt(beta))
    xt = tt(x, True)
    out_t = theirs(xt)
    out_t.backward(tt(g))

    ours = layers.LayerNorm(d, eps=1e-5)
    ours.gamma.data[...] = gamma
    ours.beta.data[...] = beta
    assert_close(ours(x), out_t, f"LayerNorm forward (N={n})")
    assert_close(ours.backward(g), xt.grad, f"LayerNorm dx (N={n})")
    assert_close(ours.gamma.grad, theirs.weight.grad, f"LayerNorm dgamma (N={n})")
    assert_close(ours.beta.grad, theirs.bias.grad, f"LayerNorm dbeta (N={n})")

    out, cache = bn_fn.layernorm_forward(x, gamma, beta, eps=1e-5)
    dx, dgamma, dbeta = bn_fn.layernorm_backward(g, cache)
    assert_close(out, out_t, f"layernorm_forward (N={n})")
    assert_close(dx, xt.grad, f"layernorm_backward dx (N={n})")
    assert_close(dgamma, theirs.weight.grad, f"layernorm_backward dgamma (N={n})")
    assert_close(dbeta, theirs.bias.grad, f"layernorm_backward dbeta (N={n})")


# --------------------------------------------------------------------------- losses


@pytest.mark.parametrize("label_smoothing", [0.0, 0.1, 1.0])
@pytest.mark.parametrize("scale", [1.0, 300.0])  # 300: logits that overflow a naive exp
def test_softmax_cross_entropy_matches_torch(label_smoothing, scale):
    rng = np.random.default_rng(30)
    n, k = 12, 5
    logits = scale * rng.standard_normal((n, k))
    y = rng.integers(0, k, n)
    loss, dlogits = losses.softmax_cross_entropy(logits, y, label_smoothing=label_smoothing)
    zt = tt(logits, True)
    loss_t = F.cross_entropy(zt, torch.tensor(y), label_smoothing=label_smoothing)
    loss_t.backward()
    what = f"cross-entropy (ls={label_smoothing}, scale={scale})"
    assert_close(loss, loss_t, f"{what} loss", atol=TIGHT * scale)
    assert_close(dlogits, zt.grad, f"{what} grad")


@pytest.mark.parametrize("shape", [(9,), (9, 3)])
def test_half_mse_is_half_sum_over_m_of_torch_mse(shape):
    rng = np.random.default_rng(31)
    pred, y = rng.standard_normal((2, *shape))
    m = shape[0]
    loss, dpred = losses.half_mse(pred, y)
    pt = tt(pred, True)
    loss_t = 0.5 * torch.nn.MSELoss(reduction="sum")(pt, tt(y)) / m
    loss_t.backward()
    assert_close(loss, loss_t, f"mse loss {shape}")
    assert_close(dpred, pt.grad, f"mse grad {shape}")
    # torch's default MSELoss (mean over all m*k entries, no 1/2) is a different number.
    assert abs(loss - float(torch.nn.MSELoss()(pt.detach(), tt(y)))) > 1e-3


# --------------------------------------------------------------------------- optimisers

SHAPES = [(4, 3), (3,), (5,)]


def _quadratic_problem(seed=40, steps=10):
    """A fixed quadratic loss sum_p 0.5 |A_p vec(theta_p) - b_p|^2 plus per-step gradient noise."""
    rng = np.random.default_rng(seed)
    init = [rng.standard_normal(s) for s in SHAPES]
    mats = [rng.standard_normal((int(np.prod(s)) + 2, int(np.prod(s)))) / 2 for s in SHAPES]
    targets = [rng.standard_normal(a.shape[0]) for a in mats]
    noise = [[0.3 * rng.standard_normal(s) for s in SHAPES] for _ in range(steps)]

    def grads(params, step):
        return [
            (a.T @ (a @ p.ravel() - b)).reshape(p.shape) + e
            for p, a, b, e in zip(params, mats, targets, noise[step], strict=True)
        ]

    return init, grads


def _groups(params, wd):
    """Weight decay on the first two parameters, none on the last (a 'bias'), and a smaller lr there."""
    return [
        {"params": params[:2], "weight_decay": wd},
        {"params": params[2:], "weight_decay": 0.0, "lr": 0.03},
    ]


OPTIMIZERS = {
    "SGD": (optim.SGD, torch.optim.SGD, {"lr": 0.05, "momentum": 0.0, "weight_decay": 0.1}),
    "SGD-momentum": (optim.SGD, torch.optim.SGD, {"lr": 0.05, "momentum": 0.9, "weight_decay": 0.1}),
    "Adam": (optim.Adam, torch.optim.Adam, {"lr": 0.1, "weight_decay": 0.5}),
    "Adam-betas": (
        optim.Adam,
        torch.optim.Adam,
        {"lr": 0.1, "betas": (0.8, 0.95), "eps": 1e-6, "weight_decay": 0.5},
    ),
    "AdamW": (optim.AdamW, torch.optim.AdamW, {"lr": 0.1, "weight_decay": 0.5}),
}


def _run_both(name, steps=10, groups=True, skip=None):
    """Run regcode's and torch's optimiser on the same gradient sequence; return both parameter lists."""
    ours_cls, theirs_cls, kwargs = OPTIMIZERS[name]
    init, grads = _quadratic_problem(steps=steps)
    ours = [layers.Parameter(w.copy()) for w in init]
    theirs = [tt(w, True) for w in init]
    wd = kwargs["weight_decay"]
    rest = {k: v for k, v in kwargs.items() if k != "weight_decay"}
    if groups:
        opt = ours_cls(_groups(ours, wd), **rest)
        opt_t = theirs_cls(_groups(theirs, wd), **rest)
    else:
        opt = ours_cls(ours, **kwargs)
        opt_t = theirs_cls(theirs, **kwargs)
    history = []
    for step in range(steps):
        opt.zero_grad()
        opt_t.zero_grad()
        # The same numpy gradient function on each side's own current parameters.
        g_ours = grads([p.data for p in ours], step)
        g_theirs = grads([npy(p) for p in theirs], step)
        for i, (p, pt, g, gt) in enumerate(zip(ours, theirs, g_ours, g_theirs, strict=True)):
            if skip is not None and (step, i) in skip:
                continue  # no gradient this step: both optimisers must leave p (and its state) alone
            p.grad = g
            pt.grad = tt(gt)
        opt.step()
        opt_t.step()
        history.append(([p.data.copy() for p in ours], [npy(p).copy() for p in theirs]))
    return history


@pytest.mark.parametrize("name", list(OPTIMIZERS))
@pytest.mark.parametrize("groups", [True, False], ids=["groups", "single"])
def test_optimizer_trajectory_matches_torch(name, groups):
    history = _run_both(name, steps=10, groups=groups)
    for step, (ours, theirs) in enumerate(history):
        for i, (p, pt) in enumerate(zip(ours, theirs, strict=True)):
            assert_close(p, pt, f"{name} ({'groups' if groups else 'single'}) step {step} param {i}")
    # The parameters moved: the comparison is not of two unchanged copies.
    init, _ = _quadratic_problem()
    assert np.max(np.abs(history[-1][0][0] - init[0])) > 0.1


@pytest.mark.parametrize("name", ["SGD-momentum", "Adam", "AdamW"])
def test_optimizer_skips_parameters_without_grad_like_torch(name):
    # Param 1 has no gradient at steps 2-4: torch skips it (no decay, no step count, no
    # momentum update), so its Adam bias correction lags behind the others afterwards.
    skip = {(s, 1) for s in (2, 3, 4)}
    history = _run_both(name, steps=8, skip=skip)
    for step, (ours, theirs) in enumerate(history):
        for i, (p, pt) in enumerate(zip(ours, theirs, strict=True)):
            assert_close(p, pt, f"{name} with skipped grads, step {step} param {i}")


def test_adam_coupled_and_adamw_decoupled_differ_by_far_more_than_tolerance():
    # Sanity of the comparison itself: regcode's coupled Adam against torch's AdamW misses.
    init, grads = _quadratic_problem()
    ours = [layers.Parameter(w.copy()) for w in init]
    theirs = [tt(w, True) for w in init]
    opt = optim.Adam(ours, lr=0.1, weight_decay=0.5)
    opt_t = torch.optim.AdamW(theirs, lr=0.1, weight_decay=0.5)
    for step in range(10):
        for p, pt, g in zip(ours, theirs, grads([p.data for p in ours], step), strict=True):
            p.grad, pt.grad = g, tt(g)
        opt.step()
        opt_t.step()
    assert max(np.max(np.abs(p.data - npy(pt))) for p, pt in zip(ours, theirs, strict=True)) > 1e-3


# --------------------------------------------------------------------------- a whole network


class _MaskDropout(torch.nn.Module):
    """Torch dropout with an injected scaled mask (set before each training forward)."""

    def __init__(self):
        super().__init__()
        self.mask = None

    def forward(self, x):
        return x * self.mask if self.training else x


def _copy_to_torch(model):
    """A torch Sequential with the same architecture and weights as a regcode mlp."""
    mods = []
    for layer in model.layers:
        if isinstance(layer, layers.Linear):
            lin = torch.nn.Linear(
                layer.in_features, layer.out_features, bias=layer.bias is not None, dtype=torch.float64
            )
            with torch.no_grad():
                lin.weight.copy_(tt(layer.weight.data.T))  # torch stores (out, in)
                if layer.bias is not None:
                    lin.bias.copy_(tt(layer.bias.data))
            mods.append(lin)
        elif isinstance(layer, layers.BatchNorm1d):
            mods.append(_torch_bn(layer.gamma.data, layer.beta.data, layer.momentum, layer.eps))
        elif isinstance(layer, layers.ReLU):
            mods.append(torch.nn.ReLU())
        elif isinstance(layer, layers.Dropout):
            mods.append(_MaskDropout())
        else:  # pragma: no cover - mlp builds nothing else here
            raise TypeError(type(layer).__name__)
    return torch.nn.Sequential(*mods)


def _pairs(model, tmodel):
    """(name, regcode Parameter, torch tensor, transpose?) for every parameter, in order.

    regcode's Linear weight is (in, out), torch's is (out, in): those are transposed.
    """
    torch_names = {"weight": "weight", "bias": "bias", "gamma": "weight", "beta": "bias"}
    out = []
    for i, (layer, mod) in enumerate(zip(model.layers, tmodel, strict=True)):
        for name in layer._param_names:
            transpose = isinstance(layer, layers.Linear) and name == "weight"
            out.append((f"{i}.{name}", getattr(layer, name), getattr(mod, torch_names[name]), transpose))
    return out


def _as_ours(t, transpose):
    return npy(t).T if transpose else npy(t)


@pytest.mark.parametrize("drop_prob", [0.0, 0.3])
def test_mlp_training_steps_match_torch(drop_prob):
    rng = np.random.default_rng(50)
    model = layers.mlp((6, 8, 8, 3), rng, drop_prob=drop_prob, batchnorm=True)
    tmodel = _copy_to_torch(model)
    pairs = _pairs(model, tmodel)
    opt = optim.AdamW(optim.decay_groups(model.parameters(), 0.1), lr=0.01)
    decayed = [t for _, p, t, _ in pairs if p.decay]
    undecayed = [t for _, p, t, _ in pairs if not p.decay]
    assert len(decayed) == 3 and len(undecayed) == 5  # 3 weights; 2 x (gamma, beta) and the output bias
    opt_t = torch.optim.AdamW(
        [{"params": decayed, "weight_decay": 0.1}, {"params": undecayed, "weight_decay": 0.0}], lr=0.01
    )
    drops = [(i, layer) for i, layer in enumerate(model.layers) if isinstance(layer, layers.Dropout)]
    assert len(drops) == (2 if drop_prob else 0)

    data_rng = np.random.default_rng(51)
    for step, n in enumerate([16, 10, 16]):
        x = data_rng.standard_normal((n, 6))
        y = data_rng.integers(0, 3, n)
        # Inject on the torch side the mask regcode's Dropout layer is about to draw.
        # The layers share one rng (mlp passes it down), so draw in order from a single copy.
        rng_copies = {}
        for i, layer in drops:
            rng_copy = rng_copies.setdefault(id(layer.rng), copy.deepcopy(layer.rng))
            width = model.layers[i - 3].out_features  # Linear -> BN -> ReLU -> Dropout
            tmodel[i].mask = tt(do_fn.dropout_mask((n, width), layer.p, rng_copy))

        model.train()
        tmodel.train()
        opt.zero_grad()
        opt_t.zero_grad()
        logits = model(x)
        loss, dlogits = losses.softmax_cross_entropy(logits, y)
        dx = model.backward(dlogits)
        xt = tt(x, True)
        logits_t = tmodel(xt)
        loss_t = F.cross_entropy(logits_t, torch.tensor(y))
        loss_t.backward()
        assert_close(logits, logits_t, f"MLP(p={drop_prob}) logits, step {step}")
        assert_close(loss, loss_t, f"MLP(p={drop_prob}) loss, step {step}")
        assert_close(dx, xt.grad, f"MLP(p={drop_prob}) dx, step {step}")
        for name, p, t, transpose in pairs:
            assert_close(p.grad, _as_ours(t.grad, transpose), f"MLP(p={drop_prob}) grad {name}, step {step}")
        opt.step()
        opt_t.step()
        for name, p, t, transpose in pairs:
            assert_close(p.data, _as_ours(t, transpose), f"MLP(p={drop_prob}) {name} after AdamW step {step}")
        for i, layer in enumerate(model.layers):
            if isinstance(layer, layers.BatchNorm1d):
                assert_close(layer.running_mean, tmodel[i].running_mean, f"MLP running_mean {i}, {step}")
                assert_close(layer.running_var, tmodel[i].running_var, f"MLP running_var {i}, {step}")

    model.eval()
    tmodel.eval()
    x = data_rng.standard_normal((5, 6))
    assert_close(model(x), tmodel(tt(x)), f"MLP(p={drop_prob}) eval logits")


@pytest.mark.parametrize("cls", ["Adam", "AdamW"])
def test_float32_adam_steps_stay_float32_and_match_torch(cls):
    # The whole update runs in float32, as torch's does: no float64 denominator (a review finding).
    rng = np.random.default_rng(5)
    w0 = rng.standard_normal((6, 4)).astype(np.float32)
    ours = layers.Parameter(w0)
    theirs = torch.tensor(w0, requires_grad=True)
    opt = getattr(optim, cls)([ours], lr=0.05, weight_decay=0.1)
    opt_t = getattr(torch.optim, cls)([theirs], lr=0.05, weight_decay=0.1)
    for _ in range(20):
        g = rng.standard_normal(w0.shape).astype(np.float32)
        ours.grad = g
        theirs.grad = torch.tensor(g)
        opt.step()
        opt_t.step()
        assert ours.data.dtype == np.float32
    assert_close(ours.data, theirs.detach().numpy(), f"{cls} float32 after 20 steps", atol=1e-5)


def test_max_norm_matches_torch_renorm():
    # torch stores Linear weights as (out, in): a unit's incoming weights are a row, so renorm dim 0.
    rng = np.random.default_rng(6)
    w = rng.standard_normal((30, 8)) * np.linspace(0.05, 3.0, 8)
    ours = layers.Parameter(w)
    optim.max_norm_([ours], c=1.0)
    theirs = torch.renorm(tt(w).T, p=2, dim=0, maxnorm=1.0).T
    # torch divides by norm + 1e-7: a relative difference of about 1e-7.
    assert_close(ours.data, theirs, "max-norm vs torch.renorm", atol=1e-6)


def test_fold_batchnorm_matches_torch_fuse_linear_bn_eval():
    from torch.nn.utils.fusion import fuse_linear_bn_eval

    from regcode.batchnorm import fold_batchnorm

    rng = np.random.default_rng(7)
    linear = torch.nn.Linear(5, 4).double()
    bn = torch.nn.BatchNorm1d(4).double()
    with torch.no_grad():
        bn.weight.copy_(tt(rng.uniform(0.5, 2, 4)))
        bn.bias.copy_(tt(rng.standard_normal(4)))
        bn.running_mean.copy_(tt(rng.standard_normal(4)))
        bn.running_var.copy_(tt(rng.uniform(0.1, 3, 4)))
    fused = fuse_linear_bn_eval(linear.eval(), bn.eval())
    w, b = fold_batchnorm(
        npy(linear.weight).T, npy(linear.bias), npy(bn.weight), npy(bn.bias),
        npy(bn.running_mean), npy(bn.running_var), eps=bn.eps,
    )  # fmt: skip
    assert_close(w, npy(fused.weight).T, "folded weight vs torch")
    assert_close(b, npy(fused.bias), "folded bias vs torch")
