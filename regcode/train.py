"""A mini-batch training loop with per-epoch history, penalties, callbacks and early stopping."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from ._validation import (
    check_array,
    check_bool,
    check_choice,
    check_int,
    check_rng,
    check_scalar,
    check_targets,
)
from .layers import Module, Parameter
from .penalties import l1_grad, l1_penalty, l2_grad, l2_penalty


@dataclass
class History:
    """What :func:`fit` records, one entry per epoch.

    ``train_loss`` and ``train_acc`` are measured on the whole training set
    in evaluation mode after each epoch (no dropout noise), so they are
    comparable with ``val_loss`` and ``val_acc``. Accuracies are recorded for
    classification (integer labels) only. Losses are the data loss; with a
    ``penalty``, ``penalty`` holds its value after each epoch, and the
    objective that training minimises is ``train_loss[i] + penalty[i]``.

    Attributes
    ----------
    train_loss : list of float
        Data loss on the training set.
    val_loss : list of float
        Data loss on the validation set (empty without validation data).
    train_acc : list of float
        Accuracy on the training set (empty for regression).
    val_acc : list of float
        Accuracy on the validation set (empty for regression or without validation data).
    penalty : list of float
        Value of the ``penalty`` of :func:`fit` (empty without one).
    epochs_run : int or None
        Set by ``fit(..., every_epoch=False)``, whose lists hold the scores after
        the last epoch only; ``None`` when there is one entry per epoch.
    best_epoch : int or None
        1-based epoch with the lowest validation loss.
    stopped_early : bool
        Early stopping ended the run.
    diverged : bool
        A training output became NaN or infinite; the run stopped.
    """

    train_loss: list = field(default_factory=list)
    val_loss: list = field(default_factory=list)
    train_acc: list = field(default_factory=list)
    val_acc: list = field(default_factory=list)
    penalty: list = field(default_factory=list)
    best_epoch: int | None = None
    stopped_early: bool = False
    diverged: bool = False
    epochs_run: int | None = None

    @property
    def epochs(self):
        """Number of epochs run."""
        return len(self.train_loss) if self.epochs_run is None else self.epochs_run


class ParameterPenalty:
    """An L1 or L2 penalty on some parameters, added to the training loss by :func:`fit`.

    Calling the object adds the penalty's gradient to each parameter's
    ``.grad`` and returns the penalty's value; :func:`fit` calls it after every
    backward pass and records its value in ``History.penalty``.

    Parameters
    ----------
    params : iterable of regcode.layers.Parameter
        Parameters to penalise (for example ``[model.layers[0].weight]``).
    lam : float >= 0
        Strength: :func:`regcode.penalties.l2_penalty` is (lam/2)·Σw²,
        :func:`regcode.penalties.l1_penalty` is lam·Σ|w|.
    kind : {"l1", "l2"}

    Examples
    --------
    >>> import numpy as np
    >>> from regcode.layers import Parameter
    >>> w = Parameter(np.array([1.0, -2.0]))
    >>> penalty = ParameterPenalty([w], lam=0.1, kind="l1")
    >>> round(penalty(), 6), w.grad
    (0.3, array([ 0.1, -0.1]))
    """

    def __init__(self, params, lam, kind="l2"):
        self.params = list(params)
        for i, param in enumerate(self.params):
            if not isinstance(param, Parameter):
                raise TypeError(f"params[{i}] must be a regcode Parameter, got {type(param).__name__}")
        self.lam = check_scalar(lam, "lam", low=0)
        self.kind = check_choice(kind, "kind", ("l1", "l2"))

    def value(self):
        r"""The penalty's value for the current parameters.

        .. math:: \lambda \sum_{p} \sum_i |p_i| \ \text{(L1)}, \qquad
                  \frac{\lambda}{2} \sum_{p} \sum_i p_i^2 \ \text{(L2)},

        summed over the parameters :math:`p` in ``params``.

        Returns
        -------
        float
        """
        value_fn = l1_penalty if self.kind == "l1" else l2_penalty
        return sum(value_fn(param.data, self.lam) for param in self.params)

    def __call__(self):
        """Add the penalty's gradient to each parameter's ``.grad``; return the penalty's value."""
        grad_fn = l1_grad if self.kind == "l1" else l2_grad
        for param in self.params:
            param.accumulate(grad_fn(param.data, self.lam))
        return self.value()


