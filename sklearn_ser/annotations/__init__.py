"""Annotation tables and the learning targets built from them.

An annotation table has one row per utterance and one column per rater; a cell
holds the labels that rater chose (several where multiple choice is allowed)
or nothing. :func:`from_long` builds one from a long ``item, rater, label``
table. Vote-count tables and 1-D label arrays are accepted as well.

The target encoders turn a table into what a model learns from:

* :class:`HardLabels`: majority vote, ties reported as no consensus;
* :class:`SoftLabels`: smoothed vote shares (Eq. 1 of Chou & Lee);
* :class:`ExistenceLabels`: multi-label emotion existence (Eq. 5 of Ando et al.);
* :class:`RaterLabels`: the targets of one rater.

:func:`infer_classes` says which classes a table gives (the labels that win a
majority somewhere).
"""

from ._encoders import (
    TARGET_STATUSES,
    ExistenceLabels,
    HardLabels,
    RaterLabels,
    SoftLabels,
    infer_classes,
    rater_counts,
)
from ._table import (
    align_annotations,
    from_long,
    is_vote_table,
    parse_annotations,
    to_long,
)
from ._vocabulary import (
    CANONICAL_EMOTIONS,
    IEMOCAP_LABEL_MAP,
    LABEL_ALIASES,
    normalize_label,
)

__all__ = [
    "CANONICAL_EMOTIONS",
    "IEMOCAP_LABEL_MAP",
    "LABEL_ALIASES",
    "TARGET_STATUSES",
    "ExistenceLabels",
    "HardLabels",
    "RaterLabels",
    "SoftLabels",
    "align_annotations",
    "from_long",
    "infer_classes",
    "is_vote_table",
    "normalize_label",
    "parse_annotations",
    "rater_counts",
    "to_long",
]
