"""The ``sklearn-ser`` command line."""

from __future__ import annotations

import argparse
import os
import sys
import time
import warnings
from pathlib import Path

from .._version import __version__
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
    make_emotional_speech,
)
from ..exceptions import AnnotationError, AudioError, ComparisonError, RareClassWarning
from ._cross import add_cross_arguments, cross_corpus_command
from ._methods import DEMO_METHODS, NORMALISATIONS, registry
from ._protocol import run_comparison
from ._report import (
    OUTPUT_NAMES,
    distribution_table,
    margins_table,
    results_table,
    write_outputs,
)
from ._scores import rare_by_class, truth_labels


class _OutDir:
    """The output folder of one run, claimed before any work starts.

    A new folder is created atomically (``mkdir`` fails if another run made it
    first); an existing folder is used only when it holds none of the files a
    run writes, and is claimed with an exclusive lock file. Otherwise the run
    writes to ``<out>-2``, ``<out>-3``, ...: a user's results are never
    overwritten, and two runs given the same ``--out`` never share a folder.
    """

    LOCK = ".sklearn-ser-run"

    def __init__(self, path):
        out = Path(path).absolute()  # "." gets numbered siblings named after it
        if out.exists() and not out.is_dir():
            raise SystemExit(f"sklearn-ser: --out {str(out)!r} is a file; give a "
                             "folder.")
        self.created = False
        for k in range(1, 10_000):
            cand = out if k == 1 else out.parent / f"{out.name}-{k}"
            if cand.exists() and not cand.is_dir():
                continue
            try:
                try:
                    cand.mkdir(parents=True)
                    created = True
                except FileExistsError:
                    created = False
                    if any((cand / n).exists() for n in OUTPUT_NAMES):
                        continue
                # the folder is ours once we hold its lock (a folder the user
                # made for us, or one another run made a moment ago, too)
                try:
                    fd = os.open(cand / self.LOCK, os.O_CREAT | os.O_EXCL |
                                 os.O_WRONLY)
                    os.close(fd)
                except FileExistsError:
                    continue
                self.path, self.created = cand, created
                break
            except PermissionError:
                raise SystemExit(f"sklearn-ser: cannot create --out folder "
                                 f"{str(cand)!r} (permission denied).") from None
            except OSError as e:  # a file where a parent folder should be, ...
                raise SystemExit(f"sklearn-ser: cannot create --out folder "
                                 f"{str(cand)!r}: {e.strerror or e}.") from None
        else:  # pragma: no cover - 10,000 earlier runs
            raise SystemExit(f"sklearn-ser: no free folder next to {str(out)!r}.")
        if self.path != out:
            print(f"sklearn-ser: {out} holds earlier results or another run's; "
                  f"writing to {self.path} instead.", file=sys.stderr)

    def release(self, completed):
        """Drop the lock; an unfinished run removes the folder it created."""
        lock = self.path / self.LOCK
        if lock.exists():
            lock.unlink()
        if (not completed and self.created and self.path.is_dir()
                and not any(self.path.iterdir())):
            self.path.rmdir()


def _out_dir(path):
    """The folder a run will write to (see :class:`_OutDir`)."""
    return _OutDir(path)


def _finish(results, out):
    print(results_table(results))
    print("\nAgainst every rating:\n" + distribution_table(results))
    margins = margins_table(results)
    if margins:
        print("\nThe papers' methods beside their own baselines:\n" + margins)
    paths = write_outputs(out.path, results)
    out.release(completed=True)
    print(f"\nwrote {len(paths)} files to {paths[0].parent}: "
          + ", ".join(p.name for p in paths), file=sys.stderr)
    return 0


def _run(command, args):
    """Run ``command(args, out)`` in an output folder claimed first; release it
    however the run ends (an interrupted or failed run leaves no folder it
    made)."""
    out = _out_dir(args.out)
    print(f"sklearn-ser: results go to {out.path}", file=sys.stderr)
    try:
        return command(args, out)
    finally:
        out.release(completed=(out.path / "results.json").exists())


def _compare(*args, **kwargs):
    """:func:`~sklearn_ser.experiments.run_comparison`, its input errors as exit
    messages."""
    try:
        return run_comparison(*args, **kwargs)
    except (ComparisonError, AnnotationError, AudioError) as e:
        # bad data (an empty, corrupt or silent wav, malformed ratings): the
        # message names the file or utterance; no traceback
        raise SystemExit(f"sklearn-ser: {e}") from None


