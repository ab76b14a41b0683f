"""Evaluation as the speech emotion papers report it, and against every rating.

:func:`unweighted_average_recall` (UAR/UA), :func:`weighted_accuracy` (WA),
:func:`per_class_report`, :func:`confusion_table`, and :func:`ser_scoring`, a
dict of scorers for ``cross_validate``/``GridSearchCV`` that take annotation
tables (scored against their hard majority) or plain labels as ``y``.

Against every rating (the raters' distribution, every rated utterance):
:func:`soft_log_loss`, :func:`jensen_shannon_divergence`,
:func:`soft_brier_score`, :func:`all_inclusive_f1` (EMO-SUPERB),
:func:`expected_calibration_error`, :func:`krippendorff_alpha` (the model as
one more rater) and :func:`agreement_report` (every score per agreement
level); ``ser_scoring`` offers them as scorers.
"""

from ._distribution import (
    AgreementScores,
    agreement_levels,
    agreement_report,
    all_inclusive_f1,
    class_probabilities,
    expected_calibration_error,
    jensen_shannon_divergence,
    krippendorff_alpha,
    soft_brier_score,
    soft_log_loss,
    vote_shares,
)
from ._metrics import (
    confusion_table,
    per_class_report,
    unweighted_average_recall,
    weighted_accuracy,
)
from ._scorer import ProbaScorer, SERScorer, UARScoreMixin, ser_scoring

__all__ = [
    "AgreementScores",
    "agreement_levels",
    "ProbaScorer",
    "SERScorer",
    "agreement_report",
    "all_inclusive_f1",
    "expected_calibration_error",
    "jensen_shannon_divergence",
    "krippendorff_alpha",
    "soft_brier_score",
    "soft_log_loss",
    "confusion_table",
    "per_class_report",
    "ser_scoring",
    "unweighted_average_recall",
    "weighted_accuracy",
]
