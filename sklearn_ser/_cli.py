"""The ``sklearn-ser`` command line."""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd

from . import __version__
from ._parallel import torch_thread_share, use_torch_threads

#: Training settings. "benchmark" = the settings measured on EmoDB-crowd
#: (BENCHMARKS.md); "demo" = a compact network so that every method runs on
#: the generated corpus within 5 minutes on two CPU cores.
PROFILES = {
    "benchmark": {"pool": 10, "blstm": {"lr": 3e-3, "patience": 20,
                                        "validation_fraction": 0.25}},
    "demo": {"pool": 10, "blstm": {"dense_units": 64, "lstm_units": 32,
                                   "head_units": 64, "lr": 3e-3, "patience": 5,
                                   "validation_fraction": 0.25}},
}


#: Where the training fold's speakers predict its labels (speaker explains
#: >= 30 % of the label entropy: speakers show one or a few emotions), holding
#: out whole speakers for early stopping removes emotions from training and
#: the networks fall towards chance (measured on EmoDB-confounded and on a
#: generated one-emotion-per-speaker corpus, BENCHMARKS.md). There the
#: networks train on eGeMAPS LLD frames for a fixed 20 epochs on all training
#: speakers instead; the rest of the profile (sizes, lr, pooling) is kept.
CONFOUNDED = {"features": "eGeMAPSv02", "epochs": 20,
              "blstm": {"validation_fraction": None}}


def _confounded(profile):
    out = {**profile, "features": CONFOUNDED["features"],
           "epochs": CONFOUNDED["epochs"]}
    out["blstm"] = {**profile["blstm"], **CONFOUNDED["blstm"]}
    return out


def _methods():
    """name -> (description, builder(classes, seed, epochs, profile)); None = SVM."""
    from .models import BLSTMAttentionClassifier

    def blstm(target):
        def build(classes, seed, epochs, profile):
            return BLSTMAttentionClassifier(target, classes=classes, random_state=seed,
                                            max_epochs=epochs, **profile["blstm"])
        return build

    def soft_x5(classes, seed, epochs, profile):
        from .models import SeedEnsembleClassifier

        return SeedEnsembleClassifier(blstm("soft")(classes, seed, epochs, profile),
                                      n_members=5, random_state=seed)

    def stacked(classes, seed, epochs, profile):
        from .models import StackedAnnotatorClassifier

        return StackedAnnotatorClassifier(blstm("hard")(classes, seed, epochs, profile),
                                          classes=classes, random_state=seed)

    def mlee(classes, seed, epochs, profile):
        from .models import MLEEFusionClassifier

        # the BLSTM encoder on LLD frames, at the learning rate of the other
        # BLSTMs (the paper's CNN on spectrograms is MLEEFusionClassifier's
        # default; far too slow for two CPU cores)
        lr = profile["blstm"].get("lr", 1e-3)
        base = blstm("hard")(classes, seed, epochs, profile).set_params(
            optimizer="adam")
        return MLEEFusionClassifier(base, classes=classes, random_state=seed,
                                    pretrain_lr=lr, dominant_lr=lr,
                                    finetune_lr=lr / 2, fusion_lr=lr / 4)

    def noisy(classes, seed, epochs, profile):
        from .models import NoisyLabelMetaClassifier

        params = dict(profile["blstm"])
        params.pop("lr", None)  # Fujioka et al.: Adam at its default 1e-3
        if "dense_units" in params:  # compact profile: keep Fujioka's ratio
            params["dense_units"] *= 2
        params.pop("head_units", None)
        return NoisyLabelMetaClassifier(classes=classes, random_state=seed,
                                        max_epochs=epochs, **params)

    return {
        "svm_egemaps": ("eGeMAPS functionals + linear SVM (C=0.01, balanced) on "
                        "the majority", None),
        "logreg_egemaps": ("eGeMAPS functionals + logistic regression (C=0.01, "
                           "balanced) on the majority", None),
        "crowd_hard": ("BLSTM-attention on hard majority targets (CrowdH)",
                       blstm("hard")),
        "crowd_soft": ("BLSTM-attention on soft targets, alpha 0.75 (CrowdS)",
                       blstm("soft")),
        "crowd_soft_x5": ("five CrowdS BLSTMs with their own seeds, probabilities "
                          "averaged (SeedEnsembleClassifier)", soft_x5),
        "mlee_only": ("BLSTM-attention on existence targets, Eq. 7 (MLEE only)",
                      blstm("existence")),
        "stacked": ("StackedAnnotatorClassifier: CrowdH + CrowdS + raters, fused",
                    stacked),
        "mlee_fusion": ("MLEEFusionClassifier (BLSTM encoders), soft fine-tuning",
                        mlee),
        "noisy_meta": ("NoisyLabelMetaClassifier: BLSTM + L + w", noisy),
    }


#: Methods run by ``sklearn-ser demo`` when --methods is not given: the
#: majority-trained baselines, CrowdH, CrowdS and the three papers' methods.
DEMO_METHODS = ("svm_egemaps", "logreg_egemaps", "crowd_hard", "crowd_soft",
                "stacked", "mlee_fusion", "noisy_meta")

#: The majority-trained functionals baselines (no network).
BASELINES = ("svm_egemaps", "logreg_egemaps")

NORMALISATIONS = ("auto", "speaker", "global", "none")


