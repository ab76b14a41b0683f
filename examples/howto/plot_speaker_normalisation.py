"""
Choosing speaker normalisation
==============================

Voices differ more between speakers than between emotions of one speaker, so
features are usually z-scored per speaker. ``SpeakerStandardizer`` offers
three modes: ``"speaker"`` (each speaker's own statistics; a test speaker
uses the frames of its own test utterances, so it needs several of them),
``"utterance"`` (each utterance on its own: removes level and range, which
also carry emotion) and ``"global"`` (one mean and scale from the training
data). This example compares them, and no normalisation, leave-one-session-
out with a fast model: mean and standard deviation of the frames + a linear
SVM on the majority labels.
"""

# %%
import os

import numpy as np
import pandas as pd
from sklearn.model_selection import LeaveOneGroupOut, cross_validate
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import FunctionTransformer, StandardScaler
from sklearn.svm import LinearSVC

from sklearn_ser.annotations import HardLabels
from sklearn_ser.datasets import make_emotional_speech
from sklearn_ser.features import OpenSmileFrames, SpeakerStandardizer, get_frames
from sklearn_ser.metrics import ser_scoring

QUICK = os.environ.get("SKLEARN_SER_QUICK") == "1"
data = make_emotional_speech(100 if QUICK else 500, random_state=2)
frames = OpenSmileFrames("emobase45", progress=False).fit_transform(data.utterances)


def mean_std(X):
    """One vector per utterance: the mean and standard deviation of its frames."""
    return np.stack([np.r_[f.mean(0), f.std(0)] for f in get_frames(X)])


# %%
# The SVM learns from the majority; utterances without one are left out of
# training here, and of the scores (counted by ser_scoring).
y = HardLabels(data.classes).fit_transform(data.annotations)
ok = y.notna().to_numpy()
rows = {}
for mode in ("none", "global", "speaker", "utterance"):
    steps = [] if mode == "none" else [SpeakerStandardizer(mode)]
    pipe = make_pipeline(*steps, FunctionTransformer(mean_std), StandardScaler(),
                         LinearSVC(C=0.01, class_weight="balanced"))
    cv = cross_validate(pipe, frames[ok], y[ok].astype(str),
                        groups=data.utterances["session"][ok], cv=LeaveOneGroupOut(),
                        scoring=ser_scoring(data.classes, per_class=False,
                                            warn=False))
    rows[mode] = {"UAR": cv["test_uar"].mean(), "WA": cv["test_wa"].mean()}
print(pd.DataFrame(rows).T.round(3))
