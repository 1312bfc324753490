"""Layers as objects with a train/eval mode, built on the functional core.

A small, honest version of ``torch.nn``: every layer has ``forward(x)``
(also ``layer(x)``), ``backward(dout)`` which accumulates parameter
gradients into ``Parameter.grad`` and returns the gradient with respect to
the input, ``parameters()``, and ``train()`` / ``eval()`` which reach every
nested layer. The arithmetic lives in :mod:`regcode.dropout` and
:mod:`regcode.batchnorm`; the layers only hold state.

Shapes: inputs are (N, D) batches of N samples; ``Linear.weight`` has shape
(in_features, out_features), so a layer computes ``x @ weight + bias``.
"""

from __future__ import annotations

import numpy as np

from ._validation import check_array, check_dtype, check_int, check_rng, check_scalar
from .batchnorm import (
    _batchnorm_backward,
    _batchnorm_backward_second_moment,
    _batchnorm_forward,
    _batchnorm_forward_second_moment,
    _batchnorm_inference,
    _batchnorm_inference_backward,
    _layernorm_backward,
    _layernorm_forward,
    _update_running_stats,
)
from .dropout import _dropout_backward, _dropout_forward

_FLOAT_DTYPES = (np.dtype(np.float32), np.dtype(np.float64))


def _float_array(x):
    """``check_array(x, "x", allow_nonfinite=True)``, answered at once for a float32/float64 ndarray."""
    if type(x) is np.ndarray and (x.dtype is _FLOAT_DTYPES[0] or x.dtype is _FLOAT_DTYPES[1]):
        return x
    return check_array(x, "x", allow_nonfinite=True)


class Parameter:
    """A trainable array and its gradient.

    Attributes
    ----------
    data : ndarray
        The values, updated in place by the optimisers.
    grad : ndarray or None
        Accumulated gradient; ``None`` after ``zero_grad``.
    decay : bool
        Whether weight decay should apply (False for biases and norm
        parameters; see :func:`regcode.optim.decay_groups`).
    """

    def __init__(self, data, *, decay=True):
        self.data = check_array(data, "data")
        self.grad = None
        self.decay = bool(decay)

    def accumulate(self, grad):
        """Add ``grad`` to ``self.grad`` (gradients add up until ``zero_grad``)."""
        if self.grad is None:
            self.grad = grad
        else:
            self.grad = self.grad + grad

    def __repr__(self):
        return f"Parameter(shape={self.data.shape}, dtype={self.data.dtype}, decay={self.decay})"


class Module:
    """Base class: mode handling, parameter and buffer traversal, state."""

    _param_names: tuple = ()
    _buffer_names: tuple = ()

    def __init__(self):
        self.training = True

    def __call__(self, x):
        """Check ``x`` (float, finite) at the public boundary, then run :meth:`forward`.

        Inside a :class:`Sequential` the layers call each other's ``forward``
        directly, so that a training run that diverges produces non-finite
        outputs (which :func:`regcode.train.fit` reports) instead of an error
        deep inside the network.
        """
        return self.forward(check_array(x, "x"))

    def forward(self, x):  # pragma: no cover - abstract
        raise NotImplementedError

    def backward(self, dout):  # pragma: no cover - abstract
        raise NotImplementedError

    def children(self):
        """Direct sub-layers (none for a leaf layer)."""
        return []

    def parameters(self):
        """All trainable parameters of this layer and its sub-layers, in order."""
        params = [getattr(self, name) for name in self._param_names]
        for child in self.children():
            params.extend(child.parameters())
        return params

    def train(self, mode=True):
        """Set training mode (``mode=True``) or evaluation mode, recursively. Returns self."""
        self.training = bool(mode)
        for child in self.children():
            child.train(mode)
        return self

    def eval(self):
        """Set evaluation mode recursively. Returns self."""
        return self.train(False)

    def zero_grad(self):
        for param in self.parameters():
            param.grad = None

    def state_dict(self):
        """Copies of every parameter and buffer, keyed by position: ``{"0.weight": ...}``."""
        state = {name: getattr(self, name).data.copy() for name in self._param_names}
        state.update({name: getattr(self, name).copy() for name in self._buffer_names})
        for i, child in enumerate(self.children()):
            state.update({f"{i}.{k}": v for k, v in child.state_dict().items()})
        return state

    def load_state_dict(self, state):
        """Copy values from :meth:`state_dict` output back into this model, in place."""
        own = self.state_dict()
        if set(own) != set(state):
            raise ValueError(f"state must have keys {sorted(own)}, got {sorted(state)}")
        for key, value in own.items():  # check every shape before copying anything (no broadcasting)
            if np.shape(state[key]) != value.shape:
                raise ValueError(f"state[{key!r}] must have shape {value.shape}, got {np.shape(state[key])}")
        self._load(state, "")

    def _load(self, state, prefix):
        for name in self._param_names:
            getattr(self, name).data[...] = state[prefix + name]
        for name in self._buffer_names:
            getattr(self, name)[...] = state[prefix + name]
        for i, child in enumerate(self.children()):
            child._load(state, f"{prefix}{i}.")

    def _check_input(self, x, width):
        if type(x) is np.ndarray and x.ndim == 2 and x.shape[1] == width and x.dtype == self.dtype:
            return x  # what the checks below accept anyway; skipping them saves time in training loops
        x = check_array(x, "x", ndim=2, allow_nonfinite=True)
        if x.shape[1] != width:
            raise ValueError(f"x must have {width} columns for {type(self).__name__}, got shape {x.shape}")
        if x.dtype != self.dtype:
            raise TypeError(f"x must have dtype {self.dtype} to match the layer's parameters, got {x.dtype}")
        return x


