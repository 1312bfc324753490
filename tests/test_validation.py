"""Bad input raises TypeError or ValueError whose message NAMES the argument, for every public API.

One table covers every public function and class of regcode; a completeness test fails when a
public name is added without a bad-input case here. The shared checks in regcode._validation are
tested directly at the end.
"""

import importlib
import inspect
import pkgutil
import re
import types

import matplotlib.pyplot as plt
import numpy as np
import pytest

import regcode
import regcode.batchnorm as B
import regcode.book as book
import regcode.data as DA
import regcode.dropout as D
import regcode.gradcheck as G
import regcode.layers as LY
import regcode.linear as L
import regcode.losses as LS
import regcode.optim as O
import regcode.overfitting as OF
import regcode.penalties as P
import regcode.plotting as PL
import regcode.train as T
from regcode import _validation as v

# Every regcode module, found rather than listed, so that a new module is covered too.
MODULES = [
    importlib.import_module(f"regcode.{info.name}")
    for info in pkgutil.iter_modules(regcode.__path__)
    if not info.name.startswith("_")
]

# Public names that take no argument that could be bad, or are plain data containers.
EXEMPT = {
    PL.use_style,  # no arguments
    B.NormCache,  # a NamedTuple the forward passes return
    T.History,  # a dataclass fit returns
    DA.Split,  # a dataclass the loaders return
    L.CVResult,  # a dataclass cross_validate returns
    L.ConvergenceWarning,  # a warning category, raised by the lasso solvers
    OF.BiasVariance,  # a dataclass polynomial_bias_variance returns
    OF.DoubleDescent,  # a dataclass random_features_curve returns
}

_rng = np.random.default_rng(0)
W = _rng.standard_normal(4)
X = _rng.standard_normal((6, 3))
Y = _rng.standard_normal(6)
LABELS = np.array([0, 1, 2, 0, 1, 2])
NAN = np.array([1.0, np.nan])
INF = np.array([[1.0, np.inf], [0.0, 1.0]])
INTS = np.arange(6).reshape(2, 3)


def rng():
    return np.random.default_rng(0)


def ones(*shape):
    return np.ones(shape)


def cache(forward=B.batchnorm_forward):
    return forward(X, ones(3), np.zeros(3))[1]


def linear_layer():
    return LY.Linear(3, 2, rng())


def dropout_net():
    return LY.Sequential(LY.Linear(3, 2, rng()), LY.Dropout(0.5, rng()))


def net():
    return LY.Sequential(LY.Linear(3, 2, rng()))


def sgd():
    return O.SGD(net().parameters(), lr=0.1)


def fit(**overrides):
    args = {
        "model": net(),
        "loss_fn": LS.softmax_cross_entropy,
        "optimizer": sgd(),
        "X_train": X,
        "y_train": LABELS % 2,
        "epochs": 1,
        "batch_size": 3,
        "rng": rng(),
    }
    args.update(overrides)
    return T.fit(**args)


def param(shape=(3,)):
    return LY.Parameter(np.ones(shape))


def case(target, call, exc, name):
    return pytest.param(target, call, exc, name, id=f"{target.__qualname__}-{name}")


