"""
From raw ratings to hard, soft and existence targets
=====================================================

Every rating matters: this example builds the kinds of target of
sklearn-ser from a long table of individual ratings, shows why rows lack a
target, and compares the targets with the intended emotion. The ratings are
kept one entry per rating (a Series of dtype ``"ratings"``), so the same code
runs on crowds of thousands of raters.
"""

# %%
# A corpus with simulated raters (no data needed)
import importlib.util

import pandas as pd

from sklearn_ser.annotations import (
    ExistenceLabels,
    HardLabels,
    RaterLabels,
    SoftLabels,
    from_long,
    rater_counts,
)
from sklearn_ser.datasets import make_emotional_speech

data = make_emotional_speech(200, random_state=0)
table = data.annotations  # one element per utterance: {rater: (labels...)}
print(table.head())
print(f"{table.ratings.n_ratings} ratings by {len(table.ratings.raters)} raters, "
      f"{table.ratings.nbytes} bytes")
print(rater_counts(table))

# %%
# The long task/worker/label form of crowd-kit (one row per rating), and back;
# ``multiple="choices"``: a rater's several rows are several choices
long = table.ratings.to_long(item="task", rater="worker")
print(long.head())
back = from_long(long, multiple="choices")
assert back.ratings.n_ratings == table.ratings.n_ratings
# the wide one-column-per-rater table, for a small crowd
print(table.ratings.to_wide().head())

# %%
# Hard labels: the majority vote; ties are reported, never guessed
hard = HardLabels(data.classes)
labels = hard.fit_transform(table)
print(hard.target_status(table).value_counts())

# %%
# Soft labels (Eq. 1 of Chou & Lee, alpha = 0.75) and existence (Ando et al.)
soft = SoftLabels(data.classes).fit_transform(table)
existence = ExistenceLabels(data.classes).fit_transform(table)
print(soft.head().round(2))
print(existence.mean().round(2))

# %%
# How close is each view to the emotion the speaker intended?
intended = data.utterances["intended"]
ok = labels.notna()
summary = pd.Series({
    "majority == intended": (labels[ok] == intended[ok]).mean(),
    "soft arg-max == intended": (soft.idxmax(axis=1) == intended).mean(),
    "intended emotion exists": float(
        existence.to_numpy()[range(len(intended)),
                             [data.classes.index(c) for c in intended]].mean()),
})
for rater in table.ratings.raters:
    one = RaterLabels(rater, "hard", classes=data.classes).fit_transform(table)
    mask = one.notna()
    summary[f"rater {rater} == intended"] = (one[mask] == intended[mask]).mean()
print(summary.round(3))

# %%
# Model-based aggregation: Dawid-Skene weighs each rater by how reliable they
# are (crowd-kit, ``pip install "sklearn-ser[crowd]"``). In a pipeline it is
# fitted on the training fold's ratings only.
if importlib.util.find_spec("crowdkit") is not None:
    from sklearn_ser.annotations import AggregatedLabels

    ds = AggregatedLabels("dawid_skene", "hard", classes=data.classes)
    ds_labels = ds.fit_transform(table)
    both = ds_labels.notna() & labels.notna()
    print(f"Dawid-Skene == intended: {(ds_labels[both] == intended[both]).mean():.3f}"
          f" (majority: {(labels[both] == intended[both]).mean():.3f})")