def cmd_demo(args, out):
    """``sklearn-ser demo`` in the claimed folder ``out``."""
    n = 200 if args.quick else args.n_utterances
    epochs = 8 if args.quick else args.max_epochs
    print(f"sklearn-ser {__version__} demo: generating {n} utterances "
          "(make_emotional_speech)...", file=sys.stderr)
    methods = _method_list(args.methods, DEMO_METHODS)
    data = make_emotional_speech(n, n_speakers=10, n_sessions=5,
                                 emotions_per_speaker=args.emotions_per_speaker,
                                 random_state=args.random_state)
    t = time.perf_counter()
    results = _compare(data.utterances, data.annotations, data.classes,
                       methods=methods, seeds=args.seeds, epochs=epochs,
                       n_jobs=args.n_jobs, profile="demo",
                       progress=not args.no_progress, normalise=args.normalise)
    results = results.with_meta(
        command="demo",
        corpus="make_emotional_speech" + (
            f" (emotions_per_speaker={args.emotions_per_speaker})"
            if args.emotions_per_speaker else ""),
        wall_seconds=time.perf_counter() - t)
    return _finish(results, out)


def _method_list(text, default):
    if not text:
        return list(default)
    methods = [m.strip() for m in text.split(",") if m.strip()]
    known = list(registry())
    unknown = [m for m in methods if m not in known]
    try:
        check_names(methods, "--methods", "sklearn-ser", unique=True, labels=False)
    except ValueError as e:
        raise SystemExit(str(e)) from None
    if unknown or not methods:
        raise SystemExit(
            f"sklearn-ser: unknown method(s) {unknown}; choose from {known} "
            "(comma-separated, e.g. --methods svm_egemaps,crowd_soft)."
        )
    return methods


def _load_dataset(name, root, emotions_per_speaker=None):
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


def load_generic(audio_dir, ratings=None, metadata=None, extension="auto"):
    """:func:`sklearn_ser.datasets.load_corpus` with its errors as exit messages
    (``ratings`` None: ``audio_dir`` is a corpus folder)."""
    try:
        with warnings.catch_warnings():  # the classes are decided by the command
            warnings.simplefilter("ignore", RareClassWarning)  # line, not here
            data = load_corpus(audio_dir, ratings, metadata, extension=extension)
    except (FileNotFoundError, ValueError) as e:
        given = (f"--corpus {audio_dir}" if ratings is None else
                 f"--audio-dir {audio_dir}, --ratings {ratings}, --metadata "
                 f"{metadata}")
        raise SystemExit(
            f"sklearn-ser benchmark: {e} (options: {given}, --extension "
            f"{extension})") from None
    return data.utterances, data.annotations


