"""Every rating, any model: crowd-trained against clean-trained (issue 15).

Run: python benchmarks/bench_every_rating.py [--corpora emodb,emodb-confounded,
     generated] [--seeds 3] [--n-jobs 2] [--cache .cache/features]
     [--out benchmarks/results/every_rating]

Leave-one-session-out on each corpus, public API only (sklearn_ser.experiments):

* classical rows, per feature set (ComParE-2016 and eGeMAPS functionals,
  ``SpeakerStandardizer`` deciding per fold, ``StandardScaler``, logistic
  regression through ``EveryRatingClassifier``, C=1e-3 on ComParE and 1e-2
  on eGeMAPS): ``oracle`` (the
  intended emotion: the clean-label reference), ``majority``, ``ds`` (the
  Dawid-Skene labels, crowd-kit, fitted on the training fold), ``shares``
  (every rating, vote shares as weighted samples), ``ds_soft`` (Dawid-Skene
  posteriors as weighted samples), ``refine3`` (shares refined by three
  learning-from-crowds EM iterations with out-of-fold predictions);
* ``egemaps_cv_*``: oracle, majority and refine3 on eGeMAPS with C chosen in
  each training fold by an inner 3-fold search over {3e-3, 1e-2, 3e-2}
  (UAR against the training fold's own targets);
* ``*_search_*``: oracle, majority, shares and refine3 with C chosen in each
  training fold by ``EveryRatingClassifier(param_grid={"C": ...})`` (nine
  half decades 1e-4 .. 1; inner folds over utterances grouped by the
  training speakers, scored on the ratings), the README's recipe;
* ``blstm_soft``: the README's network (eGeMAPS LLD frames, 10-frame
  averages, soft-target BLSTM, 20 epochs), two seeds averaged per run;
* ``fusion``: ``compare_refine3`` and ``blstm_soft`` combined by the
  geometric mean of their probabilities (``LateFusionClassifier``'s rule, equal
  weights, nothing tuned on the test folds).

Scores: UAR against the intended emotion (all utterances) and the majority
(utterances with one), per-class recall vs intended, fit seconds; mean ± sd
over ``--seeds`` runs. Out-of-fold probabilities are saved under ``--out`` so
an interrupted run resumes.
"""

import argparse
import json
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
from bench_unseen import corpus  # the three corpora of issue 11
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GridSearchCV, KFold
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from sklearn_ser.annotations import AggregatedLabels, HardLabels
from sklearn_ser.experiments import fold_inputs, fold_predictions, score_predictions
from sklearn_ser.features import OpenSmileFrames, OpenSmileFunctionals
from sklearn_ser.metrics import ser_scoring
from sklearn_ser.models import BLSTMAttentionClassifier, EveryRatingClassifier

#: The rows whose C EveryRatingClassifier chooses in each training fold.
SEARCHED = ("oracle", "majority", "shares", "refine3")

TARGETS = {
    "majority": dict(targets="majority"),
    "ds": dict(targets=AggregatedLabels("dawid_skene", "hard")),
    "shares": dict(targets="shares"),
    "ds_soft": dict(targets=AggregatedLabels("dawid_skene", "soft")),
    "refine3": dict(targets="shares", refine=3),
}


#: Inverse regularisation of the logistic regression per feature set (issue
#: 15's reference recipe: 6,373 ComParE functionals want a stronger penalty
#: than 88 eGeMAPS ones).
C = {"compare": 1e-3, "egemaps": 1e-2}


def classical(classes, c, **params):
    def build(seed):
        return make_pipeline(StandardScaler(), EveryRatingClassifier(
            LogisticRegression(C=c, max_iter=3000), classes=classes,
            random_state=seed, **params))
    return build


def classical_cv(classes, **params):
    """The same model with C chosen by an inner 3-fold search on the training
    fold's own targets (UAR against its ratings' majority, or the oracle's
    labels): a fair comparison when each target wants its own penalty."""
    def build(seed):
        search = GridSearchCV(
            classical(classes, 1e-2, **params)(seed),
            {"everyratingclassifier__estimator__C": [3e-3, 1e-2, 3e-2]},
            cv=KFold(3, shuffle=True, random_state=seed),
            scoring=ser_scoring(classes), refit="uar")
        return search
    return build


#: The penalties the in-fold search chooses from (half decades).
GRID = [float(c) for c in np.logspace(-4, 0, 9)]