CASES = [
    # ------------------------------------------------------------ penalties
    case(P.l1_penalty, lambda: P.l1_penalty(W, -0.1), ValueError, "lam"),
    case(P.l1_penalty, lambda: P.l1_penalty(W, "0.1"), TypeError, "lam"),
    case(P.l1_penalty, lambda: P.l1_penalty(W, np.nan), ValueError, "lam"),
    case(P.l1_penalty, lambda: P.l1_penalty(INTS, 0.1), TypeError, "w"),
    case(P.l1_penalty, lambda: P.l1_penalty(NAN, 0.1), ValueError, "w"),
    case(P.l1_grad, lambda: P.l1_grad(W, -1.0), ValueError, "lam"),
    case(P.l1_grad, lambda: P.l1_grad(INTS, 1.0), TypeError, "w"),
    case(P.l2_penalty, lambda: P.l2_penalty(W, -1.0), ValueError, "lam"),
    case(P.l2_penalty, lambda: P.l2_penalty(INF, 1.0), ValueError, "w"),
    case(P.l2_grad, lambda: P.l2_grad(W, True), TypeError, "lam"),
    case(P.l2_grad, lambda: P.l2_grad([1, 2], 0.1), TypeError, "w"),
    case(P.soft_threshold, lambda: P.soft_threshold(W, -0.5), ValueError, "t"),
    case(P.soft_threshold, lambda: P.soft_threshold(INTS, 0.5), TypeError, "w"),
    case(P.elastic_net_penalty, lambda: P.elastic_net_penalty(W, 0.1, 1.5), ValueError, "l1_ratio"),
    case(P.elastic_net_penalty, lambda: P.elastic_net_penalty(W, -0.1, 0.5), ValueError, "lam"),
    case(P.elastic_net_grad, lambda: P.elastic_net_grad(W, 0.1, -0.1), ValueError, "l1_ratio"),
    case(P.elastic_net_grad, lambda: P.elastic_net_grad(NAN, 0.1, 0.5), ValueError, "w"),
    case(P.ParameterPenalty, lambda: P.ParameterPenalty([param()], -1.0), ValueError, "lam"),
    case(P.ParameterPenalty, lambda: P.ParameterPenalty([param()], 0.1, kind="l3"), ValueError, "kind"),
    case(P.ParameterPenalty, lambda: P.ParameterPenalty([np.ones(3)], 0.1), TypeError, "params"),
    # ------------------------------------------------------------ linear
    case(L.ridge, lambda: L.ridge(Y, Y, 0.1), ValueError, "X"),
    case(L.ridge, lambda: L.ridge(X.astype(int), Y, 0.1), TypeError, "X"),
    case(L.ridge, lambda: L.ridge(X, Y[:5], 0.1), ValueError, "y"),
    case(L.ridge, lambda: L.ridge(X, NAN, 0.1), ValueError, "y"),
    case(L.ridge, lambda: L.ridge(X, Y, -0.1), ValueError, "lam"),
    case(L.lasso_lam_max, lambda: L.lasso_lam_max(X, X), ValueError, "y"),
    case(L.lasso, lambda: L.lasso(X, Y, -0.1), ValueError, "lam"),
    case(L.lasso, lambda: L.lasso(X, Y, 0.1, tol=0.0), ValueError, "tol"),
    case(L.lasso, lambda: L.lasso(X, Y, 0.1, max_iter=0), ValueError, "max_iter"),
    case(L.lasso, lambda: L.lasso(X, Y, 0.1, max_iter=1.5), TypeError, "max_iter"),
    case(L.lasso, lambda: L.lasso(X, Y, 0.1, w0=np.zeros(4)), ValueError, "w0"),
    case(L.lasso_path, lambda: L.lasso_path(X, Y, [0.1, -0.1]), ValueError, "lams"),
    case(L.lasso_path, lambda: L.lasso_path(X, Y, []), ValueError, "lams"),
    case(L.lasso_path, lambda: L.lasso_path(X, Y, [[0.1]]), ValueError, "lams"),
    case(L.lasso_path, lambda: L.lasso_path(X, Y, [0.1], tol=-1.0), ValueError, "tol"),
    case(L.penalized_loss, lambda: L.penalized_loss(X, Y, W, 0.1), ValueError, "w"),
    case(L.penalized_loss, lambda: L.penalized_loss(X, Y, W[:3], 0.1, kind="l0"), ValueError, "kind"),
    case(L.lasso_gd, lambda: L.lasso_gd(X, Y, 0.1, lr=0.0, epochs=1), ValueError, "lr"),
    case(L.lasso_gd, lambda: L.lasso_gd(X, Y, 0.1, lr=0.1, epochs=1, method="ista"), ValueError, "method"),
    case(L.lasso_gd, lambda: L.lasso_gd(X, Y, 0.1, lr=0.1, epochs=1, batch_size=2), TypeError, "rng"),
    case(
        L.cross_validate, lambda: L.cross_validate(X, Y, [0.1], n_splits=1, rng=rng()), ValueError, "n_splits"
    ),
    case(
        L.cross_validate, lambda: L.cross_validate(X, Y, [0.1], method="ols", rng=rng()), ValueError, "method"
    ),
    case(L.cross_validate, lambda: L.cross_validate(X, Y, [0.1], rng=None), TypeError, "rng"),
    # ------------------------------------------------------------ dropout
    case(D.dropout_mask, lambda: D.dropout_mask((3,), 1.0, rng()), ValueError, "p"),
    case(D.dropout_mask, lambda: D.dropout_mask((3,), 0.5, np.random.RandomState(0)), TypeError, "rng"),
    case(D.dropout_mask, lambda: D.dropout_mask((3,), 0.5, rng(), dtype=np.int64), TypeError, "dtype"),
    case(D.dropout_forward, lambda: D.dropout_forward(X, 1.0, rng()), ValueError, "p"),
    case(D.dropout_forward, lambda: D.dropout_forward(X, 1.5, rng()), ValueError, "p"),
    case(D.dropout_forward, lambda: D.dropout_forward(X, -0.1, rng()), ValueError, "p"),
    case(D.dropout_forward, lambda: D.dropout_forward(X, np.nan, rng()), ValueError, "p"),
    case(D.dropout_forward, lambda: D.dropout_forward(X, 0.5, 0), TypeError, "rng"),
    case(D.dropout_forward, lambda: D.dropout_forward(X, 0.5, None), TypeError, "rng"),
    case(D.dropout_forward, lambda: D.dropout_forward(INTS, 0.5, rng()), TypeError, "x"),
    case(D.dropout_forward, lambda: D.dropout_forward(INF, 0.5, rng()), ValueError, "x"),
    case(D.dropout_backward, lambda: D.dropout_backward(ones(2, 3), ones(3, 2)), ValueError, "dout"),
    case(D.dropout_backward, lambda: D.dropout_backward(INTS, None), TypeError, "dout"),
    case(D.vanilla_dropout_forward, lambda: D.vanilla_dropout_forward(X, 1.0, rng()), ValueError, "p"),
    case(D.vanilla_dropout_forward, lambda: D.vanilla_dropout_forward(X, 0.5, None), TypeError, "rng"),
    case(D.mc_dropout_samples, lambda: D.mc_dropout_samples(net(), X, 3, rng()), ValueError, "model"),
    case(
        D.mc_dropout_samples,
        lambda: D.mc_dropout_samples(dropout_net(), X, 0, rng()),
        ValueError,
        "n_samples",
    ),
    case(D.mc_dropout_samples, lambda: D.mc_dropout_samples(dropout_net(), X, 3, 0), TypeError, "rng"),
    case(D.mc_dropout_predict, lambda: D.mc_dropout_predict(dropout_net(), Y, 3, rng()), ValueError, "X"),
    case(
        D.mc_dropout_predict,
        lambda: D.mc_dropout_predict(dropout_net(), X, 3, rng(), softmax="yes"),
        TypeError,
        "softmax",
    ),
    case(
        D.mask_ensemble_predict,
        lambda: D.mask_ensemble_predict(dropout_net(), X, 3, rng(), average="median"),
        ValueError,
        "average",
    ),
    # ------------------------------------------------------------ batchnorm
    case(B.batchnorm_forward, lambda: B.batchnorm_forward(Y, ones(6), np.zeros(6)), ValueError, "x"),
    case(B.batchnorm_forward, lambda: B.batchnorm_forward(X[:1], ones(3), np.zeros(3)), ValueError, "x"),
    case(B.batchnorm_forward, lambda: B.batchnorm_forward(INTS, ones(3), np.zeros(3)), TypeError, "x"),
    case(B.batchnorm_forward, lambda: B.batchnorm_forward(X, ones(4), np.zeros(3)), ValueError, "gamma"),
    case(B.batchnorm_forward, lambda: B.batchnorm_forward(X, ones(1, 3), np.zeros(3)), ValueError, "gamma"),
    case(B.batchnorm_forward, lambda: B.batchnorm_forward(X, ones(3), np.zeros(2)), ValueError, "beta"),
    case(
        B.batchnorm_forward, lambda: B.batchnorm_forward(X, ones(3), np.zeros(3), eps=0.0), ValueError, "eps"
    ),
    case(B.batchnorm_backward, lambda: B.batchnorm_backward(ones(5, 3), cache()), ValueError, "dout"),
    case(
        B.batchnorm_backward_staged, lambda: B.batchnorm_backward_staged(ones(6), cache()), ValueError, "dout"
    ),
    case(
        B.batchnorm_inference,
        lambda: B.batchnorm_inference(X, ones(3), np.zeros(3), np.zeros(3), -ones(3)),
        ValueError,
        "running_var",
    ),
    case(
        B.batchnorm_inference,
        lambda: B.batchnorm_inference(X, ones(3), np.zeros(3), np.zeros(2), ones(3)),
        ValueError,
        "running_mean",
    ),
    case(
        B.batchnorm_inference,
        lambda: B.batchnorm_inference(Y, ones(3), np.zeros(3), ones(3), ones(3)),
        ValueError,
        "x",
    ),
    case(
        B.batchnorm_inference_backward,
        lambda: B.batchnorm_inference_backward(
            ones(6, 2), cache(lambda *a: B.batchnorm_inference(*a, ones(3), ones(3)))
        ),
        ValueError,
        "dout",
    ),
    case(
        B.update_running_stats,
        lambda: B.update_running_stats(ones(3), ones(3), ones(3), ones(3), 1),
        ValueError,
        "n",
    ),
    case(
        B.update_running_stats,
        lambda: B.update_running_stats(ones(3), ones(3), ones(3), ones(3), 4, momentum=1.5),
        ValueError,
        "momentum",
    ),
    case(
        B.update_running_stats,
        lambda: B.update_running_stats(ones(3), ones(3), ones(1), ones(3), 4),
        ValueError,
        "batch_mean",
    ),
    case(
        B.update_running_stats,
        lambda: B.update_running_stats(ones(3), np.ones(3, dtype=int), ones(3), ones(3), 4),
        TypeError,
        "running_var",
    ),
    case(B.layernorm_forward, lambda: B.layernorm_forward(X, ones(2), np.zeros(3)), ValueError, "gamma"),
    case(B.layernorm_forward, lambda: B.layernorm_forward(Y, ones(6), np.zeros(6)), ValueError, "x"),
    case(
        B.layernorm_backward,
        lambda: B.layernorm_backward(ones(3, 6), cache(B.layernorm_forward)),
        ValueError,
        "dout",
    ),
    case(
        B.batchnorm_forward_second_moment,
        lambda: B.batchnorm_forward_second_moment(X[:1], ones(3), np.zeros(3)),
        ValueError,
        "x",
    ),
    case(
        B.batchnorm_backward_second_moment,
        lambda: B.batchnorm_backward_second_moment(ones(2, 3), cache(B.batchnorm_forward_second_moment)),
        ValueError,
        "dout",
    ),
    case(B.keras_to_torch_momentum, lambda: B.keras_to_torch_momentum(1.5), ValueError, "momentum"),
    case(B.torch_to_keras_momentum, lambda: B.torch_to_keras_momentum(-0.1), ValueError, "momentum"),
    case(B.dropout_variance_ratio, lambda: B.dropout_variance_ratio(0.0, 1.0, 1.0), ValueError, "p"),
    case(B.dropout_variance_ratio, lambda: B.dropout_variance_ratio(0.0, 0.0, 0.5), ValueError, "var"),
    case(B.dropout_variance_ratio, lambda: B.dropout_variance_ratio("0", 1.0, 0.5), TypeError, "mean"),
    case(
        B.batchnorm_input_variances,
        lambda: B.batchnorm_input_variances(linear_layer(), X, training=True),
        TypeError,
        "model",
    ),
    case(
        B.batchnorm_input_variances,
        lambda: B.batchnorm_input_variances(net(), X, training="yes"),
        TypeError,
        "training",
    ),
    case(B.recalibrate_batchnorm, lambda: B.recalibrate_batchnorm(net(), X[:1]), ValueError, "X"),
    case(
        B.predict_with_batch_statistics,
        lambda: B.predict_with_batch_statistics(net(), X, batch_size=5),
        ValueError,
        "batch_size",
    ),
    # ------------------------------------------------------------ layers
    case(LY.Parameter, lambda: LY.Parameter(INTS), TypeError, "data"),
    case(LY.Parameter, lambda: LY.Parameter(NAN), ValueError, "data"),
    case(LY.Module, lambda: LY.Module().load_state_dict({"weight": ones(2)}), ValueError, "state"),
    case(
        LY.Module,
        lambda: linear_layer().load_state_dict({"weight": ones(3), "bias": ones(2)}),
        ValueError,
        "state",
    ),
    case(LY.Linear, lambda: LY.Linear(0, 2, rng()), ValueError, "in_features"),
    case(LY.Linear, lambda: LY.Linear(3, 2.5, rng()), TypeError, "out_features"),
    case(LY.Linear, lambda: LY.Linear(3, 2, None), TypeError, "rng"),
    case(LY.Linear, lambda: LY.Linear(3, 2, 42), TypeError, "rng"),
    case(LY.Linear, lambda: LY.Linear(3, 2, rng(), weight_std=-1.0), ValueError, "weight_std"),
    case(LY.Linear, lambda: LY.Linear(3, 2, rng(), dtype=np.int32), TypeError, "dtype"),
    case(LY.Linear, lambda: linear_layer()(ones(4, 2)), ValueError, "x"),
    case(LY.Linear, lambda: linear_layer()(ones(3)), ValueError, "x"),
    case(LY.Linear, lambda: linear_layer()(ones(4, 3).astype(np.float32)), TypeError, "x"),
    case(LY.Linear, lambda: linear_layer()(np.full((2, 3), np.nan)), ValueError, "x"),
    case(LY.ReLU, lambda: LY.ReLU()(INTS), TypeError, "x"),
    case(LY.Dropout, lambda: LY.Dropout(1.0, rng()), ValueError, "p"),
    case(LY.Dropout, lambda: LY.Dropout(0.5, np.random.RandomState(0)), TypeError, "rng"),
    case(LY.Dropout, lambda: LY.Dropout(0.5, rng())(INTS), TypeError, "x"),
    case(LY.BatchNorm1d, lambda: LY.BatchNorm1d(0), ValueError, "num_features"),
    case(LY.BatchNorm1d, lambda: LY.BatchNorm1d(3, momentum=-0.1), ValueError, "momentum"),
    case(LY.BatchNorm1d, lambda: LY.BatchNorm1d(3, eps=0.0), ValueError, "eps"),
    case(LY.BatchNorm1d, lambda: LY.BatchNorm1d(3)(ones(1, 3)), ValueError, "x"),
    case(LY.BatchNorm1d, lambda: LY.BatchNorm1d(3)(ones(4, 2)), ValueError, "x"),
    case(LY.LayerNorm, lambda: LY.LayerNorm("3"), TypeError, "num_features"),
    case(LY.LayerNorm, lambda: LY.LayerNorm(3)(ones(4, 2)), ValueError, "x"),
    case(LY.Sequential, lambda: LY.Sequential(linear_layer(), np.tanh), TypeError, "layers[1]"),
    case(LY.mlp, lambda: LY.mlp((5,), rng()), ValueError, "sizes"),
    case(LY.mlp, lambda: LY.mlp((5, 0, 2), rng()), ValueError, "sizes"),
    case(LY.mlp, lambda: LY.mlp((5, 4, 2), rng(), batchnorm=True, layernorm=True), ValueError, "batchnorm"),
    case(LY.mlp, lambda: LY.mlp((5, 4, 2), rng(), drop_prob=1.0), ValueError, "drop_prob"),
    case(LY.mlp, lambda: LY.mlp((5, 4, 2), None), TypeError, "rng"),
    case(LY.SecondMomentBatchNorm1d, lambda: LY.SecondMomentBatchNorm1d(3)(ones(1, 3)), ValueError, "x"),
    case(LY.SecondMomentBatchNorm1d, lambda: LY.SecondMomentBatchNorm1d(0), ValueError, "num_features"),
    # ------------------------------------------------------------ losses
    case(LS.log_softmax, lambda: LS.log_softmax(Y), ValueError, "logits"),
    case(LS.log_softmax, lambda: LS.log_softmax(INTS), TypeError, "logits"),
    case(LS.softmax_cross_entropy, lambda: LS.softmax_cross_entropy(X, LABELS.astype(float)), TypeError, "y"),
    case(LS.softmax_cross_entropy, lambda: LS.softmax_cross_entropy(X, LABELS + 1), ValueError, "y"),
    case(LS.softmax_cross_entropy, lambda: LS.softmax_cross_entropy(X, LABELS - 1), ValueError, "y"),
    case(LS.softmax_cross_entropy, lambda: LS.softmax_cross_entropy(X, LABELS[:4]), ValueError, "y"),
    case(LS.softmax_cross_entropy, lambda: LS.softmax_cross_entropy(Y, LABELS), ValueError, "logits"),
    case(LS.softmax_cross_entropy, lambda: LS.softmax_cross_entropy(INF, LABELS[:2]), ValueError, "logits"),
    case(
        LS.softmax_cross_entropy,
        lambda: LS.softmax_cross_entropy(X, LABELS, 1.5),
        ValueError,
        "label_smoothing",
    ),
    case(LS.mse, lambda: LS.mse(Y, Y[:5]), ValueError, "y"),
    case(LS.mse, lambda: LS.mse(INTS, INTS), TypeError, "pred"),
    case(LS.mse, lambda: LS.mse(ones(2, 2, 2), ones(2, 2, 2)), ValueError, "pred"),
    case(LS.mse, lambda: LS.mse(Y, Y.astype(int)), TypeError, "y"),
    # ------------------------------------------------------------ optim
    case(O.decay_groups, lambda: O.decay_groups([param()], -1.0), ValueError, "weight_decay"),
    case(O.Optimizer, lambda: O.Optimizer([], {"lr": 0.1, "weight_decay": 0.0}), ValueError, "params"),
    case(O.SGD, lambda: O.SGD([param()], lr=-0.1), ValueError, "lr"),
    case(O.SGD, lambda: O.SGD([param()], lr="fast"), TypeError, "lr"),
    case(O.SGD, lambda: O.SGD([param()], lr=0.1, momentum=-0.5), ValueError, "momentum"),
    case(O.SGD, lambda: O.SGD([param()], lr=0.1, weight_decay=-1.0), ValueError, "weight_decay"),
    case(O.SGD, lambda: O.SGD([np.ones(3)], lr=0.1), TypeError, "params"),
    case(O.SGD, lambda: O.SGD([{"params": [param()], "nesterov": True}], lr=0.1), ValueError, "params[0]"),
    case(
        O.SGD,
        lambda: O.SGD([param()], lr=0.1, dtype=np.float32),
        TypeError,
        "every parameter must have dtype",
    ),
    case(O.Adam, lambda: O.Adam([param()], betas=(0.9, 1.0)), ValueError, "betas[1]"),
    case(O.Adam, lambda: O.Adam([param()], betas=0.9), TypeError, "betas"),
    case(O.Adam, lambda: O.Adam([param()], eps=-1e-8), ValueError, "eps"),
    case(O.Adam, lambda: O.Adam([param()], lr=np.inf), ValueError, "lr"),
    case(O.AdamW, lambda: O.AdamW([param()], weight_decay=-0.01), ValueError, "weight_decay"),
    # ------------------------------------------------------------ train
    case(T.minibatches, lambda: T.minibatches(10, 0, rng()), ValueError, "batch_size"),
    case(T.minibatches, lambda: T.minibatches(-1, 2, rng()), ValueError, "n_samples"),
    case(T.minibatches, lambda: T.minibatches(10, 2, 0), TypeError, "rng"),
    case(T.evaluate, lambda: T.evaluate("net", LS.mse, X, Y), TypeError, "model"),
    case(T.evaluate, lambda: T.evaluate(net(), LS.softmax_cross_entropy, INTS, LABELS[:2]), TypeError, "X"),
    case(T.predict, lambda: T.predict(None, X), TypeError, "model"),
    case(T.predict, lambda: T.predict(net(), Y), ValueError, "X"),
    case(T.fit, lambda: fit(model="net"), TypeError, "model"),
    case(T.fit, lambda: fit(loss_fn="cross-entropy"), TypeError, "loss_fn"),
    case(T.fit, lambda: fit(optimizer=None), TypeError, "optimizer"),
    case(T.fit, lambda: fit(X_train=Y), ValueError, "X_train"),
    case(T.fit, lambda: fit(X_train=INTS), TypeError, "X_train"),
    case(T.fit, lambda: fit(y_train=LABELS[:5]), ValueError, "y_train"),
    case(T.fit, lambda: fit(epochs=0), ValueError, "epochs"),
    case(T.fit, lambda: fit(batch_size=0), ValueError, "batch_size"),
    case(T.fit, lambda: fit(rng=1), TypeError, "rng"),
    case(T.fit, lambda: fit(patience=3), ValueError, "patience"),
    case(T.fit, lambda: fit(X_val=X, y_val=LABELS % 2, patience=0), ValueError, "patience"),
    case(T.fit, lambda: fit(X_val=X), ValueError, "y_val"),
    case(T.fit, lambda: fit(min_delta=-1.0), ValueError, "min_delta"),
    case(T.fit, lambda: fit(penalty="l2"), TypeError, "penalty"),
    # ------------------------------------------------------------ data
    case(DA.true_function, lambda: DA.true_function(np.arange(3)), TypeError, "x"),
    case(DA.make_regression_1d, lambda: DA.make_regression_1d(0, rng()), ValueError, "n_samples"),
    case(DA.make_regression_1d, lambda: DA.make_regression_1d(10, None), TypeError, "rng"),
    case(
        DA.make_regression_1d,
        lambda: DA.make_regression_1d(10, rng(), noise_std=-1.0),
        ValueError,
        "noise_std",
    ),
    case(
        DA.make_regression_1d, lambda: DA.make_regression_1d(10, rng(), low=1.0, high=1.0), ValueError, "low"
    ),
    case(DA.make_regression_1d, lambda: DA.make_regression_1d(10, rng(), dtype=int), TypeError, "dtype"),
    case(DA.polynomial_features, lambda: DA.polynomial_features(X, 3), ValueError, "x"),
    case(DA.polynomial_features, lambda: DA.polynomial_features(np.arange(3), 3), TypeError, "x"),
    case(DA.polynomial_features, lambda: DA.polynomial_features(Y, -1), ValueError, "degree"),
    case(DA.split_standardize, lambda: DA.split_standardize(Y, Y, rng()), ValueError, "X"),
    case(DA.split_standardize, lambda: DA.split_standardize(X, Y[:5], rng()), ValueError, "y"),
    case(DA.split_standardize, lambda: DA.split_standardize(X, Y, 0), TypeError, "rng"),
    case(
        DA.split_standardize, lambda: DA.split_standardize(X, Y, rng(), val_size=1.0), ValueError, "val_size"
    ),
    case(
        DA.split_standardize,
        lambda: DA.split_standardize(X, Y, rng(), test_size=-0.1),
        ValueError,
        "test_size",
    ),
    case(
        DA.split_standardize,
        lambda: DA.split_standardize(X, Y, rng(), val_size=0.5, test_size=0.5),
        ValueError,
        "val_size",
    ),
    case(DA.split_standardize, lambda: DA.split_standardize(X, Y, rng(), n_train=100), ValueError, "n_train"),
    case(DA.split_standardize, lambda: DA.split_standardize(X, Y, rng(), dtype="int8"), TypeError, "dtype"),
    case(DA.load_digits, lambda: DA.load_digits(None), TypeError, "rng"),
    case(DA.load_digits, lambda: DA.load_digits(rng(), n_train=5000), ValueError, "n_train"),
    case(DA.load_digits, lambda: DA.load_digits(rng(), n_train=1), ValueError, "n_train"),
    case(DA.load_diabetes, lambda: DA.load_diabetes(val_size=0.2), ValueError, "rng"),
    case(DA.load_diabetes, lambda: DA.load_diabetes(dtype=np.int64), TypeError, "dtype"),
    case(P.lam_from_gaussian_prior, lambda: P.lam_from_gaussian_prior(0.0, 1.0, 10), ValueError, "noise_std"),
    case(
        P.lam_from_gaussian_prior, lambda: P.lam_from_gaussian_prior(1.0, -1.0, 10), ValueError, "prior_std"
    ),
    case(P.lam_from_laplace_prior, lambda: P.lam_from_laplace_prior(1.0, 1.0, 0), ValueError, "n_samples"),
    # ------------------------------------------------------------ overfitting (chapter 1)
    case(OF.fit_polynomial, lambda: OF.fit_polynomial(Y, Y[:5], 2), ValueError, "y"),
    case(OF.fit_polynomial, lambda: OF.fit_polynomial(Y, Y, -1), ValueError, "degree"),
    case(OF.predict_polynomial, lambda: OF.predict_polynomial(np.arange(3), Y), TypeError, "coef"),
    case(OF.predict_polynomial, lambda: OF.predict_polynomial(W, X), ValueError, "x"),
    case(OF.polynomial_errors, lambda: OF.polynomial_errors(Y, Y, Y, Y, [-1]), ValueError, "degrees"),
    case(OF.polynomial_errors, lambda: OF.polynomial_errors(Y, Y, Y, Y, [1.5]), TypeError, "degrees"),
    case(OF.polynomial_errors, lambda: OF.polynomial_errors(Y, Y, Y, Y[:2], [1]), ValueError, "y_eval"),
    case(
        OF.polynomial_learning_curve, lambda: OF.polynomial_learning_curve(2, [0], rng()), ValueError, "sizes"
    ),
    case(OF.polynomial_learning_curve, lambda: OF.polynomial_learning_curve(2, [5], None), TypeError, "rng"),
    case(OF.bias_variance, lambda: OF.bias_variance(ones(3, 2), ones(3)), ValueError, "f_true"),
    case(OF.bias_variance, lambda: OF.bias_variance(ones(3), ones(3)), ValueError, "predictions"),
    case(
        OF.polynomial_bias_variance,
        lambda: OF.polynomial_bias_variance([1], rng(), n_repeats=1),
        ValueError,
        "n_repeats",
    ),
    case(OF.early_stopping_epoch, lambda: OF.early_stopping_epoch([1.0, 0.5], 0), ValueError, "patience"),
    case(OF.early_stopping_epoch, lambda: OF.early_stopping_epoch([], 2), ValueError, "val_loss"),
    case(OF.RandomReLUFeatures, lambda: OF.RandomReLUFeatures(0, 5, rng()), ValueError, "in_features"),
    case(OF.RandomReLUFeatures, lambda: OF.RandomReLUFeatures(3, 5, None), TypeError, "rng"),
    case(
        OF.RandomReLUFeatures,
        lambda: OF.RandomReLUFeatures(3, 5, rng()).transform(ones(2, 4)),
        ValueError,
        "X",
    ),
    case(
        OF.random_features_curve,
        lambda: OF.random_features_curve(X, LABELS, X[:, :2], LABELS, [5], rng()),
        ValueError,
        "X_test",
    ),
    case(
        OF.random_features_curve,
        lambda: OF.random_features_curve(X, LABELS, X, LABELS, [0], rng()),
        ValueError,
        "n_features",
    ),
    # ------------------------------------------------------------ plotting
    case(
        PL.plot_learning_curves,
        lambda: PL.plot_learning_curves(T.History(), metric="mse"),
        ValueError,
        "metric",
    ),
    case(
        PL.plot_validation_curve,
        lambda: PL.plot_validation_curve([1, 2], [1, 2], [1, 2], xlabel="a", ylabel="b", mark="best"),
        ValueError,
        "mark",
    ),
    case(
        PL.plot_regularization_path,
        lambda: PL.plot_regularization_path([1.0, 0.1], ones(3, 2)),
        ValueError,
        "coefs",
    ),
    case(PL.plot_weight_histograms, lambda: PL.plot_weight_histograms({}), ValueError, "weights"),
    case(PL.plot_weight_histograms, lambda: PL.plot_weight_histograms([W, W]), TypeError, "weights"),
    # ------------------------------------------------------------ gradcheck
    case(G.numerical_gradient, lambda: G.numerical_gradient(np.sum, W.astype(np.float32)), TypeError, "x"),
    case(G.numerical_gradient, lambda: G.numerical_gradient(np.sum, W.copy(), h=0.0), ValueError, "h"),
    case(
        G.numerical_gradient_array,
        lambda: G.numerical_gradient_array(np.sin, INTS, ones(2, 3)),
        TypeError,
        "x",
    ),
    case(
        G.numerical_gradient_array,
        lambda: G.numerical_gradient_array(np.sin, X.copy(), X, h=-1.0),
        ValueError,
        "h",
    ),
    case(G.rel_error, lambda: G.rel_error(ones(3), ones(4)), ValueError, "a"),
    # ------------------------------------------------------------ book
    case(book.glue, lambda: book.glue(3, 0.5), TypeError, "name"),
    case(book.glue, lambda: book.glue("", 0.5), ValueError, "name"),
]


