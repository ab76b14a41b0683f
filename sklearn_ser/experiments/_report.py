"""The report of a comparison: the Markdown tables and legend, the margins
of the papers' methods, results.json, predictions.csv and the plots."""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np
import pandas as pd

from .. import plotting
from ..metrics import agreement_levels
from ._methods import BASELINES
from ._result import as_result
from ._scores import (
    DISTRIBUTION_SCORES,
    has_ratings,
    rare_by_class,
    truth_left_out,
)

#: Each paper's method in the command line, its own baseline there, and the
#: margin the paper reports (UA points vs the majority, IEMOCAP 4 classes):
#: Chou & Lee's Table (proposed 61.48 vs CrowdH 57.45), Ando et al.'s Table 3
#: ("all" training set: fusion-soft 65.4 vs soft 63.9; 3.8, quoted here
#: before, is fusion-soft against the *hard* baseline's 61.6), Fujioka et
#: al.'s Table (BLSTM + ATT + L + w 61.4 vs BLSTM + ATT 59.5).
PAPER_MARGINS = {
    "stacked": ("crowd_hard", "Chou & Lee 2019 (proposed vs CrowdH)", 4.0),
    "mlee_fusion": ("crowd_soft", "Ando et al. 2019 (fusion-soft vs soft)", 1.5),
    "noisy_meta": ("crowd_hard", "Fujioka et al. 2020 (+L+w vs BLSTM)", 1.9),
}


def margins_table(results):
    """Markdown: each paper's method beside its own baseline of the same run,
    with the margin (UA points, against the majority and against the truth
    column) and the paper's; "" when no pair ran. :data:`PAPER_MARGINS` says
    which baseline each method is measured against."""
    results = as_result(results)
    methods = results.methods
    lines = []
    for name, (base, paper, margin) in PAPER_MARGINS.items():
        if name not in methods or base not in methods:
            continue
        r, b = methods[name], methods[base]

        def diff(key, r=r, b=b):
            if r.get(key) is None or b.get(key) is None:
                return "-"
            return f"{100 * (r[key] - b[key]):+.1f}"
        truth = ("-" if r.get("uar_truth") is None or b.get("uar_truth") is None
                 else f"{100 * r['uar_truth']:.1f} vs {100 * b['uar_truth']:.1f}")
        lines.append(f"| {name} | {base} | {100 * r['uar']:.1f} vs {100 * b['uar']:.1f}"
                     f" | {diff('uar')} | {truth} | {diff('uar_truth')} | "
                     f"{paper}: +{margin} |")
    if not lines:
        return ""
    head = ("| method | its baseline | UAR vs majority | margin | UAR vs truth | "
            "margin vs truth | the paper's margin |")
    return "\n".join([head, "|" + "---|" * 7, *lines])


def results_table(results):
    """Markdown table in the style of Table 3 of Chou & Lee."""
    results = as_result(results)
    methods = results.methods
    classes = results.meta["classes"]
    head = ["method", "UAR", "WA", "UAR vs truth", *classes, "fit s"]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for name, r in methods.items():
        def pct(v):
            return "-" if v is None else f"{100 * v:.2f}"
        truth = pct(r["uar_truth"])
        if r.get("uar_truth_sd") is not None and r["uar_truth"] is not None:
            truth += f" ± {100 * r['uar_truth_sd']:.1f}"
        cells = [name, pct(r["uar"]), pct(r["wa"]), truth,
                 *[pct(r["per_class_recall"].get(c)) for c in classes],
                 f"{r['fit_seconds']:.0f}"]
        lines.append("| " + " | ".join(cells) + " |")
    m = results.meta
    lines.append("")
    lines.append("UAR/WA against the hard majority of the ratings over "
                 f"{m['n_scored']} utterances ({m['n_no_consensus']} without "
                 f"consensus left out); {m['folds']}; mean of {m['seeds']} seed(s). "
                 "Every UAR here is **pooled over the folds** (one UAR of all "
                 "test predictions together); results.json also gives the mean "
                 "of the per-fold UARs (`uar_fold_mean`, `uar_truth_fold_mean`), "
                 "which is what `cross_validate` with `ser_scoring` reports.")
    penalties = {n: r["chosen_C"] for n, r in methods.items() if r.get("chosen_C")}
    for n, per_fold in penalties.items():
        lines.append("")
        lines.append(f"`{n}`: C chosen in each training fold: " + ", ".join(
            f"{g} {'/'.join(f'{c:.0e}' for c in cs)}"
            for g, cs in per_fold.items()) + ".")
    if m.get("normalisation"):
        lines.append("")
        lines.append(f"Normalisation (--normalise): {m['normalisation']['text']}.")
    if m.get("training"):
        lines.append("")
        lines.append(f"Networks: {m['training']['text']}.")
        kept = {n: r["epochs_kept"] for n, r in methods.items() if r.get("epochs_kept")}
        if kept:
            lines.append("")
            lines.append("Epochs kept in each fold (mean over seeds; the best "
                         "held-out epoch, and the refit's length in the folds "
                         "that refit; for a model made of networks, the mean "
                         "over its networks): " + "; ".join(
                             f"`{n}` " + " ".join(f"{np.mean(e):.0f}"
                                                  for e in per_fold.values())
                             for n, per_fold in kept.items()) + ".")
    if m.get("classes_rule"):
        lines.append("")
        lines.append(f"Classes: {', '.join(classes)} ({m['classes_rule']}).")
    if m.get("rare_classes"):
        by_class = rare_by_class(m["rare_classes"])
        lines.append("")
        lines.append(
            "Warning: rare in a training fold (below a quarter of an even share "
            f"of its majorities, 1/{4 * len(classes)}): " + "; ".join(
                f"{c} in fold(s) "
                + ", ".join(f"{g} ({share:.1%})" for g, share in folds)
                for c, folds in by_class.items())
            + ". The models learn these classes from few examples; consider "
            "--classes without them.")
    note = _trailing_note(results)
    if note:
        lines += ["", note]
    return "\n".join(lines)


