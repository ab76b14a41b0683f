"""The corpus options of the commands that train (``benchmark``, ``fit``):
which corpus, its columns and its classes."""

from __future__ import annotations

import argparse
import sys
import warnings
from pathlib import Path

from ..annotations import (
    HardLabels,
    check_names,
    infer_classes,
    normalize_label,
    resolve_classes,
)
from ..datasets import (
    load_corpus,
    load_crema_d,
    load_emodb,
    load_iemocap,
)
from ..exceptions import RareClassWarning
from ._scores import truth_labels


def _n_jobs(text):
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected an integer, got {text!r}") from None
    if value == 0:
        raise argparse.ArgumentTypeError(
            "0 jobs cannot run anything; give 1 (sequential), N (N workers) or -1 "
            "(all cores)")
    return value


def _positive(kind):
    def check(text):
        try:
            value = kind(text)
        except ValueError:
            raise argparse.ArgumentTypeError(
                f"expected a number, got {text!r}") from None
        if value < 1:
            raise argparse.ArgumentTypeError(f"expected at least 1, got {value}")
        return value
    return check


def add_corpus_arguments(parser):
    """The options that name a corpus (one of three forms)."""
    known = parser.add_argument_group("a known corpus")
    known.add_argument("--dataset", choices=["emodb", "emodb-confounded", "iemocap",
                                             "crema-d"],
                       help="emodb-confounded: EmoDB with 2 of the 7 emotions kept "
                            "per speaker (speaker predicts emotion)")
    known.add_argument("--emotions-per-speaker", type=_positive(int), default=None,
                       help="with emodb/emodb-confounded: emotions kept per "
                            "speaker (default for emodb-confounded: 2)")
    known.add_argument("--root", default=None, help="the corpus folder")
    gen = parser.add_argument_group("any corpus")
    gen.add_argument("--corpus", default=None,
                     help="a corpus folder: ratings.csv, metadata.csv and the "
                          "audio in wav/, flac/ or audio/ (the layout save_corpus "
                          "writes)")
    gen.add_argument("--audio-dir", default=None,
                     help="folder with one <utterance>.<extension> per utterance")
    gen.add_argument("--extension", default="auto",
                     help="audio extension to read (default auto: each id's one "
                          "file in any format soundfile reads; .flac to read "
                          "only FLAC where a folder mixes formats)")
    gen.add_argument("--ratings", default=None,
                     help="long CSV, one row per rating: utterance, rater, label")
    gen.add_argument("--metadata", default=None,
                     help="CSV: utterance plus columns such as speaker, session, "
                          "intended")


def check_corpus_args(args):
    """One corpus named, in a form that can be read (before any work)."""
    generic = args.audio_dir or args.ratings or args.metadata
    given = [name for name, on in (("--dataset with --root", args.dataset),
                                   ("--corpus", args.corpus),
                                   ("--audio-dir/--ratings/--metadata", generic))
             if on]
    if len(given) > 1:
        raise SystemExit(f"sklearn-ser {args.command}: give one corpus: {given[0]} or "
                         f"{given[1]}, not both.")
    if not args.dataset and not args.corpus and not (args.audio_dir and args.ratings):
        raise SystemExit(
            f"sklearn-ser {args.command}: say which corpus: --corpus FOLDER "
            "(ratings.csv, "
            "metadata.csv and wav/, flac/ or audio/), --dataset "
            "emodb|iemocap|crema-d --root DIR, or --audio-dir DIR --ratings FILE "
            "[--metadata FILE] (see sklearn-ser {args.command} --help)."
        )
    if args.extension != "auto" and not args.extension.startswith("."):
        raise SystemExit(f"sklearn-ser {args.command}: --extension {args.extension!r}; "
                         "give 'auto' or an extension with its dot, e.g. .flac.")
    if args.dataset and args.root is None:
        raise SystemExit(f"sklearn-ser {args.command}: --dataset {args.dataset} needs "
                         "--root DIR (the corpus folder).")
    if args.dataset and not Path(args.root).is_dir():
        raise SystemExit(f"sklearn-ser {args.command}: --root {args.root!r} is not a "
                         f"folder; give the folder of your {args.dataset} copy.")
    if args.emotions_per_speaker and args.dataset not in ("emodb",
                                                          "emodb-confounded"):
        raise SystemExit(f"sklearn-ser {args.command}: --emotions-per-speaker works "
                         "with "
                         "--dataset emodb or emodb-confounded only.")