def classical_search(classes, **params):
    """The recipe as the README gives it now: C chosen in the training fold by
    EveryRatingClassifier's own search (folds over utterances grouped by the
    training speakers, scored on the ratings: UAR against the held-out
    utterances' plurality)."""
    def build(seed):
        return make_pipeline(StandardScaler(), EveryRatingClassifier(
            LogisticRegression(max_iter=3000), classes=classes, random_state=seed,
            param_grid={"C": GRID}, refine_groups=False, **params))
    return build


def search_predictions(build, inputs, groups, speakers, seeds):
    """Leave-one-group-out probabilities of ``build(seed)``, the training
    speakers passed to EveryRatingClassifier (its search and refine group by
    them); also the C chosen per fold."""
    out, seconds, chosen = {}, {}, {}
    for seed in seeds:
        proba, total = None, 0.0
        for g, (xtr, ytr, xte) in inputs.items():
            t = time.perf_counter()
            clf = build(seed).fit(xtr, ytr,
                                  everyratingclassifier__groups=speakers[groups != g])
            p = clf.predict_proba(xte)
            total += time.perf_counter() - t
            if proba is None:
                proba = np.full((len(groups), p.shape[1]), np.nan)
            proba[groups == g] = p
            chosen.setdefault(seed, {})[str(g)] = clf[-1].best_params_["C"]
        out[seed], seconds[seed] = proba, total
    return out, seconds, chosen


