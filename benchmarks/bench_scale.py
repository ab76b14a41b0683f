"""Audio at corpus scale: frames out of core, from extraction to training.

Run (each measurement in its own process, so peak RSS is its own)::

    python benchmarks/bench_scale.py extract --hours 2 20 --work /tmp/scale
    python benchmarks/bench_scale.py pipeline --utterances 100000 --work /tmp/scale
    python benchmarks/bench_scale.py storage --work /tmp/scale

``extract``: generated corpora (``make_emotional_speech``, written with
``save_corpus`` in pieces of ~1.5 h, so generation never holds the corpus)
of each size, through ``OpenSmileFrames("emobase45", n_jobs=2)`` into a store
on disk (``out_of_core=True``) and, up to ``--in-memory-max`` hours, into
memory (``out_of_core=False``, the path every release before the frames array
took): wall time, x real time, frames, peak RSS of the process holding the
frames (``VmHWM``; the loky workers each hold one utterance).

``pipeline``: synthetic frames (``--utterances`` x 300-500 frames x 25 dims,
one speaker per 100 utterances, 3 raters each) written to a store chunk by
chunk, then the README's frame pipeline: SpeakerStandardizer -> FrameAverager(10)
-> BLSTMAttentionClassifier(target="soft", max_epochs=1) -> predict_proba:
time and peak RSS per stage. ``--form memory`` builds the same frames in memory
(a FramesArray), ``--form objects`` as an object column of arrays, the input
of releases before the frames array: run with ``PYTHONPATH`` at such a release
(``git worktree add /tmp/old 2826f21``) to measure the path it replaced.

``storage``: the store format, measured: random batches of 64 utterances read
from one ``.npy`` buffer + offsets vs one ``.npy`` file per utterance (EmoBox's
layout), cold-ish (first pass) and warm.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import subprocess
import sys
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd


def rss_mb():
    """Peak resident memory of this process (MB): VmHWM where Linux gives it
    (``ru_maxrss`` survives ``exec`` and would report the parent's peak at
    the fork), else ``ru_maxrss``."""
    try:
        with open("/proc/self/status") as fh:
            for line in fh:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


# -- extraction --
def make_audio(hours, root):
    """Generated corpus of about ``hours`` hours on disk; returns its table."""
    from sklearn_ser.datasets import load_corpus, make_emotional_speech, save_corpus

    root = Path(root)
    table_file = root / "utterances.pkl"
    if table_file.exists():
        return pd.read_pickle(table_file)
    tables, seconds, k = [], 0.0, 0
    while seconds < hours * 3600:
        piece = make_emotional_speech(2000, n_speakers=10, n_sessions=5, random_state=k)
        folder = root / f"piece{k:03d}"
        save_corpus(piece, folder)
        del piece
        data = load_corpus(
            folder / "wav", folder / "ratings.csv", folder / "metadata.csv"
        )
        t = data.utterances
        t["duration"] = pd.to_numeric(t["duration"])  # metadata is read as text
        t.index = [f"p{k:03d}_{u}" for u in t.index]
        t["speaker"] = [f"p{k:03d}_{s}" for s in t["speaker"]]
        tables.append(t)
        seconds += float(t["duration"].sum())
        k += 1
    table = pd.concat(tables)
    # cut to the size asked for
    keep = table["duration"].cumsum().to_numpy() <= hours * 3600 + 1e-9
    table = table[keep]
    table.to_pickle(table_file)
    return table


def run_extract(root, out_of_core, n_jobs):
    from sklearn_ser.features import OpenSmileFrames

    warnings.simplefilter("ignore")
    table = pd.read_pickle(Path(root) / "utterances.pkl")
    base = rss_mb()
    t = time.perf_counter()
    # the store goes under $SKLEARN_SER_TEMP; no feature cache (memory=None)
    os.environ["SKLEARN_SER_TEMP"] = str(root)
    # out_of_core=None: a release before the frames array (no such parameter)
    extra = {} if out_of_core is None else {"out_of_core": out_of_core}
    ext = OpenSmileFrames("emobase45", n_jobs=n_jobs, progress=False, **extra)
    X = ext.fit_transform(table)
    wall = time.perf_counter() - t
    lengths = np.array([len(f) for f in X["frames"]])
    on_disk = bool(getattr(X["frames"].array, "on_disk", False))
    return {
        "hours": float(table["duration"].sum()) / 3600,
        "utterances": len(table),
        "out_of_core": out_of_core,
        "seconds": wall,
        "x_real_time": float(table["duration"].sum()) / wall,
        "frames_mb": 4 * 45 * int(lengths.sum()) / 2**20,
        "on_disk": on_disk,
        "rss_before_mb": base,
        "peak_rss_mb": rss_mb(),
    }


# -- the frame pipeline --
def synthetic_chunks(classes, dim, seed=0, per_chunk=2000):
    """Frames with a class signal: 4 class centres plus per-speaker offsets
    (one speaker per 100 utterances), 300-500 frames each."""
    rng = np.random.default_rng(seed)
    n = len(classes)
    offsets = rng.normal(0, 1, (n // 100 + 1, dim)).astype(np.float32)
    centres = rng.normal(0, 0.5, (4, dim)).astype(np.float32)
    for start in range(0, n, per_chunk):
        chunk = []
        for i in range(start, min(n, start + per_chunk)):
            f = rng.normal(0, 1, (int(rng.integers(300, 501)), dim)).astype(np.float32)
            f += offsets[i // 100] + centres[classes[i]]
            chunk.append(f)
        yield chunk


def run_pipeline(n, work, form, dim=25, epochs=1):
    """``form``: "store" (a FramesArray on disk), "memory" (a FramesArray in
    memory) or "objects" (an object column of arrays: the input of every
    release before the frames array, and what runs on such a release)."""
    from sklearn_ser.annotations import from_long
    from sklearn_ser.features import FrameAverager, SpeakerStandardizer
    from sklearn_ser.models import BLSTMAttentionClassifier

    warnings.simplefilter("ignore")
    rng = np.random.default_rng(0)
    classes = rng.integers(0, 4, n)
    out = {"utterances": n, "form": form, "stages": {}}
    t = time.perf_counter()
    if form == "objects":
        frames = [f for chunk in synthetic_chunks(classes, dim) for f in chunk]
        n_frames = sum(len(f) for f in frames)
    else:
        from sklearn_ser.features import FramesArray

        store = Path(work) / f"synthetic-{n}"
        if form == "memory":
            frames = FramesArray.from_chunks(synthetic_chunks(classes, dim))
        elif store.exists():
            frames = FramesArray.open(store)
        else:
            frames = FramesArray.from_chunks(synthetic_chunks(classes, dim), store)
        n_frames = int(frames.lengths.sum())
    out["frames_gb"] = 4 * dim * n_frames / 2**30
    out["stages"]["make frames"] = (time.perf_counter() - t, rss_mb())
    names = np.array(["anger", "happiness", "neutral", "sadness"])
    ids = [f"u{i:06d}" for i in range(n)]
    speakers = [f"s{i // 100:04d}" for i in range(n)]
    X = pd.DataFrame({"speaker": speakers}, index=ids)
    if form == "objects":
        column = pd.Series([None] * n, index=ids, dtype=object)
        column[:] = frames
        X["frames"] = column
    else:
        X["frames"] = pd.Series(frames, index=ids)
    del frames
    noisy = rng.random((n, 3)) < 0.3
    labels = np.where(noisy, names[rng.integers(0, 4, (n, 3))], names[classes][:, None])
    long = pd.DataFrame(
        {
            "utterance": np.repeat(ids, 3),
            "rater": np.tile(["r1", "r2", "r3"], n),
            "label": labels.ravel(),
        }
    )
    y = from_long(long)
    memory = Path(work) / "steps"  # used only when the frames are on disk
    # releases before the frames array have no memory= on these steps
    extra = ({"memory": memory} if "memory" in SpeakerStandardizer().get_params()
             else {})
    steps = [
        ("SpeakerStandardizer", SpeakerStandardizer(**extra)),
        ("FrameAverager(10)", FrameAverager(10, **extra)),
    ]
    for name, step in steps:
        t = time.perf_counter()
        X = step.fit(X, y).transform(X)
        out["stages"][name] = (time.perf_counter() - t, rss_mb())
    clf = BLSTMAttentionClassifier(
        target="soft",
        max_epochs=epochs,
        batch_size=64,
        random_state=0,
        patience=None,
        validation_fraction=None,
    )
    t = time.perf_counter()
    clf.fit(X, y)
    out["stages"][f"BLSTM fit ({epochs} epoch)"] = (time.perf_counter() - t, rss_mb())
    t = time.perf_counter()
    proba = clf.predict_proba(X)
    out["stages"]["predict_proba"] = (time.perf_counter() - t, rss_mb())
    pred = proba.argmax(axis=1)
    out["train_accuracy_vs_signal"] = float((pred == classes).mean())
    out["peak_rss_mb"] = rss_mb()
    return out


# -- the storage format --
def run_storage(work, n=20000, dim=25, batches=300):
    from sklearn_ser.features import FramesArray

    rng = np.random.default_rng(0)
    root = Path(work) / "storage"
    shutil.rmtree(root, ignore_errors=True)
    root.mkdir(parents=True)
    seqs = [
        rng.normal(size=(int(rng.integers(300, 501)), dim)).astype(np.float32)
        for _ in range(n)
    ]
    t = time.perf_counter()
    fa = FramesArray.from_chunks(
        [seqs[i : i + 2000] for i in range(0, n, 2000)], root / "store"
    )
    write_store = time.perf_counter() - t
    t = time.perf_counter()
    (root / "files").mkdir()
    for i, s in enumerate(seqs):
        np.save(root / "files" / f"{i:06d}.npy", s)
    write_files = time.perf_counter() - t
    order = [rng.choice(n, 64, replace=False) for _ in range(batches)]
    res = {
        "utterances": n,
        "gb": sum(s.nbytes for s in seqs) / 2**30,
        "write_store_s": write_store,
        "write_files_s": write_files,
    }
    for rep in ("first", "second"):
        t = time.perf_counter()
        for idx in order:
            [fa.read(int(i)) for i in idx]
        res[f"read_store_{rep}_ms_per_batch"] = (
            1e3 * (time.perf_counter() - t) / batches
        )
        t = time.perf_counter()
        for idx in order:
            [np.load(root / "files" / f"{int(i):06d}.npy") for i in idx]
        res[f"read_files_{rep}_ms_per_batch"] = (
            1e3 * (time.perf_counter() - t) / batches
        )
    res["files"] = {"store": 4, "per_utterance": n}
    shutil.rmtree(root, ignore_errors=True)
    return res


def _child(args):
    """Run one measurement in a fresh process; return its JSON."""
    cmd = [sys.executable, __file__, "_one", json.dumps(args)]
    done = subprocess.run(cmd, capture_output=True, text=True, check=False)
    if done.returncode:
        raise SystemExit(done.stderr[-3000:])
    return json.loads(done.stdout.strip().splitlines()[-1])


def main():
    ap = argparse.ArgumentParser()
    sub = ap.add_subparsers(dest="cmd", required=True)
    e = sub.add_parser("extract")
    e.add_argument("--hours", type=float, nargs="+", default=[2, 5, 10, 20])
    e.add_argument("--in-memory-max", type=float, default=5)
    e.add_argument("--n-jobs", type=int, default=2)
    e.add_argument("--legacy", action="store_true",
                   help="in memory without out_of_core= (a release before it)")
    e.add_argument("--work", default="/tmp/sklearn-ser-scale")
    p = sub.add_parser("pipeline")
    p.add_argument("--utterances", type=int, default=100000)
    p.add_argument("--form", choices=["store", "memory", "objects"], default="store")
    p.add_argument("--work", default="/tmp/sklearn-ser-scale")
    s = sub.add_parser("storage")
    s.add_argument("--work", default="/tmp/sklearn-ser-scale")
    one = sub.add_parser("_one")
    one.add_argument("spec")
    args = ap.parse_args()
    if args.cmd == "_one":
        spec = json.loads(args.spec)
        kind = spec.pop("kind")
        fn = {"extract": run_extract, "pipeline": run_pipeline, "storage": run_storage}[
            kind
        ]
        print(json.dumps(fn(**spec)))
        return
    if args.cmd == "extract":
        rows = []
        for h in args.hours:
            root = Path(args.work) / f"audio-{h:g}h"
            t = time.perf_counter()
            make_audio(h, root)
            print(
                f"{h:g} h of audio ready in {time.perf_counter() - t:.0f} s", flush=True
            )
            modes = [True] + ([False] if h <= args.in_memory_max else [])
            if args.legacy:
                modes = [None]
            for ooc in modes:
                shutil.rmtree(root / "sklearn_ser_frames", ignore_errors=True)
                r = _child(
                    {
                        "kind": "extract",
                        "root": str(root),
                        "out_of_core": ooc,
                        "n_jobs": args.n_jobs,
                    }
                )
                rows.append(r)
                print(json.dumps(r), flush=True)
        print(
            "| hours | utterances | frames | out of core | seconds | x real time "
            "| peak RSS |"
        )
        print("| ---: | ---: | ---: | --- | ---: | ---: | ---: |")
        where = {True: "store", False: "memory", None: "memory (legacy)"}
        for r in rows:
            print(
                f"| {r['hours']:.1f} | {r['utterances']} | {r['frames_mb']:.0f} MB | "
                f"{where[r['out_of_core']]} | {r['seconds']:.0f} | "
                f"{r['x_real_time']:.0f} | {r['peak_rss_mb']:.0f} MB |"
            )
    elif args.cmd == "pipeline":
        r = _child({"kind": "pipeline", "n": args.utterances, "work": args.work,
                    "form": args.form})
        print(json.dumps(r))
        print(
            f"{r['utterances']} utterances, {r['frames_gb']:.2f} GB of frames, "
            f"as {r['form']}"
        )
        print("| stage | seconds | peak RSS so far |")
        print("| --- | ---: | ---: |")
        for name, (sec, rss) in r["stages"].items():
            print(f"| {name} | {sec:.0f} | {rss:.0f} MB |")
    else:
        print(json.dumps(_child({"kind": "storage", "work": args.work})))


if __name__ == "__main__":
    os.environ.setdefault("PYTHONWARNINGS", "ignore")
    main()
