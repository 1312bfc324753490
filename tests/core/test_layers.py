"""Tests for regcode.layers: shapes, modes, parameters, state, and every backward pass."""

import numpy as np
import pytest

from regcode.batchnorm import batchnorm_forward, batchnorm_inference
from regcode.gradcheck import numerical_gradient, numerical_gradient_array, rel_error
from regcode.layers import (
    BatchNorm1d,
    Dropout,
    LayerNorm,
    Linear,
    Module,
    Parameter,
    ReLU,
    Sequential,
    mlp,
)
from regcode.losses import softmax_cross_entropy


def reseed_dropout(model, seed=123):
    """Give every Dropout layer a freshly seeded generator, so the next forward pass reuses the masks."""
    layers = model.layers if isinstance(model, Sequential) else [model]
    for i, layer in enumerate(layers):
        if isinstance(layer, Dropout):
            layer.rng = np.random.default_rng(seed + i)


def layer_grad_errors(model, x, dout):
    """Relative errors of ``model.backward`` against centred differences, for x and every parameter.

    Dropout masks are fixed by reseeding before every forward pass.
    """

    def f(_):
        reseed_dropout(model)
        return model.forward(x)

    model.zero_grad()
    f(None)
    dx = model.backward(dout)
    errors = {"x": rel_error(dx, numerical_gradient_array(f, x, dout))}
    for i, param in enumerate(model.parameters()):
        errors[f"param{i}{param.data.shape}"] = rel_error(
            param.grad, numerical_gradient_array(f, param.data, dout)
        )
    return errors


def assert_small(errors, threshold=1e-7):
    assert max(errors.values()) < threshold, errors


# ---------------------------------------------------------------- Parameter and Linear


def test_linear_shapes_and_formula(rng):
    layer = Linear(5, 3, rng)
    assert layer.weight.data.shape == (5, 3)  # (in_features, out_features)
    assert layer.bias.data.shape == (3,)
    np.testing.assert_array_equal(layer.bias.data, 0.0)
    layer.bias.data[...] = rng.standard_normal(3)
    x = rng.standard_normal((7, 5))
    out = layer(x)
    assert out.shape == (7, 3)
    np.testing.assert_allclose(out, x @ layer.weight.data + layer.bias.data)


def test_linear_without_bias(rng):
    layer = Linear(4, 2, rng, bias=False)
    assert layer.bias is None
    assert layer.parameters() == [layer.weight]
    x = rng.standard_normal((3, 4))
    np.testing.assert_allclose(layer(x), x @ layer.weight.data)
    assert "weight" in layer.state_dict() and "bias" not in layer.state_dict()


def test_linear_he_initialisation():
    layer = Linear(400, 300, np.random.default_rng(0))
    # 120,000 Gaussian draws: the sample std is within 1 % of sqrt(2 / fan_in).
    assert layer.weight.data.std() == pytest.approx(np.sqrt(2 / 400), rel=0.01)
    assert Linear(10, 10, np.random.default_rng(0), weight_std=0.01).weight.data.std() < 0.02


def test_linear_same_seed_same_weights():
    a = Linear(6, 4, np.random.default_rng(5))
    b = Linear(6, 4, np.random.default_rng(5))
    np.testing.assert_array_equal(a.weight.data, b.weight.data)


def test_linear_backward_matches_finite_differences(rng):
    layer = Linear(4, 3, rng)
    layer.bias.data[...] = rng.standard_normal(3)
    assert_small(layer_grad_errors(layer, rng.standard_normal((5, 4)), rng.standard_normal((5, 3))))


def test_gradients_accumulate_until_zero_grad(rng):
    layer = Linear(3, 2, rng)
    x, dout = rng.standard_normal((4, 3)), rng.standard_normal((4, 2))
    layer(x)
    layer.backward(dout)
    once = layer.weight.grad.copy(), layer.bias.grad.copy()
    layer(x)
    layer.backward(dout)
    np.testing.assert_allclose(layer.weight.grad, 2 * once[0])
    np.testing.assert_allclose(layer.bias.grad, 2 * once[1])
    layer.zero_grad()
    assert layer.weight.grad is None and layer.bias.grad is None
    layer(x)
    layer.backward(dout)
    np.testing.assert_allclose(layer.weight.grad, once[0])


def test_parameter_accumulate():
    p = Parameter(np.zeros(2))
    assert p.grad is None and p.decay
    p.accumulate(np.array([1.0, 2.0]))
    p.accumulate(np.array([0.5, 0.5]))
    np.testing.assert_array_equal(p.grad, [1.5, 2.5])