class Linear(Module):
    r"""Fully connected layer :math:`y = x W + b`.

    Parameters
    ----------
    in_features, out_features : int >= 1
    rng : numpy.random.Generator
        Draws the initial weights.
    weight_std : float > 0, optional
        Standard deviation of the Gaussian initial weights. Default
        :math:`\sqrt{2/\text{in\_features}}` (He et al., 2015), which keeps the
        activation scale constant through ReLU layers.
    bias : bool
        Whether to add a bias (initialised to 0).
    dtype : float32 or float64

    Attributes
    ----------
    weight : Parameter of shape (in_features, out_features)
    bias : Parameter of shape (out_features,) or None (``decay=False``)
    """

    def __init__(self, in_features, out_features, rng, *, weight_std=None, bias=True, dtype=np.float64):
        super().__init__()
        self.in_features = check_int(in_features, "in_features", low=1)
        self.out_features = check_int(out_features, "out_features", low=1)
        check_rng(rng)
        self.dtype = check_dtype(dtype)
        if weight_std is None:
            weight_std = np.sqrt(2.0 / self.in_features)
        weight_std = check_scalar(weight_std, "weight_std", low=0, low_inclusive=False)
        w = rng.standard_normal((self.in_features, self.out_features)) * weight_std
        self.weight = Parameter(w.astype(self.dtype))
        self.bias = Parameter(np.zeros(self.out_features, dtype=self.dtype), decay=False) if bias else None
        self._param_names = ("weight", "bias") if bias else ("weight",)
        self._x = None

    def forward(self, x):
        x = self._check_input(x, self.in_features)
        self._x = x
        out = x @ self.weight.data
        if self.bias is not None:
            out += self.bias.data
        return out

    def backward(self, dout):
        if self._x is None:
            raise RuntimeError("backward called before forward")
        self.weight.accumulate(self._x.T @ dout)
        if self.bias is not None:
            self.bias.accumulate(dout.sum(axis=0))
        return dout @ self.weight.data.T

    def __repr__(self):
        return f"Linear({self.in_features}, {self.out_features}, bias={self.bias is not None})"


class ReLU(Module):
    """Rectified linear unit :math:`\\max(x, 0)`, elementwise."""

    def forward(self, x):
        x = _float_array(x)
        self._mask = x > 0
        return x * self._mask

    def backward(self, dout):
        return dout * self._mask

    def __repr__(self):
        return "ReLU()"


class Dropout(Module):
    """Inverted dropout layer; ``p`` is the DROP probability. Identity in eval mode.

    Parameters
    ----------
    p : float in [0, 1)
    rng : numpy.random.Generator
        Source of the masks; the layer draws a fresh mask at every training forward pass.
    """

    def __init__(self, p, rng):
        super().__init__()
        self.p = check_scalar(p, "p", low=0, high=1, high_inclusive=False)
        self.rng = check_rng(rng)
        self._cache = None

    def forward(self, x):
        x = _float_array(x)
        out, self._cache = _dropout_forward(x, self.p, self.rng, self.training)
        return out

    def backward(self, dout):
        return _dropout_backward(dout, self._cache)

    def __repr__(self):
        return f"Dropout(p={self.p})"


