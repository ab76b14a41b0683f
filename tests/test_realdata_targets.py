"""Acceptance of the target encoders on the real corpora in ../shared/data."""

import numpy as np
import pandas as pd
import pytest

from sklearn_ser.annotations import (
    ExistenceLabels,
    HardLabels,
    SoftLabels,
    from_long,
)
from sklearn_ser.datasets import load_abaw, load_crema_d, load_emodb

pytestmark = pytest.mark.realdata

LETTER = {"anger": "A", "disgust": "D", "fear": "F", "happiness": "H",
          "neutral": "N", "sadness": "S"}


def test_crema_d_hard_labels_equal_emovote(crema_root):
    data = load_crema_d(crema_root, source="votes")
    votes, corpus_vote = data.annotations, data.utterances["corpus_vote"]
    assert len(votes) == 7442
    enc = HardLabels(data.classes).fit(votes)
    ours = enc.transform(votes)
    status = enc.target_status(votes)
    ties = corpus_vote.str.contains(":")
    # the corpus' ties ("N:S") are exactly our no-consensus rows
    assert ((status == "tie") == ties).all()
    assert ties.sum() > 0 and (status[~ties] == "ok").all()
    assert (ours[~ties].map(LETTER) == corpus_vote[~ties]).all()
    # alpha=0 soft labels are the vote shares
    shares = SoftLabels(data.classes, alpha=0).fit_transform(votes)
    expected = votes.to_numpy() / votes.to_numpy().sum(axis=1, keepdims=True)
    np.testing.assert_allclose(shares.to_numpy(), expected)


def test_emodb_majority_matches_crowdkit(emodb_root):
    crowdkit = pytest.importorskip("crowdkit.aggregation")
    long = pd.read_csv(emodb_root / "ratings.csv")
    table = from_long(long, multiple="choices")
    classes = sorted(long["label"].unique())  # "other" included, as crowd-kit sees it
    enc = HardLabels(classes).fit(table)
    ours, status = enc.transform(table), enc.target_status(table)
    tasks = long.rename(columns={"utterance": "task", "rater": "worker"})
    mv = crowdkit.MajorityVote()
    theirs = mv.fit_predict(tasks).reindex(table.index)
    proba = mv.fit_predict_proba(tasks).reindex(table.index)
    their_tie = proba.eq(proba.max(axis=1), axis=0).sum(axis=1) > 1
    both = (status == "ok") & ~their_tie
    assert both.sum() > 400
    assert (ours[both] == theirs[both]).all()
    # both see the same ties
    assert ((status == "tie") == their_tie).all()


def test_emodb_existence_is_some_rater_chose_it(emodb_root):
    data = load_emodb(emodb_root)
    table = data.annotations
    e = ExistenceLabels(data.classes).fit_transform(table)
    long = pd.read_csv(emodb_root / "ratings.csv")
    chosen = set(zip(long["utterance"], long["label"], strict=True))
    for utt in e.index[:200]:
        for cls in e.columns:
            assert e.loc[utt, cls] == float((utt, cls) in chosen)
    assert len(data.utterances) == 535 and set(data.utterances["session"]) == {
        1, 2, 3, 4, 5}


def test_abaw_rater_table(abaw_root):
    data = load_abaw(abaw_root)
    a = data.annotations
    assert a.shape == (348,) and len(a.ratings.raters) == 3
    assert not a.index.has_duplicates
    assert a.notna().all().all()  # every clip has its three annotators
    raw = pd.read_csv(abaw_root / "assessment.csv", keep_default_na=False)
    assert (raw["happy"] == "None").sum() > 0  # the literal "None" is a rating
    e = ExistenceLabels(data.classes).fit_transform(a)
    s = SoftLabels(data.classes).fit_transform(a)
    assert e.shape == (348, 6) and not e.isna().any().any()
    ok = s.notna().all(axis=1)
    np.testing.assert_allclose(s[ok].sum(axis=1), 1.0)
    # a clip where every annotator chose nothing has no soft target but is an
    # existence negative
    none = (e.sum(axis=1) == 0)
    assert (~ok == none).all()
    assert data.utterances["crema_d_name"].notna().sum() == 75


def test_emodb_ratings_give_the_wide_tables_targets(emodb_root):
    """The O(ratings) Series and the wide table of the same real ratings give
    the same targets, statuses and rater counts."""
    from sklearn_ser.annotations import rater_counts, to_wide

    data = load_emodb(emodb_root)
    y = data.annotations
    assert y.dtype == "ratings" and y.ratings.n_ratings > 1500
    wide = to_wide(y)
    for enc in (HardLabels(data.classes), HardLabels(data.classes, votes="first"),
                SoftLabels(data.classes), ExistenceLabels(data.classes)):
        a = enc.fit(y).transform(y)
        b = enc.fit(wide).transform(wide)
        if isinstance(a, pd.Series):
            assert ((a == b) | (a.isna() & b.isna())).all()
        else:
            np.testing.assert_allclose(a.to_numpy(), b.to_numpy())
    pd.testing.assert_series_equal(rater_counts(y), rater_counts(wide))
