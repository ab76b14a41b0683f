"""``sklearn-ser predict`` and ``sklearn-ser info``: a saved model labels
recordings of any length and format; its card in the terminal."""

from __future__ import annotations

import os
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

from .._estimators import estimators_in
from ..exceptions import AudioError, BundleError
from ..features import PredictionStandardizer
from ..models import check_bundle, load_model, predict_distribution
from ._report import neutralise_formulas
from ._segments import fixed_windows, mono, speech_regions

#: The rate the extractors convert every recording to.
TRAINING_RATE = 16000


def _audio_extensions():
    import soundfile

    return {"." + k.lower() for k in soundfile.available_formats()}


def _input_table(args):
    """The recordings to label: ``path`` per row (ids: the paths as given),
    ``speaker`` from a --list that has one."""
    rows = []
    if args.list:
        listing = Path(args.list)
        try:
            table = pd.read_csv(listing, dtype=str, keep_default_na=False)
        except (OSError, ValueError) as e:
            raise SystemExit(f"sklearn-ser predict: --list {args.list}: {e}") from None
        if "path" not in table.columns:
            raise SystemExit(f"sklearn-ser predict: --list {args.list} needs a 'path' "
                             f"column (and optionally 'speaker'); its columns are "
                             f"{list(table.columns)}.")
        for k, rec in table.iterrows():
            if not rec["path"].strip():
                raise SystemExit(f"sklearn-ser predict: --list {args.list}, row "
                                 f"{k + 2}: no path.")
            path = Path(rec["path"])
            if not path.is_absolute():  # relative to the list's folder
                path = listing.parent / path
            rows.append({"file": rec["path"], "path": str(path),
                         **({"speaker": rec["speaker"].strip() or None}
                            if "speaker" in table.columns else {})})
    for f in args.files or ():
        rows.append({"file": f, "path": f})
    if args.audio_dir:
        folder = Path(args.audio_dir)
        if not folder.is_dir():
            raise SystemExit(f"sklearn-ser predict: --audio-dir {args.audio_dir!r} is "
                             "not a folder.")
        known = _audio_extensions()
        found = sorted(p for p in folder.iterdir()
                       if p.is_file() and p.suffix.lower() in known)
        if not found:
            raise SystemExit(f"sklearn-ser predict: --audio-dir {args.audio_dir} holds "
                             f"no audio file ({', '.join(sorted(known))}).")
        rows.extend({"file": str(p), "path": str(p)} for p in found)
    if not rows:
        raise SystemExit("sklearn-ser predict: give the recordings: FILE ..., "
                         "--audio-dir DIR or --list CSV.")
    table = pd.DataFrame(rows)
    dup = table["file"][table["file"].duplicated()]
    if len(dup):
        raise SystemExit(f"sklearn-ser predict: {dup.iloc[0]!r} is given twice.")
    if "speaker" in table.columns and table["speaker"].isna().any():
        table.loc[table["speaker"].isna(), "speaker"] = None
    return table


def _check_audio(table):
    """Every file readable; ``(rates, channels, durations)``; one line on
    the conversion (as in training: mono, 16 kHz)."""
    import soundfile

    info = []
    for path, name in zip(table["path"], table["file"], strict=True):
        if not Path(path).is_file():
            raise SystemExit(f"sklearn-ser predict: {name}: no such file.")
        try:
            i = soundfile.info(path)
        except Exception as e:  # soundfile raises its own error types
            raise SystemExit(f"sklearn-ser predict: {name}: not an audio file "
                             f"soundfile reads ({e}).") from None
        if i.frames == 0:
            raise SystemExit(f"sklearn-ser predict: {name}: holds no audio.")
        info.append((i.samplerate, i.channels, i.frames / i.samplerate))
    rates = sorted({r for r, _, _ in info if r != TRAINING_RATE})
    multi = sum(c > 1 for _, c, _ in info)
    if rates or multi:
        parts = ([f"{sum(r != TRAINING_RATE for r, _, _ in info)} file(s) at "
                  f"{rates} Hz resampled to {TRAINING_RATE} Hz"] if rates else [])
        parts += [f"{multi} file(s) with several channels averaged to mono"] if (
            multi) else []
        print("sklearn-ser predict: " + "; ".join(parts) + " (as in training).",
              file=sys.stderr)
    return info


