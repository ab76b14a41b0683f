"""scikit-learn's estimator checks over every public estimator.

Expected failures are listed per estimator with the reason.
"""

import pickle

import joblib
import pandas as pd
import pytest
from sklearn.base import BaseEstimator, clone
from sklearn.utils import get_tags
from sklearn.utils.estimator_checks import parametrize_with_checks

from sklearn_ser.annotations import ExistenceLabels, HardLabels, RaterLabels, SoftLabels
from sklearn_ser.models import BLSTMAttentionClassifier

SUB_PACKAGES = ("annotations", "features", "models", "metrics", "datasets",
                "plotting")


def _public_estimators():
    """Every estimator class named in a sub-package's ``__all__``."""
    import importlib

    found = {}
    for sub in SUB_PACKAGES:
        module = importlib.import_module(f"sklearn_ser.{sub}")
        for name in getattr(module, "__all__", []):
            obj = getattr(module, name)
            if isinstance(obj, type) and issubclass(obj, BaseEstimator):
                found[name] = obj
    return found


def _owned(cls, name):
    """A class attribute the class itself sets (not one it inherits)."""
    return cls.__dict__.get(name)


#: Public estimators scikit-learn's checks cannot build, each with the reason
#: it gives (``_no_common_checks``) and the test that covers its API instead.
SPECIAL = {name: _owned(cls, "_no_common_checks")
           for name, cls in _public_estimators().items()
           if _owned(cls, "_no_common_checks")}

#: The instances each estimator gives for the checks (``_test_instances``:
#: small networks and few epochs keep them fast; the architecture is the
#: same), or its default construction.
INSTANCES = [est for name, cls in _public_estimators().items()
             if name not in SPECIAL
             for est in (cls._test_instances() if hasattr(cls, "_test_instances")
                         else [cls()])]

# Estimators whose input is audio (the extractors, speed perturbation) or a
# table of named raters (RaterLabels, AggregatedLabels) declare
# ``input_tags.two_d_array = False``: a numeric 2-D array is no such input, and
# scikit-learn's generic checks, which feed one, skip them (SkipTestWarning).
# Their API contract (clone, params, pickling) is tested below and in
# test_features.py. The frame transformers (FrameAverager, FrameStatistics,
# SpeakerStandardizer, PredictionStandardizer) read a 2-D array as one frame
# per row and take every generic check.
AUDIO_OR_SEQUENCE_INPUT = [e for e in INSTANCES
                           if get_tags(e).input_tags.two_d_array is False]
ESTIMATORS = [e for e in INSTANCES if get_tags(e).input_tags.two_d_array]


def _expected_failed_checks(estimator):
    """Each estimator lists its expected failures with the reason."""
    listed = getattr(estimator, "_expected_failed_checks", None)
    return listed() if listed is not None else {}


_TINY = BLSTMAttentionClassifier._tiny()


def test_every_public_estimator_is_checked():
    covered = {type(e).__name__ for e in INSTANCES}
    public = _public_estimators()
    assert len(public) >= 15
    missing = sorted(set(public) - covered - set(SPECIAL))
    assert not missing, f"public estimators without common checks: {missing}"
    # the networks and meta-estimators are all in the generic checks
    generic = {type(e).__name__ for e in ESTIMATORS}
    assert {"BLSTMAttentionClassifier", "CNNBLSTMClassifier", "SUPERBHeadClassifier",
            "StackedAnnotatorClassifier", "MLEEFusionClassifier",
            "NoisyLabelMetaClassifier", "SeedEnsembleClassifier",
            "EveryRatingClassifier", "LateFusionClassifier", "HardLabels",
            "SoftLabels", "ExistenceLabels"} <= generic


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