def _as_frames(features, utterances):
    """Utterance-level feature rows as one-frame sequences (with speakers)."""
    table = pd.DataFrame(index=utterances.index)
    if "speaker" in utterances.columns:
        table["speaker"] = utterances["speaker"].to_numpy()
    table["frames"] = [row[None, :] for row in np.asarray(features)]
    return table


def _unframe(table):
    return np.concatenate(list(table["frames"]), axis=0)


def _baseline(name):
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler
    from sklearn.svm import SVC

    if name == "svm_egemaps":
        clf = SVC(kernel="linear", C=0.01, class_weight="balanced")
    else:
        clf = LogisticRegression(C=0.01, class_weight="balanced", max_iter=2000)
    return make_pipeline(StandardScaler(), clf)


def _fit_fold(name, build, seed, epochs, profile, Xtr, ytr, Xte, classes, threads,
              extras):
    """One (method, seed, fold) job: predictions, and plot material if asked."""
    use_torch_threads(threads)
    t = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        clf = build(classes, seed, epochs, profile).fit(Xtr, ytr)
    seconds = time.perf_counter() - t
    out = {"pred": np.asarray(clf.predict(Xte), dtype=object), "seconds": seconds}
    if extras:
        if hasattr(clf, "weights_by_class_"):
            out["weights_by_class"] = clf.weights_by_class_
            out["transition_matrix"] = clf.transition_matrix_
        try:
            out["attention"] = clf.attention_weights(Xte.iloc[:1])[0]
            out["attention_frames"] = np.asarray(Xte["frames"].iloc[0])
        except (AttributeError, TypeError, ValueError):  # no attention pooling
            pass
    return out


