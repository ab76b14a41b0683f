"""The early-stopping splits of the networks: held-out speakers whose emotions
the training part shows too, ``refit=k`` folds of speakers, a meta-estimator's
fixed held-out rows."""

from __future__ import annotations

import numpy as np
import pandas as pd
from sklearn.model_selection import GroupShuffleSplit, ShuffleSplit
from sklearn.utils import check_random_state

from ..._warnings import ser_warn
from ...annotations import check_id_spellings
from ...exceptions import InnerSplitWarning
from ...features import is_speaker_confounded

#: Early-stopping splits tried for one whose validation emotions all occur in
#: its training part.
_SPLIT_TRIES = 20


def _speakers_of(X, groups):
    """The early-stopping groups: ``groups``, else X's ``speaker`` column;
    ids that differ only in case, spaces, Unicode form or invisible
    characters are refused (one speaker would be
    held out and trained on)."""
    if groups is None and isinstance(X, pd.DataFrame) and "speaker" in X.columns:
        groups = X["speaker"].to_numpy()
        what = "'speaker' value"
    else:
        what = "groups value"
    if groups is not None:
        check_id_spellings(groups, what, advice="in the speaker ids")
    return groups



class EarlyStoppingSplits:
    """The split methods of :class:`SequenceClassifier` (they read
    ``validation_fraction``, ``patience``, ``refit``, ``max_epochs`` and the
    fitted ``target_kind_``)."""

    def _inner_split(self, X, groups, keep, rng, targets=None):
        """Indices (within kept rows) for training and early-stopping validation."""
        n = int(keep.sum())
        all_idx = np.arange(n)
        if not self.validation_fraction or self.patience is None:
            return all_idx, None
        groups = _speakers_of(X, groups)
        seed = rng.randint(2**31 - 1)
        if groups is None:
            ser_warn(
                f"{type(self).__name__}: no speaker information (no 'speaker' column "
                "and no groups); the early-stopping validation holds out random "
                "utterances instead of whole speakers.",
                InnerSplitWarning,
            )
            if n < 4:
                return all_idx, None
            split = ShuffleSplit(1, test_size=self.validation_fraction,
                                 random_state=seed)
            tr, va = next(split.split(all_idx))
            return tr, va
        g = np.asarray(groups)[keep]
        if len(np.unique(g)) < 2:
            ser_warn(
                f"{type(self).__name__}: a single speaker/group in training; no "
                "early-stopping validation, training runs max_epochs.",
                InnerSplitWarning,
            )
            return all_idx, None
        self._check_confounded_split(g, targets)
        # held-out speakers whose emotions the other training speakers never
        # show would score the network on classes it cannot learn (their
        # loss only grows and stops training at once): among a few splits,
        # the first whose validation emotions all occur in its training
        # part, else the one that covers most, scored on the covered rows
        split = GroupShuffleSplit(_SPLIT_TRIES, test_size=self.validation_fraction,
                                  random_state=seed)
        best = None
        for tr, va in split.split(all_idx, groups=g):
            covered = self._covered(targets, tr, va)
            if best is None or covered.sum() > best[2].sum():
                best = (tr, va, covered)
            if covered.all():
                break
        tr, va, covered = best
        if not covered.any():
            ser_warn(
                f"{type(self).__name__}: no split of the {len(np.unique(g))} "
                "training speakers holds out one whose emotions the others show "
                "too (each shows emotions no one else does); no early-stopping "
                f"validation, training runs max_epochs={self.max_epochs}.",
                InnerSplitWarning,
            )
        return tr, va[covered]

    def _validation_splits(self, X, groups, keep, rng, targets=None, held=None):
        """[(train rows, validation rows or None)]: the early-stopping split,
        or with ``refit=k`` (an int) ``k`` folds of the training speakers,
        each held out once (validation rows of classes its training part
        lacks left out, as for one split).

        A meta-estimator may fix the held-out rows instead (``held``: a
        boolean mask over X's rows, which it sets as ``_held_out`` on its own
        clone before ``fit``, and ``fit`` takes once): they never train, and
        validate when this network early-stops. Its stacked second stage then
        early-stops on rows no first-stage model saw."""
        if held is not None:
            held = np.asarray(held, dtype=bool)[np.asarray(keep, dtype=bool)]
            tr, va = np.flatnonzero(~held), np.flatnonzero(held)
            if self.validation_fraction and self.patience is not None:
                va = va[self._covered(targets, tr, va)]
            else:
                va = va[:0]
            return [(tr, va if len(va) else None)]
        tr, va = self._inner_split(X, groups, keep, rng, targets)
        if va is not None and not len(va):
            va = None
        k = self.refit
        if va is None or isinstance(k, bool):
            return [(tr, va)]
        groups = _speakers_of(X, groups)
        if groups is None:  # random utterances (warned): one split
            return [(tr, va)]
        g = np.asarray(groups)[keep]
        speakers = np.unique(g)
        parts = np.array_split(check_random_state(rng.randint(2**31 - 1)).permutation(
            speakers), min(k, len(speakers)))
        out = []
        for part in parts:
            held = np.isin(g, part)
            tr, va = np.flatnonzero(~held), np.flatnonzero(held)
            va = va[self._covered(targets, tr, va)]
            if len(va):
                out.append((tr, va))
        return out or [(np.arange(len(g)), None)]

    def _covered(self, t, tr, va):
        """Which validation rows have a (strongest) class that the training
        rows have too (all rows for existence targets)."""
        if t is None or self.target_kind_ == "existence":
            return np.ones(len(va), dtype=bool)
        labels = t if np.ndim(t) == 1 else np.asarray(t).argmax(axis=1)
        return np.isin(labels[va], np.unique(labels[tr]))

    def _check_confounded_split(self, groups, t):
        """Warn when the held-out speakers would take their emotions along."""
        if t is None or self.target_kind_ == "existence" or self.refit:
            return  # refit: the held-out speakers only choose the epochs
        labels = t if t.ndim == 1 else np.asarray(t).argmax(axis=1)
        confounded, dep = is_speaker_confounded(groups, labels)
        if confounded:
            ser_warn(
                f"{type(self).__name__}: the speakers predict the training labels "
                f"(speaker explains {dep:.0%} of their entropy: speakers show one "
                "or a few emotions), so holding out whole speakers for early "
                "stopping removes emotions from training. Use refit=True (they "
                "choose the number of epochs, then every speaker trains for that "
                "many; see the documentation, \"Why the defaults are what they "
                "are\").",
                InnerSplitWarning,
            )