def test_backward_before_forward_raises(rng):
    for layer in (Linear(2, 2, rng), BatchNorm1d(2), LayerNorm(2)):
        with pytest.raises(RuntimeError, match="before forward"):
            layer.backward(np.ones((3, 2)))


# ---------------------------------------------------------------- ReLU, Dropout, norms, Sequential


def test_relu_forward_and_backward_match_finite_differences(rng):
    x = rng.standard_normal((6, 5))
    x[np.abs(x) < 0.05] = 0.5  # keep away from the kink at 0
    relu = ReLU()
    np.testing.assert_array_equal(relu(x), np.maximum(x, 0))
    assert_small(layer_grad_errors(relu, x, rng.standard_normal(x.shape)))


def test_dropout_layer_backward_with_a_fixed_mask(rng):
    layer = Dropout(0.4, rng)
    assert_small(layer_grad_errors(layer, rng.standard_normal((6, 5)), rng.standard_normal((6, 5))))


def test_dropout_layer_draws_a_fresh_mask_each_pass_and_backward_uses_the_last(rng):
    layer = Dropout(0.5, rng)
    x = np.ones((20, 20))
    first, second = layer(x), layer(x)
    assert not np.array_equal(first, second)
    np.testing.assert_array_equal(layer.backward(np.ones_like(x)), second)


def test_batchnorm_layer_training_backward(rng):
    layer = BatchNorm1d(4)
    layer.gamma.data[...] = rng.uniform(0.5, 2, 4)
    layer.beta.data[...] = rng.standard_normal(4)
    assert_small(layer_grad_errors(layer, 2 * rng.standard_normal((6, 4)) + 1, rng.standard_normal((6, 4))))


def test_batchnorm_layer_eval_backward(rng):
    layer = BatchNorm1d(4)
    layer.gamma.data[...] = rng.uniform(0.5, 2, 4)
    layer.running_mean[...] = rng.standard_normal(4)
    layer.running_var[...] = rng.uniform(0.5, 2, 4)
    layer.eval()
    assert_small(layer_grad_errors(layer, rng.standard_normal((6, 4)), rng.standard_normal((6, 4))))


def test_layernorm_layer_backward(rng):
    layer = LayerNorm(5)
    layer.gamma.data[...] = rng.uniform(0.5, 2, 5)
    assert_small(layer_grad_errors(layer, rng.standard_normal((4, 5)), rng.standard_normal((4, 5))))
    out = LayerNorm(5)(np.array([[1.0, 2.0, 3.0, 4.0, 5.0]]))  # a batch of one is fine
    np.testing.assert_allclose(out, [[-2.0, -1.0, 0.0, 1.0, 2.0]] / np.sqrt(2.0 + 1e-5))


def test_sequential_backward(rng):
    model = Sequential(Linear(4, 6, rng), ReLU(), Linear(6, 3, rng))
    model[2].bias.data[...] = rng.standard_normal(3)
    assert_small(layer_grad_errors(model, rng.standard_normal((5, 4)), rng.standard_normal((5, 3))))


def test_sequential_runs_layers_in_order(rng):
    a, b = Linear(3, 4, rng), Linear(4, 2, rng)
    model = Sequential(a, ReLU(), b)
    x = rng.standard_normal((5, 3))
    np.testing.assert_allclose(model(x), b(np.maximum(a(x), 0)))
    assert len(model) == 3 and model[0] is a
    assert model.parameters() == [a.weight, a.bias, b.weight, b.bias]


# ---------------------------------------------------------------- BatchNorm1d running statistics and modes