def _segmented(table, info, segment):
    """One row per piece: files longer than ``segment`` seconds (``"auto"``:
    every file) cut into speech regions or windows (an ``audio`` column with
    the piece, ``start``/``end`` seconds); the others whole."""
    import soundfile

    rows, silent = [], []
    for rec, (rate, _, duration) in zip(table.to_dict("records"), info, strict=True):
        if segment is None or (segment != "auto" and duration <= segment):
            rows.append({**rec, "start": 0.0, "end": duration})
            continue
        wave = mono(soundfile.read(rec["path"], dtype="float32", always_2d=True)[0])
        pieces = (speech_regions(wave, rate) if segment == "auto"
                  else fixed_windows(duration, float(segment)))
        if not pieces:
            silent.append(rec["file"])
        for start, end in pieces:
            piece = wave[int(round(start * rate)):int(round(end * rate))]
            rows.append({**rec, "path": None, "audio": piece, "sample_rate": rate,
                         "start": start, "end": end})
    if silent:
        print(f"sklearn-ser predict: warning: silero-vad found no speech in "
              f"{len(silent)} file(s), left out of the predictions: "
              f"{silent[:5]}{' ...' if len(silent) > 5 else ''}.", file=sys.stderr)
    if not rows:
        raise SystemExit("sklearn-ser predict: no speech to label.")
    out = pd.DataFrame(rows)
    cut = (out["audio"].notna().to_numpy() if "audio" in out.columns
           else np.zeros(len(out), bool))
    out.index = pd.Index([f"{f}@{s:.2f}-{e:.2f}" if c else f
                          for f, s, e, c in zip(out["file"], out["start"], out["end"],
                                                cut, strict=True)], name="utterance")
    if "audio" not in out.columns:
        out = out.drop(columns=["sample_rate"], errors="ignore")
    return out


def _set_extraction(model, n_jobs, progress):
    for est in estimators_in(model):
        if type(est).__module__.startswith("sklearn_ser.features") and hasattr(
                est, "memory") and hasattr(est, "n_jobs"):
            est.n_jobs, est.progress = n_jobs, progress


def _normalisation(model, table):
    """What each piece's normalisation is (the model's stated rule)."""
    rules = [est.rules(table) for est in estimators_in(model)
             if isinstance(est, PredictionStandardizer)]
    if not rules:
        return np.full(len(table), "as the model's pipeline does", dtype=object)
    return np.asarray(["/".join(dict.fromkeys(r)) for r in zip(*rules, strict=True)],
                      dtype=object)


def predictions_table(model, table, abstain=None):
    """The predictions CSV's table: ``p_<class>`` (summing to 1),
    ``predicted``, ``entropy`` (bits: the predicted disagreement),
    ``abstained`` (with ``abstain``), ``distribution`` and
    ``normalisation``."""
    dist = predict_distribution(model, table)
    p = dist.to_numpy()
    classes = list(dist.columns)
    out = table[[c for c in ("file", "start", "end", "speaker")
                 if c in table.columns]].copy()
    for k, c in enumerate(classes):
        out[f"p_{c}"] = p[:, k]
    out["predicted"] = np.asarray(classes, dtype=object)[p.argmax(axis=1)]
    with np.errstate(divide="ignore", invalid="ignore"):
        out["entropy"] = -np.where(p > 0, p * np.log2(p), 0.0).sum(axis=1)
    if abstain is not None:
        out["abstained"] = p.max(axis=1) < abstain
    out["distribution"] = dist.attrs["distribution"]
    out["normalisation"] = _normalisation(model, table)
    return out


def _write_csv(table, path):
    """Formulas neutralised; written to a temporary sibling, then renamed."""
    table, _ = neutralise_formulas(table)
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}-", dir=path.parent)
    try:
        with os.fdopen(fd, "w", newline="") as fh:
            table.to_csv(fh)
        os.link(tmp, path)  # fails if the file appeared meanwhile
    finally:
        os.unlink(tmp)


