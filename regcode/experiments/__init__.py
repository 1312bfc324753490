"""The experiments of the chapters, one module per chapter, above the rest of regcode.

They build on the core, the layers and the data, and nothing in regcode imports them:

- :mod:`regcode.experiments.ch1_overfitting` - polynomial fits, learning curves, bias-variance, a small
  MLP trained with SGD or full batch (early stopping, implicit regularisation, a sharpness proxy),
  random-feature double descent
- :mod:`regcode.experiments.ch2_penalties` - subgradient against proximal descent, cross-validation of
  lambda, input noise as ridge, the digits network with weight decay, L1, augmentation, max-norm,
  Adam + L2, AdamW and batch norm
- :mod:`regcode.experiments.ch3_dropout` - networks with dropout and its variants (Gaussian dropout,
  DropConnect, max-norm), ensemble members and bootstrap resamples, Monte Carlo dropout, the weight
  decay of Gal & Ghahramani, two wrong backward passes
- :mod:`regcode.experiments.ch4_normalization` - a wrong batch norm, momentum conventions, variance
  shift, recalibration, folding batch norm for inference, fine-tuning with frozen or updated statistics
- :mod:`regcode.experiments.ch5_faq` - the FAQ's measurements: a classifier per seed, ridge with an
  intercept, the one-standard-error rule, the time of a training step, temperature scaling
"""