class EarlyStopping:
    """The early-stopping rule of :func:`fit`, one validation loss at a time.

    An epoch improves on the best so far if its loss is below
    ``best - min_delta``; training stops after the first epoch that is
    ``patience`` epochs past the last improvement.

    Parameters
    ----------
    patience : int >= 1
    min_delta : float >= 0

    Attributes
    ----------
    best_loss : float
    best_epoch : int
        1-based epoch of the last improvement (0 before any).

    Examples
    --------
    >>> rule = EarlyStopping(patience=2)
    >>> [rule.update(loss) for loss in [1.0, 0.8, 0.9, 0.85]], rule.best_epoch
    ([False, False, False, True], 2)
    """

    def __init__(self, patience, min_delta=0.0):
        self.patience = check_int(patience, "patience", low=1)
        self.min_delta = check_scalar(min_delta, "min_delta", low=0)
        self.best_loss = np.inf
        self.best_epoch = 0
        self.epoch = 0

    def improves(self, loss):
        """Whether ``loss`` would count as an improvement on the best so far.

        Records nothing (:meth:`update` does).

        Parameters
        ----------
        loss : float
            A validation loss.

        Returns
        -------
        bool
            ``loss < best_loss - min_delta``.
        """
        return loss < self.best_loss - self.min_delta

    def update(self, loss):
        """Record the next epoch's validation loss; return True when training should stop.

        Parameters
        ----------
        loss : float
            Validation loss after the epoch.

        Returns
        -------
        bool
            True if this epoch is ``patience`` or more epochs past the last improvement.
        """
        self.epoch += 1
        if self.improves(loss):
            self.best_loss, self.best_epoch = loss, self.epoch
            return False
        return self.epoch - self.best_epoch >= self.patience


def early_stopping_epoch(val_loss, patience, min_delta=0.0):
    """Where early stopping would stop on a recorded validation curve (the rule of :class:`EarlyStopping`).

    Parameters
    ----------
    val_loss : sequence of float
        Validation loss after each epoch (``History.val_loss``).
    patience : int >= 1
    min_delta : float >= 0

    Returns
    -------
    best_epoch : int
        1-based epoch of the last improvement before stopping: the weights
        that ``fit(..., restore_best=True)`` brings back.
    stop_epoch : int or None
        1-based epoch after which training stops, or None if the curve ends first.

    Examples
    --------
    >>> early_stopping_epoch([1.0, 0.8, 0.9, 0.85, 0.7, 0.75], patience=2)
    (2, 4)
    >>> early_stopping_epoch([1.0, 0.8, 0.9, 0.85, 0.7, 0.75], patience=3)
    (5, None)
    """
    val_loss = np.asarray(val_loss)
    if val_loss.ndim != 1 or val_loss.size == 0:
        raise ValueError(f"val_loss must be a non-empty 1-D sequence, got shape {val_loss.shape}")
    if val_loss.dtype.kind not in "fiu" or val_loss.dtype == bool:
        raise TypeError(f"val_loss must hold real numbers, got dtype {val_loss.dtype}")
    rule = EarlyStopping(patience, min_delta)
    for loss in val_loss:
        if rule.update(float(loss)):
            return rule.best_epoch, rule.epoch
    return rule.best_epoch, None


def _check_model(model):
    if not isinstance(model, Module):
        raise TypeError(f"model must be a regcode Module, got {type(model).__name__}")


def predict(model, X):
    """Model output on ``X`` in evaluation mode (the mode is restored afterwards).

    Parameters
    ----------
    model : regcode.layers.Module
    X : ndarray of shape (N, D)

    Returns
    -------
    ndarray
        The model's output, e.g. logits of shape (N, K).
    """
    _check_model(model)
    X = check_array(X, "X", ndim=2, min_rows=1)
    modes = [(module, module.training) for module in model.modules()]
    model.eval()
    try:
        return model(X)
    finally:
        for module, mode in modes:
            module.training = mode


def _scores(out, loss_fn, y):
    loss, _ = loss_fn(out, y)
    acc = float(np.mean(out.argmax(axis=1) == y)) if np.issubdtype(np.asarray(y).dtype, np.integer) else None
    return loss, acc


def evaluate(model, loss_fn, X, y):
    """Loss (and accuracy for integer labels) of ``model`` on ``(X, y)`` in evaluation mode.

    Parameters
    ----------
    model : regcode.layers.Module
    loss_fn : callable
        ``loss_fn(output, y) -> (loss, doutput)``.
    X : ndarray of shape (N, D)
    y : ndarray of shape (N,)

    Returns
    -------
    loss : float
    acc : float or None
        Accuracy of the argmax for integer labels, ``None`` for regression targets.
    """
    X = check_array(X, "X", ndim=2, min_rows=1)
    return _scores(predict(model, X), loss_fn, check_targets(y, "y", X.shape[0]))


