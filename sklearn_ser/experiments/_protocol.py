"""The leave-one-group-out protocol: fold inputs, parallel jobs, one runner
for every (method, seed, fold), and the results."""

from __future__ import annotations

import sys
import time
from dataclasses import dataclass, replace

import numpy as np
import pandas as pd

from .._warnings import ser_warn
from ..annotations import (
    HardLabels,
    align_annotations,
    check_id_spellings,
    rare_classes,
)
from ..exceptions import ComparisonError, DroppedRowsWarning
from ..features import (
    CONFOUND_THRESHOLD,
    OpenSmileFrames,
    OpenSmileFunctionals,
    is_speaker_confounded,
    training_labels,
)
from ..models import combine_probabilities
from ._folds import _as_frames, _fit_fold, fold_inputs, run_jobs
from ._methods import (
    BASELINES,
    CONFOUNDED,
    METHODS,
    NORMALISATIONS,
    PROFILES,
    Fold,
    confounded_profile,
)
from ._result import ComparisonResult
from ._scores import (
    _finite_or_none,
    _fold_means,
    _mean_over_seeds,
    _n_with_distribution,
    _raters_alpha,
    abstention_scores,
    distribution_scores,
    score_predictions,
    truth_labels,
    truth_left_out,
    truth_rows,
)
from ._stats import speaker_bootstrap


def _truth_counts(has, left):
    """How many utterances the truth column scores, and those it does not
    (``truth_rows``' mask and counts), warned about once."""
    counts = {"scored": int(has.sum()), **left}
    text = truth_left_out(counts)
    if text:
        ser_warn(f"UAR vs the truth column over {counts['scored']} of {len(has)} "
                 f"utterances: {text} left out of it (the scores against the "
                 "ratings keep them).", DroppedRowsWarning)
    return counts


def run_comparison(utterances, annotations, classes, *, methods, seeds=1,
                   epochs=60, n_jobs=1, cache=None, truth_column="intended",
                   group_column="session", profile="benchmark", progress=True,
                   normalise="auto"):
    """Leave-one-group-out comparison of ``methods`` on a corpus.

    Every (method, seed, fold) of every method that trains (networks and
    functionals pipelines alike) is one job of :func:`run_jobs`; fusions are
    made from their members' probabilities. ``normalise`` is the
    :class:`~sklearn_ser.features.SpeakerStandardizer` mode of every method
    (frames and functionals): ``"auto"`` decides in each fold from that
    fold's training speakers and labels; the decisions are in
    ``meta["normalisation"]``. The network settings of each fold follow the
    speaker-confound policy (:func:`fold_profiles`).

    Three steps: :func:`plan_comparison` (checks, majorities, folds, features
    and fold inputs), :func:`run_planned` (the jobs) and
    :func:`score_planned` (predictions, fusions, scores, the record).

    Returns a :class:`~sklearn_ser.experiments.ComparisonResult`.
    """
    plan = plan_comparison(utterances, annotations, classes, methods=methods,
                           n_jobs=n_jobs, cache=cache, group_column=group_column,
                           profile=profile, progress=progress, normalise=normalise)
    fitted = run_planned(plan, seeds=seeds, epochs=epochs, n_jobs=n_jobs,
                         progress=progress)
    return score_planned(plan, fitted, seeds=seeds, epochs=epochs,
                         truth_column=truth_column)