def test_batchnorm1d_running_buffers_two_steps_by_hand():
    layer = BatchNorm1d(2)
    np.testing.assert_array_equal(layer.running_mean, [0.0, 0.0])
    np.testing.assert_array_equal(layer.running_var, [1.0, 1.0])
    # Step 1: mean (2, 4), biased var (1, 4), unbiased var (N=2) (2, 8).
    layer(np.array([[1.0, 2.0], [3.0, 6.0]]))
    np.testing.assert_allclose(layer.running_mean, [0.2, 0.4])
    np.testing.assert_allclose(layer.running_var, [0.9 * 1 + 0.1 * 2, 0.9 * 1 + 0.1 * 8])  # (1.1, 1.7)
    # Step 2: mean (2, 2), biased var 8/3, unbiased var (N=3) 4.
    layer(np.array([[0.0, 0.0], [2.0, 2.0], [4.0, 4.0]]))
    np.testing.assert_allclose(layer.running_mean, [0.9 * 0.2 + 0.2, 0.9 * 0.4 + 0.2])  # (0.38, 0.56)
    np.testing.assert_allclose(layer.running_var, [0.9 * 1.1 + 0.4, 0.9 * 1.7 + 0.4])  # (1.39, 1.93)
    assert layer.num_batches_tracked == 2
    # Evaluation normalises with these buffers and leaves them alone.
    layer.eval()
    x = np.array([[1.0, -1.0]])  # a batch of one is fine in evaluation
    expected = (x - [0.38, 0.56]) / np.sqrt(np.array([1.39, 1.93]) + 1e-5)
    np.testing.assert_allclose(layer(x), expected)
    np.testing.assert_allclose(layer.running_mean, [0.38, 0.56])
    assert layer.num_batches_tracked == 2


def test_batchnorm1d_train_mode_uses_batch_statistics(rng):
    layer = BatchNorm1d(3)
    x = rng.standard_normal((8, 3)) * 4 + 2
    np.testing.assert_allclose(layer(x), batchnorm_forward(x, np.ones(3), np.zeros(3))[0])
    layer.eval()
    expected = batchnorm_inference(x, np.ones(3), np.zeros(3), layer.running_mean, layer.running_var)[0]
    np.testing.assert_allclose(layer(x), expected)


def test_batchnorm1d_training_batch_of_one_raises():
    layer = BatchNorm1d(3)
    with pytest.raises(ValueError, match="^x must have at least 2 rows"):
        layer(np.ones((1, 3)))
    layer.eval()
    assert layer(np.ones((1, 3))).shape == (1, 3)


def test_train_and_eval_reach_nested_layers(rng):
    inner = Sequential(Linear(3, 3, rng), BatchNorm1d(3), Dropout(0.5, rng))
    model = Sequential(Linear(3, 3, rng), inner, ReLU())
    every = [model, *model.layers, *inner.layers]
    assert all(m.training for m in every)
    assert model.eval() is model
    assert not any(m.training for m in every)
    assert model.train() is model
    assert all(m.training for m in every)
    # Parameters and state reach nested layers too.
    assert len(model.parameters()) == 2 + 2 + 2
    assert "1.1.running_var" in model.state_dict()


def test_eval_mode_is_deterministic_and_train_mode_is_not(rng):
    model = mlp((4, 16, 3), rng, drop_prob=0.5, batchnorm=True)
    x = rng.standard_normal((10, 4))
    model.train()
    assert not np.array_equal(model(x), model(x))
    model.eval()
    np.testing.assert_array_equal(model(x), model(x))


# ---------------------------------------------------------------- state


def test_state_dict_round_trip(rng):
    source = mlp((4, 8, 3), np.random.default_rng(1), batchnorm=True)
    x = rng.standard_normal((10, 4))
    source(x)  # move the running buffers away from their initial values
    target = mlp((4, 8, 3), np.random.default_rng(2), batchnorm=True)
    state = source.state_dict()
    assert set(state) == {
        "0.weight",
        "1.gamma",
        "1.beta",
        "1.running_mean",
        "1.running_var",
        "3.weight",
        "3.bias",
    }
    target.load_state_dict(state)
    for key, value in target.state_dict().items():
        np.testing.assert_array_equal(value, state[key])
    source.eval()
    target.eval()
    np.testing.assert_array_equal(target(x), source(x))


def test_state_dict_holds_copies(rng):
    layer = Linear(2, 2, rng)
    state = layer.state_dict()
    saved = state["weight"].copy()
    layer.weight.data += 1.0
    np.testing.assert_array_equal(state["weight"], saved)
    layer.load_state_dict(state)
    np.testing.assert_array_equal(layer.weight.data, saved)
    state["weight"] += 5.0  # the model does not share memory with a loaded state
    np.testing.assert_array_equal(layer.weight.data, saved)


def test_load_state_dict_rejects_missing_keys(rng):
    with pytest.raises(ValueError, match="^state must have keys"):
        Linear(2, 2, rng).load_state_dict({"weight": np.zeros((2, 2))})