def _evaluate_if_finite(model, loss_fn, X, y):
    """:func:`evaluate`, or ``None`` when the model's output on ``X`` is not finite (a diverged run)."""
    with np.errstate(over="ignore", invalid="ignore"):
        modes = [(module, module.training) for module in model.modules()]
        model.eval()
        try:
            out = model.forward(X)
        finally:
            for module, mode in modes:
                module.training = mode
    return _scores(out, loss_fn, y) if np.all(np.isfinite(out)) else None


def minibatches(n_samples, batch_size, rng):
    """Shuffled index batches of size ``batch_size`` covering ``range(n_samples)`` once.

    A final batch of one sample is merged into the previous one, because
    training-mode batch norm cannot normalise a single sample.

    Parameters
    ----------
    n_samples, batch_size : int >= 1
    rng : numpy.random.Generator
        Draws the permutation.

    Returns
    -------
    list of ndarray of int

    Examples
    --------
    >>> import numpy as np
    >>> [len(b) for b in minibatches(10, 4, np.random.default_rng(0))]
    [4, 4, 2]
    >>> [len(b) for b in minibatches(9, 4, np.random.default_rng(0))]
    [4, 5]
    """
    n_samples = check_int(n_samples, "n_samples", low=1)
    batch_size = check_int(batch_size, "batch_size", low=1)
    perm = check_rng(rng).permutation(n_samples)
    starts = list(range(0, n_samples, batch_size))
    if len(starts) > 1 and n_samples - starts[-1] < 2:
        starts.pop()
    ends = starts[1:] + [n_samples]
    return [perm[s:e] for s, e in zip(starts, ends, strict=True)]


