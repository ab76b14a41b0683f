"""
From raw ratings to hard, soft and existence targets
=====================================================

Every rating matters: this example builds the four kinds of target of
sklearn-ser from a long table of individual ratings, shows why rows lack a
target, and compares the targets with the intended emotion.
"""

# %%
# A corpus with simulated raters (no data needed)
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
table = data.annotations
print(table.head())
print(rater_counts(table))

# %%
# The same table in the long task/worker/label form of crowd-kit, and back
long = (
    table.stack()
    .explode()
    .dropna()  # raters who did not rate an utterance
    .rename("label")
    .reset_index()
    .rename(columns={"utterance": "task", "rater": "worker"})
)
assert from_long(long).shape[0] == table.shape[0]

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
for rater in table.columns:
    one = RaterLabels(rater, "hard", classes=data.classes).fit_transform(table)
    mask = one.notna()
    summary[f"rater {rater} == intended"] = (one[mask] == intended[mask]).mean()
print(summary.round(3))