def run_comparison(utterances, annotations, classes, *, methods, seeds=1,
                   epochs=60, n_jobs=1, cache=None, truth_column="intended",
                   group_column="session", profile="benchmark", progress=True,
                   normalise="auto"):
    """Leave-one-group-out comparison of ``methods`` on a corpus.

    ``normalise`` is the :class:`~sklearn_ser.features.SpeakerStandardizer`
    mode of every method (frames and functionals): ``"auto"`` decides in each
    fold from that fold's training speakers and labels; the decisions are in
    ``meta["normalisation"]``.

    Returns the results dict (``methods``, ``meta``) with, under the private
    key ``"_plots"``, the material of the plots: predictions of seed 0 for
    every utterance, fitted weights of the noisy-label model and one
    utterance's attention.
    """
    import joblib

    from ._parallel import parallel
    from .annotations import HardLabels
    from .features import (
        FrameAverager,
        OpenSmileFrames,
        OpenSmileFunctionals,
        SpeakerStandardizer,
    )
    from .metrics import unweighted_average_recall, weighted_accuracy

    registry = _methods()
    unknown = [m for m in methods if m not in registry]
    if unknown:
        raise SystemExit(
            f"sklearn-ser: unknown method(s) {unknown}; choose from {list(registry)}."
        )
    if normalise not in NORMALISATIONS:
        raise SystemExit(f"sklearn-ser: unknown normalisation {normalise!r}; choose "
                         f"from {list(NORMALISATIONS)}.")
    if isinstance(profile, str):
        profile = PROFILES[profile]
    u, a = utterances, annotations
    enc = HardLabels(classes).fit(a)
    majority = enc.transform(a)
    ok = majority.notna().to_numpy()
    groups = u[group_column].astype(str).to_numpy()
    if len(np.unique(groups)) < 2:
        raise SystemExit(
            f"sklearn-ser: the group column {group_column!r} has a single value; "
            "leave-one-group-out needs at least two groups (give another "
            "--group-column)."
        )
    from .features._normalize import (
        CONFOUND_THRESHOLD,
        _training_labels,
        speaker_label_dependence,
    )

    # the training profile of each fold, from its training speakers and labels
    fold_ids = np.unique(groups)
    speakers = (u["speaker"].to_numpy() if "speaker" in u.columns
                else groups)
    dependence, fold_profile = {}, {}
    for g in fold_ids:
        tr = groups != g
        labels, _ = _training_labels(a[tr], int(tr.sum()))
        dep = (float("nan") if labels is None
               else speaker_label_dependence(speakers[tr], labels))
        dependence[g] = dep
        confounded = bool(np.isfinite(dep) and dep >= CONFOUND_THRESHOLD)
        fold_profile[g] = _confounded(profile) if confounded else profile
    t = time.perf_counter()
    neural = any(registry[m][1] is not None for m in methods)
    frames = {}
    needed = dict.fromkeys(fold_profile[g].get("features", "emobase45")
                           for g in fold_ids) if neural else {}
    for feature_set in needed:
        frames[feature_set] = OpenSmileFrames(
            feature_set, n_jobs=n_jobs, memory=cache,
            progress=progress).fit_transform(u)
    func = None
    if any(m in BASELINES for m in methods):
        func = _as_frames(OpenSmileFunctionals(
            "eGeMAPSv02", n_jobs=n_jobs, memory=cache,
            progress=progress).fit_transform(u), u)
    feature_seconds = time.perf_counter() - t
    folds, func_folds, decisions = {}, {}, {}
    for g in fold_ids:
        te, tr = groups == g, groups != g
        prof = fold_profile[g]
        lld = frames.get(prof.get("features", "emobase45"))
        # one decision per fold, from the training fold only (it depends on
        # the training speakers and labels, not on the features)
        mode = normalise
        for feats, store in ((lld, folds), (func, func_folds)):
            if feats is None:
                continue
            if str(g) in decisions:  # decided on the first feature set
                norm = SpeakerStandardizer(mode).fit(feats[tr])
            else:
                norm = SpeakerStandardizer(normalise).fit(feats[tr], a[tr])
                mode = norm.mode_
                decisions[str(g)] = {"mode": norm.mode_, "reason": norm.mode_reason_,
                                     "speaker_dependence": norm.speaker_dependence_}
            if store is folds:
                pool = FrameAverager(prof["pool"])
                store[g] = (pool.fit_transform(norm.transform(feats[tr])), a[tr],
                            pool.transform(norm.transform(feats[te])))
            else:
                store[g] = (_unframe(norm.transform(feats[tr])),
                            _unframe(norm.transform(feats[te])))
    # every (method, seed, fold) of the neural methods is one job; the jobs
    # share the cores (each worker gets its share of torch threads)
    threads = torch_thread_share(n_jobs)
    tasks = [(name, seed, g) for name in methods if registry[name][1] is not None
             for seed in range(seeds) for g in np.unique(groups)]
    first_group = np.unique(groups)[0]
    def fold_epochs(g):
        prof = fold_profile[g]
        return min(epochs, prof["epochs"]) if "epochs" in prof else epochs

    jobs = (joblib.delayed(_fit_fold)(
        name, registry[name][1], seed, fold_epochs(g), fold_profile[g], *folds[g],
        classes, threads, seed == 0 and g == first_group) for name, seed, g in tasks)
    fitted = {}
    if tasks:
        bar = _progress(len(tasks), f"training {len(tasks)} (method, seed, "
                        f"{group_column}) models", progress)
        for key, res in zip(tasks, parallel(n_jobs)(jobs), strict=True):
            fitted[key] = res
            name, seed, g = key
            bar.set_postfix_str(f"done: {name} seed {seed} {group_column} {g} "
                                f"({res['seconds']:.0f} s)")
            bar.update(1)
        bar.close()
    results, plots = {}, {"predictions": {}, "weights_by_class": None,
                          "transition_matrix": None, "attention": None}
    for name in methods:
        per_seed = []
        for seed in range(seeds):
            pred = np.empty(len(u), dtype=object)
            seconds = 0.0
            for g in np.unique(groups):
                te, tr = groups == g, groups != g
                if registry[name][1] is None:
                    t = time.perf_counter()
                    f_tr, f_te = func_folds[g]
                    fit_rows = ok[tr]
                    clf = _baseline(name)
                    clf.fit(f_tr[fit_rows], majority[tr][fit_rows].astype(str))
                    pred[te] = clf.predict(f_te)
                    seconds += time.perf_counter() - t
                    continue
                res = fitted[name, seed, g]
                pred[te] = res["pred"]
                seconds += res["seconds"]
                if "weights_by_class" in res and plots["weights_by_class"] is None:
                    plots["weights_by_class"] = res["weights_by_class"]
                    plots["transition_matrix"] = res["transition_matrix"]
                if "attention" in res and plots["attention"] is None:
                    plots["attention"] = {"method": name, "weights": res["attention"],
                                          "frames": res["attention_frames"],
                                          "utterance": str(u.index[te][0]),
                                          "hop_seconds": 0.01 * fold_profile[g][
                                              "pool"]}
            if seed == 0:
                plots["predictions"][name] = pred.copy()
            y_maj = majority[ok].to_numpy()
            recall = {c: float(np.mean(pred[ok][y_maj == c] == c))
                      for c in classes if np.any(y_maj == c)}
            truth = None
            if truth_column and truth_column in u.columns:
                truth = unweighted_average_recall(u[truth_column], pred,
                                                  labels=classes)
            per_seed.append({
                "uar": unweighted_average_recall(y_maj, pred[ok], labels=classes),
                "wa": weighted_accuracy(y_maj, pred[ok]),
                "uar_truth": truth,
                "per_class_recall": recall,
                "fit_seconds": seconds,
            })
        results[name] = _mean_over_seeds(per_seed)
        results[name]["description"] = registry[name][0]
    meta = {
        "n_utterances": int(len(u)),
        "n_scored": int(ok.sum()),
        "n_no_consensus": int((~ok).sum()),
        "classes": list(classes),
        "folds": f"leave-one-{group_column}-out ({len(np.unique(groups))} folds)",
        "seeds": seeds,
        "truth_column": truth_column if truth_column in u.columns else None,
        "feature_seconds": feature_seconds,
        "normalisation": _normalisation_summary(normalise, decisions),
        "training": _training_summary(fold_profile, dependence, profile, epochs,
                                      neural),
    }
    plots["majority"] = majority.to_numpy(dtype=object)
    plots["groups"] = groups
    plots["index"] = u.index
    plots["truth"] = (u[truth_column].to_numpy(dtype=object)
                      if truth_column and truth_column in u.columns else None)
    plots["annotations"] = a
    return {"methods": results, "meta": meta, "_plots": plots}


def _finite_or_none(value):
    return None if value is None or not np.isfinite(value) else float(value)


