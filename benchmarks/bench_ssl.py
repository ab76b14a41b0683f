"""Self-supervised features on CPU: x real time beside openSMILE, on EmoDB.

Run::

    python benchmarks/bench_ssl.py --root ../shared/data/emodb --files 100 \
        --work /tmp/ssl --threads 2

A base-size model (WavLM-base's configuration: 12 layers, width 768, about
95M parameters) is built with random weights and saved to ``--work`` in
transformers' format (no download: real weights cannot be fetched here, so
only speed is measured; accuracy with real weights is the literature's, see
BENCHMARKS.md). Then, on the first ``--files`` EmoDB utterances, side by
side in this process:

* ``OpenSmileFrames("emobase45")`` (one process, as the model's run);
* ``PretrainedFrames(folder, layers=-1)`` and ``layers="all"`` on CPU with
  ``--threads`` torch threads;
* a cache hit of the same extraction (``memory=``);
* ``SUPERBHeadClassifier`` fitted for ``--epochs`` epochs on the frames of
  every layer (the EmoBox/SUPERB protocol's head), to show the pipeline end
  to end and its cost per epoch.

Prints one JSON line per measurement: seconds, x real time (audio seconds per
wall second), frames and bytes.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import time
import warnings
from pathlib import Path


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--root", required=True)
    ap.add_argument("--files", type=int, default=100)
    ap.add_argument("--work", default="/tmp/ssl")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--epochs", type=int, default=3)
    ap.add_argument("--model", choices=["wavlm", "hubert", "wav2vec2"],
                    default="wavlm")
    args = ap.parse_args()

    import numpy as np
    import soundfile as sf
    import torch
    import transformers

    from sklearn_ser.datasets import load_emodb
    from sklearn_ser.features import OpenSmileFrames, PretrainedFrames
    from sklearn_ser.models import SUPERBHeadClassifier

    torch.set_num_threads(args.threads)
    work = Path(args.work)
    folder = work / f"{args.model}-base-random"
    if not (folder / "config.json").exists():
        cfg, cls = {
            "wavlm": (transformers.WavLMConfig, transformers.WavLMModel),
            "hubert": (transformers.HubertConfig, transformers.HubertModel),
            "wav2vec2": (transformers.Wav2Vec2Config, transformers.Wav2Vec2Model),
        }[args.model]
        torch.manual_seed(0)
        model = cls(cfg())  # the base configuration is the default
        model.save_pretrained(folder)
        transformers.Wav2Vec2FeatureExtractor(do_normalize=False).save_pretrained(folder)
    n_params = sum(p.numel() for p in transformers.AutoModel.from_pretrained(
        folder).parameters())

    data = load_emodb(args.root)
    X = data.utterances.iloc[: args.files]
    y = data.annotations.iloc[: args.files]
    audio = float(sum(sf.info(p).duration for p in X["path"]))

    def report(name, seconds, frames=None, **extra):
        row = {"step": name, "seconds": round(seconds, 2),
               "x_real_time": round(audio / seconds, 1), "audio_s": round(audio, 1),
               "threads": args.threads, **extra}
        if frames is not None:
            row.update(frames=int(frames.lengths.sum()), dim=frames.dim,
                       layers=frames.layers,
                       gbytes=round(4 * frames.dim * frames.lengths.sum() / 1e9, 3))
        print(json.dumps(row), flush=True)

    t = time.perf_counter()
    lld = OpenSmileFrames("emobase45", n_jobs=1, progress=False).fit_transform(X)
    report("OpenSmileFrames(emobase45)", time.perf_counter() - t, lld["frames"].array)

    # the hand-written loop it replaces: one file at a time, transformers' own
    # feature extractor, every hidden state kept
    from sklearn_ser.features import load_audio

    model = transformers.AutoModel.from_pretrained(folder).eval()
    fe = transformers.AutoFeatureExtractor.from_pretrained(folder)
    t = time.perf_counter()
    n_frames = 0
    for uid, path in zip(X.index, X["path"], strict=True):
        wave, _, _ = load_audio(uid, ("path", path), 16000)
        values = fe(wave, sampling_rate=16000, return_tensors="pt").input_values
        with torch.inference_mode():
            hidden = model(values, output_hidden_states=True).hidden_states
        n_frames += torch.cat(hidden, -1)[0].numpy().shape[0]
    report("bare transformers loop (every layer)", time.perf_counter() - t,
           frames_total=n_frames)
    del model

    cache = work / "cache"
    shutil.rmtree(cache, ignore_errors=True)
    for layers in (-1, "all"):
        ext = PretrainedFrames(folder, layers=layers, device="cpu", progress=False,
                               memory=cache if layers == "all" else None)
        t = time.perf_counter()
        ext.fit()
        t_fit = time.perf_counter() - t
        t = time.perf_counter()
        Xt = ext.transform(X)
        report(f"PretrainedFrames(layers={layers!r})", time.perf_counter() - t,
               Xt["frames"].array, load_and_digest_s=round(t_fit, 2),
               parameters=n_params)
    t = time.perf_counter()
    hit = PretrainedFrames(folder, layers="all", progress=False,
                           memory=cache).fit().transform(X)
    report("PretrainedFrames(layers='all'), cache hit", time.perf_counter() - t,
           hit["frames"].array)
    assert hit["frames"].array.equals(Xt["frames"].array)

    head = SUPERBHeadClassifier(max_epochs=args.epochs, patience=None,
                                random_state=0)
    t = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        head.fit(Xt, y)
    seconds = time.perf_counter() - t
    print(json.dumps({"step": f"SUPERBHeadClassifier fit, {args.epochs} epochs",
                      "seconds": round(seconds, 2),
                      "seconds_per_epoch": round(seconds / args.epochs, 2),
                      "layer_weights": np.round(head.layer_weights_, 4).tolist()}),
          flush=True)
    shutil.rmtree(cache, ignore_errors=True)
    if os.environ.get("BENCH_SSL_KEEP") != "1":
        shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    main()
