"""regcode: the numpy code behind *Regularization for Deep Neural Networks*.

One module per idea, named after the chapter that teaches it:

- :mod:`regcode.overfitting` - polynomial fits, bias-variance, early-stopping rule, double descent (chapter 1)
- :mod:`regcode.penalties`, :mod:`regcode.linear` - L1, L2, elastic net; ridge and lasso (chapter 2)
- :mod:`regcode.dropout` - inverted dropout (chapter 3)
- :mod:`regcode.batchnorm` - batch and layer normalisation (chapter 4)
- :mod:`regcode.layers`, :mod:`regcode.losses`, :mod:`regcode.optim`, :mod:`regcode.train` -
  a small neural-network toolkit with train/eval modes and early stopping
- :mod:`regcode.data`, :mod:`regcode.plotting`, :mod:`regcode.gradcheck` - data, figures, gradient checks
"""

__version__ = "0.1.0"