def _normalisation_summary(asked, decisions):
    """What --normalise did in each fold, and one sentence saying so."""
    from .features._normalize import CONFOUND_THRESHOLD

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
    from .features._normalize import CONFOUND_THRESHOLD

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
        text = (f"in {len(confounded)} of {n} folds the training speakers "
                f"predict the labels (speaker explains >= "
                f"{CONFOUND_THRESHOLD:.0%} of the label entropy): there the "
                f"networks train on {CONFOUNDED['features']} LLD frames for "
                f"{min(epochs, CONFOUNDED['epochs'])} epochs on every training "
                "speaker, without early stopping (holding out whole speakers "
                "would remove emotions from training)")
        if len(confounded) < n:
            text += ("; in the other folds emobase45 frames with early stopping "
                     "on held-out speakers")
    return {"confounded_folds": confounded, "text": text,
            "speaker_dependence": {str(g): _finite_or_none(d)
                                   for g, d in dependence.items()}}


def _progress(total, desc, enabled):
    from tqdm.auto import tqdm

    return tqdm(total=total, desc=desc, disable=not enabled, file=sys.stderr)


def _mean_over_seeds(rows):
    out = {}
    for key in ("uar", "wa", "uar_truth", "fit_seconds"):
        vals = [r[key] for r in rows if r[key] is not None]
        out[key] = float(np.mean(vals)) if vals else None
        if key in ("uar", "uar_truth") and len(vals) > 1:
            out[key + "_sd"] = float(np.std(vals, ddof=1))
    classes = rows[0]["per_class_recall"].keys()
    out["per_class_recall"] = {c: float(np.mean([r["per_class_recall"][c]
                                                  for r in rows])) for c in classes}
    return out


def results_table(results):
    """Markdown table in the style of Table 3 of Chou & Lee."""
    methods = results["methods"]
    classes = results["meta"]["classes"]
    head = ["method", "UAR", "WA", "UAR vs truth", *classes, "fit s"]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for name, r in methods.items():
        def pct(v):
            return "-" if v is None else f"{100 * v:.2f}"
        truth = pct(r["uar_truth"])
        if r.get("uar_truth_sd") is not None and r["uar_truth"] is not None:
            truth += f" ± {100 * r['uar_truth_sd']:.1f}"
        cells = [name, pct(r["uar"]), pct(r["wa"]), truth,
                 *[pct(r["per_class_recall"].get(c)) for c in classes],
                 f"{r['fit_seconds']:.0f}"]
        lines.append("| " + " | ".join(cells) + " |")
    m = results["meta"]
    lines.append("")
    lines.append("UAR/WA against the hard majority of the ratings over "
                 f"{m['n_scored']} utterances ({m['n_no_consensus']} without "
                 f"consensus left out); {m['folds']}; mean of {m['seeds']} seed(s).")
    if m.get("normalisation"):
        lines.append("")
        lines.append(f"Normalisation (--normalise): {m['normalisation']['text']}.")
    if m.get("training"):
        lines.append("")
        lines.append(f"Networks: {m['training']['text']}.")
    if m.get("classes_rule"):
        lines.append("")
        lines.append(f"Classes: {', '.join(classes)} ({m['classes_rule']}).")
    note = _trailing_note(results)
    if note:
        lines += ["", note]
    return "\n".join(lines)


def _trailing_note(results):
    """One line when every crowd method trails the best functionals baseline."""
    methods = results["methods"]
    key = "uar_truth" if any(r.get("uar_truth") is not None
                             for r in methods.values()) else "uar"
    base = {n: r[key] for n, r in methods.items() if n in BASELINES
            and r.get(key) is not None}
    crowd = {n: r[key] for n, r in methods.items() if n not in BASELINES
             and r.get(key) is not None}
    if not base or not crowd:
        return ""
    best_base = max(base, key=base.get)
    if max(crowd.values()) >= base[best_base]:
        return ""
    what = "UAR vs truth" if key == "uar_truth" else "UAR"
    hint = "more --seeds or --max-epochs"
    norm = results["meta"].get("normalisation") or {}
    if "speaker" in norm.get("chosen", {}):
        hint = "--normalise global, " + hint
    return (f"Note: every crowd-trained method trails {best_base} "
            f"({what} {100 * base[best_base]:.1f} vs at best "
            f"{100 * max(crowd.values()):.1f}); on this corpus the networks do "
            f"not pay for their cost as configured (try {hint}).")


def results_legend(results):
    """What the columns and methods of :func:`results_table` mean."""
    m = results["meta"]
    lines = ["## Legend", ""]
    lines.append("- **UAR**: unweighted average recall (mean of per-class recalls) "
                 "against the hard majority of the ratings; **WA**: accuracy "
                 "against it (weighted by class frequency).")
    if m.get("truth_column"):
        lines.append(f"- **UAR vs truth**: UAR against the `{m['truth_column']}` "
                     "column (e.g. the intended emotion), over every utterance "
                     "that has one, whether the raters agreed or not.")
    else:
        lines.append("- **UAR vs truth**: `-` (no truth column was given).")
    lines.append("- class columns: recall of each class against the majority.")
    lines.append("- **fit s**: training seconds summed over one seed's folds "
                 "(0 means under half a second: the functionals baselines train "
                 "in milliseconds; feature extraction is not counted, it took "
                 f"{m.get('feature_seconds', 0):.0f} s once for all methods).")
    lines.append("")
    for name, r in results["methods"].items():
        lines.append(f"- `{name}`: {r.get('description', '')}")
    return "\n".join(lines)


