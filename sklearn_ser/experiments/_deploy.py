"""One command-line method trained on every utterance of a corpus, as one
estimator from audio to probabilities (``sklearn-ser fit``)."""

from __future__ import annotations

import hashlib
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.frozen import FrozenEstimator
from sklearn.pipeline import Pipeline

from ..annotations import HardLabels, align_annotations, to_long
from ..exceptions import AnnotationError, AudioError, BundleError, ComparisonError
from ..features import (
    FrameAverager,
    FrameStatistics,
    OpenSmileFrames,
    OpenSmileFunctionals,
    PredictionStandardizer,
    SpeakerStandardizer,
    is_speaker_confounded,
    training_labels,
)
from ..metrics import vote_shares
from ..models import LateFusionClassifier, save_model
from ._corpus_options import read_corpus, resolve_columns
from ._folds import _chosen_penalty, chosen_epochs
from ._methods import PROFILES, confounded_profile, registry
from ._protocol import run_comparison
from ._scores import _finite_or_none, _raters_alpha

#: The ``--normalise`` choices of ``sklearn-ser fit`` (one corpus: no
#: per-corpus statistics).
FIT_NORMALISATIONS = ("auto", "speaker", "global", "none")


def decide_normalisation(utterances, annotations, normalise="auto"):
    """``(mode, reason)``: the normalisation of every member, decided once
    from all the training speakers and labels (the rule of
    :class:`~sklearn_ser.features.SpeakerStandardizer`'s ``"auto"``)."""
    table = pd.DataFrame(index=utterances.index)
    if "speaker" in utterances.columns:
        table["speaker"] = utterances["speaker"].to_numpy()
    table["frames"] = [np.zeros((1, 1), np.float32)] * len(table)
    norm = SpeakerStandardizer(normalise).fit(table, annotations)
    return norm.mode_, norm.mode_reason_


def _member(method, u, a, majority, classes, seed, epochs, profile, mode, n_jobs,
            cache, progress):
    """One registry method as a pipeline from the utterance table, fitted on
    every utterance (a majority-trained one on those with a majority)."""
    extract = dict(n_jobs=n_jobs, memory=cache, progress=progress)
    if method.kind == "network":
        steps = [("features", OpenSmileFrames(profile.get("features", "emobase45"),
                                              **extract)),
                 ("normalise", PredictionStandardizer(mode)),
                 ("pool", FrameAverager(profile["pool"])),
                 ("model", method.estimator(classes, seed, epochs, profile))]
        pipe = Pipeline(steps).fit(u, a)
    else:
        features = OpenSmileFunctionals(method.features, output="frames", **extract)
        n_features = features.fit().n_features_out_
        model = method.estimator(classes, seed, epochs, profile,
                                 n_features=n_features)
        clf = model.steps[-1][1] if hasattr(model, "steps") else model
        if not hasattr(clf, "predict_proba") and "probability" in clf.get_params():
            # a deployed model gives a distribution: the SVM's labels with
            # Platt-scaled probabilities (what predict_distribution names
            # "majority": calibrated probabilities of the majority label)
            clf.set_params(probability=True, random_state=seed)
        pipe = Pipeline([("features", features),
                         ("normalise", PredictionStandardizer(mode)),
                         ("rows", FrameStatistics()),
                         ("model", model)])
        if method.targets == "majority":
            ok = majority.notna().to_numpy()
            pipe.fit(u[ok], majority[ok].astype(str))
        else:  # the penalty search's inner folds group by speaker
            groups = (u["speaker"].to_numpy() if "speaker" in u.columns else None)
            pipe.fit(u, a, model__everyratingclassifier__groups=groups)
    # the bundle carries no path of this machine and no worker count
    pipe.set_params(features__memory=None, features__n_jobs=None,
                    features__progress="auto")
    return pipe


def fit_method(name, utterances, annotations, classes, *, seed=0, epochs=100,
               profile="benchmark", normalise="auto", n_jobs=1, cache=None,
               progress=True):
    """Train the command-line method ``name`` on every utterance.

    Every decision the method takes from data (the normalisation, the
    speaker-confound profile, a penalty search, the epochs) is taken on all
    of the utterances, as a comparison takes it in a training fold.

    Returns
    -------
    model : fitted estimator
        A :class:`~sklearn.pipeline.Pipeline` from the utterance table
        (``path`` or ``audio`` column, and ``speaker``) to probabilities:
        extraction, :class:`~sklearn_ser.features.PredictionStandardizer`,
        pooling, the model; for a fusion, a
        :class:`~sklearn_ser.models.LateFusionClassifier` of such pipelines.
    record : dict
        What was decided: the normalisation and why, the speaker-label
        dependence, the profile, the epochs, the chosen penalties and the
        epochs the networks kept.
    """
    reg = registry()
    if name not in reg:
        raise ComparisonError(f"unknown method {name!r}; choose from {list(reg)}.")
    method = reg[name]
    if isinstance(profile, str):
        profile = PROFILES[profile]
    u = utterances
    a = align_annotations(u, annotations)
    majority = HardLabels(classes).fit(a).transform(a)
    labels, _ = training_labels(a, len(a))
    dependence, confounded = float("nan"), False
    if labels is not None and "speaker" in u.columns:
        confounded, dependence = is_speaker_confounded(u["speaker"].to_numpy(), labels)
    prof = confounded_profile(profile) if confounded else profile
    epochs = min(epochs, prof["epochs"]) if "epochs" in prof else epochs
    mode, reason = decide_normalisation(u, a, normalise)
    members = method.members or (name,)
    fitted = {}
    for m in members:
        t = time.perf_counter()
        fitted[m] = _member(reg[m], u, a, majority, classes, seed, epochs, prof, mode,
                            n_jobs, cache, progress)
        if progress:
            print(f"sklearn-ser fit: {m} trained ({time.perf_counter() - t:.0f} s)",
                  file=sys.stderr)
    if method.kind == "fusion":  # the members as they are: the geometric mean
        model = LateFusionClassifier([(m, FrozenEstimator(fitted[m]))
                                      for m in members], combine="geometric").fit(u, a)
    else:
        model = fitted[name]
    record = {
        "method": name, "description": method.description,
        "normalisation": {"mode": mode, "reason": reason},
        "speaker_dependence": _finite_or_none(dependence),
        "profile": "speaker-confounded" if confounded else "standard",
        "max_epochs": epochs,
        "decisions": {m: {k: v for k, v in (
            ("chosen_C", _chosen_penalty(fitted[m][-1])),
            ("epochs_kept", chosen_epochs(fitted[m][-1]))) if v is not None}
            for m in members},
    }
    return model, record