class BatchNorm1d(Module):
    """Batch normalization over the batch axis of (N, D) inputs, as ``torch.nn.BatchNorm1d``.

    Training mode normalises with the batch mean and biased batch variance
    and updates the running buffers::

        running_mean = (1 - momentum) * running_mean + momentum * batch_mean
        running_var  = (1 - momentum) * running_var  + momentum * batch_var * N / (N - 1)

    Evaluation mode normalises with the running buffers.

    Parameters
    ----------
    num_features : int
    eps : float > 0
    momentum : float in [0, 1]
        Weight of the new batch in the running averages (PyTorch's
        convention; Keras' ``momentum=0.99`` is ``1 - 0.01`` here).
    dtype : float32 or float64

    Attributes
    ----------
    gamma, beta : Parameter of shape (num_features,), initialised to 1 and 0, ``decay=False``
    running_mean, running_var : ndarray of shape (num_features,), initialised to 0 and 1
    num_batches_tracked : int
    """

    _param_names = ("gamma", "beta")
    _buffer_names = ("running_mean", "running_var")
    # Training-mode forward and backward; SecondMomentBatchNorm1d swaps in the wrong pair.
    _train_forward = staticmethod(_batchnorm_forward)
    _train_backward = staticmethod(_batchnorm_backward)

    def __init__(self, num_features, eps=1e-5, momentum=0.1, *, dtype=np.float64):
        super().__init__()
        self.num_features = check_int(num_features, "num_features", low=1)
        self.eps = check_scalar(eps, "eps", low=0, low_inclusive=False)
        self.momentum = check_scalar(momentum, "momentum", low=0, high=1)
        self.dtype = check_dtype(dtype)
        self.gamma = Parameter(np.ones(num_features, dtype=self.dtype), decay=False)
        self.beta = Parameter(np.zeros(num_features, dtype=self.dtype), decay=False)
        self.running_mean = np.zeros(num_features, dtype=self.dtype)
        self.running_var = np.ones(num_features, dtype=self.dtype)
        self.num_batches_tracked = 0
        self._cache = None
        self._cache_training = True

    def forward(self, x):
        x = self._check_input(x, self.num_features)
        self._cache_training = self.training
        if self.training:
            if x.shape[0] < 2:
                raise ValueError(
                    f"x must have at least 2 rows in training-mode batch norm, got shape {x.shape}"
                )
            out, self._cache = self._train_forward(x, self.gamma.data, self.beta.data, self.eps)
            self.running_mean, self.running_var = _update_running_stats(
                self.running_mean,
                self.running_var,
                self._cache.mean,
                self._cache.var,
                x.shape[0],
                self.momentum,
            )
            self.num_batches_tracked += 1
            return out
        out, self._cache = _batchnorm_inference(
            x, self.gamma.data, self.beta.data, self.running_mean, self.running_var, self.eps
        )
        return out

    def backward(self, dout):
        if self._cache is None:
            raise RuntimeError("backward called before forward")
        grad_fn = self._train_backward if self._cache_training else _batchnorm_inference_backward
        dx, dgamma, dbeta = grad_fn(dout, self._cache)
        self.gamma.accumulate(dgamma)
        self.beta.accumulate(dbeta)
        return dx

    def __repr__(self):
        return f"BatchNorm1d({self.num_features}, eps={self.eps}, momentum={self.momentum})"


class LayerNorm(Module):
    """Layer normalization over the features of each sample, as ``torch.nn.LayerNorm(D)``.

    Parameters
    ----------
    num_features : int
    eps : float > 0
    dtype : float32 or float64
    """

    _param_names = ("gamma", "beta")

    def __init__(self, num_features, eps=1e-5, *, dtype=np.float64):
        super().__init__()
        self.num_features = check_int(num_features, "num_features", low=1)
        self.eps = check_scalar(eps, "eps", low=0, low_inclusive=False)
        self.dtype = check_dtype(dtype)
        self.gamma = Parameter(np.ones(num_features, dtype=self.dtype), decay=False)
        self.beta = Parameter(np.zeros(num_features, dtype=self.dtype), decay=False)
        self._cache = None

    def forward(self, x):
        x = self._check_input(x, self.num_features)
        out, self._cache = _layernorm_forward(x, self.gamma.data, self.beta.data, self.eps)
        return out

    def backward(self, dout):
        if self._cache is None:
            raise RuntimeError("backward called before forward")
        dx, dgamma, dbeta = _layernorm_backward(dout, self._cache)
        self.gamma.accumulate(dgamma)
        self.beta.accumulate(dbeta)
        return dx

    def __repr__(self):
        return f"LayerNorm({self.num_features}, eps={self.eps})"


