"""Where the time of a fit goes, and what the every-rating recipe costs (issue 46).

Run: python benchmarks/bench_cost.py [--corpus emodb|ased|FOLDER ...]
     [--data ../shared/data] [--seeds 0 1 2] [--n-jobs 2] [--cache .cache/features]
     [--profile] [--out benchmarks/results/cost.json]

For each corpus (EmoDB-crowd and ASED by default, read as they ship in
``--data``), public API only:

* **features**: ComParE-2016 functionals of every utterance, cold (an empty
  cache folder of its own) and cached (the same call again), seconds and
  minutes per hour of audio;
* **the recipe's fit** (the command line's ``every_rating_compare``:
  ``baseline_pipeline``, StandardScaler + ``EveryRatingClassifier`` with the
  in-fold penalty search over nine candidates x 5 speaker-grouped folds and
  ``refine=3``) on every utterance of the corpus, per seed, two ways side by
  side in this process:

  - ``row space``: as the package fits it (each inner fit of the L2-penalised
    logistic regression on the row space of its training utterances, the
    same optimum; :doc:`/defaults`);
  - ``full``: the same estimator wrapped in a one-step Pipeline, which the
    row-space path does not touch: every inner fit on the 6,373 features, as
    before issue 46.

  Reported: fit seconds, the ratio, the chosen penalty of each, the largest
  difference of their probabilities on the training utterances and the share
  of equal predictions; with ``--profile``, the cumulative seconds of the
  search, the refinement and the final fit (cProfile).

``--write-costs FILE --results RESULTS.json [--cold-results COLD.json]``
instead turns a default comparison's ``results.json`` (``sklearn-ser
benchmark ... --n-jobs 2``; ``--cold-results``: a run that extracted the
features cold) into the rates ``sklearn-ser benchmark`` estimates its cost
from (``sklearn_ser/experiments/costs.json``): per method, training seconds
per hour of training audio; features, seconds per hour of audio.

The figures go into BENCHMARKS.md ("Cost of a comparison").
"""

from __future__ import annotations

import argparse
import cProfile
import json
import platform
import pstats
import tempfile
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.pipeline import Pipeline

from sklearn_ser.annotations import resolve_classes
from sklearn_ser.datasets import load_corpus, load_emodb
from sklearn_ser.experiments import baseline_pipeline
from sklearn_ser.features import OpenSmileFunctionals


def load(name, data):
    """(utterances, annotations, hours of audio) of a corpus by name or folder."""
    data = Path(data)
    if name == "emodb":
        corpus = load_emodb(data / "emodb")
    elif name == "ased":
        corpus = load_corpus(data / "ased", truth_column="intended")
    else:
        corpus = load_corpus(name)
    u, a = corpus.utterances, corpus.annotations
    import soundfile as sf

    seconds = sum(sf.info(p).duration for p in u["path"])
    return u, a, seconds / 3600


def features(u, cache, n_jobs):
    """ComParE functionals: (table, cold seconds, cached seconds)."""
    with tempfile.TemporaryDirectory() as cold_dir:
        t = time.perf_counter()
        OpenSmileFunctionals("ComParE_2016", memory=cold_dir,
                             n_jobs=n_jobs).fit_transform(u)
        cold = time.perf_counter() - t
    ext = OpenSmileFunctionals("ComParE_2016", memory=cache, n_jobs=n_jobs)
    ext.fit_transform(u)  # fills the cache the later runs read
    t = time.perf_counter()
    F = ext.fit_transform(u)
    return F, cold, time.perf_counter() - t


def full_path(pipe):
    """The recipe with its logistic regression wrapped in a one-step Pipeline
    (the every-rating model then fits every inner model on all features)."""
    inner = pipe.steps[-1][1]
    inner.set_params(estimator=Pipeline([("lr", inner.estimator)]),
                     param_grid={f"lr__{k}": v for k, v in inner.param_grid.items()})
    return pipe


def fit_timed(pipe, X, a, groups, profile):
    """(fitted, seconds, phases) of one fit."""
    prof = cProfile.Profile() if profile else None
    t = time.perf_counter()
    if prof is not None:
        prof.enable()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        pipe.fit(X, a, everyratingclassifier__groups=groups)
    if prof is not None:
        prof.disable()
    seconds = time.perf_counter() - t
    phases = {}
    if prof is not None:
        stats = pstats.Stats(prof).stats
        for (_, _, func), (_, _, _, cum, _) in stats.items():
            for phase in ("_search", "_refine", "_fit_on"):
                if func == phase:
                    phases[phase] = max(phases.get(phase, 0.0), cum)
    return pipe, seconds, phases