@pytest.mark.parametrize(("target", "call", "exc", "name"), CASES)
def test_bad_input_raises_an_error_that_names_the_argument(target, call, exc, name):
    with pytest.raises(exc, match="^" + re.escape(name) + r"(\W|$)"):
        call()
    plt.close("all")


def public_api():
    for module in MODULES:
        for attr, obj in vars(module).items():
            if attr.startswith("_") or isinstance(obj, types.ModuleType):
                continue
            if (inspect.isfunction(obj) or inspect.isclass(obj)) and obj.__module__ == module.__name__:
                yield obj


def test_every_public_function_and_class_has_a_bad_input_case():
    covered = {params.values[0] for params in CASES}
    missing = sorted(
        f"{obj.__module__}.{obj.__qualname__}" for obj in public_api() if obj not in covered | EXEMPT
    )
    assert not missing, f"add bad-input cases for {missing}"


def test_the_public_api_list_is_not_empty():
    names = {obj.__name__ for obj in public_api()}
    assert {"dropout_forward", "BatchNorm1d", "fit", "ridge", "glue"} <= names


# ---------------------------------------------------------------- regcode._validation


@pytest.mark.parametrize(
    "bad", [np.arange(3), np.array([True, False]), np.array([1 + 2j]), np.array(["a"]), np.array([None])]
)
def test_check_array_rejects_non_float_dtypes(bad):
    with pytest.raises(TypeError, match="^arr must be a float32 or float64 array"):
        v.check_array(bad, "arr")


