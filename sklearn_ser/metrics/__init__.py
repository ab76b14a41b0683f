"""Evaluation as the speech emotion papers report it.

:func:`unweighted_average_recall` (UAR/UA), :func:`weighted_accuracy` (WA),
:func:`per_class_report`, :func:`confusion_table`, and :func:`ser_scoring`, a
dict of scorers for ``cross_validate``/``GridSearchCV`` that take annotation
tables (scored against their hard majority) or plain labels as ``y``.
"""

from ._metrics import (
    confusion_table,
    per_class_report,
    unweighted_average_recall,
    weighted_accuracy,
)
from ._scorer import SERScorer, UARScoreMixin, ser_scoring

__all__ = [
    "SERScorer",
    "UARScoreMixin",
    "confusion_table",
    "per_class_report",
    "ser_scoring",
    "unweighted_average_recall",
    "weighted_accuracy",
]
