"""Hard majority labels (:class:`HardLabels`) and the classes the majorities
give (:func:`infer_classes`, :func:`rare_classes`)."""

from __future__ import annotations

import numbers

import numpy as np
import pandas as pd
from sklearn.utils import check_random_state
from sklearn.utils._param_validation import StrOptions

from ..exceptions import AnnotationError
from ._encoder_base import BaseTargetEncoder
from ._vocabulary import (
    check_names,
)


class HardLabels(BaseTargetEncoder):
    """Majority-vote (hard) labels, with ties reported as no consensus.

    The vote counts every label a rater chose (``votes="all"``, each rater at
    most once per label) or only each rater's first choice (``votes="first"``,
    the conventional hard label). The majority is taken over *all* labels,
    target or not; a row whose winning label is not a target class has no
    target emotion.

    Parameters
    ----------
    classes : array-like of str, default=None
        Target classes. By default every label seen in ``fit`` except
        ``"other"``.
    label_map : dict or "iemocap", default=None
        Labels counted as another label, e.g. ``{"excitement": "happiness"}``
        (``"iemocap"`` is that map). Keys and values are normalised first.
    votes : {"all", "first"}, default="all"
        Count every rating of a rater, or only first choices.
    rule : {"plurality", "absolute"}, default="plurality"
        ``"plurality"``: the label with strictly more votes than any other
        (CREMA-D's ``emoVote``). ``"absolute"``: that label must also be chosen
        by more than half of the raters of the row.
    tie_break : {"none", "first_choice", "random"}, default="none"
        What to do when labels tie for the most votes. ``"none"`` reports the
        row as a tie (no consensus; the papers' protocol). ``"first_choice"``
        recounts the tied labels with first choices only and keeps a unique
        winner, else reports a tie. ``"random"`` draws one of the tied labels
        with ``random_state`` (an explicit guess; use only if you mean it).
    strict : bool, default=False
        Raise on labels that are neither known emotions, nor ``classes``, nor
        keys of ``label_map``.
    random_state : int, RandomState or None, default=None
        Used by ``tie_break="random"`` only.

    Attributes
    ----------
    classes_ : ndarray
        Sorted target classes.
    label_map_ : dict
        The normalised label map.

    Examples
    --------
    >>> import pandas as pd
    >>> table = pd.DataFrame({"E1": [("sad",), ("Neutral state",), ("angry",)],
    ...                       "E2": [("sad", "angry"), ("neu",), ("happy",)]},
    ...                      index=["u1", "u2", "u3"])
    >>> HardLabels().fit_transform(table).tolist()
    ['sadness', 'neutral', nan]
    >>> HardLabels().fit(table).target_status(table).tolist()
    ['ok', 'ok', 'tie']
    """

    _parameter_constraints: dict = {
        **BaseTargetEncoder._parameter_constraints,
        "rule": [StrOptions({"plurality", "absolute"})],
        "tie_break": [StrOptions({"none", "first_choice", "random"})],
        "random_state": ["random_state"],
    }

    def __init__(
        self,
        classes=None,
        *,
        label_map=None,
        votes="all",
        rule="plurality",
        tie_break="none",
        strict=False,
        random_state=None,
    ):
        super().__init__(classes, label_map=label_map, votes=votes, strict=strict)
        self.rule = rule
        self.tie_break = tie_break
        self.random_state = random_state

    def _decide(self, ratings):
        """Winning label position among ``ratings.labels`` (-1: none) and status."""
        a = ratings.array
        counts = a.counts(self.votes)
        n = len(a)
        n_raters = a.n_raters()
        winner = np.full(n, -1, dtype=int)
        status = np.full(n, "ok", dtype=object)
        top = counts.max(axis=1) if counts.shape[1] else np.zeros(n)
        rated = top > 0
        status[~rated] = "unrated"
        is_top = (counts == top[:, None]) & rated[:, None]
        n_top = is_top.sum(axis=1)
        unique = rated & (n_top == 1)
        winner[unique] = counts[unique].argmax(axis=1)
        tied = np.flatnonzero(rated & (n_top > 1))
        if len(tied) and self.tie_break == "first_choice":
            # recount the tied labels with first choices only
            sub = np.where(is_top[tied], a.counts("first")[tied], -1.0)
            best = sub.max(axis=1, keepdims=True)
            unique_best = (sub == best).sum(axis=1) == 1
            winner[tied[unique_best]] = sub[unique_best].argmax(axis=1)
        elif len(tied) and self.tie_break == "random":
            rng = check_random_state(self.random_state)
            for i in tied:
                winner[i] = rng.choice(np.flatnonzero(is_top[i]))
        status[(winner < 0) & rated] = "tie"
        if self.rule == "absolute":
            won = winner >= 0
            votes_for = np.where(won, counts[np.arange(n), np.maximum(winner, 0)], 0)
            weak = won & ~(votes_for > n_raters / 2)
            winner[weak] = -1
            status[weak] = "no_majority"
        target_pos = {lab: k for k, lab in enumerate(a.vocabulary)}
        class_cols = {target_pos[c] for c in self.classes_ if c in target_pos}
        not_target = (winner >= 0) & ~np.isin(winner, list(class_cols))
        status[not_target] = "no_target"
        winner[not_target] = -1
        return winner, status

    def transform(self, X):
        """Hard label per utterance (NaN where there is none).

        Parameters
        ----------
        X : annotation table, vote-count table or 1-D labels

        Returns
        -------
        labels : pandas.Series
            Indexed like ``X``; values in ``classes_`` or NaN.
        """
        ratings = self._ratings(X)
        winner, _ = self._decide(ratings)
        labels = np.array(ratings.array.vocabulary + [np.nan], dtype=object)[winner]
        numeric = all(isinstance(c, numbers.Number) for c in self.classes_)
        return pd.Series(labels, index=ratings.index, name="label",
                         dtype=float if numeric else object)

    def _class_codes(self, X):
        """``(codes, status)``: each row's position in ``classes_`` (-1
        where it has no target) and why, from one vote: a network's targets
        without a round trip through the label strings."""
        ratings = self._ratings(X)
        winner, status = self._decide(ratings)
        pos = {c: k for k, c in enumerate(self.classes_)}
        lookup = np.array([pos.get(v, -1) for v in ratings.array.vocabulary] + [-1],
                          dtype=np.int64)
        return lookup[winner], status

    def target_status(self, X):
        """Why each row has or lacks a target.

        Returns
        -------
        status : pandas.Series
            One of ``"ok"``, ``"tie"`` (labels tie for the most votes),
            ``"no_majority"`` (``rule="absolute"`` not met), ``"no_target"``
            (the winner is not a target class) or ``"unrated"``.
        """
        ratings = self._ratings(X)
        _, status = self._decide(ratings)
        return pd.Series(status, index=ratings.index, name="status")

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.non_deterministic = self.tie_break == "random"
        return tags


