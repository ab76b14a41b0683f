"""Ratings and the learning targets built from them.

:func:`from_long` turns a long ``item, rater, label`` table (one row per
rating) into *ratings*: a pandas Series of dtype ``"ratings"``, one element per
utterance, whose memory and time grow with the number of ratings (not with
utterances x raters, so crowds of thousands of raters fit). It is the ``y``
every estimator accepts, and scikit-learn's splitters slice it as any Series.
Also accepted wherever ratings are: the wide *annotation table* (one column per
rater, each cell the labels that rater chose; :func:`to_wide` /
:func:`to_ratings` convert both ways), vote-count tables and 1-D label arrays.

:func:`check_annotations` is the one boundary: every estimator, transformer
and scorer passes its ``y`` through it, once per fit; it returns *checked*
ratings (labels normalised and mapped, ids checked, aligned with ``X``) that
the components of a meta-estimator receive already parsed. Ambiguous tables
(numbers or True/False under columns that are not labels) are refused with
both readings named, never guessed.

The target encoders turn a table into what a model learns from:

* :class:`HardLabels`: majority vote, ties reported as no consensus;
* :class:`SoftLabels`: smoothed vote shares (Eq. 1 of Chou & Lee);
* :class:`ExistenceLabels`: multi-label emotion existence (Eq. 5 of Ando et al.);
* :class:`RaterLabels`: the targets of one rater;
* :class:`AggregatedLabels`: Dawid-Skene, GLAD, MACE... posteriors (crowd-kit).

Each encoder declares what it produces in ``target_kind`` (``"hard"``,
``"soft"`` or ``"existence"``); :func:`resolve_classes` is how classes are
decided.

:func:`infer_classes` says which classes a table gives (the labels that win a
majority somewhere).
"""

from . import _accessor  # noqa: F401  (registers the Series.ratings accessor)
from ._check import FORMS, check_annotations
from ._classes import resolve_classes
from ._crowd import (
    AGGREGATION_METHODS,
    AggregatedLabels,
    confusion_counts,
    simplex_projection,
)
from ._encoder_base import (
    TARGET_STATUSES,
    BaseTargetEncoder,
    missing_reasons,
    report_missing,
)
from ._existence import ExistenceLabels
from ._hard import HardLabels, infer_classes, rare_classes
from ._parse import check_id_spellings, n_parses
from ._rater_labels import RaterLabels, rater_counts, rater_profiles
from ._ratings import RatingsArray, RatingsDtype, is_ratings
from ._soft import SoftLabels
from ._table import (
    align_annotations,
    from_long,
    is_vote_table,
    select_raters,
    to_long,
    to_ratings,
    to_wide,
)
from ._vocabulary import (
    CANONICAL_EMOTIONS,
    IEMOCAP_LABEL_MAP,
    LABEL_ALIASES,
    build_label_map,
    canonical_label,
    check_label_spellings,
    check_names,
    is_missing_label,
    missing_label_mask,
    normalize_label,
    truth_labels,
)

__all__ = [
    "AGGREGATION_METHODS",
    "AggregatedLabels",
    "BaseTargetEncoder",
    "check_annotations",
    "is_missing_label",
    "CANONICAL_EMOTIONS",
    "IEMOCAP_LABEL_MAP",
    "LABEL_ALIASES",
    "RatingsArray",
    "RatingsDtype",
    "ExistenceLabels",
    "HardLabels",
    "RaterLabels",
    "SoftLabels",
    "from_long",
    "infer_classes",
    "rare_classes",
    "normalize_label",
    "rater_counts",
    "rater_profiles",
    "resolve_classes",
    "select_raters",
    "to_long",
    "to_ratings",
    "to_wide",
    "truth_labels",
]