@dataclass
class ComparisonPlan:
    """What a comparison decided before any model trains (see
    :func:`plan_comparison`)."""

    methods: list
    run_methods: list
    registry: dict
    classes: list
    utterances: pd.DataFrame
    annotations: pd.Series
    majority: pd.Series
    groups: np.ndarray
    fold_ids: np.ndarray
    speakers: np.ndarray
    group_column: str
    profile: dict
    fold_profile: dict
    dependence: dict
    neural: bool
    folds: dict
    func_folds: dict
    decisions: dict
    normalise: str
    feature_seconds: float
    #: fold -> the positions, among that fold's test rows, this plan scores
    #: (a :meth:`view`); None: all of them
    fold_take: dict | None = None

    def view(self, rows):
        """This plan scoring only ``rows`` (a mask over its utterances) of
        its held-out folds: what :func:`score_planned` reads, the training
        unchanged (a cross-corpus run scores each test corpus apart)."""
        rows = np.asarray(rows, dtype=bool)
        keep = rows & np.isin(self.groups, self.fold_ids)
        take = {g: np.flatnonzero(rows[self.groups == g]) for g in self.fold_ids}
        return replace(self, utterances=self.utterances[keep],
                       annotations=self.annotations[keep],
                       majority=self.majority[keep], groups=self.groups[keep],
                       speakers=self.speakers[keep], fold_take=take)

    def fold_of(self, method, g):
        tr = self.groups != g
        if method.kind == "network":
            return Fold(*self.folds[g], groups_train=self.speakers[tr])
        return Fold(*self.func_folds[method.features][g],
                    majority_train=self.majority[tr],
                    groups_train=self.speakers[tr])

    def fold_epochs(self, g, epochs):
        prof = self.fold_profile[g]
        return min(epochs, prof["epochs"]) if "epochs" in prof else epochs


def plan_comparison(utterances, annotations, classes, *, methods, n_jobs=1,
                    cache=None, group_column="session", profile="benchmark",
                    progress=True, normalise="auto", held_out=None):
    """Step 1 of :func:`run_comparison`: the methods checked (a fusion's
    members added), the majorities, the folds and their profiles, the
    features extracted once and the fold inputs (normalised per fold).
    ``held_out``: the groups held out in turn (default: every group; a
    cross-corpus run holds out only its test corpora's group)."""
    reg = dict(METHODS)
    unknown = [m for m in methods if m not in reg]
    if unknown:
        raise ComparisonError(
            f"unknown method(s) {unknown}; choose from {list(reg)}."
        )
    # a fusion's members are run too (reported only when asked for)
    run_methods = list(dict.fromkeys(
        [m for f in methods for m in (*reg[f].members, f)]))
    if normalise not in NORMALISATIONS:
        raise ComparisonError(f"unknown normalisation {normalise!r}; choose "
                              f"from {list(NORMALISATIONS)}.")
    if isinstance(profile, str):
        profile = PROFILES[profile]
    u = utterances
    a = align_annotations(u, annotations)  # by utterance id, not by position
    majority = HardLabels(classes).fit(a).transform(a)
    groups = _check_groups(u, group_column)
    fold_ids = np.unique(groups)
    if held_out is not None:
        unknown = sorted(set(map(str, held_out)) - set(fold_ids))
        if unknown:
            raise ComparisonError(f"held_out={unknown} are not groups of "
                                  f"{group_column!r}: {list(fold_ids)}.")
        fold_ids = np.asarray([g for g in fold_ids if g in set(map(str, held_out))])
    speakers = (u["speaker"].to_numpy() if "speaker" in u.columns
                else groups)
    fold_profile, dependence = fold_profiles(a, groups, speakers, profile)
    t = time.perf_counter()
    kinds = {reg[m].kind for m in run_methods}
    neural = "network" in kinds
    frames = {}
    needed = dict.fromkeys(fold_profile[g].get("features", "emobase45")
                           for g in fold_ids) if neural else {}
    for feature_set in needed:
        frames[feature_set] = OpenSmileFrames(
            feature_set, n_jobs=n_jobs, memory=cache,
            progress=progress).fit_transform(u)
    func = {}
    for fset in dict.fromkeys(reg[m].features for m in run_methods
                              if reg[m].kind == "functionals"):
        func[fset] = _as_frames(OpenSmileFunctionals(
            fset, n_jobs=n_jobs, memory=cache,
            progress=progress).fit_transform(u), u)
    feature_seconds = time.perf_counter() - t
    corpus_shift = "corpus" in u.columns and u["corpus"].nunique() > 1
    folds, func_folds, decisions = {}, {}, {}
    if needed:
        # one decision per fold, from the training fold only (it depends on
        # the training speakers and labels, not on the features)
        for feature_set in needed:
            use = [g for g in fold_ids
                   if fold_profile[g].get("features", "emobase45") == feature_set]
            made, dec = fold_inputs(frames[feature_set], a, groups, folds=use,
                                    normalise=normalise,
                                    pool={g: fold_profile[g]["pool"] for g in use},
                                    modes={g: d["mode"] for g, d in decisions.items()},
                                    corpus_shift=corpus_shift)
            folds.update(made)
            decisions.update({g: d for g, d in dec.items() if g not in decisions})
    for fset, table in func.items():
        made, dec = fold_inputs(table, a, groups, folds=fold_ids, normalise=normalise,
                                pool=None,
                                modes={g: d["mode"] for g, d in decisions.items()},
                                corpus_shift=corpus_shift)
        func_folds[fset] = made
        decisions.update({g: d for g, d in dec.items() if g not in decisions})
    decisions = {str(g): decisions[g] for g in fold_ids if g in decisions}
    return ComparisonPlan(
        methods=list(methods), run_methods=run_methods, registry=reg,
        classes=classes, utterances=u, annotations=a, majority=majority,
        groups=groups, fold_ids=fold_ids, speakers=speakers,
        group_column=group_column, profile=profile, fold_profile=fold_profile,
        dependence=dependence, neural=neural, folds=folds, func_folds=func_folds,
        decisions=decisions, normalise=normalise, feature_seconds=feature_seconds)


