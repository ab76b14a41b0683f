"""Model-based aggregation of the ratings as learning targets (crowd-kit).

A majority vote treats every rater alike. Dawid-Skene and its relatives
estimate how reliable each rater is and weigh their ratings accordingly;
their posterior over the true emotion of each utterance is a hard or a soft
target like any other. :class:`AggregatedLabels` runs the aggregation model of
`crowd-kit <https://crowd-kit.readthedocs.io>`_ (an optional dependency:
``pip install "sklearn-ser[crowd]"``) inside ``fit``, so that in
``cross_validate`` or ``GridSearchCV`` it only ever sees the ratings of the
training fold.
"""

from __future__ import annotations

import numbers
import warnings

import numpy as np
import pandas as pd
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.validation import check_is_fitted

from .._warnings import ser_warn
from ..exceptions import AnnotationError, SparseRaterWarning
from ._encoder_base import BaseTargetEncoder, _frame

#: Aggregation models offered, by name -> crowd-kit class name.
AGGREGATION_METHODS = {
    "dawid_skene": "DawidSkene",
    "one_coin_dawid_skene": "OneCoinDawidSkene",
    "glad": "GLAD",
    "mace": "MACE",
    "mmsr": "MMSR",
}


def confusion_counts(rater, said, truth_weights, n_raters, n_said, initial=0.0):
    """Dawid-Skene's M-step counts: ``counts[r, k, l]`` = ``initial`` + the
    total weight of truth ``k`` over the ratings where rater ``r`` said ``l``.

    ``truth_weights`` has one row per rating (the posterior of its utterance).
    """
    counts = np.full((n_raters, truth_weights.shape[1], n_said), float(initial))
    np.add.at(counts, (rater, slice(None), said), truth_weights)
    return counts


def _degenerate(data):
    """Why a crowd leaves a model nothing to learn (or ""): one utterance, one
    label, or no utterance rated by two raters (agreement is the evidence)."""
    n_tasks = data["task"].nunique()
    n_labels = data["label"].nunique()
    shared = (data.groupby("task")["worker"].nunique() > 1).any()
    if n_tasks < 2 or n_labels < 2 or not shared:
        return (f"{n_tasks} utterance(s), {n_labels} label(s)"
                + ("" if shared else ", no utterance rated by two raters")
                + ": the posteriors are the vote shares")
    return ""


def simplex_projection(v):
    """Euclidean projection of each row of ``v`` onto the probability simplex
    (Duchi et al., ICML 2008): the nearest distribution, in [0, 1], summing
    to 1 (MMSR's scores are not probabilities and can be negative)."""
    v = np.asarray(v, dtype=float)
    if v.size == 0:
        return v
    n, K = v.shape
    u = -np.sort(-v, axis=1)
    css = np.cumsum(u, axis=1) - 1.0
    ks = np.arange(1, K + 1)
    cond = u - css / ks > 0
    rho = K - 1 - np.argmax(cond[:, ::-1], axis=1)
    theta = css[np.arange(n), rho] / (rho + 1)
    return np.maximum(v - theta[:, None], 0.0)


def _crowdkit():
    try:
        import crowdkit.aggregation as agg
    except ImportError as exc:  # pragma: no cover - exercised without the extra
        raise ImportError(
            "AggregatedLabels needs crowd-kit: pip install 'sklearn-ser[crowd]' "
            "(or pip install crowd-kit)."
        ) from exc
    return agg


