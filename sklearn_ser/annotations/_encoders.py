"""Target encoders: annotation tables -> learning targets.

Each encoder is a scikit-learn transformer whose input is an annotation table
(or a vote-count table, or 1-D labels; see :mod:`sklearn_ser.annotations`).
``fit`` fixes the target classes; ``transform`` returns one target per
utterance, aligned with the input rows, with a *missing* value (NaN) wherever
the ratings do not give a target: no consensus for hard labels, no target
emotion for soft labels, no rating at all. Missing targets are never guessed;
:meth:`target_status` says why each row is missing.

Labels are first normalised (``"Neutral state"``, ``"neu"`` -> ``"neutral"``),
then mapped by ``label_map`` (e.g. IEMOCAP's ``{"excitement": "happiness"}``).
Labels outside the target classes are kept as *non-target evidence*: they take
part in the majority vote (a ``frustration`` majority means "no target emotion",
a tie between ``anger`` and ``frustration`` is a tie), they make MLEE negatives
and they are counted in the number of raters.
"""

from __future__ import annotations

import numbers

import numpy as np
import pandas as pd
import scipy.sparse as sp
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.utils import check_random_state
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.validation import check_array, check_is_fitted, check_non_negative

from ..exceptions import AnnotationError
from ._check import check_annotations
from ._ratings import RatingsArray, is_ratings
from ._vocabulary import (
    build_label_map,
    check_label_spellings,
    check_names,
    normalize_label,
    shown,
)

#: The reasons a row can lack a target, as reported by ``target_status``.
TARGET_STATUSES = ("ok", "tie", "no_majority", "no_target", "unrated")


class BaseTargetEncoder(TransformerMixin, BaseEstimator):
    """Base class of the target encoders: annotations in, targets out.

    ``fit`` and ``transform`` pass their input through
    :func:`~sklearn_ser.annotations.check_annotations` (checked ratings given
    again are not parsed again); ``fit`` fixes ``classes_``. A subclass
    implements ``transform`` (and ``target_status``) and declares
    ``target_kind``. Models accept any instance as their ``target``.
    """

    _parameter_constraints: dict = {
        "classes": ["array-like", None],
        "label_map": [dict, StrOptions({"iemocap"}), None],
        "votes": [StrOptions({"all", "first"})],
        "strict": ["boolean"],
    }

    #: What ``transform`` produces, read by the models: ``"hard"`` (one class
    #: label per row), ``"soft"`` (a distribution over ``classes_``) or
    #: ``"existence"`` (0/1 per class). Subclasses set or compute it.
    target_kind = "hard"

    def __init__(self, classes=None, *, label_map=None, votes="all", strict=False):
        self.classes = classes
        self.label_map = label_map
        self.votes = votes
        self.strict = strict

    # -- helpers ---------------------------------------------------------------
    def _parse(self, y, label_map):
        y = _check_numeric_2d(y, type(self).__name__)
        return check_annotations(y, label_map=label_map, classes=self.classes,
                                 strict=self.strict, whom=type(self).__name__)

    def fit(self, X, y=None):
        """Fix the target classes from ``classes`` or from the labels in ``X``.

        Parameters
        ----------
        X : annotation table, vote-count table or 1-D labels
            The annotations (the transformer's input).
        y : None
            Ignored.

        Returns
        -------
        self : object
        """
        self._validate_params()
        self.label_map_ = build_label_map(self.label_map)
        X = _check_numeric_2d(X, type(self).__name__)
        ratings = self._parse(X, self.label_map_)
        self.classes_ = resolve_classes(ratings, self.classes,
                                        label_map=self.label_map_)
        if ratings.array.kind == "votes" and isinstance(X, np.ndarray) and (
                X.ndim == 2):
            self.n_features_in_ = X.shape[1]
        elif hasattr(self, "n_features_in_"):
            del self.n_features_in_
        self._check_training_ratings(ratings)
        return self

    def _check_training_ratings(self, ratings):
        """Checks a subclass makes of the ratings it is fitted on (parsed once)."""

    def _ratings(self, X):
        check_is_fitted(self, "classes_")
        X = _check_numeric_2d(X, type(self).__name__)
        if isinstance(X, np.ndarray) and X.ndim == 2 and hasattr(
            self, "n_features_in_"
        ) and X.shape[1] != self.n_features_in_:
            raise ValueError(
                f"X has {X.shape[1]} features, but {type(self).__name__} is "
                f"expecting {self.n_features_in_} features as input."
            )
        return self._parse(X, self.label_map_)

    def _class_counts(self, ratings, votes=None, rater=None):
        """(n, K) counts of the target classes and (n, L) counts of all labels."""
        a = ratings.array
        all_counts = a.counts(votes or self.votes, rater=rater)
        cols = a.label_columns(list(self.classes_))
        class_counts = np.zeros((len(a), len(cols)))
        seen = cols >= 0
        class_counts[:, seen] = all_counts[:, cols[seen]]
        return class_counts, all_counts

    def get_feature_names_out(self, input_features=None):
        """Target class names (the columns of :meth:`transform`'s output)."""
        check_is_fitted(self, "classes_")
        return np.asarray([str(c) for c in self.classes_], dtype=object)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.positive_only = True
        tags.input_tags.string = True
        tags.input_tags.categorical = True
        tags.target_tags.required = False
        tags.requires_fit = True
        if tags.transformer_tags is not None:
            # targets are float64 DataFrames (or label Series) whatever the input
            tags.transformer_tags.preserves_dtype = []
        return tags


