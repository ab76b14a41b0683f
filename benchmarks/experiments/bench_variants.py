"""The papers' methods as the command line trains them, in variants, on three
4-class corpora: where a margin over its own baseline is lost (issue 26).
Fujioka et al.'s noisy-label model and Ando et al.'s MLEE fusion.

Run: python benchmarks/experiments/bench_variants.py
     --corpus emodb4|emodb7|conf4|gen4|genmix4|genmany4
     [--variants hard,none,Lw,Lw_class,...] [--seeds 0,1,2] [--quick]
     [--root ../shared/data/emodb] [--cache .cache/features] [--out FILE]

Corpora (the papers' four classes):

* ``emodb4``: EmoDB's 339 utterances of anger, happiness, neutral, sadness
  with the simulated crowd; unconfounded folds, so the command line's
  benchmark profile (emobase45 frames, early stopping on 25 % of the
  training speakers, patience 20, at most 100 epochs).
* ``conf4``: the same four classes of EmoDB-confounded (2 emotions per
  speaker; 96 utterances) and
* ``gen4``: ``make_emotional_speech(300, n_speakers=10, n_sessions=5,
  emotions_per_speaker=1, random_state=0)``; both speaker-confounded, so the
  command line's confounded profile (eGeMAPS frames, 20 epochs on every
  training speaker, weights averaged over the last half).
* ``emodb7``: EmoDB-crowd's 535 utterances and seven classes, and
* ``genmix4``: ``make_emotional_speech(400, n_speakers=20, n_sessions=5,
  raters=25, random_state=2)`` (every speaker shows every emotion; a sparse
  crowd); both unconfounded, as ``emodb4``.
* ``genmany4``: ``make_emotional_speech(400, n_speakers=30, n_sessions=5,
  raters=25, emotions_per_speaker=1, random_state=1)`` (one-emotion speakers,
  a sparse crowd of 25 raters; confounded, as ``gen4``).

``--quick`` caps the epochs at 8, as ``sklearn-ser benchmark --quick``.
Normalisation is decided per training fold ("auto"), frames averaged by 10,
leave-one-session-out. Scores: UAR vs the hard majority (the papers'
protocol) and vs the intended emotion, pooled over the folds; per-class
recall vs the majority, the epochs kept per fold.

Variants: ``hard`` and ``soft`` are the command line's ``crowd_hard`` and
``crowd_soft`` (BLSTM-attention on the majority / on soft targets, lr 3e-3),
the baselines the command line puts Fujioka et al. and Ando et al. beside;
``cli`` and ``mlee`` are its ``noisy_meta`` and ``mlee_fusion`` records
themselves (``mlee_*``: that record with the parameters given; each
``mlee*`` fit's components are scored too, as ``<variant>:dominant`` and
``<variant>:mlee_only``, and ``mlee_rehead`` adds ``:rehead``, the same new
classifier part trained on the dominant encoder alone); the others
are ``NoisyLabelMetaClassifier`` (Adam 1e-3, as the paper) with the
parameters of :data:`VARIANTS`.
"""

import argparse
import sys
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd

from sklearn_ser.annotations import HardLabels
from sklearn_ser.experiments import (
    PROFILES,
    confounded_profile,
    fold_inputs,
    registry,
    run_jobs,
    score_predictions,
)
from sklearn_ser.features import OpenSmileFrames
from sklearn_ser.models import (
    BLSTMAttentionClassifier,
    FrozenFusionClassifier,
    NoisyLabelMetaClassifier,
    combine_probabilities,
)

sys.path.insert(0, str(Path(__file__).parents[1]))  # benchmarks/
from _resume import append_records, load_records  # noqa: E402
from bench_unseen import corpus  # noqa: E402

FOUR = ["anger", "happiness", "neutral", "sadness"]

