"""
Quick start: learn from every rating
====================================

A rater table goes straight into ``fit``: the estimator builds its own
targets (here soft labels, Eq. 1 of Chou & Lee) from the ratings. Audio goes
through openSMILE frames, per-speaker normalisation and frame pooling, and the
whole pipeline is cross-validated leave-one-session-out with the papers'
scores (UAR and WA against the majority of the ratings).

Set ``SKLEARN_SER_QUICK=1`` for a smoke run (the test suite does).
"""

# %%
import os
import tempfile

import pandas as pd
from sklearn.model_selection import LeaveOneGroupOut, cross_validate
from sklearn.pipeline import make_pipeline

from sklearn_ser.datasets import make_emotional_speech
from sklearn_ser.features import FrameAverager, OpenSmileFrames, SpeakerStandardizer
from sklearn_ser.metrics import ser_scoring
from sklearn_ser.models import BLSTMAttentionClassifier

QUICK = os.environ.get("SKLEARN_SER_QUICK") == "1"

# %%
# A generated corpus: waveforms, speakers, sessions and six simulated raters
# with personal biases (no download needed). ``utterances`` is X, the rater
# table is y.
data = make_emotional_speech(40 if QUICK else 400, n_sessions=2 if QUICK else 5,
                             n_speakers=4 if QUICK else 10,
                             random_state=0)
X, y = data.utterances, data.annotations
print(X[["speaker", "session", "intended", "duration"]].head())
print(y.head())

# %%
# The pipeline: frames -> per-speaker z-scores -> 10-frame averages -> BLSTM
# with attention trained on soft targets from every rating. ``memory`` caches
# the frames by audio content, so the cross-validation folds and the final
# fit extract each utterance once.
cache = tempfile.mkdtemp(prefix="sklearn_ser_cache_")
pipe = make_pipeline(
    OpenSmileFrames("emobase45", memory=cache, progress=False),
    SpeakerStandardizer(),
    FrameAverager(10),
    BLSTMAttentionClassifier("soft", classes=data.classes, lr=3e-3, patience=10,
                             max_epochs=3 if QUICK else 40, random_state=0),
)

# %%
# Leave-one-session-out; the early-stopping split inside each fit holds out
# whole training speakers (from X's ``speaker`` column), never the test fold.
scores = cross_validate(pipe, X, y, groups=X["session"], cv=LeaveOneGroupOut(),
                        scoring=ser_scoring(data.classes, warn=False))
table = pd.DataFrame(scores).filter(like="test_").mean().round(3)
print(table)

# %%
# A fitted pipeline predicts emotions for new audio and exposes the attention
# of each utterance over time.
pipe.fit(X, y)
print(pipe.predict(X.iloc[:5]), list(X["intended"].iloc[:5]))
weights = pipe[-1].attention_weights(pipe[:-1].transform(X.iloc[:1]))[0]
print(f"{len(weights)} attention weights, summing to {weights.sum():.2f}")
