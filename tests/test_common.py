"""scikit-learn's estimator checks over every public estimator.

Expected failures are listed per estimator with the reason.
"""

import pickle

import joblib
import pandas as pd
import pytest
from sklearn.base import clone
from sklearn.linear_model import LogisticRegression as _LogReg  # noqa: E402
from sklearn.naive_bayes import GaussianNB as _GaussianNB  # noqa: E402
from sklearn.utils.estimator_checks import parametrize_with_checks

from sklearn_ser.annotations import (
    AggregatedLabels,
    ExistenceLabels,
    HardLabels,
    RaterLabels,
    SoftLabels,
)
from sklearn_ser.features import (
    FrameAverager,
    FrameStatistics,
    LogSpectrogram,
    OpenSmileFrames,
    OpenSmileFunctionals,
    SpeakerStandardizer,
    SpeedPerturbation,
)
from sklearn_ser.models import (
    BLSTMAttentionClassifier,
    CNNBLSTMClassifier,
    EveryRatingClassifier,
    LateFusionClassifier,
    MLEEFusionClassifier,
    NoisyLabelMetaClassifier,
    SeedEnsembleClassifier,
    StackedAnnotatorClassifier,
    SUPERBHeadClassifier,
)

_ONE_D_IS_LABELS = (
    "a 1-D input is one label per utterance by design (annotations may be plain "
    "labels), so fitting on it must succeed"
)
EXPECTED_FAILURES = {
    "HardLabels": {
        "check_fit1d": _ONE_D_IS_LABELS,
        "check_fit2d_predict1d": _ONE_D_IS_LABELS,
    },
    "SoftLabels": {
        "check_fit1d": _ONE_D_IS_LABELS,
        "check_fit2d_predict1d": _ONE_D_IS_LABELS,
    },
    "ExistenceLabels": {
        "check_fit1d": _ONE_D_IS_LABELS,
        "check_fit2d_predict1d": _ONE_D_IS_LABELS,
    },
}


def _expected_failed_checks(estimator):
    return EXPECTED_FAILURES.get(type(estimator).__name__, {})


# Small networks and lr keep the checks fast; the architecture is the same.
MODELS = [
    BLSTMAttentionClassifier(dense_units=16, lstm_units=8, head_units=16, lr=0.01,
                             max_epochs=40, random_state=0),
    CNNBLSTMClassifier(channels=(4, 4, 4), kernels=((3, 3), (3, 3), (3, 3)),
                       lstm_units=8, attention_units=8, head_units=8, lr=0.02,
                       max_epochs=20, random_state=0),
    SUPERBHeadClassifier(hidden_units=16, lr=0.01, max_epochs=40, random_state=0),
]
_TINY = BLSTMAttentionClassifier(dense_units=8, lstm_units=4, head_units=8, lr=0.02,
                                 max_epochs=15, random_state=0)
META = [
    StackedAnnotatorClassifier(_TINY, components="CrowdHS", random_state=0),
    MLEEFusionClassifier(_TINY, mode="pretrain", pretrain_lr=0.02, finetune_lr=0.02,
                         random_state=0),
    # fusion mode with the late blend of the fused and the dominant model:
    # its own predict / predict_proba / decision_function
    MLEEFusionClassifier(_TINY, dominant_weight=0.5, pretrain_lr=0.02,
                         dominant_lr=0.02, fusion_lr=0.02, random_state=0),
    NoisyLabelMetaClassifier(dense_units=8, lstm_units=4, lr=0.02, max_epochs=15,
                             random_state=0),
    SeedEnsembleClassifier(_TINY, n_members=2, random_state=0),
]
ESTIMATORS = [HardLabels(), SoftLabels(), ExistenceLabels(), *MODELS, *META,
              EveryRatingClassifier(), EveryRatingClassifier(refine=1, random_state=0),
              LateFusionClassifier([("lr", _LogReg()), ("nb", _GaussianNB())])]

# Estimators whose input is audio or frame sequences inside an utterance table
# declare ``input_tags.two_d_array = False``: scikit-learn's generic checks,
# which feed numeric 2-D arrays, skip them (SkipTestWarning). Their API
# contract (clone, params, pickling) is tested below and in test_features.py.
AUDIO_OR_SEQUENCE_INPUT = [OpenSmileFrames(), LogSpectrogram(), OpenSmileFunctionals(),
                           SpeakerStandardizer(), FrameAverager(), FrameStatistics(),
                           SpeedPerturbation(),
                           RaterLabels("E1"), AggregatedLabels()]

# Public estimators that neither list can hold, with the reason and the test
# that covers their API instead.
SPECIAL = {
    "FrozenFusionClassifier": "needs fitted encoders whose input size is fixed, so "
    "sklearn's checks (which vary n_features) cannot build one; covered by "
    "test_frozen_fusion_api",
    "SequenceClassifier": "an abstract base (no _build_module)",
    "PretrainedFrames": "needs a speech model (a folder or a model object), "
    "which sklearn's checks cannot give; its API (clone, params, pickling, "
    "joblib in a fitted pipeline) is covered by tests/test_pretrained.py",
    "BaseTargetEncoder": "an abstract base (no transform); every encoder derived "
    "from it is checked",
}


