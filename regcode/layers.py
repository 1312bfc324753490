"""Layers as objects with a train/eval mode, thin wrappers around the functional core.

A small, honest version of ``torch.nn``: every layer has ``forward(x)``
(also ``layer(x)``), ``backward(dout)`` which accumulates parameter
gradients into ``Parameter.grad`` and returns the gradient with respect to
the input, and ``train()`` / ``eval()``, which reach every nested layer.
:meth:`Module.modules`, :meth:`Module.named_parameters` and
:meth:`Module.state_dict` walk nested models as their torch namesakes do.
The arithmetic lives in :mod:`regcode.affine`, :mod:`regcode.dropout` and
:mod:`regcode.batchnorm`; the layers only hold state.

Shapes: inputs are (N, D) batches of N samples; ``Linear.weight`` has shape
(in_features, out_features), so a layer computes ``x @ weight + bias``.
"""

from __future__ import annotations

import numpy as np

from ._validation import check_array, check_dtype, check_int, check_rng, check_scalar
from .affine import _affine_backward, _affine_forward, _relu_backward, _relu_forward
from .batchnorm import (
    _batchnorm_backward,
    _batchnorm_forward,
    _batchnorm_inference,
    _batchnorm_inference_backward,
    _layernorm_backward,
    _layernorm_forward,
    _update_running_stats,
)
from .dropout import _dropout_backward, _dropout_forward


class Parameter:
    """A trainable array and its gradient.

    Parameters
    ----------
    data : ndarray of float32 or float64
        Initial values; the parameter keeps its own copy.
    decay : bool
        Whether weight decay should apply (False for biases and norm
        parameters; see :func:`regcode.optim.decay_groups`).

    Attributes
    ----------
    data : ndarray
        The values, updated in place by the optimisers.
    grad : ndarray or None
        Accumulated gradient; ``None`` after ``zero_grad``.
    decay : bool
    """

    def __init__(self, data, *, decay=True):
        self.data = check_array(data, "data").copy()
        self.grad = None
        self.decay = bool(decay)

    def accumulate(self, grad):
        """Add ``grad`` to ``self.grad`` (gradients add up until ``zero_grad``).

        The array passed in is never written to: the first gradient is kept as it is
        (the layers hand over arrays they have just computed, and copying 84k weights
        at every step would cost more than the step's products), and each later one
        is added into a new array.

        Parameters
        ----------
        grad : ndarray of the shape of ``data``
            Gradient of the loss with respect to ``data``.
        """
        self.grad = grad if self.grad is None else self.grad + grad

    def __getstate__(self):
        """What pickling keeps: the value and the decay flag, not the last gradient (as ``zero_grad``)."""
        return {**self.__dict__, "grad": None}

    def __repr__(self):
        return f"Parameter(shape={self.data.shape}, dtype={self.data.dtype}, decay={self.decay})"