def run_planned(plan, *, seeds=1, epochs=60, n_jobs=1, progress=True):
    """Step 2 of :func:`run_comparison`: one job per (method, seed, fold) of
    every method that trains; the jobs share the cores (each worker gets its
    share of torch threads). Returns ``{(method, seed, fold): result}``."""
    reg, fold_ids = plan.registry, plan.fold_ids
    first_group = fold_ids[0]
    keys = [(name, seed, g) for name in plan.run_methods
            if reg[name].kind != "fusion"
            for seed in range(seeds) for g in fold_ids]
    tasks = [(reg[name], seed, plan.fold_epochs(g, epochs), plan.fold_profile[g],
              plan.fold_of(reg[name], g), plan.classes,
              reg[name].kind == "network" and seed == 0 and g == first_group)
             for name, seed, g in keys]
    fitted = {}
    if tasks:
        bar = _progress(len(tasks), f"training {len(tasks)} (method, seed, "
                        f"{plan.group_column}) models", progress)
        for key, res in zip(keys, run_jobs(_fit_fold, tasks, n_jobs), strict=True):
            fitted[key] = res
            name, seed, g = key
            bar.set_postfix_str(f"done: {name} seed {seed} {plan.group_column} {g} "
                                f"({res['seconds']:.0f} s)")
            bar.update(1)
        bar.close()
    return fitted


