"""regcode: the numpy code behind *Regularization for Deep Neural Networks*.

In layers, each importing only the layers below it:

- core (numpy only): :mod:`regcode.penalties`, :mod:`regcode.linear_model`, :mod:`regcode.affine`,
  :mod:`regcode.dropout`, :mod:`regcode.batchnorm`, :mod:`regcode.losses`, :mod:`regcode.gradcheck`:
  forward/backward pairs, penalties, losses and solvers, as functions of arrays;
- objects: :mod:`regcode.layers`, :mod:`regcode.optim`, :mod:`regcode.train`, :mod:`regcode.seeds`:
  layers with a train/eval mode, optimisers, the training loop, random streams and runs over seeds;
- edges: :mod:`regcode.data` (the only module that imports scikit-learn), :mod:`regcode.plotting`
  and :mod:`regcode.book` (the only ones that import matplotlib), :mod:`regcode.checks` (lab checkers);
- :mod:`regcode.experiments`: one module per chapter, which nothing else imports.

``pyproject.toml`` states these layers as import-linter contracts; ``make lint`` enforces them.
"""

__version__ = "0.2.0"
