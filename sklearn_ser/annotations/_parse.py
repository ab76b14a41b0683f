"""The one parse of raw ratings: labels normalised and mapped, spellings,
flags and id variants refused, repeats ranked (``_parse``)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from .._warnings import ser_warn
from ..exceptions import AnnotationError, DroppedRowsWarning
from ._forms import _is_boolish
from ._ratings import RatingsArray
from ._table import (
    _check_index,
)
from ._vocabulary import (
    SPELLING_RULE,
    _spelling_key,
    canonical_label,
    check_label_spellings,
    is_missing_label,
    normalize_label,
    shown,
    unicode_key,
)

_PARSES = [0]


def n_parses():
    """How many times annotations were parsed in this process (a counter for
    tests and benchmarks: a checked Series given again is not parsed)."""
    return _PARSES[0]


# -- raw ratings to checked ratings -------------------------------------------
def _parse(array, index, name, label_map, allowed, key, kind):
    """Checked ratings of raw ``array``: normalised, mapped, sorted vocabulary.

    Cached on ``array`` for one key (the encoders of one fit share it)."""
    cached = array._cache.get(("checked", key, kind))
    if cached is not None:
        return pd.Series(cached, index=index, name=name, copy=False)
    _check_index(index, "ratings Series")
    _PARSES[0] += 1
    if len(array) == 0:
        raise AnnotationError("The ratings are empty (no utterance).")
    if array.n_ratings == 0:
        raise AnnotationError(
            f"The ratings cover {len(array)} utterance(s) but hold not a single "
            "rating.")
    where = {"table": "ratings", "labels": "label array",
             "votes": "vote-count table"}[kind]
    raw_vocab = array._labels.to_numpy(dtype=object)
    used = np.zeros(len(raw_vocab), dtype=bool)
    used[np.unique(array._label)] = True
    if kind == "votes":  # every label column is a label, voted for or not
        used[:] = True
    item = array.item_codes()
    rater = array._rater.astype(np.int64)
    label = array._label.astype(np.int64)
    rank = array._rank.astype(np.int64)
    nothing = np.array([is_missing_label(v) for v in raw_vocab], dtype=bool)
    if (nothing & used).any():
        drop = nothing[label]
        seen = sorted(str(v) for v in raw_vocab[nothing & used])
        if drop.any():
            at = int(np.flatnonzero(drop)[0])
            ser_warn(
                f"{int(drop.sum())} rating(s) of the {where} are {seen} (as "
                "written by astype(str) or a spreadsheet, or empty); they are read "
                "as missing, not as a label (first: utterance "
                f"{index[item[at]]!r}, rater {array._raters[rater[at]]!r}).",
                DroppedRowsWarning)
            keep = ~drop
            item, rater, label, rank = item[keep], rater[keep], label[keep], rank[keep]
        if len(item) == 0:
            raise AnnotationError(f"Every rating of the {where} is missing ({seen}): "
                                  "there is no rating.")
        used &= ~nothing
    _refuse_flags(raw_vocab, used, label, item, rater, array, index, kind)
    if kind == "table":
        _refuse_id_variants(array._raters[np.unique(rater)], "rater")
    _refuse_id_variants(index, "utterance")
    canon_of = {}
    for v in raw_vocab[used]:
        canon_of[v] = canonical_label(v, label_map)
    if label_map:  # a key "Calm" beside a rated "calm" would map nothing
        check_label_spellings(list(label_map),
                              [normalize_label(v) for v in raw_vocab[used]],
                              "label_map", counted=False,
                              consequence="it would map no rating",
                              advice="Write the key as the ratings do.")
    if allowed is not None:
        for code in np.flatnonzero(used):
            raw = raw_vocab[code]
            if canon_of[raw] not in allowed and (label == code).any():
                at = int(np.flatnonzero(label == code)[0])
                raise AnnotationError(
                    f"Unknown label {raw!r} (utterance {index[item[at]]!r}, rater "
                    f"{array._raters[rater[at]]!r}). Expected one of "
                    f"{sorted(map(str, allowed))}; add it to label_map or classes, "
                    "or use strict=False to keep it as non-target evidence.")
    vocab = _vocabulary(canon_of)
    pos = {v: k for k, v in enumerate(vocab)}
    remap = np.full(len(raw_vocab), -1, dtype=np.int64)
    for code in np.flatnonzero(used):
        remap[code] = pos[canon_of[raw_vocab[code]]]
    label = remap[label]
    if len(vocab) < int(used.sum()):  # two spellings became one class
        item, rater, label, rank = _dedupe(item, rater, label, rank,
                                           len(array._raters), len(vocab))
    elif len(item) < array.n_ratings:  # ratings were left out: close the gaps
        rank = _rerank(item, rater, rank)
    offsets = np.zeros(len(array) + 1, dtype=np.int64)
    np.cumsum(np.bincount(item, minlength=len(array)), out=offsets[1:])
    checked = RatingsArray(
        offsets, rater, label, rank, array._raters,
        pd.Index(np.asarray(vocab, dtype=object), dtype=object), _checked=True,
        _kind=kind, _key=key, _source=array)
    for k in [k for k in array._cache if isinstance(k, tuple) and k[:1] == (
            "checked",)]:
        del array._cache[k]  # one label map at a time is enough
    array._cache[("checked", key, kind)] = checked
    return pd.Series(checked, index=index, name=name, copy=False)


def _refuse_flags(raw_vocab, used, label, item, rater, array, index, kind):
    """True/False (or yes/no) are presence flags, never emotion labels."""
    values = raw_vocab[used]
    if not len(values):
        return
    boolish = _is_boolish(values)
    bools = np.array([isinstance(v, bool | np.bool_) for v in values], dtype=bool)
    if bools.any() or boolish.all():
        bad = values[bools][0] if bools.any() else values[0]
        code = int(np.flatnonzero(used)[list(values).index(bad)])
        hits = np.flatnonzero(label == code)
        where = ""
        if len(hits):
            at = int(hits[0])
            where = f" (utterance {index[item[at]]!r}"
            who = array._raters[rater[at]]
            where += f", rater {who!r})" if kind == "table" else ")"
        raise AnnotationError(
            f"The label {bad!r}{where} is a presence flag, not an emotion: "
            f"{sorted(map(str, values))[:6]}. A table of True/False (or yes/no) with "
            "one column per label is read as multi-hot presence: pass it as a "
            "DataFrame whose columns are the labels (check_annotations(y, "
            "form='multi_hot')); in a long table keep one row per chosen label "
            "(long[long[flag]]), and map flags to label names otherwise.")


def _refuse_id_variants(ids, what):
    """Ids that differ only in surrounding spaces (raters: or in case) are
    refused, naming a pair (:func:`check_id_spellings`)."""
    check_id_spellings(ids, what, case=what == "rater")


def check_id_spellings(ids, what, *, case=True,
                       advice="e.g. long[col] = long[col].str.strip()"):
    """Refuse ids that differ only in surrounding spaces (and, with
    ``case=True``, in case), naming a pair and the count.

    The rule for every column of names that groups rows: rater ids (case
    and spaces), utterance ids (spaces: they name files), the command line's
    group and speaker columns (case and spaces: "S1" and "s1 " would be two
    sessions, and one speaker's utterances would train and test the same
    leave-one-group-out fold). Vectorised; only non-ASCII ids go through the
    Unicode rule one by one.

    Parameters
    ----------
    ids : array-like
        The ids (non-strings are skipped).
    what : str
        What they are ("rater", "'session' value"...), for the message.
    case : bool, default=True
    advice : str
        How to write them one way, for the message.

    Raises
    ------
    AnnotationError

    Examples
    --------
    >>> check_id_spellings(["S1", "S2", "S1"], "session")
    >>> check_id_spellings(["S1", "s1 "], "session")
    Traceback (most recent call last):
    ...
    sklearn_ser.exceptions.AnnotationError: The session ids 'S1' and 's1 ' differ ...
    """
    values = pd.Index(pd.unique(pd.Series(np.asarray(ids, dtype=object).ravel(),
                                          dtype=object)))
    if len(values) < 2:
        return
    if values.inferred_type != "string":
        strings = [v for v in values if isinstance(v, str)]
        if len(strings) < 2:
            return
        values = pd.Index(strings)
    raw = pd.Series(values.astype(str), dtype=str)
    norm = raw.copy()
    wide = ~raw.str.isascii().to_numpy(dtype=bool)  # ASCII is its own key
    if wide.any():
        norm[wide] = [unicode_key(v) for v in raw[wide]]
    unicode_variant = bool((norm[wide] != raw[wide]).any())
    norm = norm.str.strip()
    if case:
        norm = norm.str.lower()
    elif not unicode_variant and not (norm != raw).any():  # nothing to fold
        return
    dup = norm.duplicated(keep=False).to_numpy(dtype=bool)
    if dup.any():
        first = norm[dup].iloc[0]
        pair = list(values[np.flatnonzero((norm == first).to_numpy())[:2]])
        rule = ("case, surrounding spaces, Unicode form or invisible characters"
                if case else
                "surrounding spaces, Unicode form or invisible characters")
        raise AnnotationError(
            f"The {what} ids {shown(pair[0])} and {shown(pair[1])} differ only in "
            f"{rule} "
            f"({int(dup.sum())} such ids); they would count as two {what}s. Write "
            f"each id one way ({advice}).")


def _vocabulary(canon_of):
    """Sorted vocabulary of canonical labels (numbers first, then strings)."""
    canon = set(canon_of.values())
    groups: dict = {}
    for v in canon:
        if isinstance(v, str):
            groups.setdefault(_spelling_key(v), []).append(v)
    clash = [sorted(g) for g in groups.values() if len(g) > 1]
    if clash:
        raise AnnotationError(
            f"Labels {', '.join(map(shown, clash[0]))} differ only in {SPELLING_RULE}"
            + (f" ({len(clash)} such groups)" if len(clash) > 1 else "")
            + "; they would become separate classes. Write each label one way, "
            "e.g. y.map(lambda cell: None if cell is None else tuple("
            "unicodedata.normalize('NFC', str(v)).strip().lower() for v in cell)), "
            "or map them with label_map.")
    try:
        return sorted(canon)
    except TypeError:
        return sorted(canon, key=lambda v: (type(v).__name__, str(v)))


def _rerank(item_idx, rater_idx, rank):
    """Ranks 0, 1, ... within each (item, rater), keeping their order."""
    if len(rank) == 0:
        return rank
    order = np.lexsort((rank, rater_idx, item_idx))
    it, ra = item_idx[order], rater_idx[order]
    new = np.r_[True, (it[1:] != it[:-1]) | (ra[1:] != ra[:-1])]
    starts = np.flatnonzero(new)
    out = np.empty_like(rank)
    out[order] = np.arange(len(order)) - starts[np.cumsum(new) - 1]
    return out


def _dedupe(item_idx, rater_idx, label_idx, rank, n_raters, n_labels):
    """Keep the first (item, rater, label) choice: h_k^(n) is binary."""
    key = (item_idx * max(n_raters, 1) + rater_idx) * max(n_labels, 1) + label_idx
    _, first = np.unique(key, return_index=True)
    if len(first) == len(key):
        return item_idx, rater_idx, label_idx, rank
    first = np.sort(first)
    item_idx, rater_idx, label_idx = item_idx[first], rater_idx[first], label_idx[first]
    return item_idx, rater_idx, label_idx, _rerank(item_idx, rater_idx, rank[first])
