"""Saved models (issue 45): every method trained on a whole corpus, saved,
loaded and compared with the model in memory; ``predict``'s throughput
against bare extraction plus the model's own ``predict_proba``; a long
recording segmented by silero-vad and labelled.

    python benchmarks/bench_bundles.py --corpus ../shared/data/ased \\
        --methods all --out /tmp/bundles-ased --n-jobs 2
    python benchmarks/bench_bundles.py --dataset emodb --root ../shared/data/emodb \\
        --methods all --out /tmp/bundles-emodb --throughput crowd_soft,logreg_egemaps \\
        --long-recording 600

Prints one Markdown table per part and writes ``bench_bundles.json`` in --out.
"""

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
import soundfile as sf

from sklearn_ser import load_model, save_model
from sklearn_ser.datasets import load_corpus, load_emodb
from sklearn_ser.experiments import registry
from sklearn_ser.experiments._corpus_options import resolve_columns
from sklearn_ser.experiments._deploy import fit_method, training_summary
from sklearn_ser.experiments._predict import predictions_table
from sklearn_ser.experiments._segments import speech_regions


def _corpus(args):
    if args.dataset == "emodb":
        data = load_emodb(args.root)
        return data.utterances, data.annotations, list(data.classes), "emodb"
    data = load_corpus(args.corpus)
    ns = argparse.Namespace(command="bench", group_column=None,
                            truth_column="intended", classes=None)
    u, classes, *_ = resolve_columns(data.utterances, data.annotations, ns, None,
                                     "intended", None)
    return u, data.annotations, classes, Path(args.corpus).name


def _size(folder):
    return sum(p.stat().st_size for p in Path(folder).iterdir())


def bundles(u, a, classes, name, methods, out, n_jobs, cache, check_rows,
            max_epochs=100):
    rows = []
    X = u.sample(min(check_rows, len(u)), random_state=0)
    for method in methods:
        t = time.perf_counter()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            model, record = fit_method(method, u, a, classes, n_jobs=n_jobs,
                                       cache=cache, progress=False,
                                       epochs=max_epochs)
        fit_s = time.perf_counter() - t
        folder = out / f"{name}-{method}"
        t = time.perf_counter()
        save_model(model, folder, training={**record,
                                            **training_summary(u, a, classes, name)})
        save_s = time.perf_counter() - t
        t = time.perf_counter()
        loaded = load_model(folder)
        load_s = time.perf_counter() - t
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            p0, p1 = model.predict_proba(X), loaded.predict_proba(X)
        rows.append({"method": method, "fit_s": fit_s, "save_s": save_s,
                     "load_s": load_s, "mb": _size(folder) / 1e6,
                     "identical": bool(np.array_equal(p0, p1)),
                     "max_diff": float(np.abs(p0 - p1).max()),
                     "checked": len(X),
                     "normalisation": record["normalisation"]["mode"]})
        print(json.dumps(rows[-1]), file=sys.stderr, flush=True)
    return rows


def throughput(u, name, methods, out, n_jobs, rounds=2):
    """``predict``'s table (extraction, normalisation rule, model, the CSV's
    columns) against bare extraction plus the pipeline's remaining steps'
    ``predict_proba``, in the same process, alternating, best of
    ``rounds``."""
    table = pd.DataFrame({"file": u["path"].to_numpy(), "path": u["path"].to_numpy()},
                         index=u["path"].to_numpy())
    seconds = float(sum(sf.info(p).duration for p in table["path"]))
    rows = []
    for method in methods:
        model = load_model(out / f"{name}-{method}")
        extractor = model.steps[0][1]
        extractor.set_params(n_jobs=n_jobs, progress=False, memory=None)
        best = {"predict": np.inf, "bare": np.inf}
        for _ in range(rounds):
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                t = time.perf_counter()
                predictions_table(model, table)
                best["predict"] = min(best["predict"], time.perf_counter() - t)
                t = time.perf_counter()
                frames = extractor.transform(table)
                model[1:].predict_proba(frames)
                best["bare"] = min(best["bare"], time.perf_counter() - t)
        rows.append({"method": method, "files": len(table), "audio_s": seconds,
                     "predict_s": best["predict"], "bare_s": best["bare"],
                     "ratio": best["bare"] / best["predict"],
                     "utt_per_s": len(table) / best["predict"],
                     "x_real_time": seconds / best["predict"]})
        print(json.dumps(rows[-1]), file=sys.stderr, flush=True)
    return rows