def significance_table(results):
    """Markdown: each method's UAR with its 95 % interval and its paired
    difference to the plain baseline (against the majority, and the truth
    when there is one); which differences the data can tell apart. Empty
    when the run has no such figures."""
    results = as_result(results)
    sig = results.meta.get("significance")
    methods = results.methods
    if not sig or not any("uar_ci" in r for r in methods.values()):
        return ""

    def pct(v):
        return "-" if v is None else f"{100 * v:.1f}"

    def ci(pair):
        return "-" if not pair else f"[{pct(pair[0])}, {pct(pair[1])}]"

    def diff(d):
        if not d:
            return "-", "-"
        return (f"{100 * d['delta']:+.1f} {ci(d['ci'])}",
                f"{d['p']:.3f}" if d["p"] >= 0.001 else "< 0.001")

    truth = any("uar_truth_ci" in r for r in methods.values())
    base = sig.get("baseline")
    head = ["method", "UAR [95 % CI]", f"vs {base}" if base else "vs baseline", "p"]
    if truth:
        head += ["UAR vs truth [95 % CI]", f"vs {base} (truth)" if base else "-", "p"]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    told = []
    for name, r in methods.items():
        if "uar_ci" not in r:
            continue
        d, p = diff(r.get("vs_baseline"))
        cells = [name, f"{pct(r['uar'])} {ci(r['uar_ci'])}", d, p]
        if truth:
            dt, pt = diff(r.get("vs_baseline_truth"))
            cells += [f"{pct(r.get('uar_truth'))} {ci(r.get('uar_truth_ci'))}", dt, pt]
        lines.append("| " + " | ".join(cells) + " |")
        for key, what in (("vs_baseline", "the majority"),
                          ("vs_baseline_truth", "the truth")):
            d = r.get(key)
            if d and (d["ci"][0] > 0 or d["ci"][1] < 0):
                told.append(f"`{name}` {'above' if d['delta'] > 0 else 'below'} "
                            f"`{base}` against {what}")
    lines.append("")
    lines.append(
        f"Seed {sig['seed']}'s predictions; {int(100 * sig['level'])} % intervals "
        f"of a bootstrap over the {sig['n_clusters']} speakers ({sig['n_boot']} "
        f"resamples, each drawn speaker with all their utterances; "
        f"{sig['n_scored']} utterances scored against the majority"
        + (f", {sig['n_scored_truth']} against the truth" if truth else "")
        + "); differences are paired (the same resamples for both methods), "
        "p two-sided. "
        + ("The data tell apart: " + "; ".join(told) + "." if told else
           "No difference to the baseline is told apart by the data (every "
           "interval of a difference holds zero).")
        + (" With one seed, the intervals hold the utterances' variation, not "
           "the training's." if results.meta.get("seeds") == 1 else ""))
    return "\n".join(lines)