class Module:
    """Base class: mode handling, traversal of nested layers, parameters and state.

    Subclasses list their parameter attributes in ``_param_names``, their
    buffers (non-trained arrays such as running statistics) in
    ``_buffer_names``, and return their direct sub-layers, with names, from
    :meth:`named_children`.

    Attributes
    ----------
    training : bool
        Training mode (True) or evaluation mode.
    """

    _param_names: tuple = ()
    _buffer_names: tuple = ()

    def __init__(self):
        self.training = True

    def __getstate__(self):
        """What pickling keeps: the parameters, buffers and settings, not the last forward pass's cache.

        A trained model sent back from a worker process (:func:`regcode.seeds.run_seeds`)
        then costs its weights, not also the activations of its last batch; after
        unpickling, ``backward`` needs a new ``forward``, as after ``__init__``.
        """
        state = self.__dict__.copy()
        if "_cache" in state:
            state["_cache"] = None
        if "_forward_done" in state:
            state["_forward_done"] = False
        return state

    def __call__(self, x):
        """Check ``x`` (float, finite) at the public boundary, then run :meth:`forward`.

        Inside a model the layers call each other's ``forward`` directly, so that
        a training run that diverges produces non-finite outputs (which
        :func:`regcode.train.fit` reports) instead of an error deep inside it.
        """
        return self.forward(check_array(x, "x"))

    def forward(self, x):  # pragma: no cover - abstract
        """Output of the layer for the batch ``x``; keeps what :meth:`backward` needs.

        Parameters
        ----------
        x : ndarray of shape (N, D)
            A batch of N samples.

        Returns
        -------
        out : ndarray
            The layer's output, N rows.
        """
        raise NotImplementedError

    def backward(self, dout):  # pragma: no cover - abstract
        """Gradient with respect to the input of the last ``forward``; accumulates parameter gradients.

        Parameters
        ----------
        dout : ndarray, same shape as the output of the last :meth:`forward`
            Gradient of the loss with respect to that output.

        Returns
        -------
        dx : ndarray, same shape as the input of the last :meth:`forward`
        """
        raise NotImplementedError

    def named_children(self):
        """Direct sub-layers as ``(name, layer)`` pairs (none for a leaf layer).

        Returns
        -------
        list of (str, Module)
            Empty here; containers such as :class:`Sequential` override it.
        """
        return []

    def named_modules(self, prefix=""):
        """This layer and every nested layer, depth first, as ``(name, layer)``; this one is ``""``.

        Parameters
        ----------
        prefix : str
            Name of this layer; a nested layer is named ``prefix.child`` (``child`` at the top).

        Yields
        ------
        name : str
            Dotted name, e.g. ``"0"`` or ``"block.1"``.
        module : Module
        """
        yield prefix, self
        for name, child in self.named_children():
            yield from child.named_modules(f"{prefix}.{name}" if prefix else name)

    def modules(self):
        """This layer and every nested layer, depth first (``torch.nn.Module.modules``).

        Returns
        -------
        list of Module
            This layer first.
        """
        return [module for _, module in self.named_modules()]

    def named_parameters(self):
        """Every parameter with its dotted name, e.g. ``("0.weight", Parameter)``, in order.

        Returns
        -------
        list of (str, Parameter)
        """
        return [
            (f"{name}.{attr}" if name else attr, getattr(module, attr))
            for name, module in self.named_modules()
            for attr in module._param_names
        ]

    def parameters(self):
        """All trainable parameters of this layer and its sub-layers, in order.

        Returns
        -------
        list of Parameter
            The order of :meth:`named_parameters`; pass it to an optimiser.
        """
        return [param for _, param in self.named_parameters()]

    def named_buffers(self):
        """Every buffer (e.g. ``"1.running_mean"``) with its array, in order.

        Returns
        -------
        list of (str, ndarray)
            The buffers themselves, not copies.
        """
        return [
            (f"{name}.{attr}" if name else attr, getattr(module, attr))
            for name, module in self.named_modules()
            for attr in module._buffer_names
        ]

    def train(self, mode=True):
        """Set training mode (``mode=True``) or evaluation mode, recursively. Returns self.

        Parameters
        ----------
        mode : bool
            True for training mode (dropout masks, batch statistics), False for evaluation mode.

        Returns
        -------
        Module
            ``self``, so that calls chain (``model.train()``, ``model.eval()(x)``).

        Examples
        --------
        >>> import numpy as np
        >>> model = mlp((4, 8, 2), np.random.default_rng(0), drop_prob=0.5)
        >>> [layer.training for layer in model.train(False).layers]
        [False, False, False, False]
        """
        for module in self.modules():
            module.training = bool(mode)
        return self

    def eval(self):
        """Set evaluation mode recursively. Returns self.

        Same as ``train(False)``.

        Returns
        -------
        Module
            ``self``.
        """
        return self.train(False)

    def zero_grad(self):
        """Forget the gradients of every parameter (set them to ``None``)."""
        for param in self.parameters():
            param.grad = None

    def state_dict(self):
        """Copies of every parameter and buffer, keyed by dotted name (``"0.weight"``, ``"1.running_var"``).

        Returns
        -------
        dict of str -> ndarray
        """
        state = {name: param.data.copy() for name, param in self.named_parameters()}
        state.update({name: buffer.copy() for name, buffer in self.named_buffers()})
        return state

    def load_state_dict(self, state):
        """Copy values from :meth:`state_dict` output back into this model, in place.

        Parameters
        ----------
        state : dict of str -> ndarray
            The keys and shapes of this model's :meth:`state_dict`.

        Raises
        ------
        ValueError
            If the keys differ from this model's, or a shape differs (nothing is copied then).
        """
        targets = {name: param.data for name, param in self.named_parameters()}
        targets.update(self.named_buffers())
        if set(targets) != set(state):
            raise ValueError(f"state must have keys {sorted(targets)}, got {sorted(state)}")
        for key, target in targets.items():  # check every shape before copying anything
            if np.shape(state[key]) != target.shape:
                raise ValueError(f"state[{key!r}] must have shape {target.shape}, got {np.shape(state[key])}")
        for key, target in targets.items():
            target[...] = state[key]

    def _check_input(self, x, width):
        """``x`` as a 2-D float array with ``width`` columns and this layer's dtype (non-finite allowed)."""
        x = check_array(x, "x", ndim=2, allow_nonfinite=True)
        if x.shape[1] != width:
            raise ValueError(f"x must have {width} columns for {type(self).__name__}, got shape {x.shape}")
        if x.dtype != self.dtype:
            raise TypeError(f"x must have dtype {self.dtype} to match the layer's parameters, got {x.dtype}")
        return x

    def _require_forward(self, cache):
        if cache is None:
            raise RuntimeError(f"{type(self).__name__}.backward called before forward")


