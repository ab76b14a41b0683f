"""Across corpora: train every method on all of one corpus, test on others.

Every decision a method makes (its penalty, the normalisation, its epochs)
is made inside the training corpus: the corpora are put side by side with a
group column that holds the training corpus in one group and the test
corpora in the other, and the one held-out fold is the test corpora's
(:func:`plan_comparison` with ``held_out``). Each test corpus is then scored
apart (:meth:`ComparisonPlan.view`), as a full comparison result of its own.

Utterance, rater and speaker ids are prefixed with the corpus name: two
corpora may both have an utterance ``01`` or a rater ``E1``, who are not the
same.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.utils import Bunch

from ..annotations import align_annotations, from_long, to_long
from ..exceptions import ComparisonError
from ._protocol import plan_comparison, run_planned, score_planned
from ._report import write_outputs

#: The group column of the side-by-side table (its two groups).
SPLIT = "_cross_corpus_split"


@dataclass
class CrossCorpusResult:
    """What :func:`run_cross_corpus` returns.

    Attributes
    ----------
    train : str
        The training corpus.
    results : dict
        Test corpus name -> its :class:`ComparisonResult` (scores, meta,
        plots of that corpus' utterances).
    left_out : dict
        Corpus name -> utterances whose majority is not one of the shared
        classes (not scored against the majority; trained on as evidence).
    """

    train: str
    results: dict
    left_out: dict = field(default_factory=dict)

    def table(self):
        """Markdown: method x test corpus, UAR against the majority and the
        truth with their 95 % intervals."""
        tests = list(self.results)
        methods = list(next(iter(self.results.values())).methods)
        head = ["method"] + [f"{t}: UAR / vs truth" for t in tests]
        lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]

        def pct(v):
            return "-" if v is None else f"{100 * v:.1f}"

        for m in methods:
            cells = [m]
            for t in tests:
                r = self.results[t].methods[m]
                ci = r.get("uar_truth_ci")
                cells.append(f"{pct(r['uar'])} / {pct(r.get('uar_truth'))}"
                             + (f" [{pct(ci[0])}, {pct(ci[1])}]" if ci else ""))
            lines.append("| " + " | ".join(cells) + " |")
        lines.append("")
        lines.append(
            f"Trained on all of {self.train}; tested on "
            + ", ".join(f"{t} ({self.results[t].meta['n_utterances']} utterances)"
                        for t in tests)
            + ". Intervals: speaker bootstrap of the UAR vs truth (each test "
            "corpus' results.md has the paired tests). Utterances whose majority "
            "is not a shared class, per corpus: "
            + ", ".join(f"{c} {n}" for c, n in self.left_out.items()) + ".")
        return "\n".join(lines)

    def to_dict(self):
        return {"train": self.train, "left_out": self.left_out,
                "tests": {t: r.to_dict() for t, r in self.results.items()}}


def _prefixed(name, data, classes):
    """One corpus' utterances and ratings with corpus-prefixed ids."""
    u = data.utterances.copy()
    a = align_annotations(u, data.annotations)
    long = to_long(a)
    ids = {i: f"{name}:{i}" for i in u.index}
    u.index = pd.Index([ids[i] for i in u.index], name="utterance")
    long["utterance"] = long["utterance"].map(ids)
    long["rater"] = f"{name}:" + long["rater"].astype(str)
    if "speaker" in u.columns:
        u["speaker"] = f"{name}:" + u["speaker"].astype(str)
    else:
        u["speaker"] = name
    u["corpus"] = name
    ratings = from_long(long, multiple="choices").reindex(u.index)
    return u, ratings


def run_cross_corpus(train, tests, classes, *, methods, seeds=1, epochs=60,
                     n_jobs=1, cache=None, truth_column="intended",
                     profile="benchmark", progress=True, normalise="auto"):
    """Train every method on all of ``train``; score it on each of ``tests``.

    Parameters
    ----------
    train : dict
        ``{name: corpus}``, one corpus (a Bunch with ``utterances`` and
        ``annotations``, as :func:`~sklearn_ser.datasets.load_corpus` gives).
    tests : dict
        ``{name: corpus}``, one or more.
    classes : list
        The shared classes (each corpus' other labels stay as evidence, and
        their utterances are not scored against the majority).
    methods, seeds, epochs, n_jobs, cache, truth_column, profile, progress, \
normalise
        As in :func:`run_comparison`.

    Returns
    -------
    CrossCorpusResult
    """
    if len(train) != 1 or not tests:
        raise ComparisonError("run_cross_corpus needs one training corpus and at "
                              "least one test corpus ({name: corpus} each).")
    names = [*train, *tests]
    if len(set(names)) != len(names):
        raise ComparisonError(f"corpus names must differ; got {names}.")
    parts = [_prefixed(n, c, classes) for n, c in {**train, **tests}.items()]
    (train_name,) = train
    u = pd.concat([p[0] for p in parts])
    a = pd.concat([p[1] for p in parts])
    u[SPLIT] = np.where(u["corpus"] == train_name, "train", "test")
    plan = plan_comparison(u, a, classes, methods=methods, n_jobs=n_jobs,
                           cache=cache, group_column=SPLIT, profile=profile,
                           progress=progress, normalise=normalise,
                           held_out=["test"])
    fitted = run_planned(plan, seeds=seeds, epochs=epochs, n_jobs=n_jobs,
                         progress=progress)
    majority = plan.majority.to_numpy(dtype=object)
    corpus = u["corpus"].to_numpy()
    results, left = {}, {}
    for name in names:
        left[name] = int(pd.isna(majority[corpus == name]).sum())
    for name in tests:
        res = score_planned(plan.view(corpus == name), fitted, seeds=seeds,
                            epochs=epochs, truth_column=truth_column)
        results[name] = res.with_meta(
            command="cross-corpus", corpus=f"{train_name} -> {name}",
            folds=f"trained on {train_name}, tested on {name}")
    return CrossCorpusResult(train=train_name, results=results, left_out=left)


def write_cross_corpus(out, result):
    """``out/<test corpus>/`` with each test corpus' outputs
    (:func:`write_outputs`) and ``out/cross_corpus.md``, the table."""
    out = Path(out)
    if (out / "cross_corpus.md").exists():
        raise FileExistsError(f"{str(out)!r} holds a cross-corpus result; results "
                              "are never overwritten, give another folder.")
    written = []
    for name, res in result.results.items():
        written += write_outputs(out / str(name).replace("/", "_"), res)
    md = out / "cross_corpus.md"
    md.write_text(f"# Across corpora: {result.train} -> "
                  + ", ".join(result.results) + "\n\n" + result.table() + "\n")
    return [md, *written]


def cross_corpus_command(args, out, train, classes, truth, methods, epochs, load):
    """``sklearn-ser benchmark ... --test-corpus FOLDER``: the training corpus
    ``train`` (``(name, utterances, annotations)``) against each test corpus
    folder (read by ``load``, the command line's loader)."""
    name, u, a = train
    tests = {}
    for folder in args.test_corpus:
        test_name = Path(folder).name or str(folder)
        while test_name in tests or test_name == name:
            test_name += "-2"
        tu, ta = load(folder)
        tests[test_name] = Bunch(utterances=tu, annotations=ta)
    result = run_cross_corpus(
        {name: Bunch(utterances=u, annotations=a)}, tests, classes, methods=methods,
        seeds=args.seeds, epochs=epochs, n_jobs=args.n_jobs, cache=args.cache,
        truth_column=truth, progress=not args.no_progress, normalise=args.normalise)
    print(result.table())
    paths = write_cross_corpus(out.path, result)
    out.release(completed=True)
    print(f"\nwrote {len(paths)} files to {out.path}", file=sys.stderr)
    return 0
