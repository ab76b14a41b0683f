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
    check_names,
)
from ..datasets import (
    make_emotional_speech,
)
from ..exceptions import AnnotationError, AudioError, ComparisonError
from ._corpus_options import (
    _n_jobs,
    _positive,
    add_corpus_arguments,
    check_corpus_args,
    load_generic,
    read_corpus,
    resolve_columns,
)
from ._cost import announcement, help_line
from ._cross import add_cross_arguments, cross_corpus_command
from ._deploy import FIT_NORMALISATIONS, cmd_fit
from ._methods import DEMO_METHODS, NORMALISATIONS, registry
from ._predict import add_predict_parsers
from ._protocol import run_comparison
from ._report import (
    OUTPUT_NAMES,
    distribution_table,
    margins_table,
    results_table,
    write_outputs,
)
from ._scores import rare_by_class


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


def _with_members(methods):
    """``methods`` and the members a fusion among them trains."""
    reg = registry()
    return list(dict.fromkeys(m for f in methods for m in (*reg[f].members, f)))


def cmd_benchmark(args, out):
    """``sklearn-ser benchmark`` in the claimed folder ``out`` (its arguments
    checked by :func:`_check_benchmark_args` before the folder was made)."""
    methods = _method_list(args.methods, registry())
    u, a, classes, truth, group, corpus = read_corpus(args)
    u, classes, truth, group, rule = resolve_columns(u, a, args, classes, truth,
                                                     group)
    epochs = 8 if args.quick else args.max_epochs
    print(f"sklearn-ser: feature cache {Path(args.cache).absolute()} (--cache)",
          file=sys.stderr)
    if args.test_corpus:  # train on all of this corpus, test on the others
        name = args.dataset or Path(args.corpus or args.audio_dir).name
        return cross_corpus_command(
            args, out, (name, u, a), classes, truth, group, methods, epochs,
            lambda folder: load_generic(
                folder, extension=args.extension,
                # a test corpus without ratings is scored against its truth
                truth_column=None if (Path(folder) / "ratings.csv").is_file()
                else _unrated_truth(folder, truth)))
    n_folds = int(u[group].nunique()) if group in u.columns else 1
    line = announcement(_with_members(methods), u, n_folds, args.seeds, args.n_jobs)
    if line:
        print(line, file=sys.stderr)
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


def _unrated_truth(folder, truth):
    """The truth column a test corpus without ratings is scored against."""
    if truth is None:
        raise SystemExit(f"sklearn-ser benchmark: --test-corpus {folder} has no "
                         "ratings.csv; a test corpus without ratings is scored "
                         "against a truth column: give --truth-column.")
    return truth


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
    check_corpus_args(args)
    if args.label_map and not args.test_corpus:
        raise SystemExit("sklearn-ser benchmark: --label-map maps each corpus' "
                         "labels in a --test-corpus run; give --test-corpus too.")
    for folder in args.test_corpus or ():
        if not Path(folder).is_dir():
            raise SystemExit(f"sklearn-ser benchmark: --test-corpus {folder!r} is not "
                             "a folder; give a corpus folder (ratings.csv, "
                             "metadata.csv, wav/ or flac/).")


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
                    "are scored against the hard majority of the ratings.",
        epilog=help_line(_with_members(registry())))
    add_corpus_arguments(bench)
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
    fit = sub.add_parser(
        "fit", help="train one method on a whole corpus and save it",
        description="Train one method on every utterance of a corpus (its "
                    "decisions taken on all of them) and save it as a bundle "
                    "folder that loads without unpickling: sklearn-ser predict "
                    "labels new recordings with it, sklearn-ser info shows its "
                    "card.")
    add_corpus_arguments(fit)
    fit.add_argument("--method", required=True, choices=list(registry()),
                     metavar="METHOD", help=f"one of {names}")
    fit.add_argument("--out", required=True,
                     help="the bundle folder to write (must not exist)")
    fit.add_argument("--classes", default=None,
                     help="comma-separated target classes (default as benchmark)")
    fit.add_argument("--group-column", default=None,
                     help="the folds of --cv (default: session, else speaker)")
    fit.add_argument("--truth-column", default=None,
                     help="metadata column with an extra ground truth (--cv)")
    fit.add_argument("--cv", action="store_true",
                     help="also score the method leave-one-group-out and put "
                          "the scores on the model's card")
    fit.add_argument("--normalise", choices=FIT_NORMALISATIONS, default="auto",
                     help="per speaker, global z-scores or none; auto decides "
                          "from the corpus (per speaker unless speaker predicts "
                          "the labels)")
    fit.add_argument("--max-epochs", type=_positive(int), default=100)
    fit.add_argument("--random-state", type=int, default=0)
    fit.add_argument("--n-jobs", type=_n_jobs, default=-1,
                     help="parallel jobs for features (default: all cores)")
    fit.add_argument("--cache", default=".cache/features",
                     help="feature cache folder (as benchmark's)")
    fit.add_argument("--quick", action="store_true",
                     help="8 epochs per network, for smoke runs")
    fit.add_argument("--no-progress", action="store_true")
    fit.set_defaults(func=cmd_fit, check=_check_fit_args)
    add_predict_parsers(sub, _n_jobs)
    return parser


def _check_fit_args(args):
    check_corpus_args(args)
    if Path(args.out).exists():
        raise SystemExit(f"sklearn-ser fit: --out {args.out!r} exists; a model is "
                         "saved to a new folder (nothing is overwritten).")


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
        if args.command in ("fit", "predict", "info"):  # their own output rules
            return args.func(args)
        return _run(args.func, args)
    except KeyboardInterrupt:
        # results are written only once every model is trained: an interrupted
        # run leaves nothing that looks complete
        print("\nsklearn-ser: interrupted (Ctrl-C); nothing was written.",
              file=sys.stderr)
        return 130