def score_planned(plan, fitted, *, seeds=1, epochs=60, truth_column="intended"):
    """Step 3 of :func:`run_comparison`: each method's out-of-fold
    predictions (a fusion's from its members' probabilities), scored per
    seed and averaged, with the record of what was decided."""
    u, a, classes = plan.utterances, plan.annotations, plan.classes
    majority, groups, fold_ids = plan.majority, plan.groups, plan.fold_ids
    methods, reg = plan.methods, plan.registry
    ok = majority.notna().to_numpy()
    results, plots = {}, {"predictions": {}, "weights_by_class": None,
                          "transition_matrix": None, "attention": None}
    outputs = {}  # (name, seed) -> (pred, proba or None, seconds)
    chosen = {}   # method -> fold -> [C per seed] (an in-fold search's choice)
    epochs_kept = {}  # network method -> fold -> [epochs kept per seed]
    truth = read_truth = truth_counts = None
    if truth_column and truth_column in u.columns:  # read once, for every score
        read_truth = truth_labels(u[truth_column], labels=classes)
        has, truth, left = truth_rows(read_truth, classes)
        truth_counts = _truth_counts(has, left)
    for name in plan.run_methods:
        method = reg[name]
        per_seed = []
        for seed in range(seeds):
            if method.kind == "fusion":
                pred, proba, seconds = _fuse([outputs[m, seed] for m in method.members],
                                             classes)
                has_proba = True
            else:
                pred = np.empty(len(u), dtype=object)
                proba = np.zeros((len(u), len(classes)))
                has_proba, seconds = True, 0.0
                for g in fold_ids:
                    te = groups == g
                    res = fitted[name, seed, g]
                    take = (slice(None) if plan.fold_take is None
                            else plan.fold_take[g])
                    for store, value in ((epochs_kept, res.get("epochs")),
                                         (chosen, res.get("C"))):
                        if value is not None:
                            store.setdefault(name, {}).setdefault(
                                str(g), []).append(value)
                    pred[te] = np.asarray(res["pred"], dtype=object)[take]
                    if res.get("proba") is None:
                        has_proba = False
                    else:
                        proba[te] = np.asarray(res["proba"])[take]
                    seconds += res["seconds"]
                    if te.any():
                        _keep_plot_material(plots, res, name, u.index[te][0],
                                            plan.fold_profile[g])
            outputs[name, seed] = (pred, proba if has_proba else None, seconds)
            if name not in methods:
                continue
            if seed == 0:
                plots["predictions"][name] = pred.copy()
                plots.setdefault("probabilities", {})[name] = (
                    proba.copy() if has_proba else None)
            per_seed.append({**score_predictions(pred, majority, classes, truth),
                             **_fold_means(pred, majority, classes, truth, groups),
                             **distribution_scores(proba if has_proba else None,
                                                   pred, a, classes),
                             "fit_seconds": seconds})
        if name not in methods:
            continue
        results[name] = _mean_over_seeds(per_seed)
        results[name]["description"] = method.description
        picked = next((chosen[m] for m in (name, *method.members) if m in chosen),
                      None)
        if picked is not None:  # a fusion: its every-rating member's
            results[name]["chosen_C"] = picked
        if name in epochs_kept:
            results[name]["epochs_kept"] = epochs_kept[name]
    for name, proba in plots.get("probabilities", {}).items():
        if proba is not None and name in results:  # seed 0, as the plots
            results[name]["abstention"] = abstention_scores(proba, majority, classes,
                                                            truth)
    significance = _significance(plan, plots["predictions"], truth)
    for name, stats in significance["vs_majority"].items():
        if name in results:
            results[name]["uar_ci"] = stats["ci"]
            if "vs_baseline" in stats:
                results[name]["vs_baseline"] = stats["vs_baseline"]
    for name, stats in (significance.get("vs_truth") or {}).items():
        if name in results:
            results[name]["uar_truth_ci"] = stats["ci"]
            if "vs_baseline" in stats:
                results[name]["vs_baseline_truth"] = stats["vs_baseline"]
    meta = {
        "n_utterances": int(len(u)),
        "n_scored": int(ok.sum()),
        "n_no_consensus": int((~ok).sum()),
        "classes": list(classes),
        "folds": f"leave-one-{plan.group_column}-out ({len(fold_ids)} folds)",
        "seeds": seeds,
        "truth_column": truth_column if truth_column in u.columns else None,
        "truth_rows": truth_counts,
        "feature_seconds": plan.feature_seconds,
        "raters_alpha": _finite_or_none(_raters_alpha(a, classes)),
        "n_with_distribution": int(_n_with_distribution(a, classes)),
        "normalisation": _normalisation_summary(plan.normalise, plan.decisions),
        "training": _training_summary(plan.fold_profile, plan.dependence,
                                      plan.profile, epochs, plan.neural),
        "rare_classes": _rare_in_training(majority, ok, groups, classes),
        "significance": significance["meta"],
    }
    plots["majority"] = majority.to_numpy(dtype=object)
    plots["groups"] = groups
    plots["index"] = u.index
    plots["truth"] = read_truth  # every label read, classes or not
    plots["annotations"] = a
    return ComparisonResult(methods=results, meta=meta, plots=plots)


def _significance(plan, predictions, truth):
    """Speaker-bootstrap intervals of every reported method's UAR (seed 0's
    predictions) against the majority and the truth, and paired tests
    against the plain baseline (the first majority-trained baseline run)."""
    ranked = sorted((m for m in plan.methods if m in BASELINES),
                    key=lambda m: m != "logreg_egemaps")  # the plainest first
    baseline = ranked[0] if ranked else None
    vs_majority = speaker_bootstrap(predictions, plan.majority.to_numpy(dtype=object),
                                    plan.speakers, plan.classes, baseline=baseline)
    vs_truth = None
    if truth is not None:
        vs_truth = speaker_bootstrap(predictions, truth, plan.speakers, plan.classes,
                                     baseline=baseline)
    m = vs_majority.pop("_meta")
    meta = {**m, "clusters": "speaker", "seed": 0, "baseline": baseline,
            "level": 0.95}
    if vs_truth is not None:
        meta["n_scored_truth"] = vs_truth.pop("_meta")["n_scored"]
    return {"vs_majority": vs_majority, "vs_truth": vs_truth, "meta": meta}