def _report_head(results):
    m = results["meta"]
    corpus = m.get("corpus", "corpus")
    return (f"# sklearn-ser {m.get('command', 'benchmark')}: {corpus}\n\n"
            f"{m['n_utterances']} utterances, {len(m['classes'])} classes, "
            f"{m['folds']}.\n\n")


def _public(results):
    return {k: v for k, v in results.items() if not k.startswith("_")}


def write_outputs(out, results):
    """results.json, results.md, predictions.csv and the PNG plots in ``out``.

    Returns the list of written paths.
    """
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    json_path, md_path = out / "results.json", out / "results.md"
    json_path.write_text(json.dumps(_public(results), indent=2))
    md_path.write_text(_report_head(results) + results_table(results) + "\n\n"
                       + results_legend(results) + "\n")
    paths = [json_path, md_path]
    plots = results.get("_plots")
    if plots:
        paths += _write_plots(out, results, plots)
    return paths


def _write_plots(out, results, plots):
    import matplotlib

    matplotlib.use("Agg")  # files only, never a window
    import matplotlib.pyplot as plt

    from . import plotting

    classes = results["meta"]["classes"]
    preds = plots["predictions"]
    paths = []
    agreement = plotting.agreement_levels(plots["annotations"], classes)
    table = pd.DataFrame({"group": plots["groups"], "majority": plots["majority"],
                          "agreement": agreement.to_numpy()}, index=plots["index"])
    if plots["truth"] is not None:
        table["truth"] = plots["truth"]
    for name, pred in preds.items():
        table[name] = pred
    table.index.name = "utterance"
    csv = out / "predictions.csv"
    table.to_csv(csv)
    paths.append(csv)

    def save(fig, name):
        path = out / name
        fig.savefig(path, dpi=110)
        plt.close(fig)
        paths.append(path)

    save(plotting.plot_confusion_matrices(
        preds, plots["majority"], classes,
        title=f"Confusion matrices vs the majority ({results['meta']['folds']}, "
              "seed 0; each row sums to 1)"), "confusion_matrices.png")
    save(plotting.plot_per_class_recall(
        {m: r["per_class_recall"] for m, r in results["methods"].items()}, classes),
        "per_class_recall.png")
    save(plotting.plot_agreement_accuracy(preds, plots["majority"], agreement),
         "agreement_accuracy.png")
    if plots["attention"] is not None:
        att = plots["attention"]
        save(plotting.plot_attention(
            att["weights"], frames=att["frames"], hop_seconds=att["hop_seconds"],
            title=f"{att['method']}: attention over {att['utterance']}"),
            "attention.png")
    if plots["weights_by_class"] is not None:
        save(plotting.plot_sample_weights(plots["weights_by_class"]),
             "noisy_meta_weights.png")
        save(plotting.plot_transition_matrix(plots["transition_matrix"]),
             "noisy_meta_transitions.png")
    return paths


#: The files a run writes; a folder holding any of them is someone's results.
OUTPUT_NAMES = ("results.json", "results.md", "predictions.csv",
                "confusion_matrices.png", "per_class_recall.png",
                "agreement_accuracy.png", "attention.png", "noisy_meta_weights.png",
                "noisy_meta_transitions.png")


class _OutDir:
    """The output folder of one run, claimed before any work starts.

    A new folder is created atomically (``mkdir`` fails if another run made it
    first); an existing folder is used only when it holds none of the files a
    run writes, and is claimed with an exclusive lock file. Otherwise the run
    writes to ``<out>-2``, ``<out>-3``, ...: a user's results are never
    overwritten, and two runs given the same ``--out`` never share a folder.
    """

    LOCK = ".sklearn-ser-run"

    def __init__(self, path):
        out = Path(path)
        if out.exists() and not out.is_dir():
            raise SystemExit(f"sklearn-ser: --out {str(out)!r} is a file; give a "
                             "folder.")
        self.created = False
        for k in range(1, 10_000):
            cand = out if k == 1 else out.parent / f"{out.name}-{k}"
            if cand.exists() and not cand.is_dir():
                continue
            try:
                try:
                    cand.mkdir(parents=True)
                    created = True
                except FileExistsError:
                    created = False
                    if any((cand / n).exists() for n in OUTPUT_NAMES):
                        continue
                # the folder is ours once we hold its lock (a folder the user
                # made for us, or one another run made a moment ago, too)
                try:
                    fd = os.open(cand / self.LOCK, os.O_CREAT | os.O_EXCL |
                                 os.O_WRONLY)
                    os.close(fd)
                except FileExistsError:
                    continue
                self.path, self.created = cand, created
                break
            except PermissionError:
                raise SystemExit(f"sklearn-ser: cannot create --out folder "
                                 f"{str(cand)!r} (permission denied).") from None
        else:  # pragma: no cover - 10,000 earlier runs
            raise SystemExit(f"sklearn-ser: no free folder next to {str(out)!r}.")
        if self.path != out:
            print(f"sklearn-ser: {out} holds earlier results or another run's; "
                  f"writing to {self.path} instead.", file=sys.stderr)

    def release(self, completed):
        """Drop the lock; an unfinished run removes the folder it created."""
        lock = self.path / self.LOCK
        if lock.exists():
            lock.unlink()
        if (not completed and self.created and self.path.is_dir()
                and not any(self.path.iterdir())):
            self.path.rmdir()