def read_corpus(args):
    """``(utterances, ratings, classes, truth column, group column, corpus
    description)`` of the corpus the options name (classes, truth and group
    None where the corpus does not say)."""
    if args.dataset:
        try:
            u, a, classes, truth, group = load_dataset(args.dataset, args.root,
                                                        args.emotions_per_speaker)
        except (FileNotFoundError, NotADirectoryError, ValueError) as e:
            raise SystemExit(
                f"sklearn-ser {args.command}: {e} (--root is the corpus folder itself; "
                "if you gave one of its sub-folders, give its parent)") from None
        corpus = f"{args.dataset} ({args.root})"
        if args.emotions_per_speaker or args.dataset == "emodb-confounded":
            corpus += f", {args.emotions_per_speaker or 2} emotion(s) per speaker"
        # (load_corpus checks the generic form's audio itself)
        missing = [p for p in u.get("path", []) if not Path(p).exists()]
        if missing:
            raise SystemExit(
                f"sklearn-ser {args.command}: {len(missing)} of {len(u)} audio files "
                "are "
                f"missing (e.g. {missing[0]}); check --root (the corpus folder)."
            )
    elif args.corpus:
        u, a = load_generic(args.corpus, extension=args.extension,
                            command=args.command)
        classes, truth, group = None, None, None
        corpus = f"corpus folder {args.corpus}"
    else:
        u, a = load_generic(args.audio_dir, args.ratings, args.metadata,
                            args.extension, args.command)
        classes, truth, group = None, None, None
        corpus = f"{args.audio_dir} with {args.ratings}"
    return u, a, classes, truth, group, corpus


def load_dataset(name, root, emotions_per_speaker=None):
    """A known corpus (its --root checked by :func:`_check_benchmark_args`)."""
    if name in ("emodb", "emodb-confounded"):
        data = load_emodb(root, emotions_per_speaker=(
            emotions_per_speaker or 2) if name == "emodb-confounded"
            else emotions_per_speaker)
        return data.utterances, data.annotations, data.classes, "intended", "session"
    if name == "iemocap":
        # the usual four classes: excitement counts as happiness
        data = load_iemocap(root, merge_labels=True)
        return data.utterances, data.annotations, data.classes, None, "session"
    data = load_crema_d(root)
    return data.utterances, data.annotations, data.classes, "intended", "speaker"


def load_generic(audio_dir, ratings=None, metadata=None, extension="auto",
                 command="benchmark", truth_column=None):
    """:func:`sklearn_ser.datasets.load_corpus` with its errors as exit messages
    (``ratings`` None: ``audio_dir`` is a corpus folder)."""
    try:
        with warnings.catch_warnings():  # the classes are decided by the command
            warnings.simplefilter("ignore", RareClassWarning)  # line, not here
            data = load_corpus(audio_dir, ratings, metadata, extension=extension,
                               truth_column=truth_column)
    except (FileNotFoundError, ValueError) as e:
        given = (f"--corpus {audio_dir}" if ratings is None else
                 f"--audio-dir {audio_dir}, --ratings {ratings}, --metadata "
                 f"{metadata}")
        raise SystemExit(
            f"sklearn-ser {command}: {e} (options: {given}, --extension "
            f"{extension})") from None
    return data.utterances, data.annotations


