"""
Choosing speaker normalisation
==============================

Voices differ more between speakers than between emotions of one speaker, so
features are usually z-scored per speaker. ``SpeakerStandardizer`` offers
the modes ``"speaker"`` (each speaker's own statistics; a test speaker
uses the frames of its own test utterances, so it needs several of them),
``"utterance"`` (each utterance on its own: removes level and range, which
also carry emotion), ``"global"`` (one mean and scale from the training
data), ``"none"``, and ``"auto"``, the default, which decides in ``fit`` from
the training labels: per speaker, unless the speaker predicts the label.

Per-speaker z-scores are right when every speaker shows the corpus' mix of
emotions (acted corpora, IEMOCAP). When each speaker shows one emotion, or a
few, as in many naturalistic corpora, removing a speaker's mean removes
their emotion too. This example compares the modes on both kinds of corpus,
leave-one-session-out with a fast model: mean and standard deviation of the
frames + a linear SVM on the majority labels. (With ``SKLEARN_SER_QUICK=1``
the corpora have 100 utterances and the figures are noisy.)
"""

# %%
import os
import warnings

import numpy as np
import pandas as pd
from sklearn.model_selection import LeaveOneGroupOut, cross_validate
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import FunctionTransformer, StandardScaler
from sklearn.svm import LinearSVC

from sklearn_ser.annotations import HardLabels
from sklearn_ser.datasets import make_emotional_speech
from sklearn_ser.exceptions import SpeakerConfoundWarning
from sklearn_ser.features import OpenSmileFrames, SpeakerStandardizer
from sklearn_ser.metrics import ser_scoring

QUICK = os.environ.get("SKLEARN_SER_QUICK") == "1"
n = 100 if QUICK else 500
corpora = {
    "every emotion per speaker": make_emotional_speech(n, random_state=2),
    "one emotion per speaker": make_emotional_speech(n, emotions_per_speaker=1,
                                                     random_state=2),
}


def mean_std(X):
    """One vector per utterance: the mean and standard deviation of its frames."""
    return np.stack([np.r_[f.mean(0), f.std(0)] for f in X["frames"]])


# %%
# The SVM learns from the majority; utterances without one are left out of
# training here, and of the scores (counted by ser_scoring). The speaker
# explains a share of the label entropy (``speaker_dependence_``) that
# ``"auto"`` compares with its threshold (30 %).
rows = {}
for corpus, data in corpora.items():
    frames = OpenSmileFrames("emobase45", progress=False).fit_transform(
        data.utterances)
    y = HardLabels(data.classes).fit_transform(data.annotations)
    ok = y.notna().to_numpy()
    for mode in ("none", "global", "speaker", "utterance", "auto"):
        steps = [] if mode == "none" else [SpeakerStandardizer(mode)]
        pipe = make_pipeline(*steps, FunctionTransformer(mean_std), StandardScaler(),
                             LinearSVC(C=0.01, class_weight="balanced"))
        with warnings.catch_warnings():  # "speaker" warns on the second corpus
            warnings.simplefilter("ignore", SpeakerConfoundWarning)
            cv = cross_validate(pipe, frames[ok], y[ok].astype(str),
                                groups=data.utterances["session"][ok],
                                cv=LeaveOneGroupOut(), return_estimator=True,
                                scoring=ser_scoring(data.classes, per_class=False,
                                                    warn=False))
        chosen = ""
        if mode == "auto":
            picks = [e.steps[0][1].mode_ for e in cv["estimator"]]
            chosen = f"{picks.count('speaker')} speaker / {picks.count('global')} " \
                     "global"
        rows[corpus, mode] = {"UAR": cv["test_uar"].mean(),
                              "WA": cv["test_wa"].mean(), "auto chose": chosen}
print(pd.DataFrame(rows).T.astype({"UAR": float, "WA": float}).round(3))