class AggregatedLabels(BaseTargetEncoder):
    """Targets from a crowd aggregation model (Dawid-Skene, GLAD, MACE, ...).

    ``fit`` runs the chosen `crowd-kit` model on the ratings it is given (in a
    pipeline or a cross-validation: the training fold's only) and keeps, for
    each rater, a confusion matrix estimated from the model's posteriors.
    ``transform`` returns the model's posterior for the utterances it was
    fitted on, and for new utterances one Dawid-Skene E-step with those
    confusion matrices (raters it never saw get the pooled matrix), so test
    ratings never take part in estimating rater reliability.

    Each rater's first choice is their rating (the models take one label per
    rater and utterance). Labels outside ``classes`` (``"other"``,
    ``"frustration"``...) take part in the aggregation; an utterance whose
    most probable label is not a target class has no hard target
    (``"no_target"``), and soft targets are the posterior renormalised over
    the target classes.

    Parameters
    ----------
    method : {"dawid_skene", "one_coin_dawid_skene", "glad", "mace", "mmsr"}, \
default="dawid_skene"
        The crowd-kit model: ``DawidSkene``, ``OneCoinDawidSkene``, ``GLAD``,
        ``MACE`` or ``MMSR`` (whose scores, which can be negative, are
        projected onto the probability simplex: the nearest distribution).
        crowd-kit's ``Wawa`` and ``ZeroBasedSkill`` are not offered: with
        scikit-learn >= 1.8 they fail inside crowd-kit 1.4.2
        (``__sklearn_tags__``).
    output : {"soft", "hard", "existence"}, default="soft"
        ``"soft"``: posterior over the target classes; ``"hard"``: its most
        probable label; ``"existence"``: crowd-kit's
        ``BinaryRelevance(<method>)`` over every label each rater chose (first
        and further choices), 1 where the class is judged present.
    classes : array-like of str, default=None
        Target classes (default: every label seen except ``"other"``).
    label_map : dict or "iemocap", default=None
        See :class:`HardLabels`.
    n_iter : int, default=100
        Iterations of the model (crowd-kit's ``n_iter``; MMSR and MACE use
        their own defaults when None).
    tol : float, default=1e-5
        Convergence tolerance (Dawid-Skene models and GLAD).
    smoothing : float, default=0.01
        Added to every cell of the confusion matrices used for new utterances.
    strict : bool, default=False
        Raise on unknown labels.
    random_state : int, default=0
        Seed of the models that draw random starts (MACE, MMSR).

    Attributes
    ----------
    classes_ : ndarray
    labels_ : list
        Every label the model saw (target classes and non-target labels).
    posteriors_ : pandas.DataFrame
        Posterior of every fitted utterance over ``labels_``.
    confusion_ : ndarray of shape (n_raters, n_labels, n_labels)
        ``confusion_[r, k, l]``: probability that rater ``r`` says ``l`` when
        the truth is ``k`` (estimated from the posteriors).
    raters_ : pandas.Index
    priors_ : ndarray of shape (n_labels,)
    aggregator_ : the fitted crowd-kit model.
    n_sparse_raters_ : int
        Raters with a single rating in the fitted data.
    degenerate_ : str
        Why the crowd left the model nothing to learn (one utterance, one
        label, or no utterance rated by two raters), in which case the
        posteriors are the first-choice vote shares; "" otherwise.

    Examples
    --------
    >>> import pandas as pd
    >>> from sklearn_ser.annotations import from_long
    >>> long = pd.DataFrame({
    ...     "utterance": ["u1", "u1", "u1", "u2", "u2", "u2", "u3", "u3", "u3"],
    ...     "rater": ["A", "B", "C"] * 3,
    ...     "label": ["sad", "sad", "angry", "angry", "angry", "angry",
    ...               "neutral", "neutral", "sad"]})
    >>> enc = AggregatedLabels(output="hard").fit(from_long(long))
    >>> enc.transform(from_long(long)).tolist()
    ['sadness', 'anger', 'neutral']
    """

    _parameter_constraints: dict = {
        **BaseTargetEncoder._parameter_constraints,
        "method": [StrOptions(set(AGGREGATION_METHODS))],
        "output": [StrOptions({"soft", "hard", "existence"})],
        "n_iter": [Interval(numbers.Integral, 1, None, closed="left"), None],
        "tol": [Interval(numbers.Real, 0, None, closed="left")],
        "smoothing": [Interval(numbers.Real, 0, None, closed="neither")],
        "random_state": [numbers.Integral],
    }

    def __init__(
        self,
        method="dawid_skene",
        output="soft",
        *,
        classes=None,
        label_map=None,
        n_iter=100,
        tol=1e-5,
        smoothing=0.01,
        strict=False,
        random_state=0,
    ):
        super().__init__(classes, label_map=label_map, votes="first", strict=strict)
        self.method = method
        self.output = output
        self.n_iter = n_iter
        self.tol = tol
        self.smoothing = smoothing
        self.random_state = random_state

    @property
    def target_kind(self):
        return self.output

    def _aggregator(self, agg):
        cls = getattr(agg, AGGREGATION_METHODS[self.method])
        kwargs = {}
        if self.n_iter is not None:
            kwargs["n_iter"] = self.n_iter
        if self.method in ("dawid_skene", "one_coin_dawid_skene", "glad"):
            kwargs["tol"] = self.tol
        if self.method in ("mace", "mmsr"):
            kwargs["random_state"] = int(self.random_state)
        return cls(**kwargs)

    def fit(self, X, y=None):
        """Fit the aggregation model on the ratings ``X``.

        Parameters
        ----------
        X : ratings or annotation table (one column per rater)
        y : None
            Ignored.

        Returns
        -------
        self : object
        """
        super().fit(X, y)
        agg = _crowdkit()
        s = self._parse(X, self.label_map_)
        r = s.array
        if r.kind != "table":
            raise AnnotationError(
                "AggregatedLabels needs individual ratings (from_long or a table "
                "with one column per rater); "
                + ("vote counts" if r.kind == "votes" else "1-D labels")
                + " hold no rater to model.")
        self._warn_sparse(r)
        self.labels_ = list(r.vocabulary)
        self.raters_ = pd.Index(r.rater_names, dtype=object)
        self._fitted_signatures = (s.index, r._signatures())
        if self.output == "existence":
            self._fit_existence(agg, s)
            return self
        first = r.choice_rank == 0
        data = pd.DataFrame({"task": r.item_code[first], "worker": r.rater_code[first],
                             "label": r.label_code[first]})
        self.degenerate_ = _degenerate(data)
        if self.degenerate_:
            # nothing to learn about the raters: the model's answer is the
            # first-choice vote shares (its starting point); crowd-kit fails here
            model = None
            scores = data.groupby(["task", "label"]).size().unstack(fill_value=0)
            scores = scores.astype(float)
        else:
            model = self._aggregator(agg)
            with warnings.catch_warnings():
                warnings.filterwarnings("ignore", module="crowdkit")
                try:
                    if self.method == "mmsr":  # skills, then weighted vote scores
                        scores = model.fit_predict_score(data)
                    else:
                        scores = model.fit(data).probas_
                except (ValueError, ZeroDivisionError, IndexError,
                        np.linalg.LinAlgError) as exc:
                    raise AnnotationError(
                        f"AggregatedLabels({self.method!r}): crowd-kit's "
                        f"{AGGREGATION_METHODS[self.method]} failed on these "
                        f"ratings ({type(exc).__name__}: {exc}); "
                        f"{len(np.unique(data['task']))} utterances, "
                        f"{len(np.unique(data['worker']))} raters. Try "
                        "method='dawid_skene', or more ratings per rater.") from exc
        post = np.zeros((len(r), len(self.labels_)))
        scores = scores.reindex(columns=range(len(self.labels_)), fill_value=0.0)
        tasks = scores.index.to_numpy(dtype=np.int64)
        post[tasks] = scores.to_numpy(dtype=float)
        if self.method == "mmsr":  # MMSR's scores can be negative: project them
            rows = post[tasks]
            post[tasks] = simplex_projection(rows)
        total = post.sum(axis=1, keepdims=True)
        with np.errstate(invalid="ignore", divide="ignore"):
            post = post / total
        post[total[:, 0] <= 0] = np.nan
        self.aggregator_ = model
        self.posteriors_ = pd.DataFrame(post, index=s.index,
                                        columns=pd.Index(self.labels_, name="label"))
        rated = ~np.isnan(post).any(axis=1)
        self.priors_ = post[rated].mean(axis=0) if rated.any() else np.full(
            len(self.labels_), 1.0 / len(self.labels_))
        self.confusion_ = self._confusion(r, post, first)
        return self

    def _warn_sparse(self, r):
        first = r.choice_rank == 0
        per_rater = np.bincount(r.rater_code[first], minlength=len(r.rater_names))
        active = per_rater > 0
        self.n_sparse_raters_ = int((per_rater == 1).sum())
        if self.n_sparse_raters_:
            ser_warn(
                f"AggregatedLabels: {self.n_sparse_raters_} of {int(active.sum())} "
                "raters gave a single rating; the model cannot tell how reliable "
                "they are from it (their ratings count with the model's prior).",
                SparseRaterWarning,
            )

    def _confusion(self, r, post, first):
        L = len(self.labels_)
        s = float(self.smoothing)
        item = r.item_code
        ok = first & ~np.isnan(post[item]).any(axis=1)
        counts = confusion_counts(r.rater_code[ok], r.label_code[ok], post[item[ok]],
                                  len(r.rater_names), L)
        pooled = counts.sum(axis=0) + s
        self.pooled_confusion_ = pooled / pooled.sum(axis=1, keepdims=True)
        counts += s
        return counts / counts.sum(axis=2, keepdims=True)

    def _fit_existence(self, agg, s):
        r = s.array
        data = pd.DataFrame({"task": r.item_code, "worker": r.rater_code,
                             "label": r.label_code})
        data = data.groupby(["task", "worker"], sort=False)["label"].agg(list)
        data = data.reset_index()
        model = agg.BinaryRelevance(self._aggregator(agg))
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", module="crowdkit")
            model.fit(data)
        present = np.full((len(r), len(self.labels_)), np.nan)
        rated = np.bincount(r.item_code, minlength=len(r)) > 0
        present[rated] = 0.0
        for code, sub in model.aggregators_.items():
            proba = getattr(sub, "probas_", None)
            if proba is None:
                proba = sub.scores_
            yes = proba.reindex(columns=[0, 1], fill_value=0.0)
            tot = yes.sum(axis=1).to_numpy()
            p1 = np.divide(yes[1].to_numpy(), tot, out=np.zeros(len(tot)),
                           where=tot > 0)
            present[yes.index.to_numpy(dtype=np.int64), int(code)] = p1
        self.aggregator_ = model
        self.posteriors_ = pd.DataFrame(present, index=s.index,
                                        columns=pd.Index(self.labels_, name="label"))

    # -- transform -----------------------------------------------------------------
    def _posteriors(self, X):
        """(checked ratings, (n, n_labels_) posterior over ``labels_``).

        An utterance keeps the fitted posterior only when its ratings here are
        the ones it was fitted on (same id, same ratings); every other one
        (new, or reusing an id with other ratings, or a rater subset) gets one
        E-step with the fitted confusion matrices: the ratings given are
        always the ratings used."""
        check_is_fitted(self, "posteriors_")
        s = self._ratings(X)
        r = s.array
        fit_index, fit_sig = self._fitted_signatures
        known = fit_index.get_indexer(s.index)
        same = known >= 0
        if same.any():
            sig = r._signatures()
            same[same] = (sig[same] == fit_sig[known[same]]).all(axis=1)
        post = np.full((len(r), len(self.labels_)), np.nan)
        post[same] = self.posteriors_.to_numpy()[known[same]]
        new = np.flatnonzero(~same)
        if len(new):
            if self.output == "existence":
                raise AnnotationError(
                    f"AggregatedLabels(output='existence') gives targets for the "
                    f"ratings it was fitted on; {len(new)} utterance(s) have other "
                    f"ratings (e.g. {s.index[new[0]]!r}). Fit it on these ratings.")
            post[new] = self._e_step(r, new)
        return s, post

    def _e_step(self, r, rows):
        """Posterior of ``rows`` given the fitted confusion matrices; raters
        the model never saw use the pooled confusion matrix."""
        L = len(self.labels_)
        lab_pos = {lab: k for k, lab in enumerate(self.labels_)}
        lab_code = np.array([lab_pos.get(lab, -1) for lab in r.vocabulary], dtype=int)
        rater_code = self.raters_.get_indexer(pd.Index(r.rater_names, dtype=object))
        item_all = r.item_code
        first = (r.choice_rank == 0) & np.isin(item_all, rows)
        item = item_all[first]
        rater = rater_code[r.rater_code[first]]
        label = lab_code[r.label_code[first]] if len(lab_code) else r.label_code[first]
        ok = label >= 0
        item, rater, label = item[ok], rater[ok], label[ok]
        log_conf = np.log(self.confusion_)
        log_pooled = np.log(self.pooled_confusion_)
        terms = np.where((rater >= 0)[:, None],
                         log_conf[np.maximum(rater, 0), :, label],
                         log_pooled[:, label].T)
        logp = np.zeros((len(r), L))
        np.add.at(logp, item, terms)
        logp = logp[rows] + np.log(np.maximum(self.priors_, 1e-12))[None, :]
        logp -= logp.max(axis=1, keepdims=True)
        p = np.exp(logp)
        p /= p.sum(axis=1, keepdims=True)
        rated = np.isin(rows, item)
        p[~rated] = np.nan
        return p

    def transform(self, X):
        """Targets from the aggregation model (see ``output``).

        Returns
        -------
        targets : pandas.Series (``"hard"``) or DataFrame
            Indexed like ``X``; NaN where the ratings give no target.
        """
        r, post = self._posteriors(X)
        cols = np.array([self.labels_.index(c) if c in self.labels_ else -1
                         for c in self.classes_])
        K = len(self.classes_)
        if self.output == "existence":
            e = np.zeros((len(r), K))
            e[:, cols >= 0] = (post[:, cols[cols >= 0]] > 0.5).astype(float)
            e[np.isnan(post).any(axis=1)] = np.nan
            return _frame(e, r, self.classes_)
        if self.output == "hard":
            status = self._status(r, post, cols)
            best = np.nan_to_num(post, nan=-1.0).argmax(axis=1)
            labels = np.array(self.labels_ + [np.nan], dtype=object)[
                np.where(status == "ok", best, -1)]
            numeric = all(isinstance(c, numbers.Number) for c in self.classes_)
            return pd.Series(labels, index=r.index, name="label",
                             dtype=float if numeric else object)
        q = np.zeros((len(r), K))
        q[:, cols >= 0] = post[:, cols[cols >= 0]]
        total = q.sum(axis=1, keepdims=True)
        with np.errstate(invalid="ignore", divide="ignore"):
            q = q / total
        counts, _ = self._class_counts(r)
        q[(counts.sum(axis=1) <= 0) | np.isnan(total[:, 0])] = np.nan
        return _frame(q, r, self.classes_)

    def _status(self, r, post, cols):
        status = np.full(len(r), "ok", dtype=object)
        unrated = np.isnan(post).any(axis=1)
        best = np.nan_to_num(post, nan=-1.0).argmax(axis=1)
        targets = set(cols[cols >= 0].tolist())
        if self.output == "hard":
            status[~np.isin(best, list(targets))] = "no_target"
        elif self.output == "soft":
            counts, _ = self._class_counts(r)
            status[counts.sum(axis=1) <= 0] = "no_target"
        status[unrated] = "unrated"
        return status

    def target_status(self, X):
        """``"ok"``, ``"no_target"`` or ``"unrated"`` per utterance."""
        r, post = self._posteriors(X)
        cols = np.array([self.labels_.index(c) if c in self.labels_ else -1
                         for c in self.classes_])
        return pd.Series(self._status(r, post, cols), index=r.index, name="status")

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.two_d_array = False  # needs raters, not vote counts
        return tags
