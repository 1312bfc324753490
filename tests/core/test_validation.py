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
import regcode.affine as A
import regcode.batchnorm as B
import regcode.book as book
import regcode.checks as CH
import regcode.data as DA
import regcode.dropout as D
import regcode.experiments.ch1_overfitting as OF
import regcode.experiments.ch2_penalties as C2
import regcode.experiments.ch3_dropout as C3
import regcode.experiments.ch4_normalization as C4
import regcode.experiments.ch5_faq as C5
import regcode.gradcheck as G
import regcode.layers as LY
import regcode.linear_model as L
import regcode.losses as LS
import regcode.metrics as M
import regcode.optim as O
import regcode.penalties as P
import regcode.plotting as PL
import regcode.seeds as S
import regcode.train as T
from regcode import _validation as v

# Every regcode module, subpackages included, found rather than listed, so that a new module is covered too.
MODULES = [
    importlib.import_module(info.name)
    for info in pkgutil.walk_packages(regcode.__path__, prefix="regcode.")
    if not info.name.rsplit(".", 1)[-1].startswith("_")
]

# Public names that take no argument that could be bad, or are plain data containers.
EXEMPT = {
    PL.use_style,  # no arguments
    book.strict_checks,  # no arguments
    B.NormCache,  # a NamedTuple the forward passes return
    T.History,  # a dataclass fit returns
    DA.Split,  # a dataclass the loaders return
    C2.CVResult,  # a dataclass cross_validate returns
    A.AffineCache,  # a NamedTuple affine_forward returns
    D.DropConnectCache,  # a NamedTuple dropconnect_forward returns
    S.Streams,  # a NamedTuple streams returns
    S.Summary,  # a NamedTuple summarize returns
    L.ConvergenceWarning,  # a warning category, raised by the lasso solvers
    OF.BiasVariance,  # a dataclass polynomial_bias_variance returns
    OF.DoubleDescent,  # a dataclass random_features_curve returns
    OF.ClassifierScores,  # a NamedTuple classifier_scores returns
    M.ReliabilityBins,  # a NamedTuple reliability_bins returns
}

_rng = np.random.default_rng(0)
W = _rng.standard_normal(4)
X = _rng.standard_normal((6, 3))
Y = _rng.standard_normal(6)
LABELS = np.array([0, 1, 2, 0, 1, 2])
NAN = np.array([1.0, np.nan])
INF = np.array([[1.0, np.inf], [0.0, 1.0]])
INTS = np.arange(6).reshape(2, 3)


PROBS_OK = np.array([[0.7, 0.3], [0.2, 0.8]])


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


def bn_net():
    return LY.Sequential(LY.Linear(3, 2, rng()), LY.BatchNorm1d(2))


def net():
    return LY.Sequential(LY.Linear(3, 2, rng()))


def sgd():
    return O.SGD(net().parameters(), lr=0.1)


