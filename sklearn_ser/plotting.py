"""Plots of a method comparison: what ``sklearn-ser benchmark`` writes as PNG.

Every function takes plain data (predictions, fitted attributes) and an
optional matplotlib ``ax``, returns the figure, and never calls ``show``; the
command line saves them with the Agg backend.

* :func:`plot_confusion_matrices`: one row-normalised confusion matrix per
  method, against the hard majority of the ratings;
* :func:`plot_per_class_recall`: grouped bars, one group per class;
* :func:`plot_sample_weights`: mean learned ``w`` per gold class before and
  after training (Fujioka et al., Table 3);
* :func:`plot_transition_matrix`: gold label -> corrected label shares
  (Fujioka et al., Fig. 3);
* :func:`plot_attention`: attention weights over time for one utterance;
* :func:`plot_agreement_accuracy`: accuracy against the majority by how much
  the raters agreed;
* :func:`plot_coverage_accuracy`: UAR on the utterances a model keeps when
  it abstains below a top probability, by the share it keeps.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

# computations the plots use, defined where they belong; importable here too
from .features import frame_hop  # noqa: F401
from .metrics import (
    agreement_levels,  # noqa: F401
    agreement_report,
    expected_calibration_error,
    unweighted_average_recall,
)

__all__ = [
    "plot_agreement_accuracy",
    "plot_agreement_scores",
    "plot_attention",
    "plot_confusion_matrices",
    "plot_coverage_accuracy",
    "plot_per_class_recall",
    "plot_reliability",
    "plot_sample_weights",
    "plot_transition_matrix",
]


def _plt():
    # headless runs (CI, the command line) get Agg automatically when no
    # display is available; notebooks keep their inline backend
    import matplotlib.pyplot as plt

    return plt


def _check_predictions(predictions, truth):
    if not isinstance(predictions, dict) or not predictions:
        raise ValueError(
            "predictions must be a non-empty dict {method name: predicted labels}; "
            f"got {type(predictions).__name__}."
        )
    truth = np.asarray(truth, dtype=object)
    out = {}
    for name, pred in predictions.items():
        pred = np.asarray(pred, dtype=object)
        if pred.shape != truth.shape:
            raise ValueError(
                f"predictions[{name!r}] has {pred.shape[0]} labels for "
                f"{truth.shape[0]} reference labels."
            )
        out[name] = pred
    return out, truth


def _finite_max(values, default):
    """The largest finite value, or ``default`` when there is none (numpy's
    nanmax warns "All-NaN slice encountered")."""
    v = np.asarray(values, dtype=float)
    v = v[np.isfinite(v)]
    return float(v.max()) if v.size else default


def _matrix(ax, values, rows, cols, title, fmt="{:.2f}", cmap="Blues"):
    im = ax.imshow(values, cmap=cmap, vmin=0, vmax=max(1.0, _finite_max(values, 1.0)))
    ax.set_xticks(range(len(cols)), [str(c) for c in cols], rotation=45, ha="right")
    ax.set_yticks(range(len(rows)), [str(r) for r in rows])
    for i in range(len(rows)):
        for j in range(len(cols)):
            v = values[i, j]
            if np.isfinite(v):
                ax.text(j, i, fmt.format(v), ha="center", va="center", fontsize=7,
                        color="white" if v > 0.6 else "black")
    ax.set_title(title, fontsize=9)
    return im


def plot_confusion_matrices(predictions, truth, classes, *, ncols=3, title=None):
    """Row-normalised confusion matrices, one panel per method.

    Parameters
    ----------
    predictions : dict
        ``{method: predicted labels}``, aligned with ``truth``.
    truth : array-like
        Reference labels (e.g. the hard majority); missing values (no
        consensus) are left out of every matrix.
    classes : list of str
    title : str, optional
        Figure title (default: says what the rows and colours are).

    Returns
    -------
    matplotlib.figure.Figure
    """
    from sklearn.metrics import confusion_matrix

    predictions, truth = _check_predictions(predictions, truth)
    keep = pd.notna(truth)
    plt = _plt()
    n = len(predictions)
    ncols = min(ncols, n)
    nrows = int(np.ceil(n / ncols))
    fig, axes = plt.subplots(nrows, ncols, figsize=(3.3 * ncols, 3.2 * nrows),
                             squeeze=False)
    for ax, (name, pred) in zip(axes.flat, predictions.items(), strict=False):
        cm = confusion_matrix(truth[keep].astype(str), pred[keep].astype(str),
                              labels=[str(c) for c in classes]).astype(float)
        with np.errstate(invalid="ignore", divide="ignore"):
            cm = cm / cm.sum(axis=1, keepdims=True)
        im = _matrix(ax, cm, classes, classes, name)
        ax.set_xlabel("predicted", fontsize=8)
        ax.set_ylabel("majority", fontsize=8)
    for ax in list(axes.flat)[n:]:
        ax.axis("off")
    fig.suptitle(title or "Confusion matrices (rows: majority label, each row "
                 "sums to 1)", fontsize=10)
    # the panels laid out first, the colour bar in the margin kept for it
    fig.tight_layout(rect=(0, 0, 0.9, 0.97))
    cax = fig.add_axes((0.92, 0.2, 0.015, 0.6))
    fig.colorbar(im, cax=cax, label="share of the row")
    return fig


def plot_per_class_recall(recalls, classes, *, truth_recalls=None, truth_name="truth",
                          ax=None):
    """Grouped bars: recall of each class, one bar per method.

    Parameters
    ----------
    recalls : dict
        ``{method: {class: recall}}`` against the majority (the
        ``per_class_recall`` entries of ``results.json``).
    classes : list of str
    truth_recalls : dict, optional
        The same against a truth column (``per_class_recall_truth``): drawn
        in a second panel beside the majority's.
    truth_name : str, default="truth"
        What the truth column is, for its panel's axis label.
    """
    panels = [("majority of the ratings", recalls)]
    if truth_recalls:
        panels.append((truth_name, truth_recalls))
    if ax is not None and len(panels) > 1:
        raise ValueError("with truth_recalls the figure has two panels; pass no ax.")
    width = max(6, 1.65 * len(classes))
    if ax is None:
        fig, axes = _plt().subplots(len(panels), 1, figsize=(width + 2, 3.2 * len(
            panels)), squeeze=False, sharex=True)
        axes = axes[:, 0]
    else:
        fig, axes = ax.figure, [ax]
    for a, (what, recall) in zip(axes, panels, strict=True):
        table = pd.DataFrame({name: [r.get(c, np.nan) for c in classes]
                              for name, r in recall.items()}, index=list(classes))
        _grouped_bars(table, a, None)
        a.set_ylim(0, 1)
        a.set_ylabel(f"recall vs {what}", fontsize=8)
    axes[0].set_title("Recall of each class, by method", fontsize=10)
    axes[0].legend(fontsize=7, loc="upper left", bbox_to_anchor=(1.01, 1.0),
                   title="method", title_fontsize=7)
    fig.tight_layout()
    return fig


def _grouped_bars(table, ax, figsize):
    """One group of bars per row of ``table``, one bar per column."""
    if ax is None:
        fig, ax = _plt().subplots(figsize=figsize or (6, 3.5))
    else:
        fig = ax.figure
    x = np.arange(len(table))
    width = 0.8 / max(1, table.shape[1])
    for k, col in enumerate(table.columns):
        ax.bar(x + (k - (table.shape[1] - 1) / 2) * width,
               table[col].to_numpy(float), width, label=str(col))
    ax.set_xticks(x, [str(i) for i in table.index])
    return fig, ax


def plot_sample_weights(weights_by_class, *, ax=None):
    """Mean learned ``w`` per gold class, before and after (Fujioka, Table 3).

    ``weights_by_class`` is ``NoisyLabelMetaClassifier.weights_by_class_``
    (rows ``initial`` and ``learned``, one column per class; the transposed
    form is accepted too). Lower ``w`` = larger loss weight.
    """
    table = pd.DataFrame(weights_by_class)
    if table.empty:
        raise ValueError("weights_by_class is empty.")
    if {"initial", "learned"} <= set(table.index):
        table = table.T  # classes on the x axis
    fig, ax = _grouped_bars(table, ax, (5.5, 3.2))
    ax.axhline(1.0, color="grey", lw=0.8, ls=":")
    ax.set_ylabel("mean w (lower = more weight)")
    ax.set_xlabel("gold class")
    title = ("Sample weights w by gold class (initial: when training starts; "
             "learned: at the epoch kept)")
    if {"initial", "learned"} <= set(table.columns):
        change = _finite_max(np.abs(table["learned"].to_numpy(float)
                                    - table["initial"].to_numpy(float)), np.nan)
        if not np.isfinite(change) or change < 1e-3:
            title += ("\n(nothing learned: w stayed at its initial value; too "
                      "few epochs, or early stopping at the first epoch)")
    ax.set_title(title, fontsize=9)
    ax.legend(fontsize=8, loc="upper left", bbox_to_anchor=(1.01, 1.0))
    fig.tight_layout()
    return fig


def plot_transition_matrix(transition, *, ax=None):
    """Share of each gold label updated to each corrected label (Fujioka, Fig. 3)."""
    plt = _plt()
    table = pd.DataFrame(transition)
    if table.empty:
        raise ValueError("transition matrix is empty.")
    if ax is None:
        fig, ax = plt.subplots(figsize=(4.2, 3.8))
    else:
        fig = ax.figure
    values = table.to_numpy(float)
    title = "Label transitions: gold -> corrected label"
    shared = [c for c in table.index if c in table.columns]
    if shared and all(np.isclose(table.loc[c, c], 1.0) for c in shared
                      if np.isfinite(table.loc[c, c])):
        title += "\n(no label was corrected)"
    im = _matrix(ax, values, list(table.index), list(table.columns), title)
    ax.set_xlabel("corrected", fontsize=8)
    ax.set_ylabel("gold", fontsize=8)
    fig.colorbar(im, ax=ax, shrink=0.8, label="share of the gold label")
    fig.tight_layout()
    return fig


def plot_attention(weights, *, frames=None, hop_seconds=None, pipeline=None,
                   title=None, ax=None):
    """Attention weights over time for one utterance.

    Parameters
    ----------
    weights : array of shape (T,)
        One entry of ``attention_weights(X)``.
    frames : array of shape (T, D), optional
        The input frames, drawn underneath (z-scored per column) for context.
    hop_seconds : float, optional
        Time between frames; the x axis is in seconds when given.
    pipeline : Pipeline, optional
        The fitted pipeline whose model gave the weights: the hop is read
        from it (:func:`frame_hop`) when ``hop_seconds`` is not given.
    """
    plt = _plt()
    w = np.asarray(weights, dtype=float).ravel()
    if w.size == 0:
        raise ValueError("attention weights are empty.")
    if hop_seconds is None and pipeline is not None:
        hop_seconds = frame_hop(pipeline)
    if ax is None:
        fig, ax = plt.subplots(figsize=(7, 2.8))
    else:
        fig = ax.figure
    t = np.arange(w.size) * (hop_seconds or 1.0)
    if frames is not None:
        f = np.asarray(frames, dtype=float)
        f = (f - f.mean(0)) / (f.std(0) + 1e-8)
        ax.imshow(f.T, aspect="auto", origin="lower", cmap="Greys", alpha=0.5,
                  extent=(t[0], t[-1] if t.size > 1 else 1, 0, 1),
                  transform=ax.get_xaxis_transform())
    ax2 = ax.twinx() if frames is not None else ax
    ax2.plot(t, w, color="C3", lw=1.5)
    top = _finite_max(w, 0.0)
    ax2.set_ylim(0, 1.1 * top if top > 0 else 1.0)
    ax2.set_ylabel("attention weight")
    ax.set_xlabel("time (s)" if hop_seconds else "frame")
    if frames is not None:
        ax.set_yticks([])
        ax.set_ylabel("input features\n(z-scored, grey)", fontsize=8)
    ax.set_title(title or "attention over time", fontsize=9)
    fig.tight_layout()
    return fig


def plot_agreement_accuracy(predictions, truth, agreement, *, bins=(0, 0.5, 0.75, 1.0),
                            reference=None, reference_name="truth", ax=None):
    """Accuracy against the majority by rater agreement, one line per method.

    Parameters
    ----------
    predictions : dict ``{method: labels}``
    truth : array-like
        The hard majority (missing = no consensus, left out).
    agreement : array-like
        Share of ratings for the majority class (:func:`agreement_levels`).
    bins : sequence of float
        Edges of the agreement levels (right-closed).
    reference : array-like, optional
        A truth column (e.g. the intended emotion): accuracy against it is
        drawn beside, dashed, in the method's colour.
    reference_name : str, default="truth"
    """
    predictions, truth = _check_predictions(predictions, truth)
    if reference is not None:
        reference = np.asarray(reference, dtype=object)
        if len(reference) != len(truth):
            raise ValueError(f"reference has {len(reference)} labels for "
                             f"{len(truth)} utterances.")
    agreement = np.asarray(agreement, dtype=float)
    keep = pd.notna(truth) & np.isfinite(agreement)
    level = pd.cut(agreement[keep], bins=list(bins), include_lowest=True)
    plt = _plt()
    if ax is None:
        fig, ax = plt.subplots(figsize=(8.0, 3.8))
    else:
        fig = ax.figure
    cats = level.categories
    counts = pd.Series(level).value_counts().reindex(cats).fillna(0).astype(int)
    x = np.arange(len(cats))
    for k, (name, pred) in enumerate(predictions.items()):
        hit = pd.Series(pred[keep] == truth[keep])
        acc = hit.groupby(np.asarray(level.codes)).mean().reindex(range(len(cats)))
        ax.plot(x, acc.to_numpy(float), marker="o", color=f"C{k % 10}", label=name)
        if reference is not None:
            hit = pd.Series(pred[keep] == reference[keep])
            acc = hit.groupby(np.asarray(level.codes)).mean().reindex(
                range(len(cats)))
            ax.plot(x, acc.to_numpy(float), marker="s", ls="--",
                    color=f"C{k % 10}")
    edges = list(bins)
    names = [f"{lo:.2f}-{hi:.2f}" for lo, hi in zip(edges[:-1], edges[1:],
                                                   strict=True)]
    ax.set_xticks(x, [f"{name}\n(n={counts[c]})" for name, c in zip(names, cats,
                                                                    strict=True)],
                  fontsize=7)
    ax.set_xlabel("share of ratings for the majority class")
    ax.set_ylabel("accuracy vs majority" if reference is None else "accuracy")
    ax.set_ylim(0, 1)
    ax.set_title("Accuracy by rater agreement (clear utterances to the right)",
                 fontsize=10)
    handles, labels = ax.get_legend_handles_labels()
    if reference is not None:  # line styles say what each line scores against
        from matplotlib.lines import Line2D

        handles += [Line2D([], [], color="black", marker="o"),
                    Line2D([], [], color="black", marker="s", ls="--")]
        labels += ["(solid) vs majority", f"(dashed) vs {reference_name}"]
    ax.legend(handles, labels, fontsize=7, loc="upper left",
              bbox_to_anchor=(1.01, 1.0))
    fig.tight_layout()
    return fig


def plot_reliability(probabilities, annotations, classes, *, n_bins=10,
                     label_map=None, ax=None):
    """Reliability diagram: accuracy against the hard majority by confidence.

    Parameters
    ----------
    probabilities : dict ``{method: (n, K) array}``
        Columns in ``classes`` order (methods without probabilities: None,
        left out).
    annotations : the ratings (or any accepted form) of the same utterances.
    classes : list
    n_bins : int, default=10
        Equal-width confidence bins.
    """
    plt = _plt()
    if ax is None:
        fig, ax = plt.subplots(figsize=(6.2, 4.0))
    else:
        fig = ax.figure
    ax.plot([0, 1], [0, 1], color="grey", lw=0.8, ls=":", label="perfect calibration")
    for k, (name, proba) in enumerate(probabilities.items()):
        if proba is None:
            continue
        ece, bins = expected_calibration_error(annotations, proba, classes=classes,
                                               n_bins=n_bins, label_map=label_map,
                                               return_bins=True)
        used = bins["count"] > 0
        ax.plot(bins["confidence"][used], bins["accuracy"][used], marker="o",
                color=f"C{k}", label=f"{name} (ECE {ece:.3f})")
    ax.set_xlim(0, 1)
    ax.set_ylim(0, 1)
    ax.set_xlabel("confidence (top predicted probability), bin mean")
    ax.set_ylabel("accuracy vs majority in the bin")
    ax.set_title("Reliability diagram (utterances with a majority)", fontsize=10)
    ax.legend(fontsize=7, loc="upper left", bbox_to_anchor=(1.01, 1.0))
    fig.tight_layout()
    return fig


def plot_agreement_scores(probabilities, annotations, classes, *,
                          bins=(0.0, 0.5, 0.75, 1.0), label_map=None):
    """Accuracy and Jensen-Shannon divergence by agreement level, per method.

    The agreement of an utterance is the vote share of its top class; every
    utterance with a rating among ``classes`` counts (ties included), see
    :func:`~sklearn_ser.metrics.agreement_report`.
    """
    plt = _plt()
    fig, (left, right) = plt.subplots(1, 2, figsize=(9.5, 3.6))
    x, names = None, None
    for k, (name, proba) in enumerate(probabilities.items()):
        if proba is None:
            continue
        report = agreement_report(annotations, proba, classes=classes, bins=bins,
                                  label_map=label_map).drop(index="all")
        x = np.arange(len(report))
        names = [f"{lvl}\n(n={int(n)})" for lvl, n in zip(report.index, report["n"],
                                                          strict=True)]
        left.plot(x, report["accuracy"].to_numpy(float), marker="o", color=f"C{k}",
                  label=name)
        right.plot(x, report["jensen_shannon"].to_numpy(float), marker="o",
                   color=f"C{k}", label=name)
    if x is None:
        raise ValueError("no method gave probabilities.")
    for a in (left, right):
        a.set_xticks(x, names, fontsize=7)
        a.set_xlabel("vote share of the top class")
    left.set_ylim(0, 1)
    left.set_ylabel("accuracy vs majority ↑")
    left.set_title("Accuracy by agreement", fontsize=10)
    right.set_ylabel("Jensen-Shannon divergence ↓")
    right.set_title("Distance to the raters' distribution", fontsize=10)
    right.legend(fontsize=7, loc="upper left", bbox_to_anchor=(1.01, 1.0))
    fig.tight_layout()
    return fig


def plot_coverage_accuracy(probabilities, majority, classes, *, thresholds=None,
                           marked=(0.5, 0.6, 0.7), ax=None):
    """UAR against the majority on the utterances a model keeps, by the share
    it keeps, when it abstains below a top probability (``sklearn-ser predict
    --abstain P``).

    Parameters
    ----------
    probabilities : dict ``{method: (n, K) array}``
        Columns in ``classes`` order (None: left out).
    majority : array-like
        The hard majority of each utterance (None/NaN: not scored).
    classes : list
    thresholds : array-like, default=None
        The top probabilities tried (default 0, 0.05, ..., 0.95).
    marked : tuple of float, default=(0.5, 0.6, 0.7)
        Thresholds drawn as labelled points.
    """
    plt = _plt()
    if ax is None:
        fig, ax = plt.subplots(figsize=(6.2, 4.0))
    else:
        fig = ax.figure
    thresholds = (np.round(np.arange(0, 1, 0.05), 2) if thresholds is None
                  else np.asarray(thresholds, dtype=float))
    majority = np.asarray(majority, dtype=object)
    scored = pd.notna(majority)
    names = np.asarray(classes, dtype=object)
    for k, (name, proba) in enumerate(probabilities.items()):
        if proba is None:
            continue
        proba = np.asarray(proba, dtype=float)
        pred, top = names[proba.argmax(axis=1)], proba.max(axis=1)
        points = []
        for thr in sorted(set(thresholds) | set(marked)):
            ok = (top >= thr) & scored
            if ok.any():
                points.append((thr, float((top >= thr).mean()),
                               unweighted_average_recall(majority[ok], pred[ok],
                                                         labels=classes)))
        if not points:
            continue
        thr, kept, uar = map(np.asarray, zip(*points, strict=True))
        ax.plot(kept, uar, color=f"C{k}", label=name)
        mark = np.isin(thr, marked)
        ax.scatter(kept[mark], uar[mark], color=f"C{k}", s=14, zorder=3)
        for x, y, t in zip(kept[mark], uar[mark], thr[mark], strict=True):
            ax.annotate(f"{t:g}", (x, y), fontsize=6, xytext=(2, 2),
                        textcoords="offset points")
    ax.set_xlim(0, 1.02)
    ax.set_xlabel("share of utterances kept (top probability >= P)")
    ax.set_ylabel("UAR vs majority on the kept ones")
    ax.set_title("Abstaining when unsure (points: P = " + ", ".join(
        f"{t:g}" for t in marked) + ")", fontsize=10)
    ax.legend(fontsize=7, loc="upper left", bbox_to_anchor=(1.01, 1.0))
    fig.tight_layout()
    return fig
