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

import difflib
import json
import sys
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.utils import Bunch

from .._text import spelling_key
from ..annotations import (
    align_annotations,
    from_long,
    is_missing_label,
    normalize_label,
    to_long,
)
from ..exceptions import AnnotationError, AudioError, ComparisonError
from ._protocol import plan_comparison, run_comparison, run_planned, score_planned
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
    #: the training corpus' own leave-one-group-out result (``--within``)
    within: object = None
    #: test corpora without ratings (scored against their truth only)
    unrated: tuple = ()

    def table(self):
        """Markdown: method x test corpus, UAR against the majority and the
        truth with their 95 % intervals."""
        tests = list(self.results)
        methods = list(next(iter(self.results.values())).methods)
        head = ["method"] + [f"{t}: UAR / vs truth" for t in tests]
        if self.within is not None:
            head.append(f"{self.train} in-corpus: UAR / vs truth")
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
            if self.within is not None:
                r = self.within.methods[m]
                cells.append(f"{pct(r['uar'])} / {pct(r.get('uar_truth'))}")
            lines.append("| " + " | ".join(cells) + " |")
        lines.append("")
        lines.append(
            f"Trained on all of {self.train}; tested on "
            + ", ".join(f"{t} ({self.results[t].meta['n_utterances']} utterances)"
                        for t in tests)
            + ". Intervals: speaker bootstrap of the UAR vs truth (each test "
            "corpus' results.md has the paired tests). Utterances whose majority "
            "is not a shared class, per corpus: "
            + ", ".join(f"{c} {n}" for c, n in self.left_out.items()
                        if c not in self.unrated) + "."
            + (f" Without ratings (scored against the truth only): "
               f"{', '.join(self.unrated)}." if self.unrated else ""))
        return "\n".join(lines)

    def to_dict(self):
        out = {"train": self.train, "left_out": self.left_out,
               "tests": {t: r.to_dict() for t, r in self.results.items()}}
        if self.within is not None:
            out["within"] = self.within.to_dict()
        return out


def _label_maps(label_maps, names):
    """``{corpus: {label: class}}`` for every corpus: a map under ``"*"``
    serves every corpus (its labels that a corpus does not rate are not
    that corpus' concern, but each must be rated somewhere)."""
    label_maps = dict(label_maps or {})
    unknown = sorted(set(label_maps) - set(names) - {"*"})
    if unknown:
        raise ComparisonError(f"label maps for {unknown}, which are not corpora of "
                              f"this run: {list(names)} (or '*' for every one).")
    shared = label_maps.pop("*", {})
    return {n: {**shared, **label_maps.get(n, {})} for n in names}, shared


def _label_key(value):
    """The one spelling rule for a label map's keys: aliases, case, spaces,
    Unicode form."""
    return spelling_key(str(normalize_label(value)))


def _mapped(values, mapping, corpus, required=()):
    """``(values with mapping applied, the keys of the labels seen)``: labels
    as written, mapped by the one spelling rule; a key of ``required`` that
    no value holds is refused naming the closest."""
    written = pd.Series(values, dtype=object)
    keys = written.map(lambda v: None if is_missing_label(v) else _label_key(v))
    seen = set(keys.dropna())
    absent = [k for k in required if _label_key(k) not in seen]
    if absent:
        labels = sorted({str(normalize_label(v)) for v in written
                         if not is_missing_label(v)})
        near = difflib.get_close_matches(str(normalize_label(absent[0])), labels,
                                         n=1)
        raise ComparisonError(
            f"label map of corpus {corpus!r}: {absent} are no label of its "
            f"ratings" + (f" (did you mean {near[0]!r}?)" if near else "")
            + f"; its labels: {labels}.")
    if not mapping:
        return values, seen
    rule = {_label_key(k): v for k, v in mapping.items()}
    return [rule.get(k, v) if k is not None else v
            for k, v in zip(keys, written, strict=True)], seen