def resolve_classes(annotations, classes=None, *, label_map=None):
    """The target classes of a table: given ones normalised, or every label seen.

    This is how every encoder and estimator of the toolkit decides its
    ``classes_``: ``classes`` when given (normalised, mapped by ``label_map``,
    checked for duplicates), else every label of ``annotations`` except
    ``"other"``. Sorted. (:func:`infer_classes` is stricter: only the labels
    that win a majority somewhere.)

    Parameters
    ----------
    annotations : ratings, annotation table, vote-count table or 1-D labels
    classes : array-like, default=None
    label_map : dict or "iemocap", default=None

    Returns
    -------
    classes : ndarray

    Examples
    --------
    >>> import pandas as pd
    >>> resolve_classes(pd.Series(["sad", "Angry", "other"]))
    array(['anger', 'sadness'], dtype=object)
    >>> resolve_classes(None, ["Happy", "sad"], label_map="iemocap")
    array(['happiness', 'sadness'], dtype=object)
    """
    label_map = build_label_map(label_map)  # idempotent on a normalised map
    if classes is not None:
        out = _class_names(classes, label_map)
        if len(out) == 0:
            raise ValueError("classes must name at least one target class.")
        if annotations is not None:  # "Calm" beside a rated "calm" is refused
            ratings = check_annotations(annotations, label_map=label_map)
            check_label_spellings(out, list(ratings.array.vocabulary),
                                  "class list", counted=False)
            check_classes_rated(out, ratings.array.vocabulary)
    else:
        ratings = check_annotations(annotations, label_map=label_map)
        out = [lab for lab in ratings.array.vocabulary if lab != "other"]
        if not out:
            raise AnnotationError(
                "No target class could be inferred: the only label seen is "
                "'other'. Pass classes=[...]."
            )
    try:
        out = sorted(out)
    except TypeError as exc:
        raise ValueError(
            f"Target classes must be of one type to be sorted; got {out}."
        ) from exc
    return np.asarray(out, dtype=object if any(isinstance(c, str) for c in out)
                      else None)


