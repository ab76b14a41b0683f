"""
Fujioka et al. (2020): correcting labels and weighing samples
=============================================================

``NoisyLabelMetaClassifier`` learns, next to the network, a label
distribution ``softmax(L_n)`` and a contribution weight ``w_n`` for every
training utterance, alternating one epoch of network training with one epoch
of ``L``/``w`` updates (Algorithm 1). The loss of a sample is divided by its
``w_n``: **a lower w means a larger weight in the loss**.

This example compares the paper's rows (BLSTM, +L, +w, +L+w) on one held-out
session and shows what the model learned: the label-transition matrix
(Fig. 3) and the mean ``w`` per class before and after (Table 3).

In quick mode (``SKLEARN_SER_QUICK=1``: the test suite, and a quick docs
build) this page runs on a small corpus for a few epochs: its figures then
show that the code runs, not what the method achieves (for that, see
BENCHMARKS.md).
"""

# %%
import os
from pathlib import Path

import matplotlib.pyplot as plt
import pandas as pd
from sklearn.pipeline import make_pipeline

from sklearn_ser.datasets import load_emodb, make_emotional_speech
from sklearn_ser.features import FrameAverager, OpenSmileFrames, SpeakerStandardizer
from sklearn_ser.metrics import unweighted_average_recall
from sklearn_ser.models import NoisyLabelMetaClassifier
from sklearn_ser.plotting import plot_sample_weights, plot_transition_matrix

QUICK = os.environ.get("SKLEARN_SER_QUICK") == "1"
root = Path(os.environ.get("SKLEARN_SER_EMODB", "../../../shared/data/emodb"))
if root.is_dir():
    data = load_emodb(root)
else:
    print(f"EmoDB not found at {root}: using a generated corpus instead")
    data = make_emotional_speech(300, random_state=0)
u, ratings = data.utterances, data.annotations
if QUICK:
    keep = u["session"].isin(sorted(u["session"].unique())[:2]).to_numpy()
    u, ratings = u[keep], ratings[keep]
frames = make_pipeline(OpenSmileFrames("emobase45", progress=False),
                       SpeakerStandardizer(), FrameAverager(10)).fit_transform(u)
test = (u["session"] == sorted(u["session"].unique())[-1]).to_numpy()

# %%
# The variants; the gold label is the majority of the ratings.
scores, models = {}, {}
for update in ("none", "L", "w", "Lw"):
    model = NoisyLabelMetaClassifier(update=update, classes=data.classes,
                                     max_epochs=2 if QUICK else 100, patience=20,
                                     validation_fraction=0.25, random_state=0)
    models[update] = model.fit(frames[~test], ratings[~test])
    pred = model.predict(frames[test])
    scores[update] = unweighted_average_recall(u["intended"][test], pred,
                                               labels=data.classes)
print(pd.Series(scores, name="UAR vs intended").round(3))

# %%
# What +L+w learned: which gold labels it moved, and w per class.
lw = models["Lw"]
fig, axes = plt.subplots(1, 2, figsize=(10, 4))
plot_transition_matrix(lw.transition_matrix_, ax=axes[0])
plot_sample_weights(lw.weights_by_class_, ax=axes[1])
print(lw.weights_by_class_.round(3))
