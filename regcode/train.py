"""A mini-batch training loop with per-epoch history and early stopping."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from ._validation import check_array, check_int, check_rng, check_scalar
from .layers import Module


@dataclass
class History:
    """What :func:`fit` records, one entry per epoch.

    ``train_loss`` and ``train_acc`` are measured on the whole training set
    in evaluation mode after each epoch (no dropout noise), so they are
    comparable with ``val_loss`` and ``val_acc``. Accuracies are recorded for
    classification (integer labels) only. Losses are the data loss without
    any penalty.
    """

    train_loss: list = field(default_factory=list)
    val_loss: list = field(default_factory=list)
    train_acc: list = field(default_factory=list)
    val_acc: list = field(default_factory=list)
    best_epoch: int | None = None  # 1-based epoch with the lowest validation loss
    stopped_early: bool = False  # early stopping ended the run
    diverged: bool = False  # a training output became NaN or infinite; the run stopped

    @property
    def epochs(self):
        """Number of epochs run."""
        return len(self.train_loss)


def evaluate(model, loss_fn, X, y):
    """Loss (and accuracy for integer labels) of ``model`` on ``(X, y)`` in evaluation mode.

    The model's mode is restored afterwards.

    Returns
    -------
    loss : float
    acc : float or None
    """
    out = predict(model, X)
    loss, _ = loss_fn(out, y)
    acc = float(np.mean(out.argmax(axis=1) == y)) if np.issubdtype(np.asarray(y).dtype, np.integer) else None
    return loss, acc


def _evaluate_if_finite(model, loss_fn, X, y):
    """:func:`evaluate`, or ``None`` when the model's output on ``X`` is not finite (a diverged run)."""
    out = predict(model, X)
    if not np.all(np.isfinite(out)):
        return None
    loss, _ = loss_fn(out, y)
    acc = float(np.mean(out.argmax(axis=1) == y)) if np.issubdtype(np.asarray(y).dtype, np.integer) else None
    return loss, acc


def _check_model(model):
    if not isinstance(model, Module):
        raise TypeError(f"model must be a regcode Module, got {type(model).__name__}")


def predict(model, X):
    """Model output on ``X`` in evaluation mode (mode restored afterwards)."""
    _check_model(model)
    X = check_array(X, "X", ndim=2, min_rows=1)
    was_training = model.training
    model.eval()
    try:
        return model(X)
    finally:
        model.train(was_training)


def minibatches(n_samples, batch_size, rng):
    """Shuffled index batches of size ``batch_size`` covering ``range(n_samples)`` once.

    A final batch of one sample is merged into the previous one, because
    training-mode batch norm cannot normalise a single sample.
    """
    n_samples = check_int(n_samples, "n_samples", low=1)
    batch_size = check_int(batch_size, "batch_size", low=1)
    perm = check_rng(rng).permutation(n_samples)
    starts = list(range(0, n_samples, batch_size))
    if len(starts) > 1 and n_samples - starts[-1] < 2:
        starts.pop()
    ends = starts[1:] + [n_samples]
    return [perm[s:e] for s, e in zip(starts, ends, strict=True)]


def fit(
    model,
    loss_fn,
    optimizer,
    X_train,
    y_train,
    *,
    epochs,
    batch_size,
    rng,
    X_val=None,
    y_val=None,
    patience=None,
    min_delta=0.0,
    restore_best=True,
    penalty=None,
):
    """Train ``model`` with mini-batches; optionally stop early on the validation loss.

    Each epoch shuffles the training set with ``rng``, and for every batch
    runs forward, loss, backward, ``penalty()`` (if given) and
    ``optimizer.step()``. After the epoch it records the loss (and accuracy)
    on the training and validation sets in evaluation mode.

    Early stopping (``patience`` set, validation data required): stop after
    ``patience`` epochs without the validation loss improving by more than
    ``min_delta``; with ``restore_best`` the weights and buffers of the best
    epoch are copied back into ``model``.

    Parameters
    ----------
    model : regcode.layers.Module
    loss_fn : callable
        ``loss_fn(output, y) -> (loss, doutput)``, e.g. :func:`regcode.losses.softmax_cross_entropy`.
    optimizer : regcode.optim.Optimizer
    X_train : ndarray of shape (m, d)
    y_train : ndarray of shape (m,) (int labels) or (m,)/(m, k) (regression targets)
    epochs : int >= 1
    batch_size : int >= 1
    rng : numpy.random.Generator
        Shuffles the batches.
    X_val, y_val : optional validation data
    patience : int >= 1, optional
    min_delta : float >= 0
    restore_best : bool
    penalty : callable, optional
        Called after each backward pass; adds its gradient to the parameters'
        ``.grad`` (e.g. :class:`regcode.penalties.ParameterPenalty`).

    Returns
    -------
    History
    """
    _check_model(model)
    for name, fn in (("loss_fn", loss_fn), ("optimizer.step", getattr(optimizer, "step", None))):
        if not callable(fn):
            raise TypeError(f"{name} must be callable, got {type(fn).__name__}")
    if penalty is not None and not callable(penalty):
        raise TypeError(f"penalty must be callable or None, got {type(penalty).__name__}")
    X_train = check_array(X_train, "X_train", ndim=2, min_rows=1)
    if len(y_train) != X_train.shape[0]:
        raise ValueError(f"y_train must have {X_train.shape[0]} entries, got {len(y_train)}")
    epochs = check_int(epochs, "epochs", low=1)
    batch_size = check_int(batch_size, "batch_size", low=1)
    check_rng(rng)
    has_val = X_val is not None
    if has_val:
        X_val = check_array(X_val, "X_val", ndim=2, min_rows=1)
        if y_val is None or len(y_val) != X_val.shape[0]:
            raise ValueError("y_val must be given with X_val and have one entry per row")
    if patience is not None:
        patience = check_int(patience, "patience", low=1)
        if not has_val:
            raise ValueError("patience needs validation data: pass X_val and y_val")
    min_delta = check_scalar(min_delta, "min_delta", low=0)

    history = History()
    best_loss, best_state = np.inf, None
    for epoch in range(1, epochs + 1):
        model.train()
        # A diverging run overflows before its output turns non-finite; it is flagged, not warned about.
        with np.errstate(over="ignore", invalid="ignore"):
            for idx in minibatches(X_train.shape[0], batch_size, rng):
                optimizer.zero_grad()
                out = model(X_train[idx])
                if not np.all(np.isfinite(out)):
                    history.diverged = True
                    break
                _, dout = loss_fn(out, y_train[idx])
                model.backward(dout)
                if penalty is not None:
                    penalty()
                optimizer.step()
            scores = None if history.diverged else _evaluate_if_finite(model, loss_fn, X_train, y_train)
            val_scores = _evaluate_if_finite(model, loss_fn, X_val, y_val) if has_val and scores else None
        if scores is None or (has_val and val_scores is None):
            history.diverged = True  # the weights after the last step give non-finite outputs
            break
        loss, acc = scores
        history.train_loss.append(loss)
        if acc is not None:
            history.train_acc.append(acc)
        if has_val:
            val_loss, val_acc = val_scores
            history.val_loss.append(val_loss)
            if val_acc is not None:
                history.val_acc.append(val_acc)
            if val_loss < best_loss - min_delta:
                best_loss, history.best_epoch = val_loss, epoch
                if patience is not None and restore_best:
                    best_state = model.state_dict()
            elif patience is not None and epoch - (history.best_epoch or 0) >= patience:
                history.stopped_early = True
                break
    if best_state is not None:
        model.load_state_dict(best_state)
    model.train()
    return history
