"""Feature extraction throughput on EmoDB, against a bare openSMILE loop.

Run: python benchmarks/bench_features.py [--root ../shared/data/emodb]

Prints x-real-time figures for: a bare loop of ``opensmile.Smile.process_signal``
(stock emobase LLDs, files read with soundfile), OpenSmileFrames("emobase") at
the files' own rate with n_jobs=1 and 2, a cached re-run, and emobase45 at
16 kHz; all in the same process.
"""

import argparse
import shutil
import tempfile
import time
import warnings
from pathlib import Path

import opensmile
import soundfile as sf

from sklearn_ser.datasets import load_emodb
from sklearn_ser.features import OpenSmileFrames


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--root", default=str(Path(__file__).parents[2] / "shared" / "data"
                                          / "emodb"))
    args = ap.parse_args()
    warnings.simplefilter("ignore")
    u = load_emodb(args.root).utterances
    seconds = sum(sf.info(p).duration for p in u["path"])
    print(f"{len(u)} files, {seconds:.0f} s of audio")

    smile = opensmile.Smile(feature_set=opensmile.FeatureSet.emobase,
                            feature_level=opensmile.FeatureLevel.LowLevelDescriptors)
    t = time.perf_counter()
    for p in u["path"]:
        sig, sr = sf.read(p, dtype="float32")
        smile.process_signal(sig, sr)
    bare = time.perf_counter() - t
    print(f"bare opensmile loop (emobase LLD):      {bare:6.1f} s  "
          f"{seconds / bare:6.1f}x real time")

    results = {}
    cache = Path(tempfile.mkdtemp())
    try:
        for name, kw in [
            ("OpenSmileFrames emobase, n_jobs=1", dict(n_jobs=1)),
            ("OpenSmileFrames emobase, n_jobs=2", dict(n_jobs=2)),
            ("  first run with cache, n_jobs=2", dict(n_jobs=2, memory=str(cache))),
            ("  cached re-run, n_jobs=1", dict(n_jobs=1, memory=str(cache))),
        ]:
            ext = OpenSmileFrames("emobase", sample_rate=None, progress=False, **kw)
            t = time.perf_counter()
            ext.fit_transform(u)
            results[name] = time.perf_counter() - t
            el = results[name]
            print(f"{name:40s}{el:6.1f} s  {seconds / el:6.1f}x real time  "
                  f"({bare / el:5.2f}x the bare loop)")
        t = time.perf_counter()
        OpenSmileFrames("emobase45", n_jobs=1, progress=False).fit_transform(u)
        el = time.perf_counter() - t
        print(f"{'OpenSmileFrames emobase45 @16k, n_jobs=1':40s}{el:6.1f} s  "
              f"{seconds / el:6.1f}x real time")
    finally:
        shutil.rmtree(cache)
    one = results["OpenSmileFrames emobase, n_jobs=1"]
    two = results["OpenSmileFrames emobase, n_jobs=2"]
    cached = results["  cached re-run, n_jobs=1"]
    print(f"per-core ratio to bare loop: {bare / one:.2f}; 2-job speed-up: "
          f"{one / two:.2f}x; cached re-run: {one / cached:.0f}x faster")


if __name__ == "__main__":
    main()