def test_load_state_dict_checks_every_shape_before_copying(rng):
    model = mlp((3, 4, 2), rng)
    before = model.state_dict()
    bad = model.state_dict()
    bad["0.weight"] = bad["0.weight"] + 1.0  # valid, listed first
    bad["2.bias"] = np.zeros(())  # would broadcast silently without the check
    with pytest.raises(ValueError, match=r"^state\['2.bias'\] must have shape \(2,\)"):
        model.load_state_dict(bad)
    for key, value in model.state_dict().items():
        np.testing.assert_array_equal(value, before[key])  # nothing was half-loaded


# ---------------------------------------------------------------- mlp


def test_mlp_structure(rng):
    plain = mlp((5, 7, 6, 2), rng)
    assert [type(m).__name__ for m in plain] == ["Linear", "ReLU", "Linear", "ReLU", "Linear"]
    full = mlp((5, 7, 6, 2), rng, drop_prob=0.2, batchnorm=True)
    assert [type(m).__name__ for m in full] == [
        "Linear",
        "BatchNorm1d",
        "ReLU",
        "Dropout",
        "Linear",
        "BatchNorm1d",
        "ReLU",
        "Dropout",
        "Linear",
    ]
    # A Linear followed by a norm has no bias (beta replaces it); the output layer keeps its bias.
    assert full[0].bias is None and full[4].bias is None and full[8].bias is not None
    assert [m.p for m in full if isinstance(m, Dropout)] == [0.2, 0.2]
    ln = mlp((5, 7, 2), rng, layernorm=True)
    assert isinstance(ln[1], LayerNorm)
    assert (full[0].in_features, full[0].out_features, full[8].out_features) == (5, 7, 2)


def test_mlp_float32_end_to_end(rng):
    model = mlp((4, 8, 3), rng, drop_prob=0.3, batchnorm=True, dtype=np.float32)
    x = rng.standard_normal((6, 4)).astype(np.float32)
    out = model(x)
    assert out.dtype == np.float32
    dx = model.backward(np.ones_like(out))
    assert dx.dtype == np.float32
    assert all(p.data.dtype == np.float32 and p.grad.dtype == np.float32 for p in model.parameters())


def test_whole_mlp_with_batchnorm_and_dropout_gradient_check(rng):
    model = mlp((5, 8, 7, 3), np.random.default_rng(4), drop_prob=0.3, batchnorm=True)
    for layer in model:  # non-trivial gamma and beta
        if isinstance(layer, BatchNorm1d):
            layer.gamma.data[...] = rng.uniform(0.5, 1.5, layer.num_features)
            layer.beta.data[...] = rng.uniform(-0.5, 0.5, layer.num_features)
    x = rng.standard_normal((8, 5))
    y = rng.integers(0, 3, size=8)

    def loss(_):
        reseed_dropout(model)
        return softmax_cross_entropy(model.forward(x), y)[0]

    model.zero_grad()
    reseed_dropout(model)
    _, dlogits = softmax_cross_entropy(model.forward(x), y)
    dx = model.backward(dlogits)
    errors = {"x": rel_error(dx, numerical_gradient(loss, x))}
    for i, param in enumerate(model.parameters()):
        errors[f"param{i}"] = rel_error(param.grad, numerical_gradient(loss, param.data))
    assert len(errors) == 1 + 8  # input, 3 weights, 2 x (gamma, beta), 1 output bias
    assert max(errors.values()) < 1e-6, errors


def test_module_base_has_no_parameters():
    module = Module()
    assert module.parameters() == [] and module.state_dict() == {} and module.named_children() == []
    assert module.modules() == [module]


# ---------------------------------------------------------------- nested models (torch-style walks)


def nested(rng):
    """Sequential(Sequential(Linear, BatchNorm1d, ReLU, Dropout), Linear): the shape that broke helpers."""
    inner = Sequential(Linear(4, 6, rng, bias=False), BatchNorm1d(6), ReLU(), Dropout(0.5, rng))
    return Sequential(inner, Linear(6, 3, rng))


def test_modules_and_named_parameters_walk_nested_models(rng):
    model = nested(rng)
    assert [type(m).__name__ for m in model.modules()] == [
        "Sequential", "Sequential", "Linear", "BatchNorm1d", "ReLU", "Dropout", "Linear",
    ]  # fmt: skip
    assert [name for name, _ in model.named_modules()] == ["", "0", "0.0", "0.1", "0.2", "0.3", "1"]
    names = [name for name, _ in model.named_parameters()]
    assert names == ["0.0.weight", "0.1.gamma", "0.1.beta", "1.weight", "1.bias"]
    assert [p for _, p in model.named_parameters()] == model.parameters()
    assert [name for name, _ in model.named_buffers()] == ["0.1.running_mean", "0.1.running_var"]
    assert sorted(model.state_dict()) == sorted(names + ["0.1.running_mean", "0.1.running_var"])