def distribution_table(results):
    """Markdown table of the scores against every rating, the best of each
    column in bold (None: the method gives no probabilities)."""
    results = as_result(results)
    methods = results.methods
    m = results.meta
    names = {"all_inclusive_f1": "all-incl. F1 ↑", "soft_log_loss": "soft NLL ↓",
             "jensen_shannon": "JS ↓", "brier": "Brier ↓", "ece": "ECE ↓",
             "alpha_with_model": "α with model ↑"}
    best = {}
    for key, (_, direction) in DISTRIBUTION_SCORES.items():
        vals = {n: r.get(key) for n, r in methods.items() if r.get(key) is not None}
        if vals:
            pick = max if direction == "higher" else min
            best[key] = pick(vals, key=vals.get)
    lines = ["| method | " + " | ".join(names[k] for k in DISTRIBUTION_SCORES) + " |",
             "|---|" + "---|" * len(DISTRIBUTION_SCORES)]
    for name, r in methods.items():
        cells = []
        for key in DISTRIBUTION_SCORES:
            v = r.get(key)
            text = "-" if v is None else f"{v:.3f}"
            if v is not None and r.get(key + "_sd") is not None:
                text += f" ± {r[key + '_sd']:.3f}"
            cells.append(f"**{text}**" if best.get(key) == name else text)
        lines.append(f"| {name} | " + " | ".join(cells) + " |")
    alpha = m.get("raters_alpha")
    lines += ["", f"Against every rating: {m.get('n_with_distribution', '?')} "
              "utterances with a rating among the classes (none left out for a "
              "tie or a weak majority; ECE over the "
              f"{m['n_scored']} with a majority); the raters' own Krippendorff's "
              "alpha is " + ("-" if alpha is None else f"{alpha:.3f}") + ". `-`: "
              "the method gives no probabilities (a linear SVM)."]
    winners = {names[k]: w for k, w in best.items()}
    if winners:
        lines += ["", "Best per score: " + "; ".join(
            f"{k} `{w}`" for k, w in winners.items()) + "."]
    return "\n".join(lines)


def abstention_table(results):
    """Markdown: per method with probabilities, the share of utterances kept
    and the UAR on them when abstaining below each top probability."""
    rows = {m: r["abstention"] for m, r in results.methods.items()
            if r.get("abstention")}
    if not rows:
        return ""
    thresholds = list(next(iter(rows.values())))
    truth = any(v.get("uar_truth") is not None for r in rows.values()
                for v in r.values())
    head = ["method"] + [f"P = {t}: kept / UAR" + (" / vs truth" if truth else "")
                         for t in thresholds]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]

    def pct(v):
        return "-" if v is None else f"{100 * v:.1f}"

    for m, r in rows.items():
        lines.append("| " + " | ".join([m] + [
            f"{pct(r[t]['kept'])} % / {pct(r[t]['uar'])}"
            + (f" / {pct(r[t].get('uar_truth'))}" if truth else "")
            for t in thresholds]) + " |")
    return "\n".join(lines) + (
        "\n\nA model abstains on an utterance whose top predicted probability "
        "is below P (`sklearn-ser predict --abstain P`); kept: the share of "
        "utterances it labels; UAR over the kept ones (seed 0). "
        "abstention.png draws the whole curve.")


def _trailing_note(results):
    """One line when every crowd method trails the best functionals baseline."""
    results = as_result(results)
    methods = results.methods
    key = "uar_truth" if any(r.get("uar_truth") is not None
                             for r in methods.values()) else "uar"
    base = {n: r[key] for n, r in methods.items() if n in BASELINES
            and r.get(key) is not None}
    crowd = {n: r[key] for n, r in methods.items() if n not in BASELINES
             and r.get(key) is not None}
    if not base or not crowd:
        return ""
    best_base = max(base, key=base.get)
    if max(crowd.values()) >= base[best_base]:
        return ""
    what = "UAR vs truth" if key == "uar_truth" else "UAR"
    hint = "more --seeds or --max-epochs"
    norm = results.meta.get("normalisation") or {}
    if "speaker" in norm.get("chosen", {}):
        hint = "--normalise global, " + hint
    return (f"Note: every crowd-trained method trails {best_base} "
            f"({what} {100 * base[best_base]:.1f} vs at best "
            f"{100 * max(crowd.values()):.1f}); on this corpus the networks do "
            f"not pay for their cost as configured (try {hint}).")