def long_recording(u, name, method, out, seconds, seed=0):
    """Corpus files in random order with pauses of 0.5-2 s, up to
    ``seconds``: silero-vad's regions against the files' true spans."""
    rng = np.random.default_rng(seed)
    paths = list(u["path"].to_numpy())
    rng.shuffle(paths)
    rate = 16000
    pieces, truth, pos = [], [], 0.0
    for p in paths:
        wave, r = sf.read(p, dtype="float32", always_2d=True)
        wave = wave.mean(axis=1)
        if r != rate:
            from scipy.signal import resample_poly

            wave = resample_poly(wave, rate, r).astype(np.float32)
        pause = np.zeros(int(rng.uniform(0.5, 2.0) * rate), np.float32)
        truth.append((pos, pos + len(wave) / rate))
        pieces += [wave, pause]
        pos += (len(wave) + len(pause)) / rate
        if pos >= seconds:
            break
    long = np.concatenate(pieces)
    path = out / f"{name}-long.wav"
    sf.write(path, long, rate)
    t = time.perf_counter()
    regions = speech_regions(long, rate)
    vad_s = time.perf_counter() - t

    def iou(a, b):
        inter = max(0.0, min(a[1], b[1]) - max(a[0], b[0]))
        return inter / (max(a[1], b[1]) - min(a[0], b[0]))

    hit_truth = [max((iou(t_, r) for r in regions), default=0) >= 0.5 for t_ in truth]
    hit_region = [max(iou(t_, r) for t_ in truth) >= 0.5 for r in regions]
    onsets = [min(abs(r[0] - t_[0]) for r in regions) for t_ in truth]
    model = load_model(out / f"{name}-{method}")
    table = pd.DataFrame({"file": [str(path)] * len(regions),
                          "audio": [long[int(s * rate):int(e * rate)]
                                    for s, e in regions],
                          "sample_rate": rate,
                          "start": [s for s, _ in regions],
                          "end": [e for _, e in regions]},
                         index=[f"r{i}" for i in range(len(regions))])
    t = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        predictions_table(model, table)
    label_s = time.perf_counter() - t
    row = {"method": method, "audio_s": len(long) / rate, "utterances": len(truth),
           "regions": len(regions), "recall_iou50": float(np.mean(hit_truth)),
           "precision_iou50": float(np.mean(hit_region)),
           "median_onset_error_s": float(np.median(onsets)), "vad_s": vad_s,
           "label_s": label_s}
    print(json.dumps(row), file=sys.stderr, flush=True)
    return row


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--dataset", choices=["emodb"])
    parser.add_argument("--root")
    parser.add_argument("--corpus")
    parser.add_argument("--methods", default="all")
    parser.add_argument("--out", required=True)
    parser.add_argument("--n-jobs", type=int, default=2)
    parser.add_argument("--cache", default=".cache/features")
    parser.add_argument("--check-rows", type=int, default=200)
    parser.add_argument("--max-epochs", type=int, default=100)
    parser.add_argument("--throughput", default="")
    parser.add_argument("--long-recording", type=float, default=0)
    parser.add_argument("--long-method", default="crowd_soft")
    args = parser.parse_args()
    u, a, classes, name = _corpus(args)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    methods = list(registry()) if args.methods == "all" else args.methods.split(",")
    done = [m for m in methods if (out / f"{name}-{m}").exists()]
    report = {"corpus": name, "utterances": len(u), "machine": os.cpu_count()}
    report["bundles"] = bundles(u, a, classes, name,
                                [m for m in methods if m not in done], out,
                                args.n_jobs, args.cache, args.check_rows,
                                args.max_epochs)
    if args.throughput:
        report["throughput"] = throughput(u, name, args.throughput.split(","), out,
                                          args.n_jobs)
    if args.long_recording:
        report["long"] = long_recording(u, name, args.long_method, out,
                                        args.long_recording)
    path = out / f"bench_bundles-{name}.json"
    path.write_text(json.dumps(report, indent=1))
    print(pd.DataFrame(report["bundles"]).to_markdown(index=False, floatfmt=".3g"))
    for part in ("throughput", "long"):
        if part in report:
            rows = report[part] if isinstance(report[part], list) else [report[part]]
            print(pd.DataFrame(rows).to_markdown(index=False, floatfmt=".3g"))


if __name__ == "__main__":
    main()