def _prefixed(name, data, mapping=None, shared=None, truth_column=None):
    """One corpus' utterances and long ratings with corpus-prefixed ids
    (labels mapped by ``mapping``, the truth column too), and the keys of the
    labels its ratings hold (for the shared map's check)."""
    u = data.utterances.copy()
    if data.annotations is None:  # a test corpus scored against its truth only
        long = pd.DataFrame({"utterance": pd.Series(dtype=object),
                             "rater": pd.Series(dtype=object),
                             "label": pd.Series(dtype=object)})
    else:
        long = to_long(align_annotations(u, data.annotations))
    own = [k for k in (mapping or {}) if k not in (shared or {})]
    long["label"], seen = _mapped(long["label"].to_numpy(), mapping, name,
                                  required=own)
    if mapping and truth_column in u.columns:
        u[truth_column], _ = _mapped(u[truth_column].to_numpy(), mapping, name)
    ids = {i: f"{name}:{i}" for i in u.index}
    u.index = pd.Index([ids[i] for i in u.index], name="utterance")
    long["utterance"] = long["utterance"].map(ids)
    long["rater"] = f"{name}:" + long["rater"].astype(str)
    if "speaker" in u.columns:
        u["speaker"] = f"{name}:" + u["speaker"].astype(str)
    else:
        u["speaker"] = name
    u["corpus"] = name
    return u, long, seen


def run_cross_corpus(train, tests, classes, *, methods, seeds=1, epochs=60,
                     n_jobs=1, cache=None, truth_column="intended",
                     profile="benchmark", progress=True, normalise="auto",
                     label_maps=None):
    """Train every method on all of ``train``; score it on each of ``tests``.

    Parameters
    ----------
    train : dict
        ``{name: corpus}``, one corpus (a Bunch with ``utterances`` and
        ``annotations``, as :func:`~sklearn_ser.datasets.load_corpus` gives).
    tests : dict
        ``{name: corpus}``, one or more. A test corpus whose ``annotations``
        is None (a folder without ratings, read with ``truth_column``) is
        scored against its truth column only.
    classes : list
        The shared classes (each corpus' other labels stay as evidence, and
        their utterances are not scored against the majority).
    methods, seeds, epochs, n_jobs, cache, truth_column, profile, progress, \
normalise
        As in :func:`run_comparison`.
    label_maps : dict, optional
        ``{corpus: {label: class}}`` (``"*"``: every corpus): a corpus' own
        label names mapped to the shared classes, in its ratings and its
        truth column, by the one spelling rule (``"Angry"`` is ``anger``); a
        corpus' own key that none of its ratings holds is refused naming
        the closest.

    Returns
    -------
    CrossCorpusResult
    """
    if len(train) != 1 or not tests:
        raise ComparisonError("run_cross_corpus needs one training corpus and at "
                              "least one test corpus ({name: corpus} each).")
    names = [*train, *tests]
    if any(c.annotations is None for c in train.values()):
        raise ComparisonError(f"the training corpus {names[0]!r} has no ratings; "
                              "a model learns from them.")
    for name, c in tests.items():
        if c.annotations is None and (truth_column is None or truth_column
                                      not in c.utterances.columns):
            raise ComparisonError(
                f"test corpus {name!r} has no ratings and no truth column "
                f"{truth_column!r}: there is nothing to score it against.")
    if len(set(names)) != len(names):
        raise ComparisonError(f"corpus names must differ; got {names}.")
    maps, shared = _label_maps(label_maps, names)
    parts = [_prefixed(n, c, maps[n], shared, truth_column)
             for n, c in {**train, **tests}.items()]
    if shared:  # each key of the shared map rated in some corpus
        written = set().union(*(p[2] for p in parts))
        absent = [k for k in shared if _label_key(k) not in written]
        if absent:
            raise ComparisonError(f"label map '*': {absent} are no label of any "
                                  "corpus' ratings.")
    (train_name,) = train
    u = pd.concat([p[0] for p in parts])
    # one table of every corpus' ratings (a test corpus may have none: its
    # utterances are then scored against their truth only)
    a = from_long(pd.concat([p[1] for p in parts], ignore_index=True),
                  multiple="choices").reindex(u.index)
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
    return CrossCorpusResult(train=train_name, results=results, left_out=left,
                             unrated=tuple(n for n, c in tests.items()
                                           if c.annotations is None))


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
    if result.within is not None:
        written += write_outputs(out / f"{result.train}-within", result.within)
    md = out / "cross_corpus.md"
    md.write_text(f"# Across corpora: {result.train} -> "
                  + ", ".join(result.results) + "\n\n" + result.table() + "\n")
    return [md, *written]