class Linear(Module):
    r"""Fully connected layer :math:`y = x W + b` (:func:`regcode.affine.affine_forward`).

    Parameters
    ----------
    in_features, out_features : int >= 1
    rng : numpy.random.Generator
        Draws the initial weights.
    weight_std : float > 0, optional
        Standard deviation of the Gaussian initial weights. Default
        :math:`\sqrt{2/n_\text{in}}` with :math:`n_\text{in}` = ``in_features``
        (He et al., 2015), which keeps the activation scale constant through ReLU layers.
    bias : bool
        Whether to add a bias (initialised to 0).
    dtype : float32 or float64

    Attributes
    ----------
    weight : Parameter
        Shape (in_features, out_features).
    bias : Parameter or None
        Shape (out_features,), ``decay=False``.
    """

    # The backward kernel for the cache of forward: a subclass with another forward kernel swaps
    # in its pair (chapter 3's DropConnectLinear).
    _backward_kernel = staticmethod(_affine_backward)

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
        self._cache = None

    def forward(self, x):
        """``x @ weight + bias`` for ``x`` of shape (N, in_features).

        Wraps :func:`regcode.affine.affine_forward` and keeps its cache for :meth:`backward`.

        Parameters
        ----------
        x : ndarray of shape (N, in_features)
            Of the layer's dtype.

        Returns
        -------
        out : ndarray of shape (N, out_features)
        """
        x = self._check_input(x, self.in_features)
        bias = None if self.bias is None else self.bias.data
        out, self._cache = _affine_forward(x, self.weight.data, bias)
        return out

    def backward(self, dout):
        """Accumulate ``weight.grad`` and ``bias.grad``; return the gradient with respect to ``x``.

        Wraps :func:`regcode.affine.affine_backward`, with the cache of the last :meth:`forward`.

        Parameters
        ----------
        dout : ndarray of shape (N, out_features)
            Gradient of the loss with respect to the output.

        Returns
        -------
        dx : ndarray of shape (N, in_features)

        Raises
        ------
        RuntimeError
            If :meth:`forward` has not been called.
        """
        self._require_forward(self._cache)
        dx, dw, db = self._backward_kernel(dout, self._cache)
        self.weight.accumulate(dw)
        if self.bias is not None:
            self.bias.accumulate(db)
        return dx

    def __repr__(self):
        return f"Linear({self.in_features}, {self.out_features}, bias={self.bias is not None})"


class ReLU(Module):
    """Rectified linear unit :math:`\\max(x, 0)`, elementwise (:func:`regcode.affine.relu_forward`)."""

    def __init__(self):
        super().__init__()
        self._cache = None

    def forward(self, x):
        """``max(x, 0)``, elementwise (:func:`regcode.affine.relu_forward`).

        Parameters
        ----------
        x : ndarray of any shape

        Returns
        -------
        out : ndarray, same shape as ``x``
        """
        out, self._cache = _relu_forward(check_array(x, "x", allow_nonfinite=True))
        return out

    def backward(self, dout):
        """``dout`` where the input was positive, 0 elsewhere (:func:`regcode.affine.relu_backward`).

        Parameters
        ----------
        dout : ndarray, same shape as the input of the last :meth:`forward`

        Returns
        -------
        dx : ndarray, same shape as ``dout``

        Raises
        ------
        RuntimeError
            If :meth:`forward` has not been called.
        """
        self._require_forward(self._cache)
        return _relu_backward(dout, self._cache)

    def __repr__(self):
        return "ReLU()"


