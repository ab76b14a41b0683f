"""
Your own IEMOCAP, CREMA-D or any corpus
=======================================

Point the loaders at your copy: ``load_iemocap`` reads the
``EmoEvaluation`` files of ``IEMOCAP_full_release`` (every evaluator's
labels, several per line kept in order), ``load_crema_d`` reads CREMA-D's
per-rater ``finishedResponses.csv`` or its vote counts. Any other corpus
works in a generic form: a folder of ``<utterance>.wav`` files, a long CSV of
ratings (utterance, rater, label) and a metadata CSV (speaker, session, ...),
read by ``load_corpus``; the command line takes the same form::

    sklearn-ser benchmark --audio-dir wav/ --ratings ratings.csv \\
        --metadata metadata.csv --group-column session --truth-column intended

Set ``SKLEARN_SER_IEMOCAP`` / ``SKLEARN_SER_CREMA_D`` to your copies to run
those parts.
"""

# %%
import os
import tempfile
from pathlib import Path

from sklearn_ser.annotations import HardLabels, SoftLabels
from sklearn_ser.datasets import (
    load_corpus,
    load_crema_d,
    load_iemocap,
    make_emotional_speech,
    save_corpus,
)

QUICK = os.environ.get("SKLEARN_SER_QUICK") == "1"

# %%
# IEMOCAP: four classes, excitement merged into happiness (``label_map``).
if os.environ.get("SKLEARN_SER_IEMOCAP"):
    iemocap = load_iemocap(os.environ["SKLEARN_SER_IEMOCAP"])
    hard = HardLabels(iemocap.classes, label_map=iemocap.label_map)
    print(hard.fit(iemocap.annotations).target_status(iemocap.annotations)
          .value_counts())

# %%
# CREMA-D: per-rater responses when present, else the tabulated votes (which
# the development checkout has in ``../shared/data/crema-d``).
crema = Path(os.environ.get("SKLEARN_SER_CREMA_D", "../../../shared/data/crema-d"))
if crema.is_dir():
    cd = load_crema_d(crema)
    print(cd.source, cd.annotations.shape)
    soft = SoftLabels(cd.classes).fit_transform(cd.annotations)
    print(soft.head().round(2))

# %%
# Any corpus: here a generated one written in the generic form, read back.
data = make_emotional_speech(30 if QUICK else 200, random_state=0)
with tempfile.TemporaryDirectory() as tmp:
    paths = save_corpus(data, tmp)
    print(sorted(p.name for p in Path(tmp).iterdir()))
    corpus = load_corpus(paths.audio_dir, paths.ratings, paths.metadata)
    print(corpus.utterances[["speaker", "session", "intended", "path"]].head(3))
    print(corpus.annotations.head(3))
