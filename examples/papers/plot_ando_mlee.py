"""
Ando et al. (2019): emotion existence helps the dominant emotion
================================================================

``MLEEFusionClassifier`` first trains a multi-label emotion existence (MLEE)
model: a sigmoid per class, "does any rater perceive this emotion?", learned
from every utterance, including those with no majority. Then, by ``mode``:
the arg-max of the existence probabilities (``"mlee_only"``), a classifier on
the frozen MLEE encoder (``"pretrain"``), or the frozen MLEE encoder fused
with a frozen dominant-emotion encoder (``"fusion"``).

The paper's encoder is a CNN on 400-bin spectrograms
(:class:`~sklearn_ser.models.CNNBLSTMClassifier` on
:class:`~sklearn_ser.features.LogSpectrogram`, the estimator's default); on a
CPU this example uses the BLSTM encoder on LLD frames instead.

In quick mode (``SKLEARN_SER_QUICK=1``: the test suite, and a quick docs
build) this page runs on a small corpus for a few epochs: its figures then
show that the code runs, not what the method achieves (for that, see
BENCHMARKS.md).
"""

# %%
import os
from pathlib import Path

import pandas as pd
from sklearn.pipeline import make_pipeline

from sklearn_ser.datasets import load_emodb, make_emotional_speech
from sklearn_ser.features import FrameAverager, OpenSmileFrames, SpeakerStandardizer
from sklearn_ser.models import BLSTMAttentionClassifier, MLEEFusionClassifier

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
# One model per mode, the paper's learning rates (2e-4 pre-training, 1e-4
# fine-tuning, 5e-5 fusion) and Adam; soft fine-tuning targets.
base = BLSTMAttentionClassifier(optimizer="adam", patience=20,
                                validation_fraction=0.25,
                                max_epochs=2 if QUICK else 100)
rows = []
for mode in ("mlee_only", "pretrain", "fusion"):
    model = MLEEFusionClassifier(base, mode=mode, classes=data.classes,
                                 random_state=0).fit(frames[~test], ratings[~test])
    rows.append(model.score_components(frames[test], ratings[test]).loc[[mode]])
print(pd.concat(rows).round(3))

# %%
# The existence probabilities themselves: several emotions can be present.
proba = pd.DataFrame(model.mlee_.predict_proba(frames[test]),
                     columns=model.classes_, index=u.index[test])
print(proba.head().round(2))