class Dropout(Module):
    """Inverted dropout layer; ``p`` is the DROP probability. Identity in eval mode.

    Parameters
    ----------
    p : float in [0, 1)
    rng : numpy.random.Generator
        Source of the masks; the layer draws a fresh mask at every training
        forward pass. Give it a stream of its own (:func:`regcode.seeds.streams`),
        so that the masks do not shift the initial weights or the batch order.

    Attributes
    ----------
    p : float
    rng : numpy.random.Generator
    """

    # The noise, as a forward/backward pair of kernels: a subclass with other
    # noise swaps in its own pair (chapter 3's GaussianDropout).
    _forward_kernel = staticmethod(_dropout_forward)
    _backward_kernel = staticmethod(_dropout_backward)

    def __init__(self, p, rng):
        super().__init__()
        self.p = check_scalar(p, "p", low=0, high=1, high_inclusive=False)
        self.rng = check_rng(rng)
        self._forward_done = False
        self._cache = None

    def forward(self, x):
        """Zero each entry with probability ``p`` and scale the rest by ``1/(1-p)`` (training mode).

        Wraps :func:`regcode.dropout.dropout_forward` with a fresh mask from ``rng``;
        the identity in evaluation mode.

        Parameters
        ----------
        x : ndarray of any shape, e.g. (N, D)

        Returns
        -------
        out : ndarray, same shape and dtype as ``x``
        """
        x = check_array(x, "x", allow_nonfinite=True)
        out, self._cache = self._forward_kernel(x, self.p, self.rng, self.training)
        self._forward_done = True
        return out

    def backward(self, dout):
        """The gradient through the mask of the last forward pass (never a new mask).

        Wraps :func:`regcode.dropout.dropout_backward`.

        Parameters
        ----------
        dout : ndarray, same shape as the input of the last :meth:`forward`

        Returns
        -------
        dx : ndarray, same shape as ``dout``

        Raises
        ------
        RuntimeError
            If :meth:`forward` has not been called.
        """
        if not self._forward_done:
            raise RuntimeError(f"{type(self).__name__}.backward called before forward")
        return self._backward_kernel(dout, self._cache)

    def __repr__(self):
        return f"{type(self).__name__}(p={self.p})"


