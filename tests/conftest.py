"""Shared fixtures for the regcode test suite.

Every random choice in the tests comes from a seeded ``numpy.random.Generator``
(the ``rng`` fixture), so a failure reproduces exactly.
"""

import matplotlib
import matplotlib.pyplot as plt
import numpy as np
import pytest
from hypothesis import settings

# Headless figures: the plotting tests only inspect the Axes they get back.
matplotlib.use("Agg")

# Property tests stay fast (the whole unit suite runs in well under a minute), never
# time out on a busy 2-core machine (no deadline), draw the same examples on every run
# (derandomize: a failure reproduces) and write no example database into the checkout.
settings.register_profile("regcode", max_examples=30, deadline=None, derandomize=True, database=None)
settings.load_profile("regcode")


@pytest.fixture
def rng():
    """A freshly seeded generator for each test."""
    return np.random.default_rng(0)


@pytest.fixture(autouse=True)
def _close_figures():
    """Close every figure a test leaves open, so figures never pile up across tests."""
    yield
    plt.close("all")
