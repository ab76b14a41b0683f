"""The ``sklearn-ser`` command line."""

from __future__ import annotations

import argparse
import json
import sys
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd

from . import __version__


def _methods():
    """name -> (description, builder(classes, seed, epochs)); None = the SVM."""
    from .models import BLSTMAttentionClassifier

    def blstm(target):
        def build(classes, seed, epochs):
            return BLSTMAttentionClassifier(target, classes=classes, random_state=seed,
                                            max_epochs=epochs, patience=8)
        return build

    def stacked(classes, seed, epochs):
        from .models import StackedAnnotatorClassifier

        return StackedAnnotatorClassifier(blstm("hard")(classes, seed, epochs),
                                          classes=classes, random_state=seed)

    def mlee(classes, seed, epochs):
        from .models import MLEEFusionClassifier

        # the BLSTM encoder on LLD frames (the paper's CNN on spectrograms is
        # MLEEFusionClassifier's default; too slow for a CPU demo)
        return MLEEFusionClassifier(blstm("hard")(classes, seed, epochs),
                                    classes=classes, random_state=seed)

    def noisy(classes, seed, epochs):
        from .models import NoisyLabelMetaClassifier

        return NoisyLabelMetaClassifier(classes=classes, random_state=seed,
                                        max_epochs=epochs, patience=8)

    return {
        "svm_egemaps": ("eGeMAPS functionals, z-scored per speaker, + linear SVM "
                        "on the majority", None),
        "crowd_hard": ("BLSTM-attention on hard majority targets (CrowdH)",
                       blstm("hard")),
        "crowd_soft": ("BLSTM-attention on soft targets, alpha 0.75 (CrowdS)",
                       blstm("soft")),
        "mlee_only": ("BLSTM-attention on existence targets, Eq. 7 (MLEE only)",
                      blstm("existence")),
        "stacked": ("StackedAnnotatorClassifier: CrowdH + CrowdS + raters, fused",
                    stacked),
        "mlee_fusion": ("MLEEFusionClassifier (BLSTM encoders), soft fine-tuning",
                        mlee),
        "noisy_meta": ("NoisyLabelMetaClassifier: BLSTM + L + w", noisy),
    }


#: Methods run by ``sklearn-ser demo`` when --methods is not given (<= 5 min on
#: two cores); the meta-estimators are opt-in there.
DEMO_METHODS = ("svm_egemaps", "crowd_hard", "crowd_soft", "mlee_only")


def speaker_z(features, speakers):
    """Z-score utterance-level features per speaker (SpeakerStandardizer)."""
    from .features import SpeakerStandardizer

    table = pd.DataFrame({"speaker": np.asarray(speakers)})
    table["frames"] = [row[None, :] for row in features]
    out = SpeakerStandardizer().fit_transform(table)["frames"]
    return np.concatenate(list(out), axis=0)


