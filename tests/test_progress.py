"""progress=True on the multi-stage meta-estimators: a bar over the models
they train, the same fit (issue 20)."""

import numpy as np
import pytest
from test_refit import TINY, one_emotion_speakers

from sklearn_ser.models import (
    BLSTMAttentionClassifier,
    MLEEFusionClassifier,
    StackedAnnotatorClassifier,
)


@pytest.mark.filterwarnings("ignore::sklearn_ser.exceptions.SERWarning")
@pytest.mark.parametrize("make,n_models", [
    (lambda b, p: StackedAnnotatorClassifier(b, components="CrowdHS", progress=p,
                                             random_state=0), 3),
    (lambda b, p: MLEEFusionClassifier(b, progress=p, random_state=0), 3),
    (lambda b, p: MLEEFusionClassifier(b, mode="mlee_only", progress=p,
                                       random_state=0), 1),
])
def test_progress_bar_over_the_models(capsys, make, n_models):
    X, y = one_emotion_speakers()
    base = BLSTMAttentionClassifier(**{**TINY, "max_epochs": 2,
                                       "validation_fraction": None})
    quiet = make(base, False).fit(X, y)
    assert capsys.readouterr().err == ""
    shown = make(base, True).fit(X, y)
    err = capsys.readouterr().err
    assert type(shown).__name__ in err and f"{n_models}/{n_models}" in err
    np.testing.assert_allclose(quiet.predict_proba(X), shown.predict_proba(X),
                               rtol=1e-6)