VARIANTS = {
    "hard": {"kind": "hard"},
    "soft": {"kind": "soft"},
    "soft_uar": {"kind": "soft", "monitor": "uar"},  # stop on held-out UAR
    "hard_uar": {"kind": "hard", "monitor": "uar"},
    "soft_refit": {"kind": "soft", "refit": True},  # then every training speaker
    # early stopping on the mean of the last 3 / 5 epochs' held-out loss, the
    # mean of those epochs' weights restored
    "soft_w3": {"kind": "soft", "stopping_window": 3},
    "soft_w5": {"kind": "soft", "stopping_window": 5},
    "hard_w3": {"kind": "hard", "stopping_window": 3},
    "soft_p8": {"kind": "soft", "patience": 8},  # stop at an earlier minimum
    "hard_p8": {"kind": "hard", "patience": 8},
    "hard_w5": {"kind": "hard", "stopping_window": 5},
    "cli": {"kind": "cli"},
    "mlee": {"kind": "mlee"},
    "mlee_dom": {"kind": "mlee", "training_set": "dominant"},
    "mlee_drop": {"kind": "mlee", "fusion__input_dropout": 0.5},
    "mlee_flr": {"kind": "mlee", "fusion__lr": 1.5e-3},
    "mlee_val": {"kind": "mlee", "final_validation": 0.2},
    "mlee_mv2": {"kind": "mlee", "existence_min_votes": 2},
    "mlee_h8": {"kind": "mlee", "fusion__max_epochs": 8},
    "mlee_init": {"kind": "mlee", "final_init": "dominant"},
    "mlee_rehead": {"kind": "mlee", "rehead": True},
    "mlee_init_flr": {"kind": "mlee", "final_init": "dominant", "fusion__lr": 3e-3},
    "mlee_init_flr10": {"kind": "mlee", "final_init": "dominant", "fusion__lr": 1e-2},
    "stacked": {"kind": "stacked"},  # the command line's stacked model
    # the command line's models with the unconfounded profile's patience 8
    # (instead of 20): its early stopping keeps an earlier minimum
    "soft_x5_p8": {"kind": "soft_x5", "profile": {"patience": 8}},
    "stacked_p8": {"kind": "stacked", "profile": {"patience": 8}},
    "mlee_p8": {"kind": "mlee", "profile": {"patience": 8}},
    # the command line's mlee_fusion with its networks on the profile's own
    # optimizer (Adamax, as crowd_soft) instead of Ando et al.'s Adam
    "mlee_adamax": {"kind": "mlee", "estimator__optimizer": "adamax"},
    "cli_p8": {"kind": "cli", "profile": {"patience": 8}},
    # the command line's noisy_meta stopping on the mean of 3 epochs' held-out UAR
    "cli_w3": {"kind": "cli", "profile": {"stopping_window": 3}},
    "soft_x5": {"kind": "soft_x5"},
    "none": {"update": "none"},  # the paper's BLSTM + ATT (Eq. 4 weights)
    "L": {"update": "L"},
    "Lw": {"update": "Lw"},  # the paper's BLSTM + L + w
    "Lw_s5": {"update": "Lw", "label_logit_scale": 5.0, "meta_lr": 0.01},
    "Lw_class": {"update": "Lw", "weight_norm": "class"},
    "w_class": {"update": "w", "weight_norm": "class"},
    "Lw_class_s3": {"update": "Lw", "weight_norm": "class", "label_logit_scale": 3.0},
    "Lw_class_s5": {"update": "Lw", "weight_norm": "class", "label_logit_scale": 5.0,
                    "meta_lr": 0.01},
    "Lw_class_uar": {"update": "Lw", "weight_norm": "class", "monitor": "uar"},
    "Lw_class_lr3": {"update": "Lw", "weight_norm": "class", "lr": 3e-3},
}


def load(name, root):
    if name in ("gen4", "genmix4", "genmany4"):
        data = corpus({"gen4": "generated", "genmix4": "generated-mixed",
                       "genmany4": "generated-many"}[name], root)
    elif name == "emodb7":
        data = corpus("emodb", root)
    else:
        data = corpus("emodb" if name == "emodb4" else "emodb-confounded", root)
    u, a, classes = data.utterances, data.annotations, list(data.classes)
    if name in ("emodb4", "conf4"):
        keep = u["intended"].isin(FOUR).to_numpy()
        u, a, classes = u[keep], a[keep], FOUR
    return u, a, classes