class BatchNorm1d(Module):
    """Batch normalization over the batch axis of (N, D) inputs, as ``torch.nn.BatchNorm1d``.

    Training mode normalises with the batch mean and biased batch variance
    (:func:`regcode.batchnorm.batchnorm_forward`) and updates the running
    buffers (:func:`regcode.batchnorm.update_running_stats`)::

        running_mean = (1 - momentum) * running_mean + momentum * batch_mean
        running_var  = (1 - momentum) * running_var  + momentum * batch_var * N / (N - 1)

    Evaluation mode normalises with the running buffers.

    The training-mode kernels are the class attributes ``train_forward`` and
    ``train_backward``: a subclass can swap them for another pair with the
    same signatures (chapter 4 does, to run a wrong batch norm beside this one).

    Parameters
    ----------
    num_features : int >= 1
    eps : float > 0
    momentum : float in [0, 1]
        Weight of the new batch in the running averages (PyTorch's
        convention; Keras' ``momentum=0.99`` is ``1 - 0.01`` here).
    dtype : float32 or float64

    Attributes
    ----------
    gamma : Parameter
        Scale, shape (num_features,), initialised to 1, ``decay=False``.
    beta : Parameter
        Shift, shape (num_features,), initialised to 0, ``decay=False``.
    running_mean : ndarray
        Shape (num_features,), initialised to 0.
    running_var : ndarray
        Shape (num_features,), initialised to 1.
    num_batches_tracked : int
        Training-mode forward passes so far.
    """

    _param_names = ("gamma", "beta")
    _buffer_names = ("running_mean", "running_var")
    train_forward = staticmethod(_batchnorm_forward)
    train_backward = staticmethod(_batchnorm_backward)

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
        """Normalise ``x``: batch statistics in training mode, running statistics in evaluation mode.

        Training mode runs ``train_forward`` (:func:`regcode.batchnorm.batchnorm_forward`) and
        updates the running buffers; evaluation mode runs
        :func:`regcode.batchnorm.batchnorm_inference`.

        Parameters
        ----------
        x : ndarray of shape (N, num_features)
            Of the layer's dtype; N >= 2 in training mode.

        Returns
        -------
        out : ndarray of shape (N, num_features)

        Raises
        ------
        ValueError
            If ``x`` has one row in training mode.
        """
        x = self._check_input(x, self.num_features)
        self._cache_training = self.training
        if not self.training:
            out, self._cache = _batchnorm_inference(
                x, self.gamma.data, self.beta.data, self.running_mean, self.running_var, self.eps
            )
            return out
        if x.shape[0] < 2:
            raise ValueError(f"x must have at least 2 rows in training-mode batch norm, got shape {x.shape}")
        out, self._cache = self.train_forward(x, self.gamma.data, self.beta.data, self.eps)
        self.running_mean[...], self.running_var[...] = _update_running_stats(
            self.running_mean, self.running_var, self._cache.mean, self._cache.var, x.shape[0], self.momentum
        )
        self.num_batches_tracked += 1
        return out

    def backward(self, dout):
        """Accumulate ``gamma.grad`` and ``beta.grad``; return the gradient with respect to ``x``.

        Runs the backward pass of the mode of the last :meth:`forward`: ``train_backward``
        (:func:`regcode.batchnorm.batchnorm_backward`) or
        :func:`regcode.batchnorm.batchnorm_inference_backward`.

        Parameters
        ----------
        dout : ndarray of shape (N, num_features)

        Returns
        -------
        dx : ndarray of shape (N, num_features)

        Raises
        ------
        RuntimeError
            If :meth:`forward` has not been called.
        """
        self._require_forward(self._cache)
        backward = self.train_backward if self._cache_training else _batchnorm_inference_backward
        dx, dgamma, dbeta = backward(dout, self._cache)
        self.gamma.accumulate(dgamma)
        self.beta.accumulate(dbeta)
        return dx

    def __repr__(self):
        return f"{type(self).__name__}({self.num_features}, eps={self.eps}, momentum={self.momentum})"