def blstm(classes):
    def build(seed):
        return BLSTMAttentionClassifier("soft", classes=classes, lr=3e-3,
                                        max_epochs=20, validation_fraction=None,
                                        random_state=seed)
    return build


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--root", default=str(Path(__file__).parents[2] / "shared" / "data"
                                          / "emodb"))
    ap.add_argument("--corpora", default="emodb,emodb-confounded,generated")
    ap.add_argument("--seeds", type=int, default=3)
    ap.add_argument("--n-jobs", type=int, default=2)
    ap.add_argument("--cache", default=".cache/features")
    ap.add_argument("--out", default="benchmarks/results/every_rating")
    ap.add_argument("--rows", default=None,
                    help="comma-separated subset of rows to run (default: all)")
    args = ap.parse_args()
    warnings.simplefilter("ignore")
    out_dir = Path(args.out)
    out_dir.mkdir(parents=True, exist_ok=True)
    seeds = list(range(args.seeds))
    table = []
    for name in args.corpora.split(","):
        data = corpus(name, args.root)
        u, a, classes = data.utterances, data.annotations, list(data.classes)
        groups = u["session"].to_numpy()
        majority = HardLabels(classes).fit(a).transform(a)
        intended = u["intended"]
        print(f"{name}: {len(u)} utterances, {len(classes)} classes", flush=True)
        probas, seconds, chosen_c = {}, {}, {}

        def cached(row, *fold_args, name=name, **kwargs):
            """fold_predictions(*fold_args, **kwargs), saved under --out."""
            path = out_dir / f"{name}__{row}.npz"
            if path.exists():
                z = np.load(path, allow_pickle=True)
                return dict(z["probas"].item()), dict(z["seconds"].item())
            t = time.perf_counter()
            res = fold_predictions(*fold_args, n_jobs=args.n_jobs,
                                   method="predict_proba", **kwargs)
            p = {s: v for s, (v, _) in res.items()}
            sec = {s: float(t_) for s, (_, t_) in res.items()}
            np.savez(path, probas=np.array(p, dtype=object),
                     seconds=np.array(sec, dtype=object))
            print(f"  {row}: {time.perf_counter() - t:.0f} s", flush=True)
            return p, sec

        wanted = None if args.rows is None else set(args.rows.split(","))
        for fset, short in (("ComParE_2016", "compare"), ("eGeMAPSv02", "egemaps")):
            rows = [f"{short}_{t}" for t in ("oracle", *TARGETS)] + [
                f"{short}_cv_{t}" for t in ("oracle", "majority", "refine3")] + [
                f"{short}_search_{t}" for t in SEARCHED]
            if wanted is not None and not wanted & set(rows):
                continue
            func = OpenSmileFunctionals(fset, output="frames", n_jobs=args.n_jobs,
                                        memory=args.cache, progress=False
                                        ).fit_transform(u)
            inputs, _ = fold_inputs(func, a, groups, normalise="auto", pool=None)
            oracle_inputs = {g: (xtr, intended[groups != g], xte)
                             for g, (xtr, _, xte) in inputs.items()}
            speakers = u["speaker"].to_numpy()
            for target in SEARCHED:
                row = f"{short}_search_{target}"
                if wanted is not None and row not in wanted:
                    continue
                path = out_dir / f"{name}__{row}.npz"
                if path.exists():
                    z = np.load(path, allow_pickle=True)
                    p, sec, chosen = (dict(z["probas"].item()),
                                      dict(z["seconds"].item()),
                                      dict(z["chosen"].item()))
                else:
                    t0 = time.perf_counter()
                    params = TARGETS.get(target, dict(targets="majority"))
                    runs = seeds if target == "refine3" else seeds[:1]
                    p, sec, chosen = search_predictions(
                        classical_search(classes, **params),
                        oracle_inputs if target == "oracle" else inputs, groups,
                        speakers, runs)
                    np.savez(path, probas=np.array(p, dtype=object),
                             seconds=np.array(sec, dtype=object),
                             chosen=np.array(chosen, dtype=object))
                    print(f"  {row}: {time.perf_counter() - t0:.0f} s; C per fold "
                          f"{chosen}", flush=True)
                probas[row] = {s: p[min(s, max(p))] for s in seeds}
                seconds[row] = {s: sec[min(s, max(sec))] for s in seeds}
                chosen_c[row] = chosen
            if short == "egemaps":  # C searched per target (cheap on 88 features)
                for target in ("oracle", "majority", "refine3"):
                    row = f"egemaps_cv_{target}"
                    if wanted is not None and row not in wanted:
                        continue
                    params = TARGETS.get(target, dict(targets="majority"))
                    p, sec = cached(row, classical_cv(classes, **params),
                                    oracle_inputs if target == "oracle" else inputs,
                                    groups, seeds=[0])
                    probas[row] = {s: p[0] for s in seeds}
                    seconds[row] = {s: sec[0] for s in seeds}
            for target in ("oracle", *TARGETS):
                row = f"{short}_{target}"
                if wanted is not None and row not in wanted:
                    continue
                params = TARGETS.get(target, dict(targets="majority"))
                runs = seeds if target in ("refine3",) else seeds[:1]
                p, sec = cached(row, classical(classes, C[short], **params),
                                oracle_inputs if target == "oracle" else inputs,
                                groups, seeds=runs)
                probas[row] = {s: p[min(s, max(p))] for s in seeds}
                seconds[row] = {s: sec[min(s, max(sec))] for s in seeds}
        if wanted is None or wanted & {"blstm_soft", "fusion"}:
            lld = OpenSmileFrames("eGeMAPSv02", n_jobs=args.n_jobs, memory=args.cache,
                                  progress=False).fit_transform(u)
            inputs, _ = fold_inputs(lld, a, groups, normalise="auto", pool=10)
            member_seeds = list(range(2 * len(seeds)))
            p, sec = cached("blstm_members", blstm(classes), inputs, groups,
                            seeds=member_seeds)
            probas["blstm_soft"] = {s: (p[2 * s] + p[2 * s + 1]) / 2 for s in seeds}
            seconds["blstm_soft"] = {s: sec[2 * s] + sec[2 * s + 1] for s in seeds}
            if "compare_refine3" in probas:
                probas["fusion"] = {
                    s: np.exp(0.5 * np.log(np.clip(probas["compare_refine3"][s],
                                                   1e-9, 1))
                              + 0.5 * np.log(np.clip(probas["blstm_soft"][s],
                                                     1e-9, 1)))
                    for s in seeds}
                seconds["fusion"] = {s: seconds["compare_refine3"][s]
                                     + seconds["blstm_soft"][s] for s in seeds}
        for row, per_seed in probas.items():
            scores = []
            for s in seeds:
                pred = np.asarray(classes, dtype=object)[per_seed[s].argmax(axis=1)]
                sc = score_predictions(pred, majority, classes, intended)
                recall_int = {c: float(np.mean(pred[intended.to_numpy() == c] == c))
                              for c in classes}
                scores.append((sc["uar_truth"], sc["uar"], recall_int))
            ut = np.array([x[0] for x in scores])
            um = np.array([x[1] for x in scores])
            table.append({
                "corpus": name, "row": row, "uar_intended": ut.mean(),
                "sd": ut.std(ddof=1) if len(ut) > 1 else 0.0,
                "uar_majority": um.mean(),
                **{f"recall_{c}": np.mean([x[2][c] for x in scores])
                   for c in classes},
                "fit_s": float(np.mean(list(seconds[row].values()))),
                **({"C_per_fold": chosen_c[row]} if row in chosen_c else {}),
            })
            print(json.dumps({k: (round(v, 3) if isinstance(v, float) else v)
                              for k, v in table[-1].items()}), flush=True)
    df = pd.DataFrame(table)
    df.to_csv(out_dir / "summary.csv", index=False)
    cols = ["corpus", "row", "uar_intended", "sd", "uar_majority", "fit_s"]
    print(df[cols].round(3).to_string(index=False))


if __name__ == "__main__":
    main()