def test_check_array_accepts_floats_and_lists():
    assert v.check_array([1.0, 2.0], "arr").dtype == np.float64
    x32 = np.ones(3, dtype=np.float32)
    assert v.check_array(x32, "arr") is x32  # no copy, no conversion


def test_check_array_shape_and_finiteness():
    with pytest.raises(ValueError, match=r"^arr must be 1-D or 2-D, got shape \(1, 1, 1\)"):
        v.check_array(np.ones((1, 1, 1)), "arr", ndim=(1, 2))
    with pytest.raises(ValueError, match="^arr must have at least 2 rows"):
        v.check_array(np.ones((1, 3)), "arr", min_rows=2)
    with pytest.raises(ValueError, match="^arr contains NaN or infinite values"):
        v.check_array(np.array([np.inf]), "arr")
    assert np.isnan(v.check_array(np.array([np.nan]), "arr", allow_nonfinite=True)[0])


def test_check_scalar():
    assert v.check_scalar(np.float32(0.5), "s") == 0.5
    assert type(v.check_scalar(np.int64(2), "s")) is float
    with pytest.raises(TypeError, match="^s must be a real number, got bool"):
        v.check_scalar(True, "s")
    with pytest.raises(ValueError, match=r"^s must be in \[0, 1\), got 1"):
        v.check_scalar(1.0, "s", low=0, high=1, high_inclusive=False)
    with pytest.raises(ValueError, match=r"^s must be in \(0, inf\], got 0"):
        v.check_scalar(0, "s", low=0, low_inclusive=False)
    assert v.check_scalar(0.0, "s", low=0, high=1) == 0.0  # inclusive bounds are allowed
    with pytest.raises(ValueError, match="^s must be finite"):
        v.check_scalar(np.inf, "s")


def test_check_int():
    assert v.check_int(np.int64(3), "k", low=1) == 3
    for bad in (3.0, True, "3"):
        with pytest.raises(TypeError, match="^k must be an integer"):
            v.check_int(bad, "k")
    with pytest.raises(ValueError, match="^k must be >= 1, got 0"):
        v.check_int(0, "k", low=1)


def test_check_rng():
    generator = np.random.default_rng(0)
    assert v.check_rng(generator) is generator
    for bad in (0, None, np.random.RandomState(0)):
        with pytest.raises(TypeError, match="^rng must be a numpy.random.Generator"):
            v.check_rng(bad)


def test_check_labels():
    np.testing.assert_array_equal(v.check_labels([0, 2], "y", 2, 3), [0, 2])
    with pytest.raises(ValueError, match=r"^y must be in \[0, 3\), got values in \[0, 3\]"):
        v.check_labels(np.array([0, 3]), "y", 2, 3)


def test_check_dtype():
    assert v.check_dtype("float32") == np.float32
    assert v.check_dtype(np.float64) == np.float64
    for bad in (np.int32, "float16", "nonsense-dtype"):
        with pytest.raises(TypeError, match="^dtype must be float32 or float64"):
            v.check_dtype(bad)