def resolve_columns(u, a, args, classes, truth, group):
    cols = [c for c in u.columns if c != "path"]
    if args.group_column:
        group = args.group_column
    elif group is None:
        group = next((c for c in ("session", "speaker") if c in u.columns), None)
    if group is None or group not in u.columns:
        raise SystemExit(
            f"sklearn-ser {args.command}: no group column for leave-one-group-out"
            + (f" ({group!r} is not a metadata column)" if group else "")
            + f"; give --group-column NAME, one of {cols}"
            + ("" if cols else " (pass --metadata with speaker/session columns)") + "."
        )
    if args.truth_column:
        if args.truth_column not in u.columns:
            raise SystemExit(f"sklearn-ser {args.command}: --truth-column "
                             f"{args.truth_column!r} is not a metadata column; "
                             f"choose from {cols}.")
        truth = args.truth_column
    seen = [str(c) for c in HardLabels().fit(a).classes_]  # the rated labels
    if truth is not None:
        u = u.copy()
        try:  # the reading every score uses; "Pos" beside a rated "pos" refused
            u[truth] = truth_labels(u[truth], labels=seen)
        except ValueError as e:
            raise SystemExit(f"sklearn-ser {args.command}: {e}") from None
    rule = None
    if args.classes:
        wanted = [normalize_label(c) for c in args.classes.split(",") if c.strip()]
        try:  # spellings normalised: "anger,Angry" names anger twice
            check_names(wanted, "--classes", "sklearn-ser benchmark", unique=True)
        except ValueError as e:
            raise SystemExit(str(e)) from None
        if len(wanted) < 2:
            raise SystemExit(f"sklearn-ser {args.command}: --classes {args.classes!r} "
                             "names fewer than two classes; give them separated by "
                             "commas, e.g. --classes anger,happiness,neutral,sadness.")
        try:  # "Calm" beside a rated "calm" is refused, as in every fit
            resolve_classes(a, wanted)
        except ValueError as e:
            raise SystemExit(f"sklearn-ser {args.command}: --classes: {e}") from None
        absent = [c for c in wanted if c not in seen]
        if absent:
            raise SystemExit(f"sklearn-ser {args.command}: --classes {absent} never "
                             "appear "
                             f"in the ratings; labels seen: {seen}.")
        classes, rule = wanted, "given with --classes"
    elif classes is None and truth is not None:
        # the intended emotions say what the classes are
        labels = sorted({x for x in u[truth] if isinstance(x, str) and x})
        rated = [c for c in labels if c in seen]
        if len(rated) < 2:
            raise SystemExit(
                f"sklearn-ser {args.command}: the truth column {truth!r} holds "
                f"{labels}, of which {rated} appear in the ratings; give --classes.")
        classes, rule = rated, f"the labels of the truth column {truth!r}"
        unrated = sorted(set(labels) - set(rated))
        print(f"sklearn-ser {args.command}: classes {classes} ({rule})"
              + (f"; truth labels no rater chose, left out of the classes: "
                 f"{unrated}" if unrated else "")
              + "; give --classes to choose them.", file=sys.stderr)
    elif classes is None:
        try:
            classes, report = infer_classes(a, return_report=True)
        except ValueError as e:
            raise SystemExit(f"sklearn-ser {args.command}: {e} (give --classes)"
                             ) from None
        rule = report["rule"]
        left = {k: v for k, v in report["left_out"].items()
                if k not in report["rare"]}
        print(f"sklearn-ser {args.command}: classes {classes} ({rule})"
              + (f"; labels seen but not classes (never a majority, or 'other'; "
                 f"counted as "
                 f"non-target votes): {left}" if left else "")
              + "; give --classes to choose them.", file=sys.stderr)
    else:
        rule = "the corpus' classes"
    if truth is not None:
        intended = {x for x in u[truth] if isinstance(x, str) and x}
        absent = [c for c in classes if c not in intended]
        if absent:
            print(f"sklearn-ser: warning: class(es) {absent} never appear "
                  f"in the truth column {truth!r}: their recall against it is "
                  "undefined and the UAR against it averages the other classes.",
                  file=sys.stderr)
    if "speaker" not in u.columns:
        print(f"sklearn-ser {args.command}: no 'speaker' column; speaker normalisation "
              f"uses the {group!r} groups instead.", file=sys.stderr)
        u = u.copy()
        u["speaker"] = u[group]
    return u, list(classes), truth, group, rule


