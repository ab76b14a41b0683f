"""Every encoder's targets on every corpus at hand, saved or compared.

Used to show that a change of the annotation layer leaves the targets of
unambiguous inputs bit-identical::

    python benchmarks/snapshot_targets.py save /tmp/before.pkl   # old code
    python benchmarks/snapshot_targets.py compare /tmp/before.pkl  # new code

Corpora: EmoDB-crowd and EmoDB-confounded (real audio ids, simulated raters;
../shared/data), CREMA-D's real vote counts, ABAW's real per-rater table, the
IEMOCAP and CREMA-D fixtures of the test suite, and generated crowds. Each
corpus is given as ratings, as the wide table, and (for one-rater forms) as
labels; every encoder of the package is run on each form.
"""

from __future__ import annotations

import pickle
import sys
import warnings
from pathlib import Path

import numpy as np
import pandas as pd

from sklearn_ser.annotations import (
    AggregatedLabels,
    ExistenceLabels,
    HardLabels,
    RaterLabels,
    SoftLabels,
    infer_classes,
    rater_profiles,
    to_wide,
)
from sklearn_ser.datasets import (
    load_abaw,
    load_crema_d,
    load_emodb,
    load_iemocap,
    make_emotional_speech,
)

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT.parent / "shared" / "data"
FIXTURES = ROOT / "tests" / "fixtures"


def corpora():
    out = {}
    if (DATA / "emodb").is_dir():
        out["emodb"] = load_emodb(DATA / "emodb").annotations
        out["emodb_confounded"] = load_emodb(
            DATA / "emodb", emotions_per_speaker=2).annotations
    if (DATA / "crema-d").is_dir():
        out["crema_votes"] = load_crema_d(DATA / "crema-d").annotations
    if (DATA / "abaw").is_dir():
        out["abaw"] = load_abaw(DATA / "abaw" / "assessment.csv").annotations
    out["iemocap_fixture"] = load_iemocap(FIXTURES / "iemocap").annotations
    out["crema_fixture"] = load_crema_d(FIXTURES / "crema_d").annotations
    for seed in (0, 1):
        out[f"generated_{seed}"] = make_emotional_speech(
            n_utterances=60, n_speakers=4, n_sessions=2, raters=8,
            random_state=seed).annotations
    out["generated_sparse"] = make_emotional_speech(
        n_utterances=120, n_speakers=4, n_sessions=2, raters=40, min_raters=3,
        random_state=3).annotations
    return out


def forms(y):
    yield "as_loaded", y
    if isinstance(y, pd.Series) and str(y.dtype) == "ratings":
        yield "wide", to_wide(y)


def _plain(value):
    if isinstance(value, pd.DataFrame | pd.Series):
        return value.copy()
    return value


def targets(y):
    res = {}
    is_votes = isinstance(y, pd.DataFrame) and all(
        pd.api.types.is_numeric_dtype(t) for t in y.dtypes)
    try:
        classes = infer_classes(y)
    except Exception as exc:  # noqa: BLE001 - recorded, compared as text
        classes = None
        res["infer_classes"] = repr(exc)
    else:
        res["infer_classes"] = classes
    encs = {
        "hard": HardLabels(),
        "hard_first": HardLabels(votes="first"),
        "hard_abs": HardLabels(rule="absolute"),
        "hard_tb": HardLabels(tie_break="first_choice"),
        "hard_cls": HardLabels(classes),
        "soft": SoftLabels(),
        "soft_cls": SoftLabels(classes, alpha=0.5),
        "soft_0": SoftLabels(classes, alpha=0.0),
        "exist": ExistenceLabels(),
        "exist_cls": ExistenceLabels(classes, min_votes=2),
    }
    if not is_votes:
        raters = list(y.columns) if isinstance(y, pd.DataFrame) else list(
            y.ratings.raters)
        for r in raters[:3]:
            for kind in ("soft", "hard", "existence"):
                encs[f"rater_{r}_{kind}"] = RaterLabels(r, kind, classes=classes)
        encs["ds_soft"] = AggregatedLabels(classes=classes)
        encs["ds_hard"] = AggregatedLabels(output="hard", classes=classes)
    for name, enc in encs.items():
        try:
            enc.fit(y)
            res[name] = (_plain(enc.transform(y)), _plain(enc.target_status(y)))
        except Exception as exc:  # noqa: BLE001
            res[name] = repr(exc)
    if not is_votes and classes is not None:
        try:
            res["profiles"] = rater_profiles(y, classes)
        except Exception as exc:  # noqa: BLE001
            res["profiles"] = repr(exc)
    return res


def snapshot():
    out = {}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for cname, y in corpora().items():
            for fname, yy in forms(y):
                out[(cname, fname)] = targets(yy)
    return out


def _same(a, b):
    if type(a) is not type(b):
        return False
    if isinstance(a, tuple):
        return len(a) == len(b) and all(_same(x, z) for x, z in zip(a, b, strict=True))
    if isinstance(a, pd.DataFrame | pd.Series):
        try:
            pd.testing.assert_frame_equal(a, b, check_exact=True) if isinstance(
                a, pd.DataFrame) else pd.testing.assert_series_equal(
                a, b, check_exact=True)
        except AssertionError:
            return False
        return True
    if isinstance(a, np.ndarray):
        return np.array_equal(a, b)
    return a == b


def main(argv):
    if len(argv) != 3 or argv[1] not in ("save", "compare"):
        print(__doc__)
        return 2
    snap = snapshot()
    if argv[1] == "save":
        with open(argv[2], "wb") as fh:
            pickle.dump(snap, fh)
        print(f"saved {sum(len(v) for v in snap.values())} targets of "
              f"{len(snap)} (corpus, form) pairs")
        return 0
    with open(argv[2], "rb") as fh:
        old = pickle.load(fh)
    n = differ = 0
    for key, res in old.items():
        new = snap.get(key, {})
        for name, value in res.items():
            n += 1
            if name not in new or not _same(value, new[name]):
                differ += 1
                print(f"DIFFERS {key} {name}:\n  before {str(value)[:300]}\n"
                      f"  after  {str(new.get(name))[:300]}")
    print(f"{n} targets compared over {len(old)} (corpus, form) pairs; "
          f"{differ} differ")
    return 1 if differ else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
