"""
Your own ratings CSV to a cross-validated score
===============================================

What you have: a folder of ``<utterance>.wav`` files, a CSV with one row per
rating (``utterance, rater, label``; a rater who chose two emotions has two
rows, first choice first) and a CSV of metadata (``utterance, speaker,
session, ...``). What you want: a cross-validated score of a model that
learns from every rating, with speakers never shared between training and
test. Four steps: ``load_corpus``, a ``Pipeline``, ``cross_validate`` with the
groups, a table.

The page runs on a generated corpus written in that form, whose speakers each
show a single emotion, as in many naturalistic corpora (talk shows,
podcasts). With ``SKLEARN_SER_QUICK=1`` (the test suite, and the rendered
docs when built in quick mode) it uses 60 utterances and 3 epochs: the scores
printed then are a smoke test, not a measurement.
"""

# %%
import os
import tempfile

import pandas as pd
from sklearn.model_selection import LeaveOneGroupOut, cross_validate
from sklearn.pipeline import Pipeline

from sklearn_ser.datasets import load_corpus, make_emotional_speech, save_corpus
from sklearn_ser.features import FrameAverager, OpenSmileFrames, SpeakerStandardizer
from sklearn_ser.metrics import ser_scoring
from sklearn_ser.models import BLSTMAttentionClassifier

QUICK = os.environ.get("SKLEARN_SER_QUICK") == "1"
folder = tempfile.mkdtemp(prefix="my_corpus_")
paths = save_corpus(make_emotional_speech(60 if QUICK else 300,
                                          emotions_per_speaker=1, random_state=0),
                    folder)

# %%
# Your files look like this:
print(pd.read_csv(paths.ratings).head())
print(pd.read_csv(paths.metadata)[["utterance", "speaker", "session"]].head(3))

# %%
# 1. Load. ``classes`` are the labels that win the majority vote of at least
# one utterance (a label picked only as a stray second choice is not a class;
# ``classes_report`` says what was left out).
data = load_corpus(paths.audio_dir, paths.ratings, paths.metadata)
print(data.classes, data.classes_report["left_out"])
X, y = data.utterances, data.annotations  # y: one column per rater

# %%
# 2. The pipeline. ``SpeakerStandardizer()`` decides per training fold whether
# to z-score per speaker or globally: here speaker predicts emotion, so
# per-speaker z-scores would remove the emotion with the voice, and it
# chooses global. The network takes the rater table as ``y`` and learns soft
# targets from every rating, for a fixed 20 epochs on every training speaker:
# holding out speakers for early stopping would take their emotions away from
# training when each speaker shows one (eGeMAPS frames and this schedule were
# measured on three corpora, BENCHMARKS.md).
pipe = Pipeline([
    ("lld", OpenSmileFrames("eGeMAPSv02", memory=os.path.join(folder, "cache"),
                            progress=False)),
    ("norm", SpeakerStandardizer()),
    ("pool", FrameAverager(10)),
    ("clf", BLSTMAttentionClassifier("soft", classes=data.classes, lr=3e-3,
                                     max_epochs=3 if QUICK else 20,
                                     validation_fraction=None, random_state=0)),
])

# %%
# 3. Cross-validate, leaving one session out (no speaker in both training and
# test). ``ser_scoring`` scores against the majority of each test utterance's
# ratings; utterances without one are predicted but not scored (counted).
cv = cross_validate(pipe, X, y, groups=X["session"], cv=LeaveOneGroupOut(),
                    scoring=ser_scoring(data.classes, warn=False),
                    return_estimator=True)

# %%
# 4. The table: one row per held-out session, and what normalisation each
# fold chose (from its training data only).
table = pd.DataFrame({
    "UAR": cv["test_uar"], "WA": cv["test_wa"],
    "normalisation": [e.named_steps["norm"].mode_ for e in cv["estimator"]],
    "speaker explains": [f"{e.named_steps['norm'].speaker_dependence_:.0%}"
                         for e in cv["estimator"]],
}, index=pd.Index(sorted(X["session"].unique()), name="test session"))
print(table.round(3))
print("mean UAR", round(table["UAR"].mean(), 3))