def _out_dir(path):
    """The folder a run will write to (see :class:`_OutDir`)."""
    return _OutDir(path)


def _finish(results, out):
    print(results_table(results))
    paths = write_outputs(out.path, results)
    out.release(completed=True)
    print(f"\nwrote {len(paths)} files to {paths[0].parent}: "
          + ", ".join(p.name for p in paths), file=sys.stderr)
    return 0


def _run(command, args):
    """Run a command whose output folder is claimed first; release it however
    the run ends (an interrupted or failed run leaves no folder it made)."""
    out = _out_dir(args.out)
    try:
        return command(args, out)
    finally:
        out.release(completed=(out.path / "results.json").exists())


def cmd_demo(args, out=None):
    if out is None:
        return _run(cmd_demo, args)
    from .datasets import make_emotional_speech

    n = 200 if args.quick else args.n_utterances
    epochs = 8 if args.quick else args.max_epochs
    print(f"sklearn-ser {__version__} demo: generating {n} utterances "
          "(make_emotional_speech)...", file=sys.stderr)
    methods = _method_list(args.methods, DEMO_METHODS)
    data = make_emotional_speech(n, n_speakers=10, n_sessions=5,
                                 emotions_per_speaker=args.emotions_per_speaker,
                                 random_state=args.random_state)
    t = time.perf_counter()
    results = run_comparison(data.utterances, data.annotations, data.classes,
                             methods=methods, seeds=args.seeds, epochs=epochs,
                             n_jobs=args.n_jobs, profile="demo",
                             progress=not args.no_progress, normalise=args.normalise)
    results["meta"]["command"] = "demo"
    results["meta"]["corpus"] = "make_emotional_speech" + (
        f" (emotions_per_speaker={args.emotions_per_speaker})"
        if args.emotions_per_speaker else "")
    results["meta"]["wall_seconds"] = time.perf_counter() - t
    return _finish(results, out)


def _method_list(text, default):
    if not text:
        return list(default)
    methods = [m.strip() for m in text.split(",") if m.strip()]
    known = list(_methods())
    unknown = [m for m in methods if m not in known]
    if unknown or not methods:
        raise SystemExit(
            f"sklearn-ser: unknown method(s) {unknown}; choose from {known} "
            "(comma-separated, e.g. --methods svm_egemaps,crowd_soft)."
        )
    return methods


def _load_dataset(name, root, emotions_per_speaker=None):
    from .datasets import load_crema_d, load_emodb, load_iemocap

    if root is None:
        raise SystemExit(f"sklearn-ser benchmark: --dataset {name} needs --root DIR "
                         "(the corpus folder).")
    if not Path(root).is_dir():
        raise SystemExit(f"sklearn-ser benchmark: --root {root!r} is not a folder; "
                         f"give the folder of your {name} copy.")
    if name in ("emodb", "emodb-confounded"):
        data = load_emodb(root, emotions_per_speaker=(
            emotions_per_speaker or 2) if name == "emodb-confounded"
            else emotions_per_speaker)
        return data.utterances, data.annotations, data.classes, "intended", "session"
    if name == "iemocap":
        from .annotations import normalize_label

        data = load_iemocap(root)
        # the usual four classes: excitement counts as happiness (the map is
        # applied to the table once, so every method sees the same labels)
        mapping = data.label_map

        def merge(label):
            return mapping.get(normalize_label(label), normalize_label(label))

        # a rater who chose excitement and happiness chose happiness once
        merged = data.annotations.ratings.map_labels(merge)
        return data.utterances, merged, data.classes, None, "session"
    data = load_crema_d(root)
    return data.utterances, data.annotations, data.classes, "intended", "speaker"


def load_generic(audio_dir, ratings, metadata=None):
    """:func:`sklearn_ser.datasets.load_corpus` with its errors as exit messages."""
    from .datasets import load_corpus

    try:
        data = load_corpus(audio_dir, ratings, metadata)
    except (FileNotFoundError, ValueError) as e:
        raise SystemExit(
            f"sklearn-ser benchmark: {e} (options: --audio-dir {audio_dir}, "
            f"--ratings {ratings}, --metadata {metadata})"
        ) from None
    return data.utterances, data.annotations


