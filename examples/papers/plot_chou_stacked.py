"""
Chou & Lee (2019): every rater, stacked
=======================================

``StackedAnnotatorClassifier`` trains CrowdH (majority), CrowdS (soft labels,
alpha 0.75) and one soft model per rater (E1 ... E6 here, each on the
utterances that rater labelled), freezes them and trains one softmax layer on
their concatenated representations. ``score_components`` gives the paper's
Table 3 for held-out data: UAR and per-class recall of every component and of
the fusion, against the majority of the ratings.

Runs on EmoDB-crowd when found (``SKLEARN_SER_EMODB`` or
``../shared/data/emodb``), else on a generated corpus. ``SKLEARN_SER_QUICK=1``:
two sessions and a few epochs.
"""

# %%
import os
from pathlib import Path

from sklearn.pipeline import make_pipeline

from sklearn_ser.datasets import load_emodb, make_emotional_speech
from sklearn_ser.features import FrameAverager, OpenSmileFrames, SpeakerStandardizer
from sklearn_ser.metrics import unweighted_average_recall
from sklearn_ser.models import BLSTMAttentionClassifier, StackedAnnotatorClassifier

QUICK = os.environ.get("SKLEARN_SER_QUICK") == "1"
root = Path(os.environ.get("SKLEARN_SER_EMODB", "../../../shared/data/emodb"))
if root.is_dir():
    data = load_emodb(root)
else:
    print(f"EmoDB not found at {root}: using a generated corpus instead")
    data = make_emotional_speech(300, random_state=0)
u, ratings = data.utterances, data.annotations
if QUICK:  # two sessions: train on one, test on the other
    keep = u["session"].isin(sorted(u["session"].unique())[:2]).to_numpy()
    u, ratings = u[keep], ratings[keep]

# %%
# Frames once for all models. Per-speaker statistics come from each speaker's
# own utterances, so normalising before the split leaks no test label.
frames = make_pipeline(OpenSmileFrames("emobase45", progress=False),
                       SpeakerStandardizer(), FrameAverager(10)).fit_transform(u)
test = (u["session"] == sorted(u["session"].unique())[-1]).to_numpy()

# %%
# Chou & Lee's BLSTM (Dense 256, BLSTM 128, attention, Dense 256, Adamax) at
# the learning rate measured on EmoDB-crowd (BENCHMARKS.md).
base = BLSTMAttentionClassifier(lr=3e-3, patience=20, validation_fraction=0.25,
                                max_epochs=3 if QUICK else 100)
model = StackedAnnotatorClassifier(base, classes=data.classes, random_state=0)
model.fit(frames[~test], ratings[~test])
print("stage-1 models:", list(model.components_))

# %%
# Table 3 for the held-out session(s): every component, and the fusion.
table = model.score_components(frames[test], ratings[test])
print(table.round(3))
print(f"{table.attrs['n_left_out']} test utterances without a majority left out")

# %%
# Against the emotion the actors intended (the clean truth of EmoDB):
pred = model.predict(frames[test])
print("UAR vs intended:",
      round(unweighted_average_recall(u["intended"][test], pred,
                                      labels=data.classes), 3))