def cmd_predict(args):
    """``sklearn-ser predict``."""
    try:
        model = load_model(args.bundle)
    except BundleError as e:
        raise SystemExit(f"sklearn-ser predict: {e}") from None
    table = _input_table(args)
    info = _check_audio(table)
    segment = args.segment
    pieces = _segmented(table, info, segment)
    _set_extraction(model, args.n_jobs, not args.no_progress)
    t = time.perf_counter()
    try:
        out = predictions_table(model, pieces, args.abstain)
    except AudioError as e:
        raise SystemExit(f"sklearn-ser predict: {e}") from None
    seconds = time.perf_counter() - t
    _write_csv(out, args.out)
    audio = float((pieces["end"] - pieces["start"]).sum())
    print(f"sklearn-ser predict: {len(out)} prediction(s) of {len(table)} file(s) "
          f"({audio:.0f} s of audio in {seconds:.1f} s, {audio / seconds:.0f}x real "
          f"time); probabilities: {out['distribution'].iloc[0]}; normalisation: "
          + ", ".join(f"{k} {v}" for k, v in out["normalisation"].value_counts()
                      .items())
          + f"; wrote {Path(args.out).absolute()}.", file=sys.stderr)
    return 0


def cmd_info(args):
    """``sklearn-ser info``: the card, and what the manifest says."""
    try:
        manifest = check_bundle(args.bundle)
    except BundleError as e:
        raise SystemExit(f"sklearn-ser info: {e}") from None
    print((Path(args.bundle) / "README.md").read_text())
    v = manifest["versions"]
    print(f"Bundle format {manifest['format_version']}, written {manifest['created']} "
          f"by sklearn-ser {v.get('sklearn-ser')} (scikit-learn {v.get('scikit-learn')}"
          f", torch {v.get('torch')}); every file matches its SHA-256.")
    return 0


def _segment_arg(text):
    import argparse

    if text == "auto":
        return text
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"expected seconds or 'auto', got {text!r}") from None
    if not value > 0:
        raise argparse.ArgumentTypeError(f"expected seconds > 0, got {text!r}")
    return value


def _probability(text):
    import argparse

    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a probability, got {text!r}") \
            from None
    if not 0 < value <= 1:
        raise argparse.ArgumentTypeError(f"expected a probability in (0, 1], got "
                                         f"{value}")
    return value


def add_predict_parsers(sub, n_jobs):
    """The ``predict`` and ``info`` commands."""
    pred = sub.add_parser(
        "predict", help="label recordings with a saved model",
        description="Label recordings (any format soundfile reads, any rate or "
                    "channel count) with a model saved by sklearn-ser fit: one "
                    "row per file, or per speech region with --segment; "
                    "p_<class> (summing to 1), predicted, entropy (bits: the "
                    "predicted disagreement of raters), distribution (what the "
                    "probabilities are), normalisation (the rule each row got).")
    pred.add_argument("bundle", help="the folder sklearn-ser fit wrote")
    pred.add_argument("files", nargs="*", help="audio files")
    pred.add_argument("--audio-dir", default=None,
                      help="label every audio file of this folder")
    pred.add_argument("--list", default=None,
                      help="CSV with a path column (relative to the CSV) and "
                           "optionally speaker: speakers with at least 5 "
                           "recordings are normalised by their own statistics, "
                           "the others by the training corpus'")
    pred.add_argument("--out", required=True,
                      help="the predictions CSV (must not exist)")
    pred.add_argument("--segment", type=_segment_arg, default=None,
                      help="cut files longer than SECONDS into windows of that "
                           "length, or 'auto': every file into speech regions "
                           "(silero-vad); one row per piece with start/end")
    pred.add_argument("--abstain", type=_probability, default=None,
                      help="mark rows whose top probability is below P "
                           "(abstained); benchmark's results.md shows UAR and "
                           "coverage per threshold")
    pred.add_argument("--n-jobs", type=n_jobs, default=-1,
                      help="parallel feature extraction (default: all cores)")
    pred.add_argument("--no-progress", action="store_true")
    pred.set_defaults(func=cmd_predict, check=_check_predict_args)
    info = sub.add_parser("info", help="show a saved model's card",
                          description="Print a saved model's card and check "
                                      "every file against its SHA-256.")
    info.add_argument("bundle")
    info.set_defaults(func=cmd_info, check=lambda args: None)


def _check_predict_args(args):
    if Path(args.out).exists():
        raise SystemExit(f"sklearn-ser predict: --out {args.out!r} exists; give a "
                         "new file (nothing is overwritten).")