def _resolve_columns(u, a, args, classes, truth, group):
    from .annotations import HardLabels, infer_classes, normalize_label

    cols = [c for c in u.columns if c != "path"]
    if args.group_column:
        group = args.group_column
    elif group is None:
        group = next((c for c in ("session", "speaker") if c in u.columns), None)
    if group is None or group not in u.columns:
        raise SystemExit(
            "sklearn-ser benchmark: no group column for leave-one-group-out"
            + (f" ({group!r} is not a metadata column)" if group else "")
            + f"; give --group-column NAME, one of {cols}"
            + ("" if cols else " (pass --metadata with speaker/session columns)") + "."
        )
    if args.truth_column:
        if args.truth_column not in u.columns:
            raise SystemExit(f"sklearn-ser benchmark: --truth-column "
                             f"{args.truth_column!r} is not a metadata column; "
                             f"choose from {cols}.")
        truth = args.truth_column
    if truth is not None:
        u = u.copy()
        u[truth] = [normalize_label(x) if isinstance(x, str) and x else None
                    for x in u[truth]]
    rule = None
    if args.classes:
        wanted = [normalize_label(c) for c in args.classes.split(",") if c.strip()]
        seen = list(HardLabels().fit(a).classes_)
        absent = [c for c in wanted if c not in seen]
        if absent:
            raise SystemExit(f"sklearn-ser benchmark: --classes {absent} never appear "
                             f"in the ratings; labels seen: {seen}.")
        classes, rule = wanted, "given with --classes"
    elif classes is None:
        try:
            classes, report = infer_classes(a, return_report=True)
        except ValueError as e:
            raise SystemExit(f"sklearn-ser benchmark: {e} (give --classes)") from None
        rule = report["rule"]
        left = report["left_out"]
        print(f"sklearn-ser benchmark: classes {classes} ({rule})"
              + (f"; labels seen but not classes (never a majority, or 'other'; "
                 f"counted as "
                 f"non-target votes): {left}" if left else "")
              + "; give --classes to choose them.", file=sys.stderr)
    else:
        rule = "the corpus' classes"
    if "speaker" not in u.columns:
        print(f"sklearn-ser benchmark: no 'speaker' column; speaker normalisation "
              f"uses the {group!r} groups instead.", file=sys.stderr)
        u = u.copy()
        u["speaker"] = u[group]
    return u, list(classes), truth, group, rule


def cmd_benchmark(args, out=None):
    methods = _method_list(args.methods, _methods())
    if out is None:
        _check_benchmark_args(args)
        return _run(cmd_benchmark, args)
    if args.dataset:
        try:
            u, a, classes, truth, group = _load_dataset(args.dataset, args.root,
                                                        args.emotions_per_speaker)
        except (FileNotFoundError, NotADirectoryError, ValueError) as e:
            raise SystemExit(
                f"sklearn-ser benchmark: {e} (--root is the corpus folder itself; "
                "if you gave one of its sub-folders, give its parent)") from None
        corpus = f"{args.dataset} ({args.root})"
        if args.emotions_per_speaker or args.dataset == "emodb-confounded":
            corpus += f", {args.emotions_per_speaker or 2} emotion(s) per speaker"
        # (load_corpus checks the generic form's audio itself)
        missing = [p for p in u.get("path", []) if not Path(p).exists()]
        if missing:
            raise SystemExit(
                f"sklearn-ser benchmark: {len(missing)} of {len(u)} audio files are "
                f"missing (e.g. {missing[0]}); check --root (the corpus folder)."
            )
    else:
        u, a = load_generic(args.audio_dir, args.ratings, args.metadata)
        classes, truth, group = None, None, None
        corpus = f"{args.audio_dir} with {args.ratings}"
    u, classes, truth, group, rule = _resolve_columns(u, a, args, classes, truth,
                                                      group)
    epochs = 8 if args.quick else args.max_epochs
    t = time.perf_counter()
    results = run_comparison(u, a, classes, methods=methods, seeds=args.seeds,
                             epochs=epochs, n_jobs=args.n_jobs, cache=args.cache,
                             truth_column=truth, group_column=group,
                             progress=not args.no_progress, normalise=args.normalise)
    results["meta"]["command"] = "benchmark"
    results["meta"]["corpus"] = corpus
    results["meta"]["classes_rule"] = rule
    results["meta"]["wall_seconds"] = time.perf_counter() - t
    return _finish(results, out)


def _check_benchmark_args(args):
    """Every argument checked before any work (or folder) is made."""
    generic = args.audio_dir or args.ratings or args.metadata
    if args.dataset and generic:
        raise SystemExit("sklearn-ser benchmark: give either --dataset with --root, or "
                         "a generic corpus (--audio-dir, --ratings, --metadata), "
                         "not both.")
    if not args.dataset and not (args.audio_dir and args.ratings):
        raise SystemExit(
            "sklearn-ser benchmark: say which corpus: --dataset emodb|iemocap|crema-d "
            "--root DIR, or --audio-dir DIR --ratings FILE [--metadata FILE] for "
            "any corpus (see sklearn-ser benchmark --help)."
        )
    if args.dataset and args.root is None:
        raise SystemExit(f"sklearn-ser benchmark: --dataset {args.dataset} needs "
                         "--root DIR (the corpus folder).")
    if args.dataset and not Path(args.root).is_dir():
        raise SystemExit(f"sklearn-ser benchmark: --root {args.root!r} is not a "
                         f"folder; give the folder of your {args.dataset} copy.")
    if args.emotions_per_speaker and args.dataset not in ("emodb",
                                                          "emodb-confounded"):
        raise SystemExit("sklearn-ser benchmark: --emotions-per-speaker works with "
                         "--dataset emodb or emodb-confounded only.")


def _n_jobs(text):
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected an integer, got {text!r}") from None
    if value == 0:
        raise argparse.ArgumentTypeError(
            "0 jobs cannot run anything; give 1 (sequential), N (N workers) or -1 "
            "(all cores)")
    return value


def _positive(kind):
    def check(text):
        try:
            value = kind(text)
        except ValueError:
            raise argparse.ArgumentTypeError(
                f"expected a number, got {text!r}") from None
        if value < 1:
            raise argparse.ArgumentTypeError(f"expected at least 1, got {value}")
        return value
    return check