def test_state_dict_of_a_nested_model_round_trips(rng):
    source, target = nested(np.random.default_rng(1)), nested(np.random.default_rng(2))
    source.train()(rng.standard_normal((5, 4)))  # moves the running statistics
    target.load_state_dict(source.state_dict())
    for key, value in source.state_dict().items():
        np.testing.assert_array_equal(target.state_dict()[key], value)


def test_eval_reaches_every_nested_layer(rng):
    model = nested(rng).eval()
    assert not any(m.training for m in model.modules())
    x = rng.standard_normal((5, 4))
    np.testing.assert_array_equal(model(x), model(x))  # dropout off, running statistics


# ---------------------------------------------------------------- defects the review found (regressions)


def test_parameter_keeps_its_own_copy_of_the_data(rng):
    data = np.ones(3)
    p = Parameter(data)
    p.data -= 1.0  # what an optimiser does, in place
    np.testing.assert_array_equal(data, np.ones(3))  # the caller's array is untouched


def test_accumulate_never_writes_into_the_callers_gradient():
    p = Parameter(np.zeros(2))
    grad = np.array([1.0, 2.0])
    p.accumulate(grad)
    p.accumulate(np.array([0.5, 0.5]))
    np.testing.assert_array_equal(grad, [1.0, 2.0])
    np.testing.assert_array_equal(p.grad, [1.5, 2.5])


@pytest.mark.parametrize("make", [ReLU, lambda: Dropout(0.5, np.random.default_rng(0))])
def test_relu_and_dropout_backward_before_forward_raise(make):
    with pytest.raises(RuntimeError, match="backward called before forward"):
        make().backward(np.ones((2, 3)))


def test_dropout_backward_in_eval_mode_after_forward_is_the_identity(rng):
    layer = Dropout(0.5, rng).eval()
    x = rng.standard_normal((2, 3))
    np.testing.assert_array_equal(layer(x), x)
    np.testing.assert_array_equal(layer.backward(x), x)


def test_mlp_dropout_masks_do_not_move_the_initial_weights_or_each_other():
    weights = [
        [p.data.copy() for p in mlp((4, 8, 8, 2), np.random.default_rng(0), drop_prob=p).parameters()]
        for p in (0.0, 0.5)
    ]
    for a, b in zip(*weights, strict=True):
        np.testing.assert_array_equal(a, b)
    # The masks come from their own stream: drawing them does not consume the init stream.
    init = np.random.default_rng(0)
    model = mlp((4, 8, 2), init, drop_prob=0.5)
    state = init.bit_generator.state
    out = model(np.ones((3, 4)))
    assert init.bit_generator.state == state
    assert np.any(out != model(np.ones((3, 4))))  # yet every pass draws a fresh mask


def test_mlp_error_names_the_bad_size():
    with pytest.raises(ValueError, match=r"^sizes\[1\] must be >= 1, got 0"):
        mlp((5, 0, 2), np.random.default_rng(0))


def test_a_pickled_model_keeps_its_weights_and_buffers_but_not_the_last_forward_cache():
    import pickle

    rng = np.random.default_rng(0)
    model = mlp((4, 8, 8, 3), rng, drop_prob=0.5, batchnorm=True, dropout_rng=np.random.default_rng(1))
    x = rng.standard_normal((16, 4))
    model.forward(x)  # training mode: every layer keeps a cache
    copy = pickle.loads(pickle.dumps(model))
    for (name, a), (_, b) in zip(model.state_dict().items(), copy.state_dict().items(), strict=True):
        np.testing.assert_array_equal(a, b, err_msg=name)
    assert all(getattr(layer, "_cache", None) is None for layer in copy.layers)
    cached = [layer for layer in model.layers if hasattr(layer, "_cache")]
    assert all(layer._cache is not None for layer in cached)
    model.backward(np.ones((16, 3)))
    assert all(p.grad is not None for p in model.parameters())
    assert all(p.grad is None for p in pickle.loads(pickle.dumps(model)).parameters())  # as after zero_grad
    with pytest.raises(RuntimeError, match="before forward"):
        copy.backward(np.ones((16, 3)))
    np.testing.assert_array_equal(copy.eval()(x), model.eval()(x))
