"""One plotting style for the whole book, and the plots that recur across chapters.

Colours are the Okabe-Ito palette, which stays distinguishable under the
common forms of colour blindness. Call :func:`use_style` once per notebook.
"""

from __future__ import annotations

import matplotlib as mpl
import matplotlib.pyplot as plt
import numpy as np
from cycler import cycler

from .metrics import expected_calibration_error, reliability_bins

#: Okabe-Ito colours by name.
COLORS = {
    "blue": "#0072B2",
    "orange": "#E69F00",
    "green": "#009E73",
    "vermillion": "#D55E00",
    "purple": "#CC79A7",
    "sky": "#56B4E9",
    "yellow": "#F0E442",
    "black": "#000000",
}

#: Fixed roles, so that "train" and "validation" look the same in every chapter.
ROLE_COLORS = {
    "train": COLORS["blue"],
    "val": COLORS["orange"],
    "test": COLORS["green"],
    "truth": COLORS["black"],
    "baseline": "#777777",
}

STYLE = {
    "axes.prop_cycle": cycler(
        color=[COLORS[k] for k in ("blue", "orange", "green", "vermillion", "purple", "sky", "black")]
    ),
    "figure.figsize": (6.4, 4.0),
    "figure.dpi": 100,
    "savefig.dpi": 100,
    "figure.constrained_layout.use": True,
    "axes.grid": True,
    "grid.alpha": 0.3,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.titlesize": 12,
    "axes.labelsize": 11,
    "legend.fontsize": 9,
    "legend.frameon": False,
    "lines.linewidth": 1.8,
    "image.cmap": "viridis",
}


def use_style():
    """Apply the book's matplotlib style (PNG output, Okabe-Ito colours, light grid)."""
    mpl.rcParams.update(STYLE)
    try:  # inline backend in notebooks: PNG, never SVG (SVG embeds random ids)
        from matplotlib_inline.backend_inline import set_matplotlib_formats

        # Constrained layout already pads the figure; a tight bounding box would only cost time.
        set_matplotlib_formats("png", bbox_inches=None)
    except ImportError:  # pragma: no cover - outside IPython
        pass


def _axes(ax):
    if ax is None:
        _, ax = plt.subplots()
    return ax


def plot_learning_curves(history, metric="loss", ax=None, label_prefix="", best=True, **kwargs):
    """Training and validation curves of a :class:`regcode.train.History` against epoch.

    Parameters
    ----------
    history : History
    metric : {"loss", "acc"}
    ax : matplotlib Axes, optional
    label_prefix : str
        Prepended to the legend labels (to overlay several runs).
    best : bool
        Mark ``history.best_epoch`` with a dotted vertical line.
    **kwargs
        Passed to ``ax.plot`` (e.g. ``alpha``).

    Returns
    -------
    ax
    """
    if metric not in ("loss", "acc"):
        raise ValueError(f"metric must be 'loss' or 'acc', got {metric!r}")
    ax = _axes(ax)
    train = getattr(history, f"train_{metric}")
    val = getattr(history, f"val_{metric}")
    epochs = np.arange(1, len(train) + 1)
    ax.plot(epochs, train, color=ROLE_COLORS["train"], label=f"{label_prefix}train", **kwargs)
    if len(val):
        ax.plot(epochs, val, color=ROLE_COLORS["val"], label=f"{label_prefix}validation", **kwargs)
    if best and history.best_epoch is not None and len(val):
        ax.axvline(history.best_epoch, color=ROLE_COLORS["baseline"], linestyle=":", linewidth=1)
    ax.set_xlabel("epoch")
    ax.set_ylabel("cross-entropy loss" if metric == "loss" else "accuracy")
    ax.legend()
    return ax


