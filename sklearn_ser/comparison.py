"""Deprecated alias of :mod:`sklearn_ser.benchmark` (removed in 0.2).

The comparison protocol moved to the ``sklearn_ser.benchmark`` sub-package
with the same public names; importing this module says so once.
"""

import warnings

from . import benchmark as _benchmark
from .benchmark import *  # noqa: F403  (the same public names)

__all__ = list(_benchmark.__all__)

warnings.warn(
    "sklearn_ser.comparison is deprecated and will be removed in 0.2; import the "
    "same names from sklearn_ser.benchmark.", FutureWarning, stacklevel=2)