def check_classes_rated(classes, rated, *, what="class list"):
    """Refuse a class no rating holds when a rated label left out of
    ``classes`` is close to it (a typo: "hapiness" for "happiness" would
    never be a target, and happiness never predicted); refuse classes none of
    which is rated (every target would be empty).

    A class no rating holds and no rated label resembles is left to the
    estimators, which warn about it by name (a fold may lack a class).

    Raises
    ------
    AnnotationError
        Naming the class and the closest rated label ("did you mean ...?").
    """
    import difflib

    rated = list(rated)
    if not rated:
        return
    unrated = [c for c in classes if c not in set(rated)]
    if len(unrated) == len(list(classes)):
        raise AnnotationError(
            f"None of the {what} {[str(c) for c in classes][:8]} is a label of any "
            f"rating; the ratings hold {[str(v) for v in rated][:10]}: every "
            "target would be empty. Name classes as the ratings do (or map the "
            "labels with label_map).")
    spare = [v for v in rated if isinstance(v, str) and v not in set(classes)]
    for c in unrated:
        if not isinstance(c, str):
            continue
        close = difflib.get_close_matches(c, spare, n=1, cutoff=0.75)
        if close:
            raise AnnotationError(
                f"The {what} names {shown(c)}, which no rating holds; did you mean "
                f"{shown(close[0])}? (rated, and left out of the classes). As "
                f"written, {c!r} would never be a target and {close[0]!r} never "
                "predicted.")


def _class_names(classes, label_map, whom=None):
    """``classes`` checked (:func:`check_names`), normalised and mapped by the
    (built) ``label_map``, in the given order; a class named twice once
    normalised is refused."""
    given = check_names(classes, "classes", whom)
    out = [label_map.get(normalize_label(c), normalize_label(c)) for c in given]
    if len(set(out)) != len(out):
        raise ValueError(
            f"{whom + ': ' if whom else ''}classes {given} name a class twice after "
            f"normalisation and label_map: {out}."
        )
    return out


def _check_numeric_2d(y, whom):
    """Validate a 2-D array-like that is not a DataFrame as vote counts.

    DataFrames, Series and 1-D sequences are annotation tables or labels and
    are parsed as such; anything else two-dimensional (ndarray, sparse matrix,
    nested lists) must be a non-negative numeric vote-count matrix.
    """
    if isinstance(y, pd.DataFrame | pd.Series | RatingsArray):
        return y
    if sp.issparse(y):
        return check_array(y, accept_sparse=False)  # raises a clear error
    if isinstance(y, list | tuple) and len(y) and all(
            isinstance(v, tuple | list) for v in y) and not any(
            isinstance(e, numbers.Number) for v in y for e in v):
        return y  # several labels per utterance: check_annotations explains
    if isinstance(y, list | tuple) or hasattr(y, "__array__"):
        arr = np.asarray(y, dtype=object) if isinstance(y, list | tuple) else (
            np.asarray(y))
        if arr.ndim == 2:
            y = check_array(arr, dtype="numeric")
            check_non_negative(y, whom)
    return y


