"""How many epochs in the command line's confounded folds: fixed, or chosen by
held-out speakers and refitted (``refit=True`` / ``refit=4``)?

Run: python benchmarks/experiments/bench_epochs.py [--root ../shared/data/emodb]
     [--corpora emodb-confounded,generated] [--methods crowd_soft]
     [--rules fixed20,fixed8,swa20,swa8,swa20_75,refit_loss,refit_uar,refit4_loss,
              refit4_uar]
     [--seeds 3] [--n-jobs 2] [--cache .cache/features]

Each rule replaces the networks' settings of the confounded folds
(:data:`sklearn_ser.experiments.CONFOUNDED`: eGeMAPS LLD frames, global
z-scores, 10-frame averages, lr 3e-3) and runs
:func:`~sklearn_ser.experiments.run_comparison` leave-one-session-out:

* ``fixed20``: 20 epochs on every training speaker, no early stopping (the
  default before weight averaging); ``fixed8``: 8 epochs (``--quick`` then);
* ``swa20`` / ``swa8``: 20 / 8 epochs with the last half averaged
  (``weight_averaging=0.5``, the command line's setting now); ``swa20_75``:
  the last three quarters of 20;
* ``refit_loss`` / ``refit_uar``: early stopping (patience 20, at most 100
  epochs) on 25 % of the training speakers watching the loss / the UAR, then
  a new network on every training speaker for the best epoch (``refit=True``);
* ``refit4_loss`` / ``refit4_uar``: the same with 4 folds of the training
  speakers, each held out once; the epochs are the best of their mean
  validation curve (``refit=4``).

``crowd_refit``: on EmoDB-crowd, whose folds are not confounded, the
benchmark profile's early stopping on 25 % of the training speakers
(patience 20) followed by ``refit=True``; ``crowd_default`` without it.

Prints UAR against the intended emotion (pooled over the folds, mean ± sd
over the seeds) and the epochs kept per fold.
"""

import argparse
import sys
import time
from pathlib import Path

import numpy as np

import sklearn_ser.experiments as comparison

sys.path.insert(0, str(Path(__file__).parents[1]))  # benchmarks/
from bench_unseen import corpus  # noqa: E402

RULES = {
    "fixed20": ({"validation_fraction": None}, 20),
    "fixed8": ({"validation_fraction": None}, 8),
    "swa20": ({"validation_fraction": None, "weight_averaging": 0.5}, 20),
    "swa8": ({"validation_fraction": None, "weight_averaging": 0.5}, 8),
    "swa20_75": ({"validation_fraction": None, "weight_averaging": 0.75}, 20),
    "refit_loss": ({"validation_fraction": 0.25, "refit": True}, 100),
    "refit_uar": ({"validation_fraction": 0.25, "refit": True, "monitor": "uar"}, 100),
    "refit4_loss": ({"validation_fraction": 0.25, "refit": 4}, 100),
    "refit4_uar": ({"validation_fraction": 0.25, "refit": 4, "monitor": "uar"}, 100),
}

#: Rules for the folds that are not confounded (the benchmark profile).
PROFILE_RULES = {"crowd_default": {}, "crowd_refit": {"refit": True}}


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--root", default="../shared/data/emodb")
    p.add_argument("--corpora", default="emodb-confounded,generated")
    p.add_argument("--methods", default="crowd_soft")
    p.add_argument("--rules", default=",".join(RULES))
    p.add_argument("--seeds", type=int, default=3)
    p.add_argument("--n-jobs", type=int, default=2)
    p.add_argument("--cache", default=".cache/features")
    args = p.parse_args()
    methods = args.methods.split(",")
    for name in args.corpora.split(","):
        data = corpus(name, args.root)
        for rule in args.rules.split(","):
            profile = "benchmark"
            if rule in PROFILE_RULES:
                base = comparison.PROFILES["benchmark"]
                profile = {**base, "blstm": {**base["blstm"], **PROFILE_RULES[rule]}}
            else:
                settings, epochs = RULES[rule]
                comparison.CONFOUNDED["blstm"] = settings
                comparison.CONFOUNDED["epochs"] = epochs
            t = time.perf_counter()
            res = comparison.run_comparison(
                data.utterances, data.annotations, data.classes, methods=methods,
                seeds=args.seeds, epochs=100, n_jobs=args.n_jobs, cache=args.cache,
                truth_column="intended", group_column="session", progress=False,
                profile=profile)
            confounded = res["meta"]["training"]["confounded_folds"]
            n_folds = len(res["meta"]["normalisation"]["per_fold"])
            for m in methods:
                r = res["methods"][m]
                kept = " ".join(f"{np.mean(e):.0f}"
                                for e in (r.get("epochs_kept") or {}).values())
                print(f"| {name} | {rule} | {m} | {100 * r['uar_truth']:.1f} ± "
                      f"{100 * (r.get('uar_truth_sd') or 0):.1f} | {kept} | "
                      f"{len(confounded)} of {n_folds} | "
                      f"{time.perf_counter() - t:.0f} s |", flush=True)


if __name__ == "__main__":
    main()