def results_legend(results):
    """What the columns and methods of :func:`results_table` mean."""
    results = as_result(results)
    m = results.meta
    lines = ["## Legend", ""]
    lines.append("- **UAR**: unweighted average recall (mean of per-class recalls) "
                 "against the hard majority of the ratings; **WA**: accuracy "
                 "against it (weighted by class frequency).")
    if m.get("truth_column"):
        rows = m.get("truth_rows")
        over = "over every utterance whose value is one of the classes"
        if rows:
            left = truth_left_out(rows)
            over = (f"over the {rows['scored']} utterances whose value is one of "
                    "the classes" + (f" ({left} left out)" if left else ""))
        lines.append(f"- **UAR vs truth**: UAR against the `{m['truth_column']}` "
                     f"column (e.g. the intended emotion), {over}, whether the "
                     "raters agreed or not.")
    else:
        lines.append("- **UAR vs truth**: `-` (no truth column was given).")
    lines.append("- class columns: recall of each class against the majority.")
    lines.append("- **Against every rating** (second table; ↑ higher is better, ↓ "
                 "lower is better): " + "; ".join(
                     f"**{k}**: {what} ({direction} is better)"
                     for k, (what, direction) in DISTRIBUTION_SCORES.items())
                 + ". Vote shares count every rating among the classes, second "
                 "choices too; utterances rated only outside the classes are left "
                 "out.")
    lines.append("- **fit s**: training seconds summed over one seed's folds "
                 "(0 means under half a second: the functionals baselines train "
                 "in milliseconds; feature extraction is not counted, it took "
                 f"{m.get('feature_seconds', 0):.0f} s once for all methods).")
    n_csv = m.get("csv_cells_neutralised")
    if n_csv:
        lines.append(f"- predictions.csv: {n_csv} cell(s) (utterance ids or labels "
                     "from the data) began with =, +, -, @, tab or return and are "
                     "prefixed with ' so that a spreadsheet shows them as text "
                     "instead of running them as formulas.")
    lines.append("")
    for name, r in results.methods.items():
        lines.append(f"- `{name}`: {r.get('description', '')}")
    return "\n".join(lines)


def _report_head(results):
    results = as_result(results)
    m = results.meta
    corpus = m.get("corpus", "corpus")
    return (f"# sklearn-ser {m.get('command', 'benchmark')}: {corpus}\n\n"
            f"{m['n_utterances']} utterances, {len(m['classes'])} classes, "
            f"{m['folds']}.\n\n")


#: The files a run writes; a folder holding any of them is someone's results.
OUTPUT_NAMES = ("results.json", "results.md", "predictions.csv",
                "confusion_matrices.png", "per_class_recall.png",
                "agreement_accuracy.png", "reliability.png", "agreement_scores.png",
                "abstention.png", "attention.png", "noisy_meta_weights.png",
                "noisy_meta_transitions.png")


def write_outputs(out, results):
    """results.json, results.md, predictions.csv and the PNG plots in ``out``.

    Returns the list of written paths.
    """
    import shutil
    import tempfile

    results = as_result(results)
    out = Path(out)
    if out.exists() and not out.is_dir():
        raise NotADirectoryError(f"{str(out)!r} is a file; give a folder for the "
                                 "results.")
    taken = [n for n in OUTPUT_NAMES if (out / n).exists()]
    if taken:
        raise FileExistsError(
            f"{str(out)!r} already holds {taken}; results are never overwritten, "
            "give another folder.")
    out.mkdir(parents=True, exist_ok=True)
    # everything is written to a hidden sibling first and moved in at the end,
    # results.json last: a folder with results.json is a finished run, and an
    # interrupted write leaves nothing behind
    tmp = Path(tempfile.mkdtemp(prefix=f".{out.name}.partial-", dir=out.parent))
    try:
        names = []
        if results.plots:
            paths, n_cells = _write_plots(tmp, results, results.plots)
            names += [p.name for p in paths]
            results = results.with_meta(csv_cells_neutralised=n_cells)
        margins = margins_table(results)
        if margins:
            margins = ("## The papers' methods beside their own baselines\n\n"
                       + margins + "\n\nMargins in UA points (method - baseline, "
                       "same run, same folds and seeds); the papers' margins are "
                       "on IEMOCAP's four classes against the majority.\n\n")
        abstention = abstention_table(results)
        if abstention:
            abstention = "## Abstaining when unsure\n\n" + abstention + "\n\n"
        significance = significance_table(results)
        if significance:
            significance = ("## What the data can tell apart\n\n" + significance
                            + "\n\n")
        (tmp / "results.md").write_text(
            _report_head(results) + results_table(results) + "\n\n"
            + significance + margins
            + "## Against every rating\n\n" + distribution_table(results) + "\n\n"
            + abstention
            + results_legend(results) + "\n")
        (tmp / "results.json").write_text(json.dumps(results.to_dict(), indent=2))
        names = ["results.json", "results.md", *names]
        moved = []
        try:
            for name in [*names[1:], names[0]]:
                os.replace(tmp / name, out / name)
                moved.append(out / name)
        except BaseException:  # Ctrl-C between two moves: take ours back
            for path in moved:
                path.unlink(missing_ok=True)
            raise
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return [out / n for n in names]


