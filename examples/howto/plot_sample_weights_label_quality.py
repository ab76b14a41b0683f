"""
Learned sample weights as label-quality scores
==============================================

``NoisyLabelMetaClassifier`` learns a weight ``w_n`` per training utterance
(Fujioka et al.). The loss of a sample is *divided* by ``w_n``, so **a lower
w means the sample counts more**; a high ``w_n`` marks an utterance the model
learned to trust less. On a generated corpus we know the intended emotion and
how much the raters agreed, so we can check what ``w`` tracks.

In quick mode (``SKLEARN_SER_QUICK=1``: the test suite, and a quick docs
build) this page runs on a small corpus for a few epochs: its figures then
show that the code runs, not what the method achieves (for that, see
BENCHMARKS.md).
"""

# %%
import os

import numpy as np
import pandas as pd
from sklearn.pipeline import make_pipeline

from sklearn_ser.annotations import HardLabels
from sklearn_ser.datasets import make_emotional_speech
from sklearn_ser.features import FrameAverager, OpenSmileFrames, SpeakerStandardizer
from sklearn_ser.metrics import agreement_levels
from sklearn_ser.models import NoisyLabelMetaClassifier

QUICK = os.environ.get("SKLEARN_SER_QUICK") == "1"
data = make_emotional_speech(80 if QUICK else 400, random_state=1)
frames = make_pipeline(OpenSmileFrames("emobase45", progress=False),
                       SpeakerStandardizer(), FrameAverager(10)
                       ).fit_transform(data.utterances)

# %%
model = NoisyLabelMetaClassifier(classes=data.classes, dense_units=128,
                                 lstm_units=32, max_epochs=4 if QUICK else 40,
                                 random_state=0).fit(frames, data.annotations)
w = model.sample_weights_  # by training utterance id

# %%
# Put ``w`` next to what we know about each label.
majority = HardLabels(data.classes).fit_transform(data.annotations)
table = pd.DataFrame({
    "w": w,
    "agreement": agreement_levels(data.annotations, data.classes),
    "majority_is_intended": majority == data.utterances["intended"],
    "label_changed": model.corrected_labels_ != model.gold_labels_,
}).dropna()
print(table.groupby("majority_is_intended")["w"].describe().round(3))
print("Spearman correlation of w with rater agreement:",
      round(table["w"].corr(table["agreement"], method="spearman"), 3))

# %%
# The utterances the model trusts least: read these labels again first.
print(table.sort_values("w", ascending=False).head(10).round(3))
print(f"{int(table['label_changed'].sum())} of {len(table)} labels corrected; "
      f"mean w = {np.mean(w):.2f} (rescaled to 1 after every update)")