def training_summary(utterances, annotations, classes, corpus=None):
    """The training corpus as a model card states it: sizes, majority class
    counts, a SHA-256 of its ratings, and how much its raters disagree."""
    a = align_annotations(utterances, annotations)
    long = to_long(a)
    majority = HardLabels(classes).fit(a).transform(a)
    text = long.sort_values(list(long.columns)).to_csv(index=False)
    shares = vote_shares(a, classes=classes)
    full = shares.notna().all(axis=1)
    p = shares[full].to_numpy(dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        entropy = -np.nansum(np.where(p > 0, p * np.log2(p), 0.0), axis=1)
    per = long.groupby("utterance")["rater"].nunique()
    return {
        "corpus": corpus,
        "n_utterances": int(len(a)),
        "n_speakers": (int(utterances["speaker"].nunique())
                       if "speaker" in utterances.columns else None),
        "n_raters": int(long["rater"].nunique()),
        "n_ratings": int(len(long)),
        "classes": list(classes),
        "class_counts": {str(c): int(n) for c, n in majority.value_counts()
                         .reindex(classes, fill_value=0).items()},
        "no_majority": int(majority.isna().sum()),
        "ratings_sha256": hashlib.sha256(text.encode()).hexdigest(),
        "disagreement": {
            "krippendorff_alpha": _finite_or_none(_raters_alpha(a, classes)),
            "raters_per_utterance": float(per.mean()) if len(per) else None,
            "unanimous_share": float((p.max(axis=1) == 1).mean()) if len(p) else None,
            "mean_vote_entropy_bits": float(entropy.mean()) if len(p) else None,
        },
    }


def cv_summary(results, name):
    """The scores of ``name`` in a comparison result, for the model card."""
    r = results.methods[name]
    keep = ("uar", "wa", "uar_truth", "wa_truth", "uar_ci", "uar_truth_ci")
    out = {k: r[k] for k in keep if r.get(k) is not None}
    out["folds"] = results.meta["folds"]
    return out


def cmd_fit(args):
    """``sklearn-ser fit``: one method on every utterance, saved as a bundle."""
    u, a, classes, truth, group, corpus = read_corpus(args)
    u, classes, truth, group, rule = resolve_columns(u, a, args, classes, truth,
                                                     group)
    epochs = 8 if args.quick else args.max_epochs
    progress = not args.no_progress
    t = time.perf_counter()
    try:
        model, record = fit_method(args.method, u, a, classes,
                                   seed=args.random_state, epochs=epochs,
                                   normalise=args.normalise, n_jobs=args.n_jobs,
                                   cache=args.cache, progress=progress)
    except (ComparisonError, AnnotationError, AudioError) as e:
        raise SystemExit(f"sklearn-ser fit: {e}") from None
    training = {**record, "classes_rule": rule, "truth_column": truth,
                **training_summary(u, a, classes, corpus),
                "fit_seconds": time.perf_counter() - t}
    if args.cv:
        results = run_comparison(u, a, classes, methods=[args.method], seeds=1,
                                 epochs=epochs, n_jobs=args.n_jobs, cache=args.cache,
                                 truth_column=truth, group_column=group,
                                 progress=progress, normalise=args.normalise)
        training["cv"] = cv_summary(results, args.method)
    try:
        save_model(model, args.out, training=training)
    except BundleError as e:
        raise SystemExit(f"sklearn-ser fit: {e}") from None
    print(f"sklearn-ser fit: {args.method} trained on {len(u)} utterances "
          f"({training['n_speakers']} speakers, classes {classes}); normalisation "
          f"{record['normalisation']['mode']} ({record['normalisation']['reason']}); "
          f"saved to {Path(args.out).absolute()} (sklearn-ser info "
          f"{args.out} shows its card).", file=sys.stderr)
    if "cv" in training:
        cv = training["cv"]
        print(f"leave-one-{group}-out: UAR {cv['uar']:.3f}"
              + (f", vs truth {cv['uar_truth']:.3f}" if "uar_truth" in cv else ""),
              file=sys.stderr)
    return 0