def add_cross_arguments(parser):
    """The ``benchmark`` options of a cross-corpus run."""
    group = parser.add_argument_group("across corpora")
    group.add_argument("--test-corpus", action="append", default=None,
                       metavar="FOLDER",
                       help="a corpus folder to test on (repeat for several): "
                            "every method trains on all of the corpus above "
                            "and is scored on each test corpus apart, on the "
                            "classes of the training corpus (--classes)")
    group.add_argument("--label-map", default=None, metavar="FILE",
                       help="each corpus' own label names mapped to the shared "
                            "classes, a JSON {label: class} (or {corpus: "
                            "{label: class}}) or a CSV with columns corpus, "
                            "label, class")
    group.add_argument("--within", action="store_true",
                       help="also the training corpus' own leave-one-group-out "
                            "comparison, beside the cross-corpus figures")


def read_label_map(path):
    """``{corpus: {label: class}}`` from a JSON file (``{"label": "class"}``
    for every corpus, or ``{"corpus": {"label": "class"}}``) or a CSV with
    columns ``label, class`` and optionally ``corpus`` (``*`` or empty:
    every corpus)."""
    path = Path(path)
    if path.suffix.lower() == ".json":
        data = json.loads(path.read_text())
        if isinstance(data, dict) and all(isinstance(v, str) for v in data.values()):
            return {"*": data}
        if isinstance(data, dict) and all(isinstance(v, dict) for v in data.values()):
            return data
        raise ComparisonError(
            f"--label-map {str(path)!r}: expected {{\"label\": \"class\"}} or "
            f"{{\"corpus\": {{\"label\": \"class\"}}}}.")
    table = pd.read_csv(path, dtype=str, keep_default_na=False)
    missing = {"label", "class"} - set(table.columns)
    if missing:
        raise ComparisonError(f"--label-map {str(path)!r} needs columns label and "
                              f"class (and optionally corpus); it has "
                              f"{list(table.columns)}.")
    corpus = table["corpus"] if "corpus" in table.columns else pd.Series(
        "*", index=table.index)
    out = {}
    for c, label, cls in zip(corpus.replace("", "*"), table["label"],
                             table["class"], strict=True):
        out.setdefault(c, {})[label] = cls
    return out


def cross_corpus_command(args, out, train, classes, truth, group, methods, epochs,
                         load):
    """``sklearn-ser benchmark ... --test-corpus FOLDER``: the training corpus
    ``train`` (``(name, utterances, annotations)``, its group column
    ``group`` for ``--within``) against each test corpus folder (read by
    ``load``, the command line's loader)."""
    name, u, a = train
    tests = {}
    for folder in args.test_corpus:
        test_name = Path(folder).name or str(folder)
        while test_name in tests or test_name == name:
            test_name += "-2"
        tu, ta = load(folder)
        tests[test_name] = Bunch(utterances=tu, annotations=ta)
    try:
        maps = read_label_map(args.label_map) if args.label_map else None
        result = run_cross_corpus(
            {name: Bunch(utterances=u, annotations=a)}, tests, classes,
            methods=methods, seeds=args.seeds, epochs=epochs, n_jobs=args.n_jobs,
            cache=args.cache, truth_column=truth, progress=not args.no_progress,
            normalise=args.normalise, label_maps=maps)
    except (ComparisonError, AnnotationError, AudioError, OSError) as e:
        raise SystemExit(f"sklearn-ser: {e}") from None
    if args.within:  # the training corpus' own figures, beside the others
        try:
            within = run_comparison(
                u, a, classes, methods=methods, seeds=args.seeds, epochs=epochs,
                n_jobs=args.n_jobs, cache=args.cache, truth_column=truth,
                group_column=group, progress=not args.no_progress,
                normalise=args.normalise)
        except (ComparisonError, AnnotationError, AudioError) as e:
            raise SystemExit(f"sklearn-ser: {e}") from None
        result.within = within.with_meta(command="benchmark", corpus=name)
    print(result.table())
    paths = write_cross_corpus(out.path, result)
    out.release(completed=True)
    print(f"\nwrote {len(paths)} files to {out.path}", file=sys.stderr)
    return 0