def _check_groups(u, group_column):
    """The group of every utterance, as text; a clear error for a missing
    column, empty values, missing speakers, group or speaker ids that differ
    only in case, spaces, Unicode form or invisible characters, or a single group."""
    if group_column not in u.columns:
        raise ComparisonError(
            f"the group column {group_column!r} is not in the utterance table; its "
            f"columns are {list(u.columns)} (give another --group-column).")
    empty = u[group_column].isna().to_numpy() | (
        u[group_column].astype(str).str.strip() == "").to_numpy()
    if empty.any():
        raise ComparisonError(
            f"{int(empty.sum())} utterance(s) have no {group_column!r} value (first: "
            f"{u.index[empty][0]!r}); every utterance needs a group for "
            "leave-one-group-out. Fill them in the metadata, or give another "
            "--group-column.")
    if "speaker" in u.columns and u["speaker"].isna().any():
        first = u.index[u["speaker"].isna().to_numpy()][0]
        raise ComparisonError(
            f"{int(u['speaker'].isna().sum())} utterance(s) have no 'speaker' value "
            f"(first: {first!r}); speaker normalisation needs it for every "
            "utterance. Fill them in the metadata, or drop the column.")
    # "S1" and "s1 " would be two groups: one speaker in training and test

    for column in dict.fromkeys([group_column, "speaker"]):
        if column in u.columns:
            try:
                check_id_spellings(u[column].astype(str), f"{column!r} value",
                                   advice=f"in the metadata's {column!r} column")
            except ValueError as e:
                raise ComparisonError(str(e)) from None
    groups = u[group_column].astype(str).to_numpy()
    if len(np.unique(groups)) < 2:
        raise ComparisonError(
            f"the group column {group_column!r} has a single value; "
            "leave-one-group-out needs at least two groups (give another "
            "--group-column)."
        )
    return groups


def fold_profiles(annotations, groups, speakers, profile):
    """The speaker-confound policy: the network settings of each fold.

    A fold whose training speakers predict its training labels (speaker
    explains at least :data:`~sklearn_ser.features.CONFOUND_THRESHOLD` of the
    label entropy: speakers showing one or a few emotions) trains its networks
    with :data:`CONFOUNDED` over ``profile`` (:func:`confounded_profile`);
    the others with ``profile``. The same threshold decides
    ``SpeakerStandardizer(mode="auto")`` and the networks'
    ``SpeakerConfoundWarning``.

    Returns ``({fold: profile}, {fold: speaker dependence})``.
    """
    dependence, chosen = {}, {}
    for g in np.unique(groups):
        tr = groups != g
        labels, _ = training_labels(annotations[tr], int(tr.sum()))
        confounded, dependence[g] = ((False, float("nan")) if labels is None
                                     else is_speaker_confounded(speakers[tr], labels))
        chosen[g] = confounded_profile(profile) if confounded else profile
    return chosen, dependence


def _fuse(members, classes):
    """The geometric mean of the members' probabilities (equal weights), its
    arg-max, and their summed fit seconds."""
    proba = combine_probabilities([p for _, p, _ in members])
    pred = np.asarray(classes, dtype=object)[proba.argmax(axis=1)]
    return pred, proba, sum(sec for _, _, sec in members)


def _keep_plot_material(plots, res, name, utterance, profile):
    """The first noisy-label weights and the first attention curve met."""
    if "weights_by_class" in res and plots["weights_by_class"] is None:
        plots["weights_by_class"] = res["weights_by_class"]
        plots["transition_matrix"] = res["transition_matrix"]
    if "attention" in res and plots["attention"] is None:
        plots["attention"] = {"method": name, "weights": res["attention"],
                              "frames": res["attention_frames"],
                              "utterance": str(utterance),
                              "hop_seconds": 0.01 * profile["pool"]}


