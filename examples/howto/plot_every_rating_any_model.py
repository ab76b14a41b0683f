"""
Every rating, any scikit-learn model
====================================

A logistic regression on openSMILE functionals is a strong baseline for
speech emotion recognition. Trained on the majority vote it throws away what
the raters disagreed about. ``EveryRatingClassifier`` gives it every rating
instead: each utterance once per emotion its raters chose, weighted by the
share of the crowd that chose it, and (``refine``) re-weighted by learning
from crowds, where the classifier's out-of-fold view of the voice and each
rater's reliability decide together what each utterance most likely is.

The functionals are normalised per speaker (or globally, decided from the
training ratings) inside the pipeline: ``OpenSmileFunctionals(output=
"frames")`` keeps the speaker column, ``FrameStatistics`` turns the result
back into a 2-D array.

In quick mode (``SKLEARN_SER_QUICK=1``: the test suite, and a quick docs
build) this page runs on a small generated corpus: its figures then show that
the code runs, not what the method achieves (see BENCHMARKS.md, "Every
rating, any model").
"""

# %%
import os

import pandas as pd
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import LeaveOneGroupOut, cross_val_predict
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from sklearn_ser.datasets import make_emotional_speech
from sklearn_ser.features import (
    FrameStatistics,
    OpenSmileFunctionals,
    SpeakerStandardizer,
)
from sklearn_ser.metrics import unweighted_average_recall
from sklearn_ser.models import EveryRatingClassifier

QUICK = os.environ.get("SKLEARN_SER_QUICK") == "1"
data = make_emotional_speech(60 if QUICK else 300, random_state=0)
u, ratings, classes = data.utterances, data.annotations, data.classes
# functionals once (cache them with memory="..." on real corpora)
func = OpenSmileFunctionals("eGeMAPSv02", output="frames",
                            progress=False).fit_transform(u)


def model(**params):
    return make_pipeline(
        SpeakerStandardizer(), FrameStatistics(), StandardScaler(),
        EveryRatingClassifier(LogisticRegression(C=1e-2, max_iter=2000),
                              classes=classes, random_state=0, **params))


# %%
# Leave-one-session-out, scored against the emotion the speaker intended
rows = {}
for name, params in {"majority vote": dict(targets="majority"),
                     "every rating (vote shares)": dict(targets="shares"),
                     "every rating, refined": dict(targets="shares", refine=2)
                     }.items():
    pred = cross_val_predict(model(**params), func, ratings, groups=u["session"],
                             cv=LeaveOneGroupOut())
    rows[name] = unweighted_average_recall(u["intended"], pred, labels=classes)
print(pd.Series(rows, name="UAR vs intended").round(3))

# %%
# What the refined model learned about the raters: each one's probability of
# naming the emotion the crowd and the voice agree on
fitted = model(targets="shares", refine=2).fit(func, ratings)[-1]
reliability = pd.Series(
    fitted.rater_confusion_.diagonal(axis1=1, axis2=2).mean(axis=1),
    index=fitted.raters_, name="reliability")
print(reliability.sort_values().round(2))