def _resolve_columns(u, a, args, classes, truth, group):
    cols = [c for c in u.columns if c != "path"]
    if args.group_column:
        group = args.group_column
    elif group is None:
        group = next((c for c in ("session", "speaker") if c in u.columns), None)
    if group is None or group not in u.columns:
        raise SystemExit(
            "sklearn-ser benchmark: no group column for leave-one-group-out"
            + (f" ({group!r} is not a metadata column)" if group else "")
            + f"; give --group-column NAME, one of {cols}"
            + ("" if cols else " (pass --metadata with speaker/session columns)") + "."
        )
    if args.truth_column:
        if args.truth_column not in u.columns:
            raise SystemExit(f"sklearn-ser benchmark: --truth-column "
                             f"{args.truth_column!r} is not a metadata column; "
                             f"choose from {cols}.")
        truth = args.truth_column
    seen = [str(c) for c in HardLabels().fit(a).classes_]  # the rated labels
    if truth is not None:
        u = u.copy()
        try:  # the reading every score uses; "Pos" beside a rated "pos" refused
            u[truth] = truth_labels(u[truth], labels=seen)
        except ValueError as e:
            raise SystemExit(f"sklearn-ser benchmark: {e}") from None
    rule = None
    if args.classes:
        wanted = [normalize_label(c) for c in args.classes.split(",") if c.strip()]
        try:  # spellings normalised: "anger,Angry" names anger twice
            check_names(wanted, "--classes", "sklearn-ser benchmark", unique=True)
        except ValueError as e:
            raise SystemExit(str(e)) from None
        if len(wanted) < 2:
            raise SystemExit(f"sklearn-ser benchmark: --classes {args.classes!r} "
                             "names fewer than two classes; give them separated by "
                             "commas, e.g. --classes anger,happiness,neutral,sadness.")
        try:  # "Calm" beside a rated "calm" is refused, as in every fit
            resolve_classes(a, wanted)
        except ValueError as e:
            raise SystemExit(f"sklearn-ser benchmark: --classes: {e}") from None
        absent = [c for c in wanted if c not in seen]
        if absent:
            raise SystemExit(f"sklearn-ser benchmark: --classes {absent} never appear "
                             f"in the ratings; labels seen: {seen}.")
        classes, rule = wanted, "given with --classes"
    elif classes is None and truth is not None:
        # the intended emotions say what the classes are
        labels = sorted({x for x in u[truth] if isinstance(x, str) and x})
        rated = [c for c in labels if c in seen]
        if len(rated) < 2:
            raise SystemExit(
                f"sklearn-ser benchmark: the truth column {truth!r} holds "
                f"{labels}, of which {rated} appear in the ratings; give --classes.")
        classes, rule = rated, f"the labels of the truth column {truth!r}"
        unrated = sorted(set(labels) - set(rated))
        print(f"sklearn-ser benchmark: classes {classes} ({rule})"
              + (f"; truth labels no rater chose, left out of the classes: "
                 f"{unrated}" if unrated else "")
              + "; give --classes to choose them.", file=sys.stderr)
    elif classes is None:
        try:
            classes, report = infer_classes(a, return_report=True)
        except ValueError as e:
            raise SystemExit(f"sklearn-ser benchmark: {e} (give --classes)") from None
        rule = report["rule"]
        left = {k: v for k, v in report["left_out"].items()
                if k not in report["rare"]}
        print(f"sklearn-ser benchmark: classes {classes} ({rule})"
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
        print(f"sklearn-ser benchmark: no 'speaker' column; speaker normalisation "
              f"uses the {group!r} groups instead.", file=sys.stderr)
        u = u.copy()
        u["speaker"] = u[group]
    return u, list(classes), truth, group, rule


def cmd_benchmark(args, out):
    """``sklearn-ser benchmark`` in the claimed folder ``out`` (its arguments
    checked by :func:`_check_benchmark_args` before the folder was made)."""
    methods = _method_list(args.methods, registry())
    if args.dataset:
        try:
            u, a, classes, truth, group = _load_dataset(args.dataset, args.root,
                                                        args.emotions_per_speaker)
        except (FileNotFoundError, NotADirectoryError, ValueError) as e:
            raise SystemExit(
                f"sklearn-ser benchmark: {e} (--root is the corpus folder itself; "
                "if you gave one of its sub-folders, give its parent)") from None
        corpus = f"{args.dataset} ({args.root})"
        if args.emotions_per_speaker or args.dataset == "emodb-confounded":
            corpus += f", {args.emotions_per_speaker or 2} emotion(s) per speaker"
        # (load_corpus checks the generic form's audio itself)
        missing = [p for p in u.get("path", []) if not Path(p).exists()]
        if missing:
            raise SystemExit(
                f"sklearn-ser benchmark: {len(missing)} of {len(u)} audio files are "
                f"missing (e.g. {missing[0]}); check --root (the corpus folder)."
            )
    elif args.corpus:
        u, a = load_generic(args.corpus, extension=args.extension)
        classes, truth, group = None, None, None
        corpus = f"corpus folder {args.corpus}"
    else:
        u, a = load_generic(args.audio_dir, args.ratings, args.metadata,
                            args.extension)
        classes, truth, group = None, None, None
        corpus = f"{args.audio_dir} with {args.ratings}"
    u, classes, truth, group, rule = _resolve_columns(u, a, args, classes, truth,
                                                      group)
    epochs = 8 if args.quick else args.max_epochs
    print(f"sklearn-ser: feature cache {Path(args.cache).absolute()} (--cache)",
          file=sys.stderr)
    if args.test_corpus:  # train on all of this corpus, test on the others
        name = args.dataset or Path(args.corpus or args.audio_dir).name
        return cross_corpus_command(
            args, out, (name, u, a), classes, truth, group, methods, epochs,
            lambda folder: load_generic(folder, extension=args.extension))
    t = time.perf_counter()
    results = _compare(u, a, classes, methods=methods, seeds=args.seeds,
                       epochs=epochs, n_jobs=args.n_jobs, cache=args.cache,
                       truth_column=truth, group_column=group,
                       progress=not args.no_progress, normalise=args.normalise)
    results = results.with_meta(command="benchmark", corpus=corpus,
                                classes_rule=rule,
                                wall_seconds=time.perf_counter() - t)
    _say_rare(results.meta.get("rare_classes"), group)
    return _finish(results, out)


def _say_rare(rare, group):
    """A warning on stderr for classes rare in some training fold."""
    if not rare:
        return
    print("sklearn-ser: warning: " + "; ".join(
        f"{c!r} is rare in the training fold(s) of {group} "
        + ", ".join(g for g, _ in folds)
        for c, folds in rare_by_class(rare).items())
        + " (below a quarter of an even share of the majorities; results.md "
        "gives the shares). Consider --classes without them.", file=sys.stderr)


def _check_benchmark_args(args):
    """Every argument checked before any work (or folder) is made."""
    _method_list(args.methods, registry())
    generic = args.audio_dir or args.ratings or args.metadata
    given = [name for name, on in (("--dataset with --root", args.dataset),
                                   ("--corpus", args.corpus),
                                   ("--audio-dir/--ratings/--metadata", generic))
             if on]
    if len(given) > 1:
        raise SystemExit(f"sklearn-ser benchmark: give one corpus: {given[0]} or "
                         f"{given[1]}, not both.")
    if not args.dataset and not args.corpus and not (args.audio_dir and args.ratings):
        raise SystemExit(
            "sklearn-ser benchmark: say which corpus: --corpus FOLDER (ratings.csv, "
            "metadata.csv and wav/, flac/ or audio/), --dataset "
            "emodb|iemocap|crema-d --root DIR, or --audio-dir DIR --ratings FILE "
            "[--metadata FILE] (see sklearn-ser benchmark --help)."
        )
    if args.label_map and not args.test_corpus:
        raise SystemExit("sklearn-ser benchmark: --label-map maps each corpus' "
                         "labels in a --test-corpus run; give --test-corpus too.")
    for folder in args.test_corpus or ():
        if not Path(folder).is_dir():
            raise SystemExit(f"sklearn-ser benchmark: --test-corpus {folder!r} is not "
                             "a folder; give a corpus folder (ratings.csv, "
                             "metadata.csv, wav/ or flac/).")
    if args.extension != "auto" and not args.extension.startswith("."):
        raise SystemExit(f"sklearn-ser benchmark: --extension {args.extension!r}; "
                         "give 'auto' or an extension with its dot, e.g. .flac.")
    if args.dataset and args.root is None:
        raise SystemExit(f"sklearn-ser benchmark: --dataset {args.dataset} needs "
                         "--root DIR (the corpus folder).")
    if args.dataset and not Path(args.root).is_dir():
        raise SystemExit(f"sklearn-ser benchmark: --root {args.root!r} is not a "
                         f"folder; give the folder of your {args.dataset} copy.")
    if args.emotions_per_speaker and args.dataset not in ("emodb",
                                                          "emodb-confounded"):
        raise SystemExit("sklearn-ser benchmark: --emotions-per-speaker works with "
                         "--dataset emodb or emodb-confounded only.")


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


def build_parser():
    parser = argparse.ArgumentParser(
        prog="sklearn-ser",
        description="Speech emotion recognition that learns from every rating.",
    )
    parser.add_argument("--version", action="version", version=__version__)
    sub = parser.add_subparsers(dest="command")
    names = ",".join(registry())
    normalise_help = ("feature normalisation of every method: per speaker, global "
                      "z-scores, per corpus (across corpora) or none; auto "
                      "(default) decides in each fold from the training data: per "
                      "speaker unless speaker predicts the training labels "
                      "(speakers showing one or a few emotions), then global, or "
                      "per corpus with --test-corpus")
    outputs = ("writes results.json, results.md, predictions.csv and PNG plots "
               "(confusion matrices, per-class recall, agreement vs accuracy, "
               "attention, noisy-label weights) to --out; an existing results "
               "folder is never overwritten (a numbered one is made)")
    demo = sub.add_parser(
        "demo", help="compare the methods on a generated corpus (no data needed)",
        description="Generate a corpus with make_emotional_speech and compare the "
                    "methods leave-one-session-out; " + outputs + ".")
    demo.add_argument("--out", default="sklearn_ser_results",
                      help="output folder (default: %(default)s)")
    demo.add_argument("--n-utterances", type=_positive(int), default=300)
    demo.add_argument("--max-epochs", type=_positive(int), default=20)
    demo.add_argument("--seeds", type=_positive(int), default=1)
    demo.add_argument("--methods", default=None,
                      help=f"comma-separated subset of {names} "
                           f"(default: {','.join(DEMO_METHODS)})")
    demo.add_argument("--n-jobs", type=_n_jobs, default=-1,
                      help="parallel jobs for features and training (default: all "
                           "cores)")
    demo.add_argument("--random-state", type=int, default=0)
    demo.add_argument("--emotions-per-speaker", type=_positive(int), default=None,
                      help="each generated speaker shows only this many emotions "
                           "(1: speaker and emotion confounded, as in many "
                           "naturalistic corpora; default: every emotion)")
    demo.add_argument("--normalise", choices=NORMALISATIONS, default="auto",
                      help=normalise_help)
    demo.add_argument("--quick", action="store_true",
                      help="a small corpus and few epochs, for smoke runs")
    demo.add_argument("--no-progress", action="store_true")
    demo.set_defaults(func=cmd_demo, check=lambda args: _method_list(
        args.methods, DEMO_METHODS))
    bench = sub.add_parser(
        "benchmark", help="compare the methods on a corpus on disk",
        description="Compare the methods leave-one-group-out on a known corpus "
                    "(--dataset, --root), a corpus folder (--corpus) or any "
                    "corpus in generic form (--audio-dir, --ratings, --metadata); "
                    + outputs + ". UAR/WA "
                    "are scored against the hard majority of the ratings.")
    known = bench.add_argument_group("a known corpus")
    known.add_argument("--dataset", choices=["emodb", "emodb-confounded", "iemocap",
                                             "crema-d"],
                       help="emodb-confounded: EmoDB with 2 of the 7 emotions kept "
                            "per speaker (speaker predicts emotion)")
    known.add_argument("--emotions-per-speaker", type=_positive(int), default=None,
                       help="with emodb/emodb-confounded: emotions kept per "
                            "speaker (default for emodb-confounded: 2)")
    known.add_argument("--root", default=None, help="the corpus folder")
    gen = bench.add_argument_group("any corpus")
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
    add_cross_arguments(bench)
    bench.add_argument("--group-column", default=None,
                       help="metadata column whose groups are the folds (default: "
                            "session, else speaker)")
    bench.add_argument("--truth-column", default=None,
                       help="metadata column with an extra ground truth to score "
                            "against (uar_truth)")
    bench.add_argument("--classes", default=None,
                       help="comma-separated target classes (default: the labels "
                            "that win the majority vote of at least one utterance)")
    bench.add_argument("--normalise", choices=NORMALISATIONS, default="auto",
                       help=normalise_help)
    bench.add_argument("--out", default="sklearn_ser_results",
                       help="output folder (default: %(default)s)")
    bench.add_argument("--methods", default=None,
                       help=f"comma-separated subset of {names} (default: all)")
    bench.add_argument("--seeds", type=_positive(int), default=1)
    bench.add_argument("--max-epochs", type=_positive(int), default=100)
    bench.add_argument("--n-jobs", type=_n_jobs, default=-1,
                       help="parallel jobs for features and training (default: all "
                            "cores)")
    bench.add_argument("--cache", default=".cache/features",
                       help="feature cache folder (content-keyed; default: "
                            ".cache/features in the current folder, about 13 MB "
                            "for EmoDB; reused by later runs)")
    bench.add_argument("--quick", action="store_true",
                       help="8 epochs per model, for smoke runs")
    bench.add_argument("--no-progress", action="store_true")
    bench.set_defaults(func=cmd_benchmark, check=_check_benchmark_args)
    return parser


def main(argv=None):
    """The ``sklearn-ser`` command line (``sklearn-ser demo``, ``sklearn-ser
    benchmark``): ``main(["demo", "--quick"])`` runs it from Python.

    Returns the exit status: 0 done, 2 no command, 130 interrupted (nothing
    written); bad input exits with a message naming it. Run as the command
    (``argv=None``), the library's warnings print as one line each,
    ``sklearn-ser: warning: <message> (<category>)``, instead of Python's
    file-and-line form; called with ``argv`` they are left to the caller.
    """
    if argv is None:
        with warnings.catch_warnings():
            warnings.showwarning = _one_line_warning
            return _main(None)
    return _main(argv)


def _one_line_warning(message, category, filename, lineno, file=None, line=None):
    print(f"sklearn-ser: warning: {message} ({category.__name__})", file=sys.stderr)


def _main(argv):
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help()
        return 2
    try:
        args.check(args)  # every argument before any folder or work
        return _run(args.func, args)
    except KeyboardInterrupt:
        # results are written only once every model is trained: an interrupted
        # run leaves nothing that looks complete
        print("\nsklearn-ser: interrupted (Ctrl-C); nothing was written.",
              file=sys.stderr)
        return 130
