"""What the data can tell apart: confidence intervals and paired tests of UAR.

Utterances of one speaker are not independent draws (one voice, one
microphone, often one session), so the bootstrap resamples **speakers**
with replacement and keeps all of a drawn speaker's utterances (a cluster
bootstrap). Each resample gives every method's UAR on the same utterances;
the 2.5 and 97.5 percentiles are the 95 % interval, and the differences
against a baseline on the same resamples are the paired test: its
interval, and the two-sided bootstrap p-value (twice the smaller share of
resamples on either side of zero).

The resamples are matrix products: per speaker and class, the counts of
utterances and of correct predictions; a resample is a vector of draw
counts per speaker.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

#: Resamples of the speaker bootstrap.
N_BOOT = 2000


def _counts(pred, ref, clusters, classes):
    """``(correct, total)``: per cluster (rows) and class (columns), the
    utterances whose reference is that class and those predicted right
    (rows whose reference is no class are not counted)."""
    ref = pd.Series(np.asarray(ref, dtype=object))
    k = pd.Categorical(ref, categories=list(classes)).codes
    ok = k >= 0
    codes, uniques = pd.factorize(pd.Series(np.asarray(clusters, dtype=object)))
    total = np.zeros((len(uniques), len(classes)))
    correct = np.zeros_like(total)
    hit = (np.asarray(pred, dtype=object) == ref.to_numpy())[ok]
    np.add.at(total, (codes[ok], k[ok]), 1.0)
    np.add.at(correct, (codes[ok], k[ok]), hit.astype(float))
    return correct, total


def _uar(correct, total):
    """UAR of each row of (resampled) counts: the mean recall over the
    classes present in that row."""
    with np.errstate(invalid="ignore", divide="ignore"):
        recall = np.where(total > 0, correct / np.where(total > 0, total, 1), np.nan)
    present = (total > 0).sum(axis=-1)
    return np.where(present > 0, np.nansum(recall, axis=-1) / np.maximum(present, 1),
                    np.nan)


def speaker_bootstrap(predictions, ref, clusters, classes, *, baseline=None,
                      n_boot=N_BOOT, random_state=0):
    """UAR with a 95 % interval per method, and paired differences against
    ``baseline``, from one speaker bootstrap.

    Parameters
    ----------
    predictions : dict
        Method name -> predicted label per utterance (one order for all).
    ref : array-like
        The reference label per utterance (None where there is none: not
        scored).
    clusters : array-like
        The speaker (or other cluster) of each utterance, resampled whole.
    classes : list
    baseline : str, optional
        A key of ``predictions``: each other method's difference to it.

    Returns
    -------
    dict
        Method -> ``{"uar", "ci": [lo, hi]}`` plus, with a baseline,
        ``"vs_baseline": {"baseline", "delta", "ci", "p"}``; and ``"_meta"``:
        ``n_boot``, ``n_clusters``, ``n_scored``.
    """
    counts = {m: _counts(p, ref, clusters, classes) for m, p in predictions.items()}
    n_clusters = next(iter(counts.values()))[1].shape[0] if counts else 0
    scored = int(next(iter(counts.values()))[1].sum()) if counts else 0
    if not scored:  # no reference at all (a test corpus without ratings)
        return {**{m: {"uar": None, "ci": None} for m in counts},
                "_meta": {"n_boot": n_boot, "n_clusters": int(n_clusters),
                          "n_scored": 0}}
    rng = np.random.default_rng(random_state)
    draws = rng.multinomial(n_clusters, np.full(n_clusters, 1.0 / n_clusters),
                            size=n_boot).astype(float) if n_clusters else None
    boot, out = {}, {}
    for m, (correct, total) in counts.items():
        point = float(_uar(correct.sum(axis=0), total.sum(axis=0)))
        boot[m] = _uar(draws @ correct, draws @ total)
        lo, hi = np.nanpercentile(boot[m], [2.5, 97.5])
        out[m] = {"uar": point, "ci": [float(lo), float(hi)]}
    if baseline in boot:
        for m in boot:
            if m == baseline:
                continue
            d = boot[m] - boot[baseline]
            d = d[np.isfinite(d)]
            lo, hi = np.percentile(d, [2.5, 97.5])
            p = min(1.0, 2.0 * min(float(np.mean(d <= 0)), float(np.mean(d >= 0))))
            out[m]["vs_baseline"] = {
                "baseline": baseline,
                "delta": out[m]["uar"] - out[baseline]["uar"],
                "ci": [float(lo), float(hi)], "p": p}
    out["_meta"] = {"n_boot": n_boot, "n_clusters": int(n_clusters),
                    "n_scored": scored}
    return out
