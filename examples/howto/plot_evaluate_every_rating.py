"""
Evaluating against every rating
===============================

UAR and WA judge a model against the hard majority of the ratings and leave
out every utterance without one (91 of 535 on EmoDB-crowd). The raters'
*distribution* is richer: it says an utterance is 60 % anger and 40 %
frustration, and it exists for every rated utterance. ``sklearn_ser.metrics``
scores probabilities against it:

* ``soft_log_loss`` (NLL on the vote shares), ``jensen_shannon_divergence``
  and ``soft_brier_score``: how far the predicted distribution is from the
  raters' (lower is better);
* ``all_inclusive_f1``: EMO-SUPERB's rule, vote shares and probabilities
  binarised at 1/C, macro-F1 on *every* rated utterance (higher is better);
* ``expected_calibration_error``: does a 0.8 confidence mean 80 % correct?
* ``krippendorff_alpha``: the raters' agreement, and with the model as one
  more rater (a model that agrees like a rater raises it);
* ``agreement_report``: every score per agreement level.

``ser_scoring(classes)`` offers them as scorers (one ``predict_proba`` per fold),
so ``cross_validate`` and ``GridSearchCV(refit="neg_soft_log_loss")`` use them.

The ranking can change. Measured with the command line on EmoDB-crowd (3
seeds, leave-one-session-out; BENCHMARKS.md, "Scores against every rating"):

====================  ===============  ============  =========  =========  =========
method                UAR vs majority  all-incl. F1  soft NLL   JS         ECE
====================  ===============  ============  =========  =========  =========
every_rating_egemaps  **66.9**         0.555         1.642      0.343      0.171
logreg_egemaps        62.4             0.551         **1.610**  0.344      0.150
crowd_soft_x5         62.1             **0.576**     1.682      0.406      0.319
mlee_only             50.6             0.573         1.628      0.384      0.206
stacked               57.0             0.548         1.878      **0.331**  0.127
noisy_meta            50.5             0.506         1.730      0.364      **0.067**
====================  ===============  ============  =========  =========  =========

The best consensus model (the every-rating logistic regression) is not the
best on every rating: the soft-target networks lead the all-inclusive F1
(``mlee_only``, ninth on UAR, is fourth there), the plain logistic regression
is closest in soft NLL, the stacked model in Jensen-Shannon divergence, and
the noisy-label model is the best calibrated. This page runs the comparison for two
logistic regressions on eGeMAPS functionals (trained on the majority, or on
every rating) on a generated corpus (EmoDB-crowd when ``../shared/data`` is
there and the page is not in quick mode).
"""

# %%
import os
from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import LeaveOneGroupOut
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from sklearn_ser.annotations import HardLabels
from sklearn_ser.datasets import load_emodb, make_emotional_speech
from sklearn_ser.features import (
    FrameStatistics,
    OpenSmileFunctionals,
    SpeakerStandardizer,
)
from sklearn_ser.metrics import (
    agreement_report,
    all_inclusive_f1,
    expected_calibration_error,
    jensen_shannon_divergence,
    krippendorff_alpha,
    soft_log_loss,
    unweighted_average_recall,
)
from sklearn_ser.models import EveryRatingClassifier
from sklearn_ser.plotting import plot_reliability

pd.set_option("display.width", 120)
QUICK = os.environ.get("SKLEARN_SER_QUICK") == "1"
EMODB = Path("../shared/data/emodb")
if not QUICK and EMODB.is_dir():
    data = load_emodb(EMODB)
    groups = data.utterances["session"]
else:
    data = make_emotional_speech(60 if QUICK else 300, random_state=0)
    groups = data.utterances["session"]
u, ratings = data.utterances, data.annotations
classes = list(HardLabels().fit(ratings).classes_)
func = OpenSmileFunctionals("eGeMAPSv02", output="frames",
                            progress=False).fit_transform(u)


def model(targets):
    return make_pipeline(
        SpeakerStandardizer(), FrameStatistics(), StandardScaler(),
        EveryRatingClassifier(LogisticRegression(C=1e-2, max_iter=2000),
                              targets=targets, classes=classes, random_state=0))


# %%
# Out-of-fold probabilities of each model, leave one session out.
# (scikit-learn's ``cross_val_predict(method="predict_proba")`` label-encodes
# ``y`` and so cannot pass ratings on; the loop is the same thing.)
def out_of_fold_proba(estimator):
    p = np.zeros((len(func), len(classes)))
    for train, test in LeaveOneGroupOut().split(func, groups=groups):
        fitted = estimator.fit(func.iloc[train], ratings.iloc[train])
        p[test] = fitted.predict_proba(func.iloc[test])
    return p


majority = HardLabels(classes).fit(ratings).transform(ratings)
has_majority = majority.notna().to_numpy()
proba, rows = {}, {}
for name in ("majority", "shares"):
    p = out_of_fold_proba(model(name))
    proba[name] = p
    pred = np.asarray(classes, dtype=object)[p.argmax(axis=1)]
    kw = {"classes": classes}
    rows[f"trained on {name}"] = {
        "UAR vs majority": unweighted_average_recall(
            majority[has_majority], pred[has_majority], labels=classes),
        "all-inclusive F1": all_inclusive_f1(ratings, p, **kw),
        "soft NLL": soft_log_loss(ratings, p, **kw),
        "JS divergence": jensen_shannon_divergence(ratings, p, **kw),
        "ECE": expected_calibration_error(ratings, p, **kw),
        "alpha with model": krippendorff_alpha(ratings, pred, **kw).with_model,
    }
table = pd.DataFrame(rows).T.round(3)
print(f"raters' own alpha: {krippendorff_alpha(ratings, classes=classes).raters:.3f}")
print(table)

# %%
# Scores by agreement level: clear utterances (most raters agree) to the
# bottom. The distribution scores cover the ambiguous utterances that UAR
# leaves out.
print(agreement_report(ratings, proba["shares"], classes=classes).round(3))

# %%
# Reliability diagram: accuracy against the majority by confidence
fig = plot_reliability(proba, ratings, classes)