def _public_estimators():
    """Every estimator class named in a sub-package's ``__all__``."""
    import importlib

    from sklearn.base import BaseEstimator

    found = {}
    for sub in ("annotations", "features", "models", "metrics", "datasets",
                "plotting"):
        module = importlib.import_module(f"sklearn_ser.{sub}")
        for name in getattr(module, "__all__", []):
            obj = getattr(module, name)
            if isinstance(obj, type) and issubclass(obj, BaseEstimator):
                found[name] = obj
    return found


def test_every_public_estimator_is_checked():
    covered = {type(e).__name__ for e in [*ESTIMATORS, *AUDIO_OR_SEQUENCE_INPUT]}
    public = _public_estimators()
    assert len(public) >= 15
    missing = sorted(set(public) - covered - set(SPECIAL))
    assert not missing, f"public estimators without common checks: {missing}"


def test_frozen_fusion_api():
    import numpy as np

    from sklearn_ser.models import FrozenFusionClassifier

    rng = np.random.default_rng(0)
    X = [rng.normal(size=(6, 3)).astype(np.float32) for _ in range(24)]
    y = ["a", "b", "c"] * 8
    base = clone(_TINY).set_params(max_epochs=2, validation_fraction=None).fit(X, y)
    fusion = FrozenFusionClassifier(encoders=[base.net_.module_], max_epochs=2,
                                    validation_fraction=None, random_state=0)
    assert clone(fusion).get_params().keys() == fusion.get_params().keys()
    fitted = clone(fusion).fit(X, y)
    restored = pickle.loads(pickle.dumps(fitted))
    np.testing.assert_allclose(restored.predict_proba(X), fitted.predict_proba(X),
                               rtol=1e-5)


@pytest.mark.filterwarnings("ignore::sklearn_ser.exceptions.SERWarning")
@parametrize_with_checks(ESTIMATORS, expected_failed_checks=_expected_failed_checks)
def test_sklearn_compatible_estimator(estimator, check):
    check(estimator)


@pytest.mark.parametrize("estimator", AUDIO_OR_SEQUENCE_INPUT,
                         ids=lambda e: type(e).__name__)
def test_audio_and_sequence_estimators_declare_their_input(estimator):
    from sklearn.utils import get_tags

    assert get_tags(estimator).input_tags.two_d_array is False
    assert clone(estimator).get_params() == estimator.get_params()


def test_rater_labels_api():
    """RaterLabels needs named rater columns, which sklearn's generic checks
    (numeric arrays) do not have; its API contract is checked here instead."""
    table = pd.DataFrame({"E1": [("sad",), ("neu",)], "E2": [("ang",), None]},
                         dtype=object)
    enc = RaterLabels("E1", classes=["anger", "neutral", "sadness"])
    fitted = clone(enc).fit(table)
    assert clone(enc).get_params() == enc.get_params()
    restored = pickle.loads(pickle.dumps(fitted))
    pd.testing.assert_frame_equal(restored.transform(table), fitted.transform(table))
    with pytest.raises(Exception, match="not fitted"):
        clone(enc).transform(table)


@pytest.mark.parametrize("estimator", [HardLabels(), SoftLabels(), ExistenceLabels()],
                         ids=lambda e: type(e).__name__)
def test_joblib_roundtrip(estimator, tmp_path):
    table = pd.DataFrame({"E1": [("sad",), ("neu",)], "E2": [("sad",), ("ang",)]},
                         dtype=object)
    fitted = clone(estimator).fit(table)
    joblib.dump(fitted, tmp_path / "enc.joblib")
    restored = joblib.load(tmp_path / "enc.joblib")
    out, ref = restored.transform(table), fitted.transform(table)
    assert out.equals(ref)


def test_every_public_estimator_documents_every_parameter():
    import inspect
    import re

    for name, cls in _public_estimators().items():
        if name in SPECIAL and name != "FrozenFusionClassifier":
            continue
        doc = cls.__doc__ or ""
        assert "Parameters\n    ----------" in doc, f"{name} has no Parameters"
        section = doc.split("Parameters\n    ----------", 1)[1]
        section = re.split(r"\n    [A-Z][a-z]+( [a-z]+)?\n    -{3,}", section)[0]
        documented = set()
        for line in section.splitlines():
            m = re.match(r"^    ([a-z_][a-z_0-9, \\]*?)( : |$)", line)
            if m:
                documented |= {n.strip().strip("\\") for n in m.group(1).split(",")}
        params = [p for p in inspect.signature(cls.__init__).parameters
                  if p != "self"]
        missing = [p for p in params if p not in documented]
        assert not missing, f"{name} does not document {missing}"