def run_comparison(utterances, annotations, classes, *, methods, seeds=1,
                   epochs=60, n_jobs=1, cache=None, truth_column="intended",
                   group_column="session", progress=True):
    """Leave-one-group-out comparison; returns the results dict."""
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler
    from sklearn.svm import SVC

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
    u, a = utterances, annotations
    enc = HardLabels(classes).fit(a)
    majority = enc.transform(a)
    ok = majority.notna().to_numpy()
    groups = u[group_column].to_numpy()
    t = time.perf_counter()
    lld = None
    if any(registry[m][1] is not None for m in methods):
        lld = OpenSmileFrames("emobase45", n_jobs=n_jobs, memory=cache,
                              progress=progress).fit_transform(u)
    func = None
    if "svm_egemaps" in methods:
        func = OpenSmileFunctionals("eGeMAPSv02", n_jobs=n_jobs, memory=cache,
                                    progress=progress).fit_transform(u)
        func = speaker_z(func, u["speaker"])
    feature_seconds = time.perf_counter() - t
    results = {}
    for name in methods:
        build = registry[name][1]
        per_seed = []
        for seed in range(seeds):
            pred = np.empty(len(u), dtype=object)
            t = time.perf_counter()
            for g in np.unique(groups):
                te, tr = groups == g, groups != g
                if build is None:
                    fit_rows = tr & ok
                    clf = make_pipeline(StandardScaler(), SVC(
                        kernel="linear", C=0.01, class_weight="balanced"))
                    clf.fit(func[fit_rows], majority[fit_rows].astype(str))
                    pred[te] = clf.predict(func[te])
                    continue
                norm, pool = SpeakerStandardizer(), FrameAverager(5)
                Xtr = pool.fit_transform(norm.fit_transform(lld[tr]))
                Xte = pool.transform(norm.transform(lld[te]))
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    clf = build(classes, seed, epochs).fit(Xtr, a[tr])
                pred[te] = clf.predict(Xte)
            seconds = time.perf_counter() - t
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
            if progress:
                print(f"  {name} seed {seed}: UAR {per_seed[-1]['uar']:.3f}"
                      f" ({seconds:.0f} s)", file=sys.stderr)
        results[name] = _mean_over_seeds(per_seed)
        results[name]["description"] = registry[name][0]
    meta = {
        "n_utterances": int(len(u)),
        "n_scored": int(ok.sum()),
        "n_no_consensus": int((~ok).sum()),
        "classes": list(classes),
        "folds": f"leave-one-{group_column}-out ({len(np.unique(groups))} folds)",
        "seeds": seeds,
        "feature_seconds": feature_seconds,
    }
    return {"methods": results, "meta": meta}


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
        cells = [name, pct(r["uar"]), pct(r["wa"]), pct(r["uar_truth"]),
                 *[pct(r["per_class_recall"].get(c)) for c in classes],
                 f"{r['fit_seconds']:.0f}"]
        lines.append("| " + " | ".join(cells) + " |")
    m = results["meta"]
    lines.append("")
    lines.append("UAR/WA against the hard majority of the ratings over "
                 f"{m['n_scored']} utterances ({m['n_no_consensus']} without "
                 f"consensus left out); {m['folds']}; mean of {m['seeds']} seed(s).")
    return "\n".join(lines)


def _write(out, results):
    out.mkdir(parents=True, exist_ok=True)
    json_path, md_path = out / "results.json", out / "results.md"
    json_path.write_text(json.dumps(results, indent=2))
    md_path.write_text(results_table(results) + "\n")
    return json_path, md_path


def _out_dir(path):
    out = Path(path)
    if out.exists() and not out.is_dir():
        raise SystemExit(f"sklearn-ser: --out {str(out)!r} is a file; give a folder.")
    if (out / "results.json").exists():
        # never overwrite a user's results silently: number the new run
        k = 2
        while (out.parent / f"{out.name}-{k}").exists():
            k += 1
        new = out.parent / f"{out.name}-{k}"
        print(f"sklearn-ser: {out}/results.json exists; writing to {new} instead.",
              file=sys.stderr)
        return new
    return out


def cmd_demo(args):
    from .datasets import make_emotional_speech

    n = 200 if args.quick else args.n_utterances
    epochs = 8 if args.quick else args.max_epochs
    print(f"sklearn-ser {__version__} demo: generating {n} utterances "
          "(make_emotional_speech)...", file=sys.stderr)
    data = make_emotional_speech(n, n_speakers=10, n_sessions=5,
                                 random_state=args.random_state)
    methods = args.methods.split(",") if args.methods else list(DEMO_METHODS)
    results = run_comparison(data.utterances, data.annotations, data.classes,
                             methods=methods, seeds=args.seeds, epochs=epochs,
                             n_jobs=args.n_jobs, progress=not args.no_progress)
    results["meta"]["corpus"] = "make_emotional_speech"
    print(results_table(results))
    out = _out_dir(args.out)
    paths = _write(out, results)
    print(f"\nwrote {paths[0]} and {paths[1]}", file=sys.stderr)
    return 0