def rare_classes(classes, counts):
    """The classes present in ``counts`` below a quarter of an even share.

    The rule of ``infer_classes(min_share="auto")``, for counts of a training
    set (majorities, or utterances whose raters chose the class).

    Parameters
    ----------
    classes : sequence of str
    counts : array-like of float, one per class

    Returns
    -------
    dict
        class -> its share of the counts, for each class with ``0 < share <
        1 / (4 * len(classes))``.

    Examples
    --------
    >>> rare_classes(["anger", "fear", "sadness"], [40, 2, 38])
    {'fear': 0.025}
    """
    classes = check_names(classes, "classes", "rare_classes")
    counts = np.asarray(counts, dtype=float)
    if counts.shape != (len(classes),) or not np.isfinite(counts).all() or (
            counts < 0).any():
        raise ValueError(
            f"rare_classes: counts must be one finite count >= 0 per class "
            f"({len(classes)}); got shape {counts.shape}.")
    total = counts.sum()
    if total <= 0:
        return {}
    floor = 1.0 / (4 * len(counts))
    return {str(c): float(n / total) for c, n in zip(classes, counts, strict=True)
            if 0 < n / total < floor}


def infer_classes(annotations, *, label_map=None, votes="all", min_wins=1,
                  min_share="auto", return_report=False):
    """The target classes an annotation table gives: labels that win a majority.

    A label is a class when it is the unique plurality winner of at least
    ``min_wins`` utterances and of at least ``min_share`` of the utterances
    that have a winner (by default a quarter of an even share: ``1 / (4 K)``
    for ``K`` labels that win; and is not ``"other"``). Labels that raters chose
    only as second choices or in a minority (a ``contempt`` picked by one
    rater here and there) are not classes: with every label seen as a class,
    a 4-emotion corpus with a few stray second choices becomes a 6-class
    problem, with classes no utterance can be scored on. Labels that win a
    few majorities only are left out too, and named in the report: a model
    trained on such a class predicts it for many more utterances than hold it
    (measured: :doc:`/defaults`). Give the classes explicitly when a rare
    class is wanted.

    Parameters
    ----------
    annotations : annotation table, vote-count table or 1-D labels
    label_map : dict or "iemocap", default=None
        Applied before counting (see :class:`HardLabels`).
    votes : {"all", "first"}, default="all"
        Votes of the majority (see :class:`HardLabels`).
    min_wins : int, default=1
        Utterances a label must win to be a class.
    min_share : float or "auto", default="auto"
        Share of the utterances with a winner that a label must win: "auto"
        is a quarter of an even share among the ``K`` labels that win
        ``min_wins`` (``1 / (4 K)``: 3.6 % of the winners for 7, 6.25 % for
        4); 0 keeps any label that wins ``min_wins``.
    return_report : bool, default=False
        Also return a dict: ``wins`` (label -> utterances won), ``left_out``
        (labels seen but not classes, with their number of ratings), ``rare``
        (labels that win majorities, but fewer than ``min_share``: label ->
        utterances won) and ``rule`` (a sentence saying how the classes were
        chosen).

    Returns
    -------
    classes : list of str
        Sorted.
    report : dict
        Only with ``return_report=True``.

    Raises
    ------
    AnnotationError
        When fewer than two labels win a majority anywhere.

    Examples
    --------
    >>> import pandas as pd
    >>> table = pd.DataFrame({"A": [("sad",), ("angry",), ("neu", "contempt")],
    ...                       "B": [("sad",), ("angry",), ("neu",)]})
    >>> infer_classes(table)
    ['anger', 'neutral', 'sadness']
    """
    if not isinstance(min_wins, numbers.Integral) or min_wins < 1:
        raise ValueError(f"min_wins must be an integer >= 1, got {min_wins!r}.")
    if min_share != "auto" and (
            isinstance(min_share, bool) or not isinstance(min_share, numbers.Real)
            or not 0 <= min_share < 1):
        raise ValueError(
            f"min_share must be 'auto' or a number in [0, 1), got {min_share!r}.")
    encoder = HardLabels(label_map=label_map, votes=votes)
    encoder.fit(annotations)
    winners = encoder.transform(annotations).dropna()
    wins = winners.value_counts()
    if min_share == "auto":
        min_share = 1.0 / (4 * max(1, int((wins >= min_wins).sum())))
    need = max(int(min_wins), int(np.ceil(min_share * len(winners))))
    classes = sorted(str(c) if isinstance(c, str) else c
                     for c, n in wins.items() if n >= need)
    rare = {str(c): int(n) for c, n in wins.items() if min_wins <= n < need}
    if len(classes) < 2:
        raise AnnotationError(
            f"Fewer than two labels win a majority of at least {need} "
            f"utterance(s) ({min_share:.1%} of the {len(winners)} with a winner; "
            f"winners: {wins.to_dict()}); pass the classes explicitly."
        )
    a = encoder._ratings(annotations).array
    counts = a.counts("all").sum(axis=0)
    seen = dict(zip(a.vocabulary, counts.tolist(), strict=True))
    left_out = {lab: int(n) for lab, n in seen.items()
                if lab not in classes and n > 0}
    if not return_report:
        return classes
    rule = ("labels that win the majority vote of at least "
            f"{need} utterance(s)")
    if need > min_wins:
        rule += f" ({min_share:.1%} of the {len(winners)} with a winner)"
    if rare:
        rule += ("; rare winners left out: "
                 + ", ".join(f"{c} ({n})" for c, n in sorted(rare.items())))
    return classes, {"wins": {c: int(wins[c]) for c in classes},
                     "left_out": left_out, "rare": rare, "rule": rule}