#: A spreadsheet runs a cell that starts with one of these as a formula.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def neutralise_formulas(table):
    """``table`` with every text cell (and index entry) that a spreadsheet
    would run as a formula prefixed with ``'`` (OWASP's advice against CSV
    injection: ids and labels come from data), and the number of cells
    changed."""
    def fix(values):
        values = np.asarray(values, dtype=object).copy()
        hit = np.array([isinstance(v, str) and v.startswith(FORMULA_STARTS)
                        for v in values], dtype=bool)
        values[hit] = ["'" + v for v in values[hit]]
        return values, int(hit.sum())

    out = table.copy()
    n = 0
    for col in out.columns:
        if out[col].dtype == object or pd.api.types.is_string_dtype(out[col].dtype):
            out[col], k = fix(out[col].to_numpy())
            n += k
    index, k = fix(out.index.to_numpy())
    if k:
        out.index = pd.Index(index, name=out.index.name)
    return out, n + k


def _write_plots(out, results, plots):
    import matplotlib

    matplotlib.use("Agg")  # files only, never a window
    with matplotlib.rc_context({"text.parse_math": False}):  # labels from data
        return _draw_plots(out, results, plots)


def _draw_plots(out, results, plots):
    import matplotlib.pyplot as plt

    classes = results.meta["classes"]
    preds = plots["predictions"]
    paths = []
    # a cross-corpus test corpus may have no ratings: scored against its truth
    rated = has_ratings(plots["annotations"])
    agreement = (agreement_levels(plots["annotations"], classes) if rated else
                 pd.Series(np.nan, index=plots["index"]))
    table = pd.DataFrame({"group": plots["groups"], "majority": plots["majority"],
                          "agreement": agreement.to_numpy()}, index=plots["index"])
    if plots["truth"] is not None:
        table["truth"] = plots["truth"]
    for name, pred in preds.items():
        table[name] = pred
    table.index.name = "utterance"
    table, n_cells = neutralise_formulas(table)
    csv = out / "predictions.csv"
    table.to_csv(csv)
    paths.append(csv)

    def save(fig, name):
        path = out / name
        fig.savefig(path, dpi=110)
        plt.close(fig)
        paths.append(path)

    truth_name = results.meta.get("truth_column") or "truth"
    save(plotting.plot_confusion_matrices(
        preds, plots["majority"] if rated else plots["truth"], classes,
        title=f"Confusion matrices vs the "
              f"{'majority' if rated else repr(truth_name)} "
              f"({results.meta['folds']}, seed 0; each row sums to 1)"),
        "confusion_matrices.png")
    if not rated:
        return paths, n_cells
    truth_recalls = {m: r["per_class_recall_truth"]
                     for m, r in results.methods.items()
                     if r.get("per_class_recall_truth")} or None
    save(plotting.plot_per_class_recall(
        {m: r["per_class_recall"] for m, r in results.methods.items()}, classes,
        truth_recalls=truth_recalls, truth_name=truth_name), "per_class_recall.png")
    save(plotting.plot_agreement_accuracy(preds, plots["majority"], agreement,
                                          reference=plots["truth"],
                                          reference_name=truth_name),
         "agreement_accuracy.png")
    probabilities = {m: p for m, p in plots.get("probabilities", {}).items()
                     if p is not None}
    if probabilities:
        save(plotting.plot_reliability(probabilities, plots["annotations"], classes),
             "reliability.png")
        save(plotting.plot_agreement_scores(probabilities, plots["annotations"],
                                            classes), "agreement_scores.png")
        save(plotting.plot_coverage_accuracy(probabilities, plots["majority"],
                                             classes), "abstention.png")
    if plots["attention"] is not None:
        att = plots["attention"]
        save(plotting.plot_attention(
            att["weights"], frames=att["frames"], hop_seconds=att["hop_seconds"],
            title=f"{att['method']}: attention over {att['utterance']}"),
            "attention.png")
    if plots["weights_by_class"] is not None:
        save(plotting.plot_sample_weights(plots["weights_by_class"]),
             "noisy_meta_weights.png")
        save(plotting.plot_transition_matrix(plots["transition_matrix"]),
             "noisy_meta_transitions.png")
    return paths, n_cells
