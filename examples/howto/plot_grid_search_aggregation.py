"""
The aggregation rule as a hyper-parameter
=========================================

How to turn ratings into targets (the majority, soft labels with some
smoothing, emotion existence) is a modelling choice. Because the estimators
take the rater table as ``y`` and the target encoder as a parameter,
``GridSearchCV`` can choose it like any other hyper-parameter, scored
leave-one-session-out against the majority of the ratings.

In quick mode (``SKLEARN_SER_QUICK=1``: the test suite, and a quick docs
build) this page runs on a small corpus for a few epochs: its figures then
show that the code runs, not what the method achieves (for that, see
BENCHMARKS.md).
"""

# %%
import os

import pandas as pd
from sklearn.model_selection import GridSearchCV, LeaveOneGroupOut
from sklearn.pipeline import make_pipeline

from sklearn_ser.annotations import HardLabels, SoftLabels
from sklearn_ser.datasets import make_emotional_speech
from sklearn_ser.features import FrameAverager, OpenSmileFrames, SpeakerStandardizer
from sklearn_ser.metrics import ser_scoring
from sklearn_ser.models import BLSTMAttentionClassifier

QUICK = os.environ.get("SKLEARN_SER_QUICK") == "1"
data = make_emotional_speech(60 if QUICK else 300, n_sessions=3 if QUICK else 5,
                             random_state=0)
classes = data.classes

# %%
# Frames are computed once; the search only refits the network.
frames = make_pipeline(OpenSmileFrames("emobase45", progress=False),
                       SpeakerStandardizer(), FrameAverager(10)
                       ).fit_transform(data.utterances)

# %%
# The candidates: the majority vote (ties left out), soft labels without and
# with smoothing (alpha 0.75 is Chou & Lee's), and emotion existence (Ando et
# al.: predictions are the arg-max of the existence probabilities).
grid = {"target": [HardLabels(classes), SoftLabels(classes, alpha=0),
                   SoftLabels(classes, alpha=0.75), "existence"]}
if QUICK:
    grid["target"] = grid["target"][::2]
search = GridSearchCV(
    BLSTMAttentionClassifier(classes=classes, dense_units=64, lstm_units=32,
                             head_units=64, lr=3e-3, max_epochs=2 if QUICK else 40,
                             random_state=0),
    grid, cv=LeaveOneGroupOut(),
    scoring=ser_scoring(classes, per_class=False, warn=False), refit="uar")
search.fit(frames, data.annotations, groups=data.utterances["session"])

# %%
results = pd.DataFrame(search.cv_results_)
print(results[["param_target", "mean_test_uar", "std_test_uar", "mean_test_wa"]]
      .round(3).to_string(index=False))
print("chosen:", search.best_params_["target"])