def _check_optimizer(optimizer, model):
    step = getattr(optimizer, "step", None)
    params = getattr(optimizer, "parameters", None)
    if not callable(step) or not callable(params):
        raise TypeError(f"optimizer must be a regcode optimiser, got {type(optimizer).__name__}")
    own = {id(p) for p in model.parameters()}
    foreign = [p for p in optimizer.parameters() if id(p) not in own]
    if foreign:
        raise ValueError(
            f"optimizer updates {len(foreign)} parameter(s) that are not the model's: "
            "build the optimiser on model.parameters()"
        )


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
    callback=None,
    every_epoch=True,
):
    """Train ``model`` with mini-batches; optionally stop early on the validation loss.

    Each epoch shuffles the training set with ``rng``, and for every batch
    runs forward, loss, backward, ``penalty()`` (if given) and
    ``optimizer.step()``. After the epoch it records the loss (and accuracy)
    on the training and validation sets in evaluation mode, the penalty's
    value, and calls ``callback(epoch, model, history)``.

    Early stopping (``patience`` set, validation data required): the rule of
    :class:`EarlyStopping`; with ``restore_best`` the weights and buffers of
    the best epoch are copied back into ``model``.

    A run whose outputs become NaN or infinite stops and sets
    ``History.diverged``; the history holds the epochs before it.

    With ``every_epoch=False`` the scores are measured once, after the last
    epoch (an evaluation pass per epoch costs about a fifth of a small
    network's training): the history then holds one entry per list, and
    ``History.epochs`` still counts the epochs run.

    Parameters
    ----------
    model : regcode.layers.Module
    loss_fn : callable
        ``loss_fn(output, y) -> (loss, doutput)``, e.g. :func:`regcode.losses.softmax_cross_entropy`.
    optimizer : regcode.optim.Optimizer
        Built on ``model.parameters()`` (or a subset of them).
    X_train : ndarray of shape (m, d)
    y_train : ndarray of shape (m,) (int labels) or (m,)/(m, k) (float regression targets)
    epochs : int >= 1
    batch_size : int >= 1
    rng : numpy.random.Generator
        Shuffles the batches (give it a stream of its own: :func:`regcode.seeds.streams`).
    X_val, y_val : optional validation data, like ``X_train`` and ``y_train``
    patience : int >= 1, optional
    min_delta : float >= 0
    restore_best : bool
    penalty : ParameterPenalty or callable, optional
        Called after each backward pass; adds its gradient to the parameters'
        ``.grad`` and returns its value.
    callback : callable, optional
        ``callback(epoch, model, history)`` after each epoch's metrics are
        recorded (``epoch`` is 1-based), e.g. to record weight norms.
    every_epoch : bool
        Record the scores after every epoch (learning curves, early stopping),
        or only after the last one (``False``; not with ``patience``).

    Returns
    -------
    History

    Examples
    --------
    >>> import numpy as np
    >>> from regcode.layers import mlp
    >>> from regcode.losses import softmax_cross_entropy
    >>> from regcode.optim import SGD
    >>> from regcode.seeds import streams
    >>> rngs = streams(0)
    >>> X = rngs.data.standard_normal((40, 2))
    >>> y = (X[:, 0] > 0).astype(int)
    >>> model = mlp((2, 16, 2), rngs.init)
    >>> history = fit(model, softmax_cross_entropy, SGD(model.parameters(), lr=0.1), X, y,
    ...               epochs=20, batch_size=8, rng=rngs.batches)
    >>> history.epochs, history.train_acc[-1] > 0.9
    (20, True)
    """
    _check_model(model)
    if not callable(loss_fn):
        raise TypeError(f"loss_fn must be callable, got {type(loss_fn).__name__}")
    _check_optimizer(optimizer, model)
    for name, fn in (("penalty", penalty), ("callback", callback)):
        if fn is not None and not callable(fn):
            raise TypeError(f"{name} must be callable or None, got {type(fn).__name__}")
    X_train = check_array(X_train, "X_train", ndim=2, min_rows=1)
    y_train = check_targets(y_train, "y_train", X_train.shape[0])
    epochs = check_int(epochs, "epochs", low=1)
    batch_size = check_int(batch_size, "batch_size", low=1)
    check_rng(rng)
    has_val = X_val is not None or y_val is not None
    if has_val:
        if y_val is None:
            raise ValueError("y_val must be given with X_val")
        if X_val is None:
            raise ValueError("X_val must be given with y_val")
        X_val = check_array(X_val, "X_val", ndim=2, min_rows=1)
        y_val = check_targets(y_val, "y_val", X_val.shape[0])
    if patience is not None and not has_val:
        raise ValueError("patience needs validation data: pass X_val and y_val")
    every_epoch = check_bool(every_epoch, "every_epoch")
    if patience is not None and not every_epoch:
        raise ValueError("every_epoch must be True with patience: early stopping scores every epoch")
    # The rule tracks the best epoch of every run; it stops the run only when patience is given.
    rule = EarlyStopping(1 if patience is None else patience, min_delta)
    restore_best = check_bool(restore_best, "restore_best")

    history = History()
    best_state, last_penalty = None, None
    for epoch in range(1, epochs + 1):
        model.train()
        # A diverging run overflows before its output turns non-finite; it is flagged, not warned about.
        with np.errstate(over="ignore", invalid="ignore"):
            for idx in minibatches(X_train.shape[0], batch_size, rng):
                optimizer.zero_grad()
                out = model.forward(X_train[idx])
                if not np.all(np.isfinite(out)):
                    history.diverged = True
                    break
                _, dout = loss_fn(out, y_train[idx])
                model.backward(dout)
                if penalty is not None:
                    last_penalty = penalty()
                optimizer.step()
        if not (every_epoch or epoch == epochs or history.diverged):
            if callback is not None:
                callback(epoch, model, history)
            continue
        scores = None if history.diverged else _evaluate_if_finite(model, loss_fn, X_train, y_train)
        val_scores = _evaluate_if_finite(model, loss_fn, X_val, y_val) if has_val and scores else None
        if scores is None or (has_val and val_scores is None):
            history.diverged = True  # the weights after the last step give non-finite outputs
            if not every_epoch:
                history.epochs_run = epoch - 1
            break
        _record(history, scores, val_scores)
        if not every_epoch:
            history.epochs_run = epoch
        if penalty is not None:
            value = getattr(penalty, "value", None)
            history.penalty.append(float(value() if callable(value) else last_penalty))
        if has_val and every_epoch:  # with scores after the last epoch only, there is no best epoch
            stop = rule.update(val_scores[0])
            history.best_epoch = rule.best_epoch
            if patience is not None and restore_best and rule.best_epoch == epoch:
                best_state = model.state_dict()
            history.stopped_early = patience is not None and stop
        if callback is not None:
            callback(epoch, model, history)
        if history.stopped_early:
            break
    if best_state is not None:
        model.load_state_dict(best_state)
    model.train()
    return history


def _record(history, scores, val_scores):
    loss, acc = scores
    history.train_loss.append(loss)
    if acc is not None:
        history.train_acc.append(acc)
    if val_scores is not None:
        val_loss, val_acc = val_scores
        history.val_loss.append(val_loss)
        if val_acc is not None:
            history.val_acc.append(val_acc)