class Sequential(Module):
    """Layers applied in order; ``backward`` runs them in reverse.

    Attributes
    ----------
    layers : list of Module
    """

    def __init__(self, *layers):
        super().__init__()
        for i, layer in enumerate(layers):
            if not isinstance(layer, Module):
                raise TypeError(f"layers[{i}] must be a regcode Module, got {type(layer).__name__}")
        self.layers = list(layers)

    def children(self):
        return self.layers

    def forward(self, x):
        for layer in self.layers:
            x = layer.forward(x)
        return x

    def backward(self, dout):
        for layer in reversed(self.layers):
            dout = layer.backward(dout)
        return dout

    def __getitem__(self, i):
        return self.layers[i]

    def __len__(self):
        return len(self.layers)

    def __repr__(self):
        inner = ",\n  ".join(repr(layer) for layer in self.layers)
        return f"Sequential(\n  {inner}\n)"


def mlp(sizes, rng, *, drop_prob=0.0, batchnorm=False, layernorm=False, weight_std=None, dtype=np.float64):
    """Build a ReLU multilayer perceptron.

    Each hidden block is ``Linear -> [BatchNorm1d | LayerNorm] -> ReLU -> [Dropout]``;
    the last layer is a plain ``Linear`` (logits). With a norm layer after
    it, the hidden ``Linear`` has no bias (the norm's ``beta`` replaces it).

    Parameters
    ----------
    sizes : sequence of int
        Widths from input to output, e.g. ``(64, 256, 256, 10)``.
    rng : numpy.random.Generator
        Initial weights and dropout masks.
    drop_prob : float in [0, 1)
        Dropout probability after each hidden activation (0: no dropout layer).
    batchnorm, layernorm : bool
        Normalisation after each hidden ``Linear`` (at most one of them).
    weight_std : float, optional
        Initial weight scale for every ``Linear`` (default: He initialisation).
    dtype : float32 or float64

    Returns
    -------
    Sequential
    """
    sizes = [check_int(s, "sizes[i]", low=1) for s in sizes]
    if len(sizes) < 2:
        raise ValueError(f"sizes must list at least an input and an output width, got {sizes}")
    if batchnorm and layernorm:
        raise ValueError("batchnorm and layernorm cannot both be True")
    drop_prob = check_scalar(drop_prob, "drop_prob", low=0, high=1, high_inclusive=False)
    layers = []
    for fan_in, fan_out in zip(sizes[:-2], sizes[1:-1], strict=True):
        norm = batchnorm or layernorm
        layers.append(Linear(fan_in, fan_out, rng, weight_std=weight_std, bias=not norm, dtype=dtype))
        if batchnorm:
            layers.append(BatchNorm1d(fan_out, dtype=dtype))
        if layernorm:
            layers.append(LayerNorm(fan_out, dtype=dtype))
        layers.append(ReLU())
        if drop_prob > 0:
            layers.append(Dropout(drop_prob, rng))
    layers.append(Linear(sizes[-2], sizes[-1], rng, weight_std=weight_std, dtype=dtype))
    return Sequential(*layers)


class SecondMomentBatchNorm1d(BatchNorm1d):
    """WRONG ON PURPOSE: :class:`BatchNorm1d` with the source article's mistake, for chapter 4 only.

    In training mode it divides by :math:`\\sqrt{E[x^2] + \\varepsilon}` instead of the
    batch standard deviation (:func:`regcode.batchnorm.batchnorm_forward_second_moment`)
    and back-propagates the exact gradient of that wrong forward pass. Its running
    "variance" averages :math:`E[x^2]` (times N/(N-1), as the correct layer does), so
    evaluation mode makes the same mistake consistently. Same parameters as BatchNorm1d.
    """

    _train_forward = staticmethod(_batchnorm_forward_second_moment)
    _train_backward = staticmethod(_batchnorm_backward_second_moment)

    def __repr__(self):
        return f"SecondMomentBatchNorm1d({self.num_features}, eps={self.eps}, momentum={self.momentum})"