def chosen_c(pipe):
    params = pipe.steps[-1][1].best_params_
    return float(next(iter(params.values())))


def write_costs(path, results, cold, name, data, n_jobs):
    """costs.json from a comparison's results.json (see the module docstring)."""
    from sklearn_ser.experiments import registry

    run = json.loads(Path(results).read_text())
    cold_run = json.loads(Path(cold).read_text()) if cold else run
    meta = run["meta"]
    _, _, hours = load(name, data)
    n_folds = int(meta["folds"].split("(")[1].split()[0])
    train_hours = hours * (n_folds - 1)
    reg = registry()
    rates = {m: (0.0 if reg[m].kind == "fusion" else r["fit_seconds"] / train_hours)
             for m, r in run["methods"].items()}
    out = {"machine": f"{_cpu()}, {_cores()} cores",
           "cores": _cores(), "n_jobs": n_jobs, "date": time.strftime("%Y-%m-%d"),
           "command": "python benchmarks/bench_cost.py --write-costs ... --results "
                      f"{Path(results).name} ({name}, {hours:.2f} h, {n_folds} folds)",
           "fit_seconds_per_training_hour": rates,
           "feature_seconds_per_hour": cold_run["meta"]["feature_seconds"] / hours}
    Path(path).write_text(json.dumps(out, indent=2) + "\n")
    print(f"written {path}: " + ", ".join(f"{m} {r:.0f} s/h" for m, r in rates.items()))
    return out


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--corpus", nargs="+", default=["emodb", "ased"])
    ap.add_argument("--data", default="../shared/data")
    ap.add_argument("--seeds", nargs="+", type=int, default=[0])
    ap.add_argument("--n-jobs", type=int, default=2)
    ap.add_argument("--cache", default=".cache/features")
    ap.add_argument("--profile", action="store_true")
    ap.add_argument("--skip-full", action="store_true",
                    help="fit the row-space path only")
    ap.add_argument("--out", default="benchmarks/results/cost.json")
    ap.add_argument("--write-costs", default=None, metavar="FILE")
    ap.add_argument("--results", default=None)
    ap.add_argument("--cold-results", default=None)
    args = ap.parse_args(argv)
    if args.write_costs:
        return write_costs(args.write_costs, args.results, args.cold_results,
                           args.corpus[0], args.data, args.n_jobs)
    report = {"machine": f"{_cpu()}, {_cores()} cores", "corpora": {}}
    for name in args.corpus:
        u, a, hours = load(name, args.data)
        F, cold, cached = features(u, args.cache, args.n_jobs)
        X = np.asarray(F, dtype=np.float64)
        classes = list(resolve_classes(a))
        groups = u["speaker"].to_numpy()
        row = {"utterances": len(u), "speakers": int(u["speaker"].nunique()),
               "hours": hours, "features_cold_s": cold, "features_cached_s": cached,
               "features_min_per_hour": cold / 60 / hours, "seeds": {}}
        print(f"{name}: {len(u)} utterances, {hours:.2f} h; ComParE functionals "
              f"{cold:.0f} s cold ({cold / 60 / hours:.1f} min per hour of audio), "
              f"{cached:.1f} s cached", flush=True)
        for seed in args.seeds:
            fast, t_fast, ph_fast = fit_timed(
                baseline_pipeline("every_rating_compare", seed, X.shape[1], classes),
                X, a, groups, args.profile)
            entry = {"row_space_s": t_fast, "row_space_C": chosen_c(fast),
                     "row_space_phases": ph_fast}
            if not args.skip_full:
                full, t_full, ph_full = fit_timed(
                    full_path(baseline_pipeline("every_rating_compare", seed,
                                                X.shape[1], classes)),
                    X, a, groups, args.profile)
                p_fast, p_full = fast.predict_proba(X), full.predict_proba(X)
                entry.update(
                    full_s=t_full, full_C=chosen_c(full), full_phases=ph_full,
                    speedup=t_full / t_fast,
                    max_proba_diff=float(np.abs(p_fast - p_full).max()),
                    equal_predictions=float(np.mean(
                        fast.predict(X) == full.predict(X))))
            row["seeds"][seed] = entry
            print(f"  seed {seed}: " + ", ".join(
                f"{k} {v:.4g}" if isinstance(v, float) else f"{k} {v}"
                for k, v in entry.items()), flush=True)
        report["corpora"][name] = row
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(report, indent=2, default=str))
    print(f"written {out}")
    return report


def _cpu():
    """The CPU's model name (Linux), else the machine type."""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def _cores():
    import os

    return len(os.sched_getaffinity(0))


if __name__ == "__main__":
    pd.set_option("display.width", 120)
    main()