class LayerNorm(Module):
    """Layer normalization over the features of each sample, as ``torch.nn.LayerNorm(D)``.

    Parameters
    ----------
    num_features : int >= 1
    eps : float > 0
    dtype : float32 or float64

    Attributes
    ----------
    gamma : Parameter
        Scale, shape (num_features,), initialised to 1, ``decay=False``.
    beta : Parameter
        Shift, shape (num_features,), initialised to 0, ``decay=False``.
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
        """Normalise each row of ``x`` over its features (the same in both modes).

        Wraps :func:`regcode.batchnorm.layernorm_forward`.

        Parameters
        ----------
        x : ndarray of shape (N, num_features)
            Of the layer's dtype.

        Returns
        -------
        out : ndarray of shape (N, num_features)
        """
        x = self._check_input(x, self.num_features)
        out, self._cache = _layernorm_forward(x, self.gamma.data, self.beta.data, self.eps)
        return out

    def backward(self, dout):
        """Accumulate ``gamma.grad`` and ``beta.grad``; return the gradient with respect to ``x``.

        Wraps :func:`regcode.batchnorm.layernorm_backward`.

        Parameters
        ----------
        dout : ndarray of shape (N, num_features)

        Returns
        -------
        dx : ndarray of shape (N, num_features)

        Raises
        ------
        RuntimeError
            If :meth:`forward` has not been called.
        """
        self._require_forward(self._cache)
        dx, dgamma, dbeta = _layernorm_backward(dout, self._cache)
        self.gamma.accumulate(dgamma)
        self.beta.accumulate(dbeta)
        return dx

    def __repr__(self):
        return f"LayerNorm({self.num_features}, eps={self.eps})"


class Sequential(Module):
    """Layers applied in order; ``backward`` runs them in reverse.

    Parameters
    ----------
    *layers : Module

    Attributes
    ----------
    layers : list of Module
        Named ``"0"``, ``"1"``, ... in :meth:`~Module.named_parameters` and :meth:`~Module.state_dict`.
    """

    def __init__(self, *layers):
        super().__init__()
        for i, layer in enumerate(layers):
            if not isinstance(layer, Module):
                raise TypeError(f"layers[{i}] must be a regcode Module, got {type(layer).__name__}")
        self.layers = list(layers)

    def named_children(self):
        """The layers, named by their position.

        Returns
        -------
        list of (str, Module)
            ``[("0", layers[0]), ("1", layers[1]), ...]``.
        """
        return [(str(i), layer) for i, layer in enumerate(self.layers)]

    def forward(self, x):
        """Run the layers in order, each on the output of the one before.

        Parameters
        ----------
        x : ndarray of shape (N, D)
            Input of the first layer.

        Returns
        -------
        out : ndarray
            Output of the last layer, N rows.
        """
        for layer in self.layers:
            x = layer.forward(x)
        return x

    def backward(self, dout):
        """Run the layers' backward passes in reverse order.

        Parameters
        ----------
        dout : ndarray, same shape as the output of the last :meth:`forward`

        Returns
        -------
        dx : ndarray, same shape as the input of the last :meth:`forward`
        """
        for layer in reversed(self.layers):
            dout = layer.backward(dout)
        return dout

    def __getitem__(self, i):
        return self.layers[i]

    def __len__(self):
        return len(self.layers)

    def __repr__(self):
        inner = ",\n  ".join(repr(layer).replace("\n", "\n  ") for layer in self.layers)
        return f"Sequential(\n  {inner}\n)"


def mlp(
    sizes,
    rng,
    *,
    drop_prob=0.0,
    dropout_rng=None,
    batchnorm=False,
    layernorm=False,
    weight_std=None,
    dtype=np.float64,
):
    """Build a ReLU multilayer perceptron.

    Each hidden block is ``Linear -> [BatchNorm1d | LayerNorm] -> ReLU -> [Dropout]``;
    the last layer is a plain ``Linear`` (logits). With a norm layer after
    it, the hidden ``Linear`` has no bias (the norm's ``beta`` replaces it).

    Parameters
    ----------
    sizes : sequence of int >= 1
        Widths from input to output, e.g. ``(64, 256, 256, 10)``.
    rng : numpy.random.Generator
        Draws the initial weights, layer by layer. The same generator state
        gives the same weights whatever ``drop_prob`` or the norm is.
    drop_prob : float in [0, 1)
        Dropout probability after each hidden activation (0: no dropout layer).
    dropout_rng : numpy.random.Generator, optional
        Source of the dropout masks, shared by the dropout layers. Default: a
        stream spawned from ``rng`` (``rng.spawn(1)[0]``), which does not
        consume ``rng``'s own stream.
    batchnorm, layernorm : bool
        Normalisation after each hidden ``Linear`` (at most one of them).
    weight_std : float > 0, optional
        Initial weight scale for every ``Linear`` (default: He initialisation).
    dtype : float32 or float64

    Returns
    -------
    Sequential

    Examples
    --------
    >>> import numpy as np
    >>> from regcode.seeds import streams
    >>> rngs = streams(0)
    >>> model = mlp((64, 32, 10), rngs.init, drop_prob=0.5, dropout_rng=rngs.dropout)
    >>> model
    Sequential(
      Linear(64, 32, bias=True),
      ReLU(),
      Dropout(p=0.5),
      Linear(32, 10, bias=True)
    )
    >>> [name for name, _ in model.named_parameters()]
    ['0.weight', '0.bias', '3.weight', '3.bias']
    """
    sizes = [check_int(s, f"sizes[{i}]", low=1) for i, s in enumerate(sizes)]
    if len(sizes) < 2:
        raise ValueError(f"sizes must list at least an input and an output width, got {sizes}")
    if batchnorm and layernorm:
        raise ValueError("batchnorm and layernorm cannot both be True")
    check_rng(rng)
    drop_prob = check_scalar(drop_prob, "drop_prob", low=0, high=1, high_inclusive=False)
    if drop_prob > 0:
        dropout_rng = rng.spawn(1)[0] if dropout_rng is None else check_rng(dropout_rng, "dropout_rng")
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
            layers.append(Dropout(drop_prob, dropout_rng))
    layers.append(Linear(sizes[-2], sizes[-1], rng, weight_std=weight_std, dtype=dtype))
    return Sequential(*layers)