def build_parser():
    parser = argparse.ArgumentParser(
        prog="sklearn-ser",
        description="Speech emotion recognition that learns from every rating.",
    )
    parser.add_argument("--version", action="version", version=__version__)
    sub = parser.add_subparsers(dest="command")
    names = ",".join(_methods())
    normalise_help = ("feature normalisation of every method: per speaker, global "
                      "z-scores or none; auto (default) decides in each fold from "
                      "the training data: per speaker unless speaker predicts the "
                      "training labels (speakers showing one or a few emotions)")
    outputs = ("writes results.json, results.md, predictions.csv and PNG plots "
               "(confusion matrices, per-class recall, agreement vs accuracy, "
               "attention, noisy-label weights) to --out; an existing results "
               "folder is never overwritten (a numbered one is made)")
    demo = sub.add_parser(
        "demo", help="compare the methods on a generated corpus (no data needed)",
        description="Generate a corpus with make_emotional_speech and compare the "
                    "methods leave-one-session-out; " + outputs + ".")
    demo.add_argument("--out", default="sklearn_ser_results",
                      help="output folder (default: %(default)s)")
    demo.add_argument("--n-utterances", type=_positive(int), default=300)
    demo.add_argument("--max-epochs", type=_positive(int), default=20)
    demo.add_argument("--seeds", type=_positive(int), default=1)
    demo.add_argument("--methods", default=None,
                      help=f"comma-separated subset of {names} "
                           f"(default: {','.join(DEMO_METHODS)})")
    demo.add_argument("--n-jobs", type=_n_jobs, default=-1,
                      help="parallel jobs for features and training (default: all "
                           "cores)")
    demo.add_argument("--random-state", type=int, default=0)
    demo.add_argument("--emotions-per-speaker", type=_positive(int), default=None,
                      help="each generated speaker shows only this many emotions "
                           "(1: speaker and emotion confounded, as in many "
                           "naturalistic corpora; default: every emotion)")
    demo.add_argument("--normalise", choices=NORMALISATIONS, default="auto",
                      help=normalise_help)
    demo.add_argument("--quick", action="store_true",
                      help="a small corpus and few epochs, for smoke runs")
    demo.add_argument("--no-progress", action="store_true")
    demo.set_defaults(func=cmd_demo)
    bench = sub.add_parser(
        "benchmark", help="compare the methods on a corpus on disk",
        description="Compare the methods leave-one-group-out on a known corpus "
                    "(--dataset, --root) or on any corpus in generic form "
                    "(--audio-dir, --ratings, --metadata); " + outputs + ". UAR/WA "
                    "are scored against the hard majority of the ratings.")
    known = bench.add_argument_group("a known corpus")
    known.add_argument("--dataset", choices=["emodb", "emodb-confounded", "iemocap",
                                             "crema-d"],
                       help="emodb-confounded: EmoDB with 2 of the 7 emotions kept "
                            "per speaker (speaker predicts emotion)")
    known.add_argument("--emotions-per-speaker", type=_positive(int), default=None,
                       help="with emodb/emodb-confounded: emotions kept per "
                            "speaker (default for emodb-confounded: 2)")
    known.add_argument("--root", default=None, help="the corpus folder")
    gen = bench.add_argument_group("any corpus")
    gen.add_argument("--audio-dir", default=None,
                     help="folder with one <utterance>.wav per utterance")
    gen.add_argument("--ratings", default=None,
                     help="long CSV, one row per rating: utterance, rater, label")
    gen.add_argument("--metadata", default=None,
                     help="CSV: utterance plus columns such as speaker, session, "
                          "intended")
    bench.add_argument("--group-column", default=None,
                       help="metadata column whose groups are the folds (default: "
                            "session, else speaker)")
    bench.add_argument("--truth-column", default=None,
                       help="metadata column with an extra ground truth to score "
                            "against (uar_truth)")
    bench.add_argument("--classes", default=None,
                       help="comma-separated target classes (default: the labels "
                            "that win the majority vote of at least one utterance)")
    bench.add_argument("--normalise", choices=NORMALISATIONS, default="auto",
                       help=normalise_help)
    bench.add_argument("--out", default="sklearn_ser_results",
                       help="output folder (default: %(default)s)")
    bench.add_argument("--methods", default=None,
                       help=f"comma-separated subset of {names} (default: all)")
    bench.add_argument("--seeds", type=_positive(int), default=1)
    bench.add_argument("--max-epochs", type=_positive(int), default=100)
    bench.add_argument("--n-jobs", type=_n_jobs, default=-1,
                       help="parallel jobs for features and training (default: all "
                            "cores)")
    bench.add_argument("--cache", default=".cache/features",
                       help="feature cache folder (content-keyed)")
    bench.add_argument("--quick", action="store_true",
                       help="8 epochs per model, for smoke runs")
    bench.add_argument("--no-progress", action="store_true")
    bench.set_defaults(func=cmd_benchmark)
    return parser


def main(argv=None):
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help()
        return 2
    try:
        return args.func(args)
    except KeyboardInterrupt:
        # results are written only once every model is trained: an interrupted
        # run leaves nothing that looks complete
        print("\nsklearn-ser: interrupted (Ctrl-C); nothing was written.",
              file=sys.stderr)
        return 130