def _rare_in_training(majority, ok, groups, classes):
    """{fold: {class: share}}: classes below a quarter of an even share of
    the training fold's majorities (the rule of ``infer_classes``)."""
    out = {}
    for g in np.unique(groups):
        tr = (groups != g) & ok
        counts = pd.Series(majority[tr]).value_counts().reindex(classes, fill_value=0)
        rare = rare_classes(classes, counts.to_numpy())
        if rare:
            out[str(g)] = rare
    return out


def _normalisation_summary(asked, decisions):
    """What --normalise did in each fold, and one sentence saying so."""
    modes = [d["mode"] for d in decisions.values()]
    chosen = {m: modes.count(m) for m in dict.fromkeys(modes)}
    dep = [v for d in decisions.values()
           if (v := _finite_or_none(d["speaker_dependence"])) is not None]
    if asked == "auto":
        parts = ", ".join(f"{m} in {n} of {len(modes)} folds"
                          for m, n in chosen.items())
        text = f"auto: {parts}"
        if dep:
            text += (f" (speaker explains {min(dep):.0%}-{max(dep):.0%} of the "
                     "training labels' entropy; per-speaker z-scores below "
                     f"{CONFOUND_THRESHOLD:.0%})")
    else:
        text = asked
        if dep and asked == "speaker" and max(dep) >= CONFOUND_THRESHOLD:
            text += (f" (warning: speaker explains up to {max(dep):.0%} of the "
                     "training labels' entropy; per-speaker normalisation may "
                     "remove emotion)")
    return {"asked": asked, "chosen": chosen, "text": text,
            "per_fold": {g: {"mode": d["mode"], "speaker_dependence":
                             _finite_or_none(d["speaker_dependence"])}
                         for g, d in decisions.items()}}


def _training_summary(fold_profile, dependence, profile, epochs, neural):
    """Which network settings each fold used, and one sentence saying so."""
    confounded = [str(g) for g, p in fold_profile.items() if p is not profile]
    n = len(fold_profile)
    if not neural:
        text = "no network was trained"
    elif not confounded:
        text = (f"in every fold the training speakers show a mix of emotions "
                f"(speaker explains < {CONFOUND_THRESHOLD:.0%} of the label "
                f"entropy): emobase45 frames, early stopping on held-out "
                f"speakers, at most {epochs} epochs")
    else:
        settings = CONFOUNDED["blstm"]
        if settings.get("validation_fraction") and settings.get("refit"):
            how = (f"a {settings['validation_fraction']:.0%} share of the training "
                   "speakers held out chooses the number of epochs (early "
                   f"stopping, at most {epochs}), then a new network trains on "
                   "every training speaker for that many (holding them out of the "
                   "final network would remove their emotions from training)")
        else:
            how = (f"{min(epochs, CONFOUNDED.get('epochs', epochs))} epochs on "
                   "every training speaker, without early stopping (holding out "
                   "whole speakers would remove emotions from training)")
        if settings.get("weight_averaging"):
            how += (f"; the final weights are the mean of those after each of "
                    f"the last {settings['weight_averaging']:.0%} of the epochs "
                    "(stochastic weight averaging)")
        head = CONFOUNDED.get("head_epochs")
        if head and head < min(epochs, CONFOUNDED.get("epochs", epochs)):
            how += (f"; the stacked model's fusion head trains {head} of them "
                    "on its frozen stage-1 models")
        blend = CONFOUNDED.get("mlee_dominant_weight")
        if blend:
            how += ("; MLEE fusion predicts the geometric mean of its fused and "
                    f"its dominant model's probabilities (weight {blend:g} on the "
                    "dominant model)")
        text = (f"in {len(confounded)} of {n} folds the training speakers "
                f"predict the labels (speaker explains >= "
                f"{CONFOUND_THRESHOLD:.0%} of the label entropy): there the "
                f"networks train on {CONFOUNDED['features']} LLD frames; {how}")
        if len(confounded) < n:
            text += ("; in the other folds emobase45 frames with early stopping "
                     "on held-out speakers")
    return {"confounded_folds": confounded, "text": text,
            "speaker_dependence": {str(g): _finite_or_none(d)
                                   for g, d in dependence.items()}}


def _progress(total, desc, enabled):
    from tqdm.auto import tqdm

    return tqdm(total=total, desc=desc, disable=not enabled, file=sys.stderr)
