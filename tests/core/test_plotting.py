"""Tests for regcode.plotting: the book's style and the recurring plots (Agg backend, see conftest)."""

import matplotlib as mpl
import matplotlib.pyplot as plt
import numpy as np
import pytest
from matplotlib.colors import to_hex

from regcode.plotting import (
    COLORS,
    ROLE_COLORS,
    plot_learning_curves,
    plot_regularization_path,
    plot_validation_curve,
    plot_weight_histograms,
    use_style,
)
from regcode.train import History


@pytest.fixture
def history():
    return History(
        train_loss=[1.0, 0.6, 0.4, 0.3],
        val_loss=[1.1, 0.8, 0.7, 0.75],
        train_acc=[0.5, 0.7, 0.8, 0.9],
        val_acc=[0.45, 0.6, 0.7, 0.68],
        best_epoch=3,
    )


def line_labels(ax):
    return [line.get_label() for line in ax.get_lines() if not line.get_label().startswith("_")]


def test_use_style_sets_the_okabe_ito_palette():
    with mpl.rc_context():
        use_style()
        cycle = [to_hex(c) for c in mpl.rcParams["axes.prop_cycle"].by_key()["color"]]
        assert cycle[:3] == [COLORS["blue"].lower(), COLORS["orange"].lower(), COLORS["green"].lower()]
        assert len(set(cycle)) == len(cycle) == 7
        assert mpl.rcParams["axes.grid"] and not mpl.rcParams["axes.spines.top"]
        _, ax = plt.subplots()
        (line,) = ax.plot([0, 1])
        assert to_hex(line.get_color()) == COLORS["blue"].lower()


def test_learning_curves(history):
    ax = plot_learning_curves(history)
    assert ax.get_xlabel() == "epoch" and "loss" in ax.get_ylabel()
    assert line_labels(ax) == ["train", "validation"]
    train, val = ax.get_lines()[:2]
    np.testing.assert_array_equal(train.get_xdata(), [1, 2, 3, 4])  # epochs are 1-based
    np.testing.assert_array_equal(val.get_ydata(), history.val_loss)
    assert to_hex(train.get_color()) == ROLE_COLORS["train"].lower()
    assert to_hex(val.get_color()) == ROLE_COLORS["val"].lower()
    # The best epoch is marked with a vertical line.
    assert any(np.array_equal(line.get_xdata(), [3, 3]) for line in ax.get_lines()[2:])
    assert ax.get_legend() is not None


def test_learning_curves_accuracy_on_given_axes(history):
    _, ax = plt.subplots()
    returned = plot_learning_curves(history, metric="acc", ax=ax, label_prefix="dropout ", best=False)
    assert returned is ax
    assert ax.get_ylabel() == "accuracy"
    assert line_labels(ax) == ["dropout train", "dropout validation"]
    assert len(ax.get_lines()) == 2  # no best-epoch marker


def test_learning_curves_without_validation():
    ax = plot_learning_curves(History(train_loss=[1.0, 0.5]))
    assert line_labels(ax) == ["train"]


def test_validation_curve_marks_the_best_value():
    lams = [1e-3, 1e-2, 1e-1, 1.0]
    ax = plot_validation_curve(lams, [0.1, 0.2, 0.3, 0.5], [0.6, 0.4, 0.45, 0.7], xlabel="λ", ylabel="MSE")
    assert ax.get_xlabel() == "λ" and ax.get_ylabel() == "MSE" and ax.get_xscale() == "log"
    best = [line for line in ax.get_lines() if line.get_label().startswith("best")]
    assert len(best) == 1
    assert best[0].get_xdata()[0] == 1e-2 and best[0].get_ydata()[0] == 0.4
    ax = plot_validation_curve(
        lams, lams, [0.6, 0.9, 0.8, 0.7], xlabel="λ", ylabel="acc", mark="max", log_x=False
    )
    best = [line for line in ax.get_lines() if line.get_label().startswith("best")]
    assert best[0].get_xdata()[0] == 1e-2 and ax.get_xscale() == "linear"


def test_regularization_path():
    lams = np.logspace(0, -3, 5)
    coefs = np.linspace(0, 1, 15).reshape(5, 3)
    ax = plot_regularization_path(lams, coefs, feature_names=["a", "b", "c"])
    assert ax.get_xlabel() and ax.get_ylabel() == "coefficient"
    assert ax.get_xscale() == "log"
    assert ax.xaxis_inverted()  # strong penalty on the left, weak on the right
    assert line_labels(ax) == ["a", "b", "c"]
    np.testing.assert_array_equal(ax.get_lines()[1].get_ydata(), coefs[:, 1])


def test_weight_histograms(rng):
    weights = {"no penalty": rng.standard_normal(500), "L1": rng.laplace(size=(10, 50))}
    ax = plot_weight_histograms(weights, bins=20)
    assert ax.get_xlabel() == "weight value" and ax.get_ylabel() == "density"
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["no penalty", "L1"]
    assert len(ax.patches) == 2  # one step outline per array
    low, high = ax.get_xlim()
    assert low < 0 < high


def test_reliability_diagram_plots_the_filled_bins_and_names_the_ece():
    from regcode.metrics import expected_calibration_error
    from regcode.plotting import plot_reliability_diagram

    rng = np.random.default_rng(0)
    logits = rng.standard_normal((300, 3)) * 3
    probs = np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)
    y = rng.integers(0, 3, 300)
    ax = plot_reliability_diagram(probs, y, n_bins=10, label="model")
    line = ax.get_lines()[1]
    assert 1 <= len(line.get_xdata()) <= 10
    assert line.get_label() == f"model (ECE {expected_calibration_error(probs, y, 10):.3f})"
