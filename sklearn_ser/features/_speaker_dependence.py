"""The speaker-confound policy, in one place.

Where the speakers of a training set predict its labels (each speaker shows
one or a few emotions, as in many naturalistic corpora), three things change,
all decided here by :func:`is_speaker_confounded`:

* ``SpeakerStandardizer(mode="auto")`` normalises globally, not per speaker
  (per-speaker z-scores would remove emotion);
* a network's early stopping on held-out speakers warns
  (``InnerSplitWarning``: the held-out speakers take their emotions along);
* the command line's folds train their networks with the ``CONFOUNDED``
  settings of :mod:`sklearn_ser.experiments` (no speaker held out).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..annotations import HardLabels, align_annotations

#: From this speaker-label dependence on, speakers show one or a few emotions:
#: per-speaker z-scores remove emotion, held-out speakers take theirs away.
CONFOUND_THRESHOLD = 0.3


def training_labels(y, n, X=None):
    """Hard labels of ``y`` (annotation table, vote table or labels), or None.

    Returns ``(labels, why)``: an object array with None where a row has no
    consensus, or ``(None, reason)`` when ``y`` cannot be read as labels.
    """
    if y is None:
        return None, "no labels were given to fit"

    if isinstance(X, pd.DataFrame) and isinstance(y, pd.DataFrame | pd.Series):
        y = align_annotations(X, y)  # by id: an error names a mismatched one
    try:
        labels = HardLabels().fit(y).transform(y)
    except (ValueError, TypeError, KeyError) as e:
        return None, f"the labels could not be read ({type(e).__name__}: {e})"
    labels = np.array(labels, dtype=object)  # a writable copy
    if labels.ndim != 1 or len(labels) != n:
        return None, "the labels are not one per utterance"
    labels[pd.isna(labels)] = None
    return labels, None


def speaker_label_dependence(speakers, labels):
    """How much of the label uncertainty the speaker explains, in [0, 1].

    ``1 - H(label | speaker) / H(label)`` over the rows with a label: 0 when
    every speaker shows the label mix of the whole corpus, 1 when each speaker
    shows a single label. Rows whose label is None are left out.

    Examples
    --------
    >>> speaker_label_dependence(["a", "a", "b", "b"], ["x", "y", "x", "y"])
    0.0
    >>> speaker_label_dependence(["a", "a", "b", "b"], ["x", "x", "y", "y"])
    1.0
    """
    table = pd.DataFrame({"s": np.asarray(speakers, dtype=object),
                          "y": np.asarray(labels, dtype=object)}).dropna()
    if table.empty or table["y"].nunique() < 2:
        return float("nan")

    n = len(table)
    p = table["y"].value_counts().to_numpy(dtype=float) / n
    h = float(-(p * np.log(p)).sum())
    # H(label | speaker) = -sum n(s, y) / n * log(n(s, y) / n(s)), vectorised
    joint = table.groupby(["s", "y"]).size()
    per_speaker = joint.groupby(level="s").transform("sum")
    cond = float(-(joint / n * np.log(joint / per_speaker)).sum())
    return float(np.clip(1.0 - cond / h, 0.0, 1.0))


def is_speaker_confounded(speakers, labels, threshold=CONFOUND_THRESHOLD):
    """Whether the speakers predict the labels, and by how much.

    Returns ``(confounded, dependence)``: the :func:`speaker_label_dependence`
    of ``labels`` (None where a row has none) given ``speakers``, and whether
    it reaches ``threshold`` (False when it cannot be measured: fewer than
    two labels).

    Examples
    --------
    >>> is_speaker_confounded(["a", "a", "b", "b"], ["x", "x", "y", "y"])
    (True, 1.0)
    >>> is_speaker_confounded(["a", "a", "b", "b"], ["x", "y", "x", "y"])
    (False, 0.0)
    """
    dependence = speaker_label_dependence(speakers, labels)
    return bool(np.isfinite(dependence) and dependence >= threshold), dependence
