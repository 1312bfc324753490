"""The experiments of the chapters, one module per chapter, above the rest of regcode.

They build on the core, the layers and the data, and nothing in regcode imports them:

- :mod:`regcode.experiments.ch1_overfitting` - polynomial fits, learning curves, bias-variance, double descent
- :mod:`regcode.experiments.ch2_penalties` - subgradient against proximal descent, cross-validation of lambda
- :mod:`regcode.experiments.ch3_dropout` - Monte Carlo dropout
- :mod:`regcode.experiments.ch4_normalization` - a wrong batch norm, momentum conventions, recalibration
- :mod:`regcode.experiments.ch5_faq` - the FAQ's measurements: a classifier per seed, ridge with an intercept,
  the one-standard-error rule, the time of a training step
"""