def fit(**overrides):
    model = overrides.pop("model", net())
    args = {
        "model": model,
        "loss_fn": LS.softmax_cross_entropy,
        "optimizer": O.SGD(model.parameters(), lr=0.1) if isinstance(model, LY.Module) else sgd(),
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
    case(T.ParameterPenalty, lambda: T.ParameterPenalty([param()], -1.0), ValueError, "lam"),
    case(T.ParameterPenalty, lambda: T.ParameterPenalty([param()], 0.1, kind="l3"), ValueError, "kind"),
    case(T.ParameterPenalty, lambda: T.ParameterPenalty([np.ones(3)], 0.1), TypeError, "params"),
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
    case(C2.lasso_gd, lambda: C2.lasso_gd(X, Y, 0.1, lr=0.0, epochs=1), ValueError, "lr"),
    case(C2.lasso_gd, lambda: C2.lasso_gd(X, Y, 0.1, lr=0.1, epochs=1, method="ista"), ValueError, "method"),
    case(C2.lasso_gd, lambda: C2.lasso_gd(X, Y, 0.1, lr=0.1, epochs=1, batch_size=2), TypeError, "rng"),
    case(
        C2.cross_validate,
        lambda: C2.cross_validate(X, Y, [0.1], n_splits=1, rng=rng()),
        ValueError,
        "n_splits",
    ),
    case(
        C2.cross_validate,
        lambda: C2.cross_validate(X, Y, [0.1], method="ols", rng=rng()),
        ValueError,
        "method",
    ),
    case(C2.cross_validate, lambda: C2.cross_validate(X, Y, [0.1], rng=None), TypeError, "rng"),
    case(C2.scale_invariant_weights, lambda: C2.scale_invariant_weights(linear_layer()), TypeError, "model"),
    case(
        C2.train_digits_mlp,
        lambda: C2.train_digits_mlp((X, LABELS), S.streams(0), lr=0.1, epochs=1),
        TypeError,
        "digits",
    ),
    case(
        C2.train_digits_mlp,
        lambda: C2.train_digits_mlp(DA.load_digits(rng(), n_train=20), rng(), lr=0.1, epochs=1),
        TypeError,
        "rngs",
    ),
    case(
        C2.train_digits_mlp,
        lambda: C2.train_digits_mlp(
            DA.load_digits(rng(), n_train=20), S.streams(0), lr=0.1, epochs=1, decay="all"
        ),
        ValueError,
        "decay",
    ),
    case(
        C2.digits_scores,
        lambda: C2.digits_scores(net(), DA.load_digits(rng(), n_train=20), splits=("dev",)),
        ValueError,
        "splits",
    ),
    case(C2.noisy_input_loss, lambda: C2.noisy_input_loss(X, Y, W[:3], -0.1, rng()), ValueError, "noise_std"),
    case(
        C2.noisy_input_gd,
        lambda: C2.noisy_input_gd(X, Y, 0.1, lr=0.1, steps=0, rng=rng()),
        ValueError,
        "steps",
    ),
    case(
        C2.train_digits_mlp,
        lambda: C2.train_digits_mlp(
            DA.load_digits(rng(), n_train=20), S.streams(0), lr=0.1, epochs=1, max_norm=-1.0
        ),
        ValueError,
        "max_norm",
    ),
    case(
        C2.train_digits_mlp,
        lambda: C2.train_digits_mlp(
            DA.load_digits(rng(), n_train=20), S.streams(0), lr=0.1, epochs=1, augment_shift=9
        ),
        ValueError,
        "augment_shift",
    ),
    # ------------------------------------------------------------ affine
    case(A.affine_forward, lambda: A.affine_forward(X, ones(2, 2)), ValueError, "w"),
    case(A.affine_forward, lambda: A.affine_forward(INTS, ones(3, 2)), TypeError, "x"),
    case(A.affine_forward, lambda: A.affine_forward(X, ones(3, 2), ones(3)), ValueError, "b"),
    case(
        A.affine_backward,
        lambda: A.affine_backward(ones(5, 2), A.affine_forward(X, ones(3, 2))[1]),
        ValueError,
        "dout",
    ),
    case(A.relu_forward, lambda: A.relu_forward(INTS), TypeError, "x"),
    case(A.relu_backward, lambda: A.relu_backward(ones(2, 2), A.relu_forward(X)[1]), ValueError, "dout"),
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
    case(C3.mc_dropout_samples, lambda: C3.mc_dropout_samples(net(), X, 3, rng()), ValueError, "model"),
    case(C3.mc_dropout_samples, lambda: C3.mc_dropout_samples("net", X, 3, rng()), TypeError, "model"),
    case(
        C3.mc_dropout_samples,
        lambda: C3.mc_dropout_samples(dropout_net(), X, 0, rng()),
        ValueError,
        "n_samples",
    ),
    case(C3.mc_dropout_samples, lambda: C3.mc_dropout_samples(dropout_net(), X, 3, 0), TypeError, "rng"),
    case(C3.mc_dropout_predict, lambda: C3.mc_dropout_predict(dropout_net(), Y, 3, rng()), ValueError, "X"),
    case(
        C3.mc_dropout_predict,
        lambda: C3.mc_dropout_predict(dropout_net(), X, 3, rng(), softmax="yes"),
        TypeError,
        "softmax",
    ),
    case(C3.train_mlp, lambda: C3.train_mlp(X, 0), TypeError, "data"),
    case(
        C3.train_mlp,
        lambda: C3.train_mlp(DA.load_digits(rng(), n_train=20), 0, drop_prob=1.0),
        ValueError,
        "drop_prob",
    ),
    case(C3.gal_weight_decay, lambda: C3.gal_weight_decay(0.5, 0.0, 0.3, 40), ValueError, "length_scale"),
    case(C3.train_regressor, lambda: C3.train_regressor(Y, Y[:5], 0, drop_prob=0.1, lam=0), ValueError, "y"),
    case(
        C3.dropout_backward_resampled,
        lambda: C3.dropout_backward_resampled(ones(2, 3), 0.5, None),
        TypeError,
        "rng",
    ),
    case(C3.dropout_backward_unmasked, lambda: C3.dropout_backward_unmasked(INTS, 0.5), TypeError, "dout"),
    case(C3.GaussianDropout, lambda: C3.GaussianDropout(1.5, rng()), ValueError, "p"),
    case(C3.GaussianDropout, lambda: C3.GaussianDropout(0.5, None), TypeError, "rng"),
    case(
        C3.DropConnectLinear,
        lambda: C3.DropConnectLinear(3, 2, rng(), p=0.5, mask_rng=None),
        TypeError,
        "mask_rng",
    ),
    case(
        C3.DropConnectLinear, lambda: C3.DropConnectLinear.from_linear(net(), 0.5, rng()), TypeError, "layer"
    ),
    case(C3.member_streams, lambda: C3.member_streams(0, -1), ValueError, "member"),
    case(C3.bootstrap_indices, lambda: C3.bootstrap_indices(0, 0, 0), ValueError, "n_samples"),
    case(D.gaussian_dropout_forward, lambda: D.gaussian_dropout_forward(X, 1.0, rng()), ValueError, "p"),
    case(D.gaussian_dropout_forward, lambda: D.gaussian_dropout_forward(X, 0.5, None), TypeError, "rng"),
    case(D.gaussian_dropout_forward, lambda: D.gaussian_dropout_forward(INTS, 0.5, rng()), TypeError, "x"),
    case(
        D.gaussian_dropout_backward,
        lambda: D.gaussian_dropout_backward(ones(2, 3), ones(3, 2)),
        ValueError,
        "dout",
    ),
    case(
        D.dropconnect_forward, lambda: D.dropconnect_forward(X, ones(2, 2), None, 0.5, rng()), ValueError, "w"
    ),
    case(
        D.dropconnect_forward,
        lambda: D.dropconnect_forward(X, ones(3, 2), ones(3), 0.5, rng()),
        ValueError,
        "b",
    ),
    case(
        D.dropconnect_forward,
        lambda: D.dropconnect_forward(X, ones(3, 2), None, -0.1, rng()),
        ValueError,
        "p",
    ),
    case(D.dropconnect_forward, lambda: D.dropconnect_forward(X, ones(3, 2), None, 0.5, 7), TypeError, "rng"),
    case(
        D.dropconnect_backward,
        lambda: D.dropconnect_backward(ones(2, 2), D.dropconnect_forward(X, ones(3, 2), None, 0.5, rng())[1]),
        ValueError,
        "dout",
    ),
    # ------------------------------------------------------------ metrics
    case(M.reliability_bins, lambda: M.reliability_bins(ones(2, 2), np.array([0, 1])), ValueError, "probs"),
    case(M.reliability_bins, lambda: M.reliability_bins(PROBS_OK, np.array([0, 2])), ValueError, "y"),
    case(
        M.reliability_bins,
        lambda: M.reliability_bins(PROBS_OK, np.array([0, 1]), n_bins=0),
        ValueError,
        "n_bins",
    ),
    case(
        M.expected_calibration_error,
        lambda: M.expected_calibration_error(PROBS_OK, [0.0, 1.0]),
        TypeError,
        "y",
    ),
    case(
        M.expected_calibration_error,
        lambda: M.expected_calibration_error(INTS, LABELS[:2]),
        TypeError,
        "probs",
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
        C4.batchnorm_forward_second_moment,
        lambda: C4.batchnorm_forward_second_moment(X[:1], ones(3), np.zeros(3)),
        ValueError,
        "x",
    ),
    case(
        C4.batchnorm_backward_second_moment,
        lambda: C4.batchnorm_backward_second_moment(ones(2, 3), cache(C4.batchnorm_forward_second_moment)),
        ValueError,
        "dout",
    ),
    case(C4.keras_to_torch_momentum, lambda: C4.keras_to_torch_momentum(1.5), ValueError, "momentum"),
    case(C4.dropout_variance_ratio, lambda: C4.dropout_variance_ratio(0.0, 1.0, 1.0), ValueError, "p"),
    case(C4.dropout_variance_ratio, lambda: C4.dropout_variance_ratio(0.0, 0.0, 0.5), ValueError, "var"),
    case(C4.dropout_variance_ratio, lambda: C4.dropout_variance_ratio("0", 1.0, 0.5), TypeError, "mean"),
    case(
        C4.batchnorm_input_variances,
        lambda: C4.batchnorm_input_variances("net", X, training=True),
        TypeError,
        "model",
    ),
    case(
        C4.batchnorm_input_variances,
        lambda: C4.batchnorm_input_variances(net(), X, training="yes"),
        TypeError,
        "training",
    ),
    case(C4.recalibrate_batchnorm, lambda: C4.recalibrate_batchnorm(net(), X[:1]), ValueError, "X"),
    case(C4.recalibrate_batchnorm, lambda: C4.recalibrate_batchnorm([], X), TypeError, "model"),
    case(C4.batchnorm_layers, lambda: C4.batchnorm_layers("net"), TypeError, "model"),
    case(
        C4.predict_with_batch_statistics,
        lambda: C4.predict_with_batch_statistics(net(), X, batch_size=5),
        ValueError,
        "batch_size",
    ),
    case(
        C4.predict_with_batch_statistics,
        lambda: C4.predict_with_batch_statistics(bn_net(), X, batch_size=2.5),
        TypeError,
        "batch_size",
    ),
    case(C4.digits_split, lambda: C4.digits_split(-1), ValueError, "seed"),
    case(C4.digits_split, lambda: C4.digits_split(0, n_train=1), ValueError, "n_train"),
    case(C4.digits_split, lambda: C4.digits_split(0, shift="1"), TypeError, "shift"),
    case(C4.train_digits_mlp, lambda: C4.train_digits_mlp(0, 0.0), ValueError, "lr"),
    case(C4.train_digits_mlp, lambda: C4.train_digits_mlp(0, 0.1, norm="group"), ValueError, "norm"),
    case(C4.train_digits_mlp, lambda: C4.train_digits_mlp(0, 0.1, batch_size=1), ValueError, "batch_size"),
    case(
        C4.train_digits_mlp,
        lambda: C4.train_digits_mlp(0, 0.1, batchnorm_class=LY.Linear),
        TypeError,
        "batchnorm_class",
    ),
    case(
        C4.train_digits_mlp,
        lambda: C4.train_digits_mlp(0, 0.1, norm="none", batchnorm_class=LY.BatchNorm1d),
        ValueError,
        "batchnorm_class",
    ),
    case(C4.train_digits_mlp, lambda: C4.train_digits_mlp(0, 0.1, setup=1), TypeError, "setup"),
    case(C4.fold_batchnorm_layers, lambda: C4.fold_batchnorm_layers(linear_layer()), TypeError, "model"),
    case(C4.new_domain_split, lambda: C4.new_domain_split(0, "rotated"), ValueError, "kind"),
    case(
        C4.fine_tune,
        lambda: C4.fine_tune(
            bn_net(), X, LABELS, lr=0.1, epochs=1, batch_size=2, rng=rng(), freeze_batchnorm="yes"
        ),
        TypeError,
        "freeze_batchnorm",
    ),
    case(C4.train_digits_mlp, lambda: C4.train_digits_mlp(0, 0.1, callback="f"), TypeError, "callback"),
    case(
        B.fold_batchnorm,
        lambda: B.fold_batchnorm(W, None, ones(4), ones(4), ones(4), ones(4)),
        ValueError,
        "weight",
    ),
    case(
        B.fold_batchnorm,
        lambda: B.fold_batchnorm(ones(3, 2), ones(3), ones(2), ones(2), ones(2), ones(2)),
        ValueError,
        "bias",
    ),
    case(
        B.fold_batchnorm,
        lambda: B.fold_batchnorm(ones(3, 2), None, ones(2), ones(2), ones(2), -ones(2)),
        ValueError,
        "running_var",
    ),
    case(
        B.fold_batchnorm,
        lambda: B.fold_batchnorm(ones(3, 2), None, ones(2), ones(2), ones(2), ones(2), eps=-1.0),
        ValueError,
        "eps",
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
    case(LY.mlp, lambda: LY.mlp((5, 4, 2), rng(), drop_prob=0.5, dropout_rng=1), TypeError, "dropout_rng"),
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
    case(LS.softmax, lambda: LS.softmax(Y), ValueError, "logits"),
    case(LS.half_mse, lambda: LS.half_mse(Y, Y[:5]), ValueError, "y"),
    case(LS.half_mse, lambda: LS.half_mse(INTS, INTS), TypeError, "pred"),
    case(LS.half_mse, lambda: LS.half_mse(ones(2, 2, 2), ones(2, 2, 2)), ValueError, "pred"),
    case(LS.half_mse, lambda: LS.half_mse(Y, Y.astype(int)), TypeError, "y"),
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
    case(O.SGD, lambda: O.SGD([param()], lr=0.0), ValueError, "lr"),
    case(O.sgd_update, lambda: O.sgd_update(W, W[:3], None, lr=0.1), ValueError, "grad"),
    case(O.sgd_update, lambda: O.sgd_update(W, W, W[:2], lr=0.1, momentum=0.9), ValueError, "buf"),
    case(O.sgd_update, lambda: O.sgd_update(W, W, None, lr=0.0), ValueError, "lr"),
    case(O.adam_update, lambda: O.adam_update(W, W, W, W, t=0, lr=0.1), ValueError, "t"),
    case(O.adam_update, lambda: O.adam_update(W, W, W[:2], W, t=1, lr=0.1), ValueError, "m"),
    case(O.adamw_update, lambda: O.adamw_update(W, W, W, W, t=1, lr=0.1, beta2=1.0), ValueError, "beta2"),
    case(O.adamw_update, lambda: O.adamw_update(W, NAN, W, W, t=1, lr=0.1), ValueError, "grad"),
    case(
        O.adamw_update,
        lambda: O.adamw_update(W, W, W, W, t=1, lr=0.1, weight_decay=-1),
        ValueError,
        "weight_decay",
    ),
    case(O.max_norm_, lambda: O.max_norm_([param((3, 2))], c=0.0), ValueError, "c"),
    case(O.MaxNormSGD, lambda: O.MaxNormSGD([param((3, 2))], lr=0.1, c=0.0), ValueError, "c"),
    case(O.MaxNormSGD, lambda: O.MaxNormSGD([param((3, 2))], lr=0.1, c="1"), TypeError, "c"),
    case(O.max_norm_, lambda: O.max_norm_([np.ones((3, 2))], c=1.0), TypeError, "params[0]"),
    case(O.max_norm_, lambda: O.max_norm_([param((3,))], c=1.0), ValueError, "params[0]"),
    # ------------------------------------------------------------ train
    case(T.minibatches, lambda: T.minibatches(10, 0, rng()), ValueError, "batch_size"),
    case(T.minibatches, lambda: T.minibatches(-1, 2, rng()), ValueError, "n_samples"),
    case(T.minibatches, lambda: T.minibatches(10, 2, 0), TypeError, "rng"),
    case(T.evaluate, lambda: T.evaluate("net", LS.half_mse, X, Y), TypeError, "model"),
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
    case(T.fit, lambda: fit(every_epoch=1), TypeError, "every_epoch"),
    case(
        T.fit,
        lambda: fit(X_val=X, y_val=LABELS % 2, patience=2, every_epoch=False),
        ValueError,
        "every_epoch",
    ),
    case(T.fit, lambda: fit(penalty="l2"), TypeError, "penalty"),
    case(T.fit, lambda: fit(callback=1), TypeError, "callback"),
    case(T.fit, lambda: fit(y_train=(LABELS % 2).astype(bool)), TypeError, "y_train"),
    case(T.fit, lambda: fit(y_train=LABELS - 1), ValueError, "y_train"),
    case(T.fit, lambda: fit(X_val=X, y_val=LABELS[:4]), ValueError, "y_val"),
    case(T.fit, lambda: fit(restore_best="yes"), TypeError, "restore_best"),
    case(T.fit, lambda: fit(optimizer=O.SGD(net().parameters(), lr=0.1)), ValueError, "optimizer"),
    case(T.EarlyStopping, lambda: T.EarlyStopping(0), ValueError, "patience"),
    case(T.EarlyStopping, lambda: T.EarlyStopping(2, min_delta=-1), ValueError, "min_delta"),
    case(T.early_stopping_epoch, lambda: T.early_stopping_epoch([1.0, 0.5], 0), ValueError, "patience"),
    case(T.early_stopping_epoch, lambda: T.early_stopping_epoch([], 2), ValueError, "val_loss"),
    case(T.early_stopping_epoch, lambda: T.early_stopping_epoch(["a"], 2), TypeError, "val_loss"),
    # ------------------------------------------------------------ seeds
    case(S.streams, lambda: S.streams(-1), ValueError, "seed"),
    case(S.streams, lambda: S.streams(1.5), TypeError, "seed"),
    case(S.run_seeds, lambda: S.run_seeds(3, [0]), TypeError, "fn"),
    case(S.run_seeds, lambda: S.run_seeds(abs, []), ValueError, "seeds"),
    case(S.run_seeds, lambda: S.run_seeds(abs, [0.5]), TypeError, "seeds[i]"),
    case(S.run_seeds, lambda: S.run_seeds(abs, [0], n_jobs=0), ValueError, "n_jobs"),
    case(S.run_seeds, lambda: S.run_seeds(abs, [0], settings=[]), ValueError, "settings"),
    case(S.start_workers, lambda: S.start_workers(n_jobs=0), ValueError, "n_jobs"),
    case(S.start_workers, lambda: S.start_workers(n_jobs="2"), TypeError, "n_jobs"),
    case(S.run_seeds, lambda: S.run_seeds(abs, [0], settings="ab"), TypeError, "settings"),
    case(S.summarize, lambda: S.summarize([]), ValueError, "values"),
    case(S.summarize, lambda: S.summarize([1.0, np.nan]), ValueError, "values"),
    case(S.summarize, lambda: S.summarize(["a"]), TypeError, "values"),
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
    case(DA.kfold_indices, lambda: DA.kfold_indices(5, 6, rng()), ValueError, "n_splits"),
    case(DA.kfold_indices, lambda: DA.kfold_indices(5, 2, None), TypeError, "rng"),
    case(P.lam_from_gaussian_prior, lambda: P.lam_from_gaussian_prior(0.0, 1.0, 10), ValueError, "noise_std"),
    case(
        P.lam_from_gaussian_prior, lambda: P.lam_from_gaussian_prior(1.0, -1.0, 10), ValueError, "prior_std"
    ),
    case(P.lam_from_laplace_prior, lambda: P.lam_from_laplace_prior(1.0, 1.0, 0), ValueError, "n_samples"),
    case(DA.augment_digits, lambda: DA.augment_digits(ones(2, 63), rng()), ValueError, "images"),
    case(DA.augment_digits, lambda: DA.augment_digits(ones(2, 64), None), TypeError, "rng"),
    case(
        DA.augment_digits, lambda: DA.augment_digits(ones(2, 64), rng(), max_shift=8), ValueError, "max_shift"
    ),
    case(
        DA.augment_digits,
        lambda: DA.augment_digits(ones(2, 64), rng(), max_shift=0.5),
        TypeError,
        "max_shift",
    ),
    case(DA.Split, lambda: DA.load_digits(rng()).standardize(ones(2, 3)), ValueError, "X"),
    case(DA.Split, lambda: DA.load_digits(rng()).unstandardize(INTS), TypeError, "X"),
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
    case(OF.train_mlp, lambda: OF.train_mlp((X, LABELS), S.streams(0)), TypeError, "data"),
    case(
        OF.train_mlp,
        lambda: OF.train_mlp(DA.load_digits(rng(), n_train=20, val_size=0.0), S.streams(0)),
        ValueError,
        "data",
    ),
    case(OF.train_mlp, lambda: OF.train_mlp(DA.load_digits(rng(), n_train=20), rng()), TypeError, "rngs"),
    case(
        OF.train_mlp,
        lambda: OF.train_mlp(DA.load_digits(rng(), n_train=20), S.streams(0), lr=-1.0),
        ValueError,
        "lr",
    ),
    case(OF.classifier_scores, lambda: OF.classifier_scores("model", X, LABELS), TypeError, "model"),
    case(OF.classifier_scores, lambda: OF.classifier_scores(net(), X, LABELS + 5), ValueError, "y"),
    case(
        OF.train_mlp,
        lambda: OF.train_mlp(DA.load_digits(rng(), n_train=20), S.streams(0), optimizer="adamw"),
        ValueError,
        "optimizer",
    ),
    case(OF.sharpness_proxy, lambda: OF.sharpness_proxy("model", X, LABELS, rng()), TypeError, "model"),
    case(
        OF.sharpness_proxy, lambda: OF.sharpness_proxy(net(), X, LABELS, rng(), rho=-1.0), ValueError, "rho"
    ),
    case(OF.sharpness_proxy, lambda: OF.sharpness_proxy(net(), X, LABELS, None), TypeError, "rng"),
    # ------------------------------------------------------------ faq (chapter 5)
    case(C5.train_classifier, lambda: C5.train_classifier(X, LABELS, -1), ValueError, "seed"),
    case(
        C5.train_classifier,
        lambda: C5.train_classifier(X, LABELS, 0, sizes=(3, 4, 3), label_smoothing=1.5),
        ValueError,
        "label_smoothing",
    ),
    case(C5.train_classifier, lambda: C5.train_classifier(X, LABELS, 0, lr=0.0), ValueError, "lr"),
    case(C5.first_epoch_at, lambda: C5.first_epoch_at([], 1.0), ValueError, "values"),
    case(C5.first_epoch_at, lambda: C5.first_epoch_at(W, "1"), TypeError, "level"),
    case(
        C5.ridge_intercept_predict,
        lambda: C5.ridge_intercept_predict(X, Y, X[:, :2], 0.1),
        ValueError,
        "X_new",
    ),
    case(
        C5.ridge_intercept_predict, lambda: C5.ridge_intercept_predict(X, Y[:5], X, 0.1), ValueError, "y_fit"
    ),
    case(C5.one_standard_error, lambda: C5.one_standard_error([1.0, 0.5], W[:2], W[:2]), ValueError, "lams"),
    case(C5.one_standard_error, lambda: C5.one_standard_error([1.0, 2.0], W, W), ValueError, "mean"),
    case(C5.seconds_per_step, lambda: C5.seconds_per_step("net", X, LABELS), TypeError, "model"),
    case(
        C5.seconds_per_step, lambda: C5.seconds_per_step(net(), X, LABELS, n_steps=0), ValueError, "n_steps"
    ),
    case(C5.fit_temperature, lambda: C5.fit_temperature(W, LABELS[:4]), ValueError, "logits"),
    case(C5.fit_temperature, lambda: C5.fit_temperature(X, LABELS, rtol=0.0), ValueError, "rtol"),
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
    case(PL.plot_seed_band, lambda: PL.plot_seed_band([1, 2, 3], ones(2, 2)), ValueError, "runs"),
    case(PL.plot_seed_dots, lambda: PL.plot_seed_dots([W]), TypeError, "groups"),
    case(PL.plot_seed_dots, lambda: PL.plot_seed_dots({"a": W, "b": W[:2]}), ValueError, "paired"),
    case(
        PL.plot_reliability_diagram,
        lambda: PL.plot_reliability_diagram(ones(2, 2), LABELS[:2]),
        ValueError,
        "probs",
    ),
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
    # ------------------------------------------------------------ checks (the labs' checkers)
    *[
        case(getattr(CH, name), lambda name=name: getattr(CH, name)(3), TypeError, "fn")
        for name in (
            "check_l1_penalty",
            "check_l2_penalty",
            "check_penalized_loss",
            "check_soft_threshold",
            "check_dropout_forward",
            "check_batchnorm_forward",
            "check_update_running_stats",
            "check_adamw_update",
        )
    ],
    case(CH.check_dropout_backward, lambda: CH.check_dropout_backward(3, abs), TypeError, "forward"),
    case(CH.check_dropout_backward, lambda: CH.check_dropout_backward(abs, None), TypeError, "backward"),
    case(CH.check_batchnorm_backward, lambda: CH.check_batchnorm_backward("f", abs), TypeError, "forward"),
    case(CH.check_batchnorm_backward, lambda: CH.check_batchnorm_backward(abs, 1), TypeError, "backward"),
    # ------------------------------------------------------------ book
    case(book.glue, lambda: book.glue(3, 0.5), TypeError, "name"),
    case(book.glue, lambda: book.glue("", 0.5, fmt=".1f"), ValueError, "name"),
    case(book.glue, lambda: book.glue("a", 0.5), TypeError, "value"),
    case(book.glue, lambda: book.glue("a", [0.5]), TypeError, "value"),
    case(book.glue, lambda: book.glue("a", np.nan, fmt=".1f"), ValueError, "value"),
    case(book.glue, lambda: book.glue("a", 0.5, fmt=3), TypeError, "fmt"),
    case(book.glue, lambda: book.glue("a", "text", fmt=".2f"), ValueError, "fmt"),
    case(book.check, lambda: book.check(True, ""), TypeError, "claim"),
    case(book.check, lambda: book.check(1, "a claim"), TypeError, "condition"),
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
    with pytest.raises(ValueError, match=r"^s must be in \(0, inf\), got 0"):
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
    # Without a number of classes the message states the one bound there is (not "[0, None)").
    with pytest.raises(ValueError, match=r"^y must hold labels >= 0, got a minimum of -1$"):
        v.check_labels(np.array([-1, 3]), "y", 2)


def test_check_scalar_states_open_unbounded_intervals():
    with pytest.raises(ValueError, match=r"^s must be in \[0, inf\), got -1"):
        v.check_scalar(-1.0, "s", low=0)
    with pytest.raises(ValueError, match=r"^s must be in \(-inf, 1\], got 2"):
        v.check_scalar(2.0, "s", high=1)


def test_check_dtype():
    assert v.check_dtype("float32") == np.float32
    assert v.check_dtype(np.float64) == np.float64
    for bad in (np.int32, "float16", "nonsense-dtype"):
        with pytest.raises(TypeError, match="^dtype must be float32 or float64"):
            v.check_dtype(bad)
