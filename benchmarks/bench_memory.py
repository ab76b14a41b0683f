"""Peak memory of a generated corpus through the feature pipeline.

Run: python benchmarks/bench_memory.py [--n 10000] [--n-jobs 2]

Generates ``n`` utterances with make_emotional_speech, extracts emobase45
frames, normalises per speaker and pools every 5 frames; prints wall time per
stage and the peak resident memory of the process (ru_maxrss).
"""

import argparse
import resource
import time
import warnings

import numpy as np

from sklearn_ser.datasets import make_emotional_speech
from sklearn_ser.features import FrameAverager, OpenSmileFrames, SpeakerStandardizer


def rss_mb():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, default=10000)
    ap.add_argument("--n-jobs", type=int, default=2)
    args = ap.parse_args()
    warnings.simplefilter("ignore")
    t = time.perf_counter()
    data = make_emotional_speech(args.n, n_speakers=20, n_sessions=10, random_state=0)
    audio_mb = sum(w.nbytes for w in data.utterances["audio"]) / 2**20
    secs = data.utterances["duration"].sum()
    print(f"generated {args.n} utterances ({secs / 3600:.1f} h, {audio_mb:.0f} MB of "
          f"float32 audio) in {time.perf_counter() - t:.1f} s; peak RSS "
          f"{rss_mb():.0f} MB")
    t = time.perf_counter()
    X = OpenSmileFrames("emobase45", n_jobs=args.n_jobs, progress=False).fit_transform(
        data.utterances)
    el = time.perf_counter() - t
    frames_mb = sum(f.nbytes for f in X["frames"]) / 2**20
    print(f"emobase45 frames: {el:.1f} s ({secs / el:.0f}x real time, n_jobs="
          f"{args.n_jobs}), {frames_mb:.0f} MB of frames; peak RSS {rss_mb():.0f} MB")
    t = time.perf_counter()
    X = FrameAverager(5).fit_transform(SpeakerStandardizer().fit_transform(X))
    print(f"normalise + pool: {time.perf_counter() - t:.1f} s; peak RSS "
          f"{rss_mb():.0f} MB; mean pooled length "
          f"{np.mean([len(f) for f in X['frames']]):.0f} frames")


if __name__ == "__main__":
    main()