#: Corpora whose folds are unconfounded (every speaker shows the corpus's mix
#: of emotions): the command line early-stops on held-out speakers there.
UNCONFOUNDED = ("emodb4", "emodb7", "genmix4")


def profile(name, quick):
    """The command line's profile of the corpus's folds and its epochs."""
    prof = PROFILES["benchmark"]
    if name not in UNCONFOUNDED:  # every fold speaker-confounded
        prof = confounded_profile(prof)
    epochs = 8 if quick else prof.get("epochs", 100)
    return prof, epochs


def job(name, variant, seed, fold, Xtr, ytr, Xte, classes, prof, epochs):
    warnings.simplefilter("ignore")
    t = time.perf_counter()
    params = dict(variant)
    kind = params.pop("kind", "noisy")
    rehead = params.pop("rehead", False)
    if "profile" in params:
        prof = {**prof, "blstm": {**prof["blstm"], **params.pop("profile")}}
    net = {k: v for k, v in prof["blstm"].items() if k != "lr"}
    if kind == "cli":
        clf = registry()["noisy_meta"].estimator(classes, seed, epochs, prof)
    elif kind in ("stacked", "soft_x5"):
        method = {"stacked": "stacked", "soft_x5": "crowd_soft_x5"}[kind]
        clf = registry()[method].estimator(classes, seed, epochs, prof)
    elif kind == "mlee":
        clf = registry()["mlee_fusion"].estimator(classes, seed, epochs, prof)
        clf.set_params(**params)
    elif kind in ("hard", "soft"):
        clf = BLSTMAttentionClassifier(kind, classes=classes, random_state=seed,
                                       max_epochs=epochs, lr=prof["blstm"]["lr"],
                                       **{**net, **params})
    else:
        clf = NoisyLabelMetaClassifier(classes=classes, random_state=seed,
                                       max_epochs=epochs, **net, **params)
    clf.fit(Xtr, ytr)
    rec = {"variant": name, "seed": seed, "fold": str(fold),
           "pred": [str(p) for p in clf.predict(Xte)],
           "best_epoch": int(getattr(clf, "best_epoch_", None) or -1),
           "seconds": time.perf_counter() - t}
    if hasattr(clf, "weights_by_class_"):
        rec["w"] = clf.weights_by_class_.loc["learned"].round(3).to_dict()
    if kind == "mlee":  # its components alone, scored as variants "<name>:<part>"
        parts = (("dominant", getattr(clf, "dominant_", None)),
                 ("mlee_only", clf.mlee_))
        rec["parts"] = {part: [str(p) for p in model.predict(Xte)]
                        for part, model in parts if model is not None}
        if getattr(clf, "dominant_", None) is not None:
            # the fusion's probabilities averaged with its own dominant model's
            # (arithmetic and geometric means, the package's late-fusion rule;
            # "geo" is dominant_weight=0.5)
            probas = [clf.final_.predict_proba(Xte), clf.dominant_.predict_proba(Xte)]
            cls = np.asarray(clf.classes_)
            rec["parts"]["fusion"] = [str(p) for p in clf.final_.predict(Xte)]
            for part, rule in (("avg", "mean"), ("geo", "geometric")):
                blend = combine_probabilities(probas, combine=rule)
                rec["parts"][part] = [str(c) for c in cls[blend.argmax(axis=1)]]
        if rehead:
            # the same new classifier part on the dominant encoder alone: what
            # retraining a head brings without the MLEE encoder
            final = clf.final_
            head = FrozenFusionClassifier.from_estimators(
                [clf.dominant_], like=final, target=final.target,
                classes=classes, lr=final.lr,
                hidden_units=clf.get_params()["fusion__hidden_units"],
                random_state=seed).fit(Xtr, ytr)
            rec["parts"]["rehead"] = [str(p) for p in head.predict(Xte)]
    return rec