def _frame(values, ratings, classes):
    return pd.DataFrame(
        values, index=ratings.index, columns=pd.Index(list(classes), name="class")
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


class SoftLabels(BaseTargetEncoder):
    """Smoothed vote shares over the target classes (Eq. 1 of Chou & Lee).

    ``q(c_k) = (alpha + sum_n h_k^(n)) / (alpha * K + sum_k' sum_n h_k'^(n))``
    where ``h_k^(n)`` is 1 when rater ``n`` chose class ``k``. With the default
    ``votes="all"`` every rating counts, second choices included: the
    "modified soft label" of Chou & Lee. ``alpha=0`` gives plain vote shares.
    Rows with no rating of a target class have no soft target (NaN row), as in
    Ando et al. 4.1: smoothing alone is not a label.

    Parameters
    ----------
    classes : array-like of str, default=None
        Target classes (default: every label seen except ``"other"``).
    alpha : float, default=0.75
        Smoothing coefficient of Eq. 1.
    label_map : dict or "iemocap", default=None
        See :class:`HardLabels`.
    votes : {"all", "first"}, default="all"
        Count every rating, or only first choices (the conventional soft label).
    strict : bool, default=False
        Raise on unknown labels.

    Examples
    --------
    The worked example of Chou & Lee's slides: three raters chose
    (sadness, anger), (sadness) and (anger, sadness).

    >>> import pandas as pd
    >>> table = pd.DataFrame({"E1": [("sad", "angry")], "E2": [("sad",)],
    ...                       "E3": [("angry", "sad")]})
    >>> enc = SoftLabels(["neutral", "happiness", "sadness", "anger"]).fit(table)
    >>> enc.transform(table).round(3)
    class  anger  happiness  neutral  sadness
    0      0.344      0.094    0.094    0.469
    >>> enc.set_params(votes="first").transform(table).round(3)
    class  anger  happiness  neutral  sadness
    0      0.292      0.125    0.125    0.458
    """

    _parameter_constraints: dict = {
        **BaseTargetEncoder._parameter_constraints,
        "alpha": [Interval(numbers.Real, 0, None, closed="left")],
    }
    target_kind = "soft"

    def __init__(
        self, classes=None, *, alpha=0.75, label_map=None, votes="all", strict=False
    ):
        super().__init__(classes, label_map=label_map, votes=votes, strict=strict)
        self.alpha = alpha

    def transform(self, X):
        """Soft target per utterance.

        Returns
        -------
        targets : pandas.DataFrame
            One column per class in ``classes_``, rows summing to 1, NaN rows
            where no target class was chosen.
        """
        ratings = self._ratings(X)
        counts, _ = self._class_counts(ratings)
        total = counts.sum(axis=1, keepdims=True)
        K = counts.shape[1]
        with np.errstate(invalid="ignore", divide="ignore"):
            q = (self.alpha + counts) / (self.alpha * K + total)  # Eq. 1
        q[total[:, 0] <= 0] = np.nan
        return _frame(q, ratings, self.classes_)

    def target_status(self, X):
        """``"ok"``, ``"no_target"`` (rated, but no target class) or ``"unrated"``."""
        ratings = self._ratings(X)
        counts, all_counts = self._class_counts(ratings)
        status = np.where(counts.sum(axis=1) > 0, "ok", "no_target").astype(object)
        status[all_counts.sum(axis=1) <= 0] = "unrated"
        return pd.Series(status, index=ratings.index, name="status")


class ExistenceLabels(BaseTargetEncoder):
    """Multi-label emotion existence (Eq. 5 of Ando et al.).

    ``q(e1 | c_k) = 1`` if some rater chose class ``k``, else 0. Rows whose
    ratings hold no target class are all-zero rows: valid *negatives* for the
    MLEE model. Only unrated rows are missing.

    Parameters
    ----------
    classes : array-like of str, default=None
        Target classes (default: every label seen except ``"other"``).
    min_votes : int, default=1
        A class exists when at least this many raters chose it (1 = Eq. 5).
    label_map : dict or "iemocap", default=None
        See :class:`HardLabels`.
    votes : {"all", "first"}, default="all"
        Count every rating, or only first choices.
    strict : bool, default=False
        Raise on unknown labels.

    Examples
    --------
    >>> import pandas as pd
    >>> table = pd.DataFrame({"E1": [("sad", "angry"), ("frustrated",)],
    ...                       "E2": [("sad",), None]})
    >>> ExistenceLabels(["anger", "neutral", "sadness"]).fit_transform(table)
    class  anger  neutral  sadness
    0        1.0      0.0      1.0
    1        0.0      0.0      0.0
    """

    _parameter_constraints: dict = {
        **BaseTargetEncoder._parameter_constraints,
        "min_votes": [Interval(numbers.Integral, 1, None, closed="left")],
    }
    target_kind = "existence"

    def __init__(
        self, classes=None, *, min_votes=1, label_map=None, votes="all", strict=False
    ):
        super().__init__(classes, label_map=label_map, votes=votes, strict=strict)
        self.min_votes = min_votes

    def _check_training_ratings(self, ratings):
        """With ``min_votes > 1``, say which chosen classes never reach it.

        A class some rater chose but no utterance gave ``min_votes`` votes
        has no positive target (warning, naming it and its most votes on one
        utterance); when no class reaches it on any utterance every target
        is zero (error).
        """
        if self.min_votes <= 1:
            return
        from .._warnings import ser_warn
        from ..exceptions import AbsentClassWarning

        counts, all_counts = self._class_counts(ratings)
        rated = all_counts.sum(axis=1) > 0
        counts = counts[rated]
        if not len(counts):
            return
        most = counts.max(axis=0)
        if most.max() < self.min_votes:
            raise ValueError(
                f"{type(self).__name__}: min_votes={self.min_votes} leaves no class "
                f"existing in any of the {len(counts)} rated utterance(s): at most "
                f"{int(most.max())} vote(s) for one class of one utterance. Lower "
                "min_votes (1 is Ando et al.'s Eq. 5)."
            )
        lost = [(str(c), int(n)) for c, n in zip(self.classes_, most, strict=True)
                if 0 < n < self.min_votes]
        if lost:
            ser_warn(
                f"{type(self).__name__}: with min_votes={self.min_votes}, class(es) "
                + ", ".join(f"{c!r} (at most {n} vote(s) on one utterance)"
                            for c, n in lost)
                + f" exist in none of the {len(counts)} rated utterance(s) although "
                "raters chose them; a model cannot learn them from these targets.",
                AbsentClassWarning,
            )

    def transform(self, X):
        """Existence target per utterance.

        Returns
        -------
        targets : pandas.DataFrame
            One 0/1 column per class in ``classes_``; NaN rows for unrated rows.
        """
        ratings = self._ratings(X)
        counts, all_counts = self._class_counts(ratings)
        e = (counts >= self.min_votes).astype(float)  # Eq. 5
        e[all_counts.sum(axis=1) <= 0] = np.nan
        return _frame(e, ratings, self.classes_)

    def target_status(self, X):
        """``"ok"`` (including all-zero negatives) or ``"unrated"``."""
        ratings = self._ratings(X)
        _, all_counts = self._class_counts(ratings)
        status = np.where(all_counts.sum(axis=1) > 0, "ok", "unrated").astype(object)
        return pd.Series(status, index=ratings.index, name="status")


class RaterLabels(BaseTargetEncoder):
    """Targets of one chosen rater (the individual models E_n of Chou & Lee).

    Rows the rater did not rate, or rated with no target class, are missing.

    Parameters
    ----------
    rater : str
        The rater's column in the annotation table.
    kind : {"soft", "hard", "existence"}, default="soft"
        ``"soft"``: Eq. 1 on this rater's choices alone (several choices share
        the mass); ``"hard"``: the rater's first target-class choice;
        ``"existence"``: 1 for every class the rater chose.
    classes : array-like of str, default=None
        Target classes (default: every label seen except ``"other"``).
    alpha : float, default=0.75
        Smoothing coefficient for ``kind="soft"``.
    label_map : dict or "iemocap", default=None
        See :class:`HardLabels`.
    strict : bool, default=False
        Raise on unknown labels.

    Examples
    --------
    >>> import pandas as pd
    >>> table = pd.DataFrame({"E1": [("sad", "angry"), None],
    ...                       "E2": [("sad",), ("neu",)]})
    >>> RaterLabels("E1", kind="hard").fit_transform(table).tolist()
    ['sadness', nan]
    """

    _parameter_constraints: dict = {
        **BaseTargetEncoder._parameter_constraints,
        "rater": "no_validation",
        "kind": [StrOptions({"soft", "hard", "existence"})],
        "alpha": [Interval(numbers.Real, 0, None, closed="left")],
    }

    def __init__(
        self,
        rater=None,
        kind="soft",
        *,
        classes=None,
        alpha=0.75,
        label_map=None,
        strict=False,
    ):
        super().__init__(classes, label_map=label_map, votes="all", strict=strict)
        self.rater = rater
        self.kind = kind
        self.alpha = alpha

    @property
    def target_kind(self):
        return self.kind

    def _rater_ratings(self, X, fitting=False):
        ratings = self._parse(X, self.label_map_) if fitting else self._ratings(X)
        kind = ratings.array.kind
        if kind != "table":
            raise AnnotationError(
                "RaterLabels needs a rater table (one column per rater); got "
                + ("a vote-count table." if kind == "votes" else "1-D labels.")
            )
        if self.rater not in ratings.array.rater_names:
            raise AnnotationError(
                f"Rater {self.rater!r} is not a column of the annotation table; its "
                f"raters are {ratings.array.rater_names[:20]}."
            )
        return ratings

    def fit(self, X, y=None):
        """Check the rater exists and fix the target classes."""
        super().fit(X, y)
        self._rater_ratings(X, fitting=True)
        return self

    def transform(self, X):
        """Targets of ``rater`` (Series for ``"hard"``, DataFrame otherwise)."""
        ratings = self._rater_ratings(X)
        counts, _ = self._class_counts(ratings, rater=self.rater)
        total = counts.sum(axis=1)
        missing = total <= 0
        if self.kind == "soft":
            K = counts.shape[1]
            with np.errstate(invalid="ignore", divide="ignore"):
                q = (self.alpha + counts) / (self.alpha * K + total[:, None])
            q[missing] = np.nan
            return _frame(q, ratings, self.classes_)
        if self.kind == "existence":
            e = (counts > 0).astype(float)
            e[missing] = np.nan
            return _frame(e, ratings, self.classes_)
        # hard: the first-ranked choice among the target classes
        a = ratings.array
        cols = a.label_columns(list(self.classes_))
        is_class = np.zeros(len(a.vocabulary) + 1, dtype=bool)
        is_class[cols[cols >= 0]] = True
        r = a.rater_names.index(self.rater)
        item, label = a.item_code, a.label_code
        sel = np.flatnonzero((a.rater_code == r) & is_class[label])
        sel = sel[np.lexsort((a.choice_rank[sel], item[sel]))]
        items = item[sel]
        first = sel[np.r_[True, items[1:] != items[:-1]]] if len(sel) else sel
        out = np.full(len(a), np.nan, dtype=object)
        names = np.asarray(a.vocabulary, dtype=object)
        out[item[first]] = names[label[first]]
        return pd.Series(out, index=ratings.index, name=self.rater, dtype=object)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        # a rater is a named column of an annotation table: numeric 2-D arrays
        # (vote counts) hold no individual rater, so sklearn's generic checks,
        # which feed such arrays, cannot apply.
        tags.input_tags.two_d_array = False
        return tags

    def target_status(self, X):
        """``"ok"``, ``"no_target"`` or ``"unrated"`` (by this rater)."""
        ratings = self._rater_ratings(X)
        counts, all_counts = self._class_counts(ratings, rater=self.rater)
        status = np.where(counts.sum(axis=1) > 0, "ok", "no_target").astype(object)
        status[all_counts.sum(axis=1) <= 0] = "unrated"
        return pd.Series(status, index=ratings.index, name="status")


def missing_reasons(encoder, annotations, missing):
    """``"tie: 3, unrated: 1"``: why the ``missing`` rows lack a target."""
    status = encoder.target_status(annotations)[np.asarray(missing)]
    counts = status.value_counts().to_dict()
    return ", ".join(f"{k}: {v}" for k, v in sorted(counts.items()))


def report_missing(encoder, annotations, missing, message, *,
                   what="utterance(s)", warn=True):
    """Warn once that ``missing`` rows were left out, with the count and why.

    ``message`` is the start of the sentence (``"Scoring left out"``); the
    count, the total and the reasons (:func:`missing_reasons`) follow.
    Returns the number left out.
    """

    from .._warnings import ser_warn
    from ..exceptions import DroppedRowsWarning

    missing = np.asarray(missing, dtype=bool)
    n_drop = int(missing.sum())
    if n_drop and warn:
        ser_warn(
            f"{message} {n_drop} of {len(missing)} {what} with no target "
            f"({missing_reasons(encoder, annotations, missing)}).",
            DroppedRowsWarning)
    return n_drop


def rater_counts(annotations):
    """Number of utterances each rater rated, most active first.

    Useful to choose the raters worth an individual model (Chou & Lee keep
    the five who "annotate enough utterances").

    Examples
    --------
    >>> import pandas as pd
    >>> table = pd.DataFrame({"E1": [("sad",), None], "E2": [("sad",), ("neu",)]})
    >>> rater_counts(table).to_dict()
    {'E2': 2, 'E1': 1}
    """
    a = check_annotations(annotations, whom="rater_counts").array
    if a.kind != "table":
        raise AnnotationError(
            "rater_counts needs a rater table (one column per rater)."
        )
    first = a.choice_rank == 0
    counts = np.bincount(a.rater_code[first], minlength=len(a.rater_names))
    out = pd.Series(
        counts, index=pd.Index(a.rater_names, name="rater"), name="n_rated"
    )
    if is_ratings(annotations):  # raters of the full crowd absent from this part
        out = out[out > 0]
    return out.sort_values(ascending=False, kind="stable")


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
    few majorities only (disgust winning 14 and fear 7 of 400 clips of a
    4-emotion corpus) are left out too, and named in the report: a model
    trained on such a class predicts it for many more utterances than hold it
    (measured: 106 of 400, UAR 0.52 instead of 0.68 with the 4 classes). Give
    the classes explicitly when a rare class is wanted.

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


def rater_profiles(annotations, classes, raters=None, *, label_map=None):
    """Each rater's mean vote share over ``classes`` (their labelling habits).

    Per utterance a rater's target-class choices share one vote; the mean is
    over the utterances where the rater chose a target class (0 where none).
    Vectorised over the ratings: about a second for 10,000 raters and 10^6
    ratings. StackedAnnotatorClassifier clusters these rows into rater groups.

    Parameters
    ----------
    annotations : ratings or annotation table
    classes : list
        The columns, in this order (spellings normalised and mapped by
        ``label_map`` as the ratings' labels are).
    raters : list, default=None
        Rows to return, in this order (default: every rater who rated).
    label_map : dict or "iemocap", default=None

    Returns
    -------
    profiles : pandas.DataFrame
        One row per rater, one column per class.

    Examples
    --------
    >>> import pandas as pd
    >>> table = pd.DataFrame({"A": [("sad",), ("sad", "angry")],
    ...                       "B": [("angry",), None]})
    >>> rater_profiles(table, ["anger", "sadness"]).to_numpy().tolist()
    [[0.25, 0.75], [1.0, 0.0]]
    """
    a = check_annotations(annotations, label_map=label_map,
                          whom="rater_profiles").array
    if a.kind != "table":
        raise AnnotationError("rater_profiles needs individual ratings (one rater "
                              "per rating), not vote counts or 1-D labels.")
    classes = _class_names(classes, build_label_map(label_map), "rater_profiles")
    cols = a.label_columns(classes)
    class_of = np.full(len(a.vocabulary), -1, dtype=np.int64)
    class_of[cols[cols >= 0]] = np.flatnonzero(cols >= 0)
    k = class_of[a.label_code]
    ok = k >= 0
    rater, item, k = a.rater_code[ok], a.item_code[ok], k[ok]
    n = len(a)
    pair = rater * n + item
    _, pair_id, per_pair = np.unique(pair, return_inverse=True, return_counts=True)
    weight = 1.0 / per_pair[pair_id]
    R, K = len(a.rater_names), len(classes)
    sums = np.bincount(rater * K + k, weights=weight, minlength=R * K).reshape(R, K)
    n_items = np.bincount(np.unique(pair) // n, minlength=R)
    with np.errstate(invalid="ignore", divide="ignore"):
        profiles = np.nan_to_num(sums / n_items[:, None])
    if raters is None:
        first = np.bincount(a.rater_code, minlength=R) > 0
        raters = [r for r, used in zip(a.rater_names, first, strict=True) if used]
    else:
        raters = check_names(raters, "raters", "rater_profiles", unique=True,
                             labels=False)
    pos = {r: i for i, r in enumerate(a.rater_names)}
    missing = [r for r in raters if r not in pos]
    if missing:
        raise AnnotationError(f"Rater(s) {missing[:8]} gave no rating here.")
    return pd.DataFrame(profiles[[pos[r] for r in raters]],
                        index=pd.Index(list(raters), name="rater"),
                        columns=pd.Index(classes, name="class"))