def plot_validation_curve(
    values, train_scores, val_scores, ax=None, *, xlabel, ylabel, log_x=True, mark="min"
):
    """Training and validation score against a hyperparameter, with the best value marked.

    Parameters
    ----------
    values : array-like of shape (k,)
    train_scores, val_scores : array-like of shape (k,)
    ax : matplotlib Axes, optional
        Where to plot; default: a new figure.
    xlabel, ylabel : str
    log_x : bool
        Logarithmic x-axis (strengths such as lambda span decades).
    mark : {"min", "max", None}
        Mark the validation minimum (losses) or maximum (accuracies).

    Returns
    -------
    ax
    """
    ax = _axes(ax)
    values = np.asarray(values, dtype=float)
    val_scores = np.asarray(val_scores, dtype=float)
    ax.plot(values, train_scores, "o-", color=ROLE_COLORS["train"], label="train")
    ax.plot(values, val_scores, "o-", color=ROLE_COLORS["val"], label="validation")
    if mark is not None:
        if mark not in ("min", "max"):
            raise ValueError(f"mark must be 'min', 'max' or None, got {mark!r}")
        i = int(np.nanargmin(val_scores) if mark == "min" else np.nanargmax(val_scores))
        ax.plot(
            values[i],
            val_scores[i],
            "*",
            color=COLORS["vermillion"],
            markersize=14,
            label=f"best validation ({values[i]:.3g})",
        )
    if log_x:
        ax.set_xscale("log")
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.legend()
    return ax


def plot_regularization_path(lams, coefs, ax=None, *, feature_names=None, xlabel=r"$\lambda$"):
    """Coefficients against penalty strength (one line per feature), lambda decreasing to the right.

    Parameters
    ----------
    lams : array-like of shape (k,)
    coefs : ndarray of shape (k, n)
        As returned by :func:`regcode.linear_model.lasso_path`.
    ax : matplotlib Axes, optional
        Where to plot; default: a new figure.
    feature_names : sequence of str, optional
        One per column of ``coefs``; labels the lines in a legend beside the axes.
    xlabel : str
        Label of the (logarithmic, inverted) x-axis.

    Returns
    -------
    ax
    """
    lams = np.asarray(lams, dtype=float)
    coefs = np.asarray(coefs)
    if lams.ndim != 1 or coefs.ndim != 2 or coefs.shape[0] != lams.shape[0]:
        raise ValueError(
            f"coefs must have shape ({lams.size}, n_features) for lams of shape {lams.shape}, "
            f"got {coefs.shape}"
        )
    ax = _axes(ax)
    lines = ax.plot(lams, coefs)
    if feature_names is not None:
        for line, name in zip(lines, feature_names, strict=False):
            line.set_label(name)
        ax.legend(ncol=2, loc="upper left", bbox_to_anchor=(1.0, 1.0))
    ax.set_xscale("log")
    ax.invert_xaxis()
    ax.axhline(0.0, color="black", linewidth=0.8)
    ax.set_xlabel(xlabel)
    ax.set_ylabel("coefficient")
    return ax


def plot_weight_histograms(weights, ax=None, *, bins=60, range_=None):
    """Overlaid step histograms of several weight arrays.

    Parameters
    ----------
    weights : dict of str -> ndarray
        Label -> weights (flattened).
    ax : matplotlib Axes, optional
        Where to plot; default: a new figure.
    bins : int >= 1
        Number of bins, the same for every array.
    range_ : (float, float), optional
        Range of the bins; default: symmetric about 0, up to the largest absolute weight.

    Returns
    -------
    ax
    """
    if not isinstance(weights, dict):
        raise TypeError(f"weights must be a dict of label -> array, got {type(weights).__name__}")
    if not weights:
        raise ValueError("weights must hold at least one array")
    ax = _axes(ax)
    flat = {k: np.ravel(v) for k, v in weights.items()}
    if range_ is None:
        hi = max(np.max(np.abs(v)) for v in flat.values())
        range_ = (-hi, hi)
    for label, w in flat.items():
        ax.hist(w, bins=bins, range=range_, histtype="step", linewidth=1.5, density=True, label=label)
    ax.set_xlabel("weight value")
    ax.set_ylabel("density")
    ax.legend()
    return ax