def expand_parts(records):
    """Each record's components (``parts``) as records of their own."""
    out = []
    for r in records:
        out.append(r)
        for part, pred in (r.get("parts") or {}).items():
            out.append({**r, "variant": f"{r['variant']}:{part}", "pred": pred,
                        "parts": None})
    return out


def table(records, u, a, classes):
    sessions = u["session"].astype(str).to_numpy()
    majority = HardLabels(classes).fit(a).transform(a)
    rows = []
    for (v, s), rr in pd.DataFrame(records).groupby(["variant", "seed"]):
        if len(rr) < len(np.unique(sessions)):
            continue  # incomplete seed
        pred = np.empty(len(u), dtype=object)
        for _, r in rr.iterrows():
            pred[sessions == r["fold"]] = r["pred"]
        sc = score_predictions(pred, majority, classes, u["intended"])
        rows.append({"variant": v, "seed": s, "uar": 100 * sc["uar"],
                     "uar_intended": 100 * sc["uar_truth"],
                     **{c: 100 * sc["per_class_recall"].get(c, np.nan)
                        for c in classes},
                     "epochs": " ".join(str(e) for e in rr["best_epoch"]),
                     "fit_s": rr["seconds"].sum()})
    return pd.DataFrame(rows)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--corpus", default="emodb4",
                    choices=["emodb4", "emodb7", "conf4", "gen4", "genmix4",
                             "genmany4"])
    ap.add_argument("--root", default=str(Path(__file__).parents[2] / "shared" / "data"
                                          / "emodb"))
    ap.add_argument("--variants", default="hard,none,Lw,Lw_class,cli")
    ap.add_argument("--seeds", default="0,1,2")
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--n-jobs", type=int, default=2)
    ap.add_argument("--cache", default=".cache/features")
    ap.add_argument("--out", default=None,
                    help="default: benchmarks/results/noisy_<corpus>[_quick].jsonl")
    args = ap.parse_args()
    warnings.simplefilter("ignore")
    unknown = set(args.variants.split(",")) - set(VARIANTS)
    if unknown:
        raise SystemExit(f"unknown variants {sorted(unknown)}; known: {list(VARIANTS)}")
    u, a, classes = load(args.corpus, args.root)
    prof, epochs = profile(args.corpus, args.quick)
    out = Path(args.out or "benchmarks/results/noisy_{}{}.jsonl".format(
        args.corpus, "_quick" if args.quick else ""))
    records = load_records(out)
    done = {(r["variant"], r["seed"], r["fold"]) for r in records}
    sessions = u["session"].astype(str).to_numpy()
    seeds = [int(s) for s in args.seeds.split(",")]
    todo = [(v, s, g) for s in seeds for v in args.variants.split(",")
            for g in np.unique(sessions) if (v, s, g) not in done]
    if todo:
        frames = OpenSmileFrames(prof.get("features", "emobase45"), n_jobs=2,
                                 memory=args.cache, progress=False).fit_transform(u)
        inputs, _ = fold_inputs(frames, a, sessions, normalise="auto",
                                pool=prof["pool"])
        tasks = [(v, VARIANTS[v], s, g, *inputs[g], classes, prof, epochs)
                 for v, s, g in todo]
        append_records(out, run_jobs(job, tasks, args.n_jobs), records,
                       lambda r: f"{r['variant']} seed {r['seed']} fold {r['fold']}: "
                                 f"{r['seconds']:.0f} s, epochs {r['best_epoch']}")
    t = table(expand_parts(records), u, a, classes)
    if t.empty:
        print("no complete seed yet")
        return
    pd.set_option("display.width", 200)
    print(t.round(1).to_string(index=False))
    g = t.groupby("variant")
    summary = pd.DataFrame({
        "UAR vs majority": g["uar"].mean().round(1).astype(str) + " ± "
        + g["uar"].std().fillna(0).round(1).astype(str),
        "UAR vs intended": g["uar_intended"].mean().round(1).astype(str) + " ± "
        + g["uar_intended"].std().fillna(0).round(1).astype(str),
        **{c: g[c].mean().round(0) for c in classes},
        "seeds": g.size()})
    print(summary.to_string())


if __name__ == "__main__":
    main()