def _load_dataset(name, root):
    from .datasets import load_crema_d, load_emodb, load_iemocap

    if root is None:
        raise SystemExit(f"sklearn-ser benchmark: --dataset {name} needs --root DIR "
                         "(the corpus folder).")
    if name == "emodb":
        data = load_emodb(root)
        return data.utterances, data.annotations, data.classes, "intended", "session"
    if name == "iemocap":
        from .annotations import normalize_label

        data = load_iemocap(root)
        # the usual four classes: excitement counts as happiness (the map is
        # applied to the table once, so every method sees the same labels)
        mapping = data.label_map

        def merge(cell):
            if not isinstance(cell, tuple):
                return cell
            labels = [mapping.get(normalize_label(x), normalize_label(x)) for x in cell]
            return tuple(dict.fromkeys(labels))  # a rater counts once per class

        merged = data.annotations.map(merge)
        return data.utterances, merged, data.classes, None, "session"
    data = load_crema_d(root)
    return data.utterances, data.annotations, data.classes, "intended", "speaker"


def cmd_benchmark(args):
    u, a, classes, truth, group = _load_dataset(args.dataset, args.root)
    if "path" in u.columns:
        missing = [p for p in u["path"] if not Path(p).exists()]
        if missing:
            raise SystemExit(
                f"sklearn-ser benchmark: {len(missing)} of {len(u)} audio files are "
                f"missing (e.g. {missing[0]}); check --root (the corpus folder)."
            )
    methods = args.methods.split(",") if args.methods else list(_methods())
    epochs = 8 if args.quick else args.max_epochs
    results = run_comparison(u, a, classes, methods=methods, seeds=args.seeds,
                             epochs=epochs, n_jobs=args.n_jobs, cache=args.cache,
                             truth_column=truth, group_column=group,
                             progress=not args.no_progress)
    results["meta"]["corpus"] = f"{args.dataset} ({args.root})"
    print(results_table(results))
    paths = _write(_out_dir(args.out), results)
    print(f"\nwrote {paths[0]} and {paths[1]}", file=sys.stderr)
    return 0


def build_parser():
    parser = argparse.ArgumentParser(
        prog="sklearn-ser",
        description="Speech emotion recognition that learns from every rating.",
    )
    parser.add_argument("--version", action="version", version=__version__)
    sub = parser.add_subparsers(dest="command")
    demo = sub.add_parser(
        "demo", help="compare the methods on a generated corpus (no data needed)")
    demo.add_argument("--out", default="sklearn_ser_results",
                      help="folder for results.json and results.md")
    demo.add_argument("--n-utterances", type=int, default=400)
    demo.add_argument("--max-epochs", type=int, default=40)
    demo.add_argument("--seeds", type=int, default=1)
    demo.add_argument("--methods", default=None,
                      help=f"comma-separated subset of {','.join(_methods())}")
    demo.add_argument("--n-jobs", type=int, default=-1)
    demo.add_argument("--random-state", type=int, default=0)
    demo.add_argument("--quick", action="store_true",
                      help="a small corpus and few epochs, for smoke runs")
    demo.add_argument("--no-progress", action="store_true")
    demo.set_defaults(func=cmd_demo)
    bench = sub.add_parser("benchmark", help="compare the methods on a corpus on disk")
    bench.add_argument("--dataset", required=True,
                       choices=["emodb", "iemocap", "crema-d"])
    bench.add_argument("--root", default=None, help="the corpus folder")
    bench.add_argument("--out", default="sklearn_ser_results")
    bench.add_argument("--methods", default=None,
                       help=f"comma-separated subset of {','.join(_methods())}")
    bench.add_argument("--seeds", type=int, default=1)
    bench.add_argument("--max-epochs", type=int, default=100)
    bench.add_argument("--n-jobs", type=int, default=-1)
    bench.add_argument("--cache", default=".cache/features",
                       help="feature cache folder (content-keyed)")
    bench.add_argument("--quick", action="store_true")
    bench.add_argument("--no-progress", action="store_true")
    bench.set_defaults(func=cmd_benchmark)
    return parser


def main(argv=None):
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help()
        return 2
    return args.func(args)