def plot_seed_band(x, runs, ax=None, *, color=None, label=None, **kwargs):
    """Mean curve across seeds, with the band from the lowest to the highest seed.

    Parameters
    ----------
    x : array-like of shape (k,)
        Epochs, strengths, sizes...
    runs : array-like of shape (n_seeds, k)
        One curve per seed (e.g. ``[h.val_acc for h in histories]``); NaN marks
        a missing point (a run that stopped or diverged earlier).
    ax : matplotlib Axes, optional
    color : colour, optional
        Of the line and the band.
    label : str, optional
        Legend label; ``" (n seeds)"`` is appended.
    **kwargs
        Passed to ``ax.plot`` for the mean line.

    Returns
    -------
    ax
    """
    x = np.asarray(x, dtype=float)
    runs = np.asarray(runs, dtype=float)
    if runs.ndim != 2 or runs.shape[1] != x.shape[0] or runs.shape[0] == 0:
        raise ValueError(f"runs must have shape (n_seeds, {x.shape[0]}), got {runs.shape}")
    ax = _axes(ax)
    with np.errstate(invalid="ignore"):
        mean = np.nanmean(runs, axis=0) if np.isnan(runs).any() else runs.mean(axis=0)
    (line,) = ax.plot(x, mean, color=color, **kwargs)
    if label is not None:
        line.set_label(f"{label} ({runs.shape[0]} seeds)")
    ax.fill_between(
        x, np.nanmin(runs, axis=0), np.nanmax(runs, axis=0), color=line.get_color(), alpha=0.2, lw=0
    )
    return ax


def plot_seed_dots(groups, ax=None, *, ylabel=None, colors=None, paired=True):
    """Per-seed values of several settings as dots, with each setting's mean as a bar.

    Parameters
    ----------
    groups : dict of str -> sequence of float
        Setting -> one value per seed. With ``paired``, values at the same
        position come from the same seed and are joined by a faint line, so
        that "better on k of n seeds" can be read off the plot.
    ax : matplotlib Axes, optional
    ylabel : str, optional
    colors : sequence of colours, optional
        One per group (default: the book's cycle).
    paired : bool

    Returns
    -------
    ax
    """
    if not isinstance(groups, dict) or not groups:
        raise TypeError("groups must be a non-empty dict of label -> values")
    values = [np.asarray(v, dtype=float) for v in groups.values()]
    if paired and len({v.shape for v in values}) != 1:
        raise ValueError("paired groups must hold one value per seed each (the same number)")
    ax = _axes(ax)
    cycle = colors or [c["color"] for c in mpl.rcParams["axes.prop_cycle"]]
    positions = np.arange(len(values))
    if paired and len(values) > 1:
        ax.plot(positions, np.stack(values), color=ROLE_COLORS["baseline"], alpha=0.35, lw=0.8, zorder=1)
    for i, v in enumerate(values):
        ax.plot(np.full(v.shape, i), v, "o", color=cycle[i % len(cycle)], ms=6, alpha=0.8, zorder=2)
        ax.plot([i - 0.25, i + 0.25], [v.mean(), v.mean()], color="black", lw=2, zorder=3)
    ax.set_xticks(positions, list(groups))
    ax.set_xlim(-0.6, len(values) - 0.4)
    if ylabel is not None:
        ax.set_ylabel(ylabel)
    return ax


def plot_reliability_diagram(probs, y, ax=None, *, n_bins=15, label=None, color=None):
    """Reliability diagram: accuracy against mean confidence in equal-width confidence bins.

    A calibrated classifier lies on the diagonal; points below it are
    over-confident, points above under-confident. The expected calibration error
    (:func:`regcode.metrics.expected_calibration_error`) is added to the label.

    Parameters
    ----------
    probs : ndarray of shape (n, K)
        Predicted class probabilities.
    y : ndarray of int, shape (n,)
    ax : matplotlib Axes, optional
    n_bins : int >= 1
    label : str, optional
        Legend label; `` (ECE 0.034)`` is appended.
    color : colour, optional

    Returns
    -------
    ax
    """
    bins = reliability_bins(probs, y, n_bins)
    ece = expected_calibration_error(probs, y, n_bins)
    ax = _axes(ax)
    filled = bins.counts > 0
    ax.plot([0, 1], [0, 1], "--", color=ROLE_COLORS["baseline"], lw=1)
    text = f"ECE {ece:.3f}" if label is None else f"{label} (ECE {ece:.3f})"
    ax.plot(bins.confidence[filled], bins.accuracy[filled], "o-", color=color, label=text)
    ax.set(xlim=(0, 1), ylim=(0, 1), xlabel="confidence (largest predicted probability)", ylabel="accuracy")
    ax.legend()
    return ax
