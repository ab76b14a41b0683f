"""sklearn-ser pipelines on a local Dask cluster through joblib's dask backend."""

import joblib
import numpy as np
import pytest
from sklearn.model_selection import GridSearchCV, LeaveOneGroupOut

from sklearn_ser.datasets import make_emotional_speech
from sklearn_ser.features import FrameAverager, OpenSmileFrames, SpeakerStandardizer
from sklearn_ser.metrics import ser_scoring
from sklearn_ser.models import BLSTMAttentionClassifier

distributed = pytest.importorskip("distributed")

pytestmark = pytest.mark.filterwarnings(
    "ignore::sklearn_ser.exceptions.SERWarning",
    # dask's own notices about ports and the local cluster's lifetime
    "ignore::UserWarning:distributed",
    "ignore::DeprecationWarning",
    "ignore:.*[Pp]ort.*:UserWarning",
)


@pytest.fixture(scope="module")
def cluster():
    from distributed import Client, LocalCluster

    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                      dashboard_address=None) as lc, Client(lc) as client:
        yield client


@pytest.fixture(scope="module")
def corpus():
    return make_emotional_speech(36, n_speakers=6, n_sessions=3, random_state=5)


def test_feature_extraction_across_workers_shares_the_cache(cluster, corpus, tmp_path):
    cache = tmp_path / "cache"
    extractor = OpenSmileFrames("emobase45", progress=False)
    local = extractor.fit_transform(corpus.utterances)
    with joblib.parallel_backend("dask"):
        remote = OpenSmileFrames("emobase45", n_jobs=-1, memory=cache,
                                 progress=False).fit_transform(corpus.utterances)
    for a, b in zip(local["frames"], remote["frames"], strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-5)
    files = list((cache / "sklearn_ser_features").rglob("*"))
    assert len([f for f in files if f.is_file()]) >= len(corpus.utterances)
    # a second run on the cluster reads what the workers wrote
    stamp = {f: f.stat().st_mtime_ns for f in files if f.is_file()}
    with joblib.parallel_backend("dask"):
        again = OpenSmileFrames("emobase45", n_jobs=-1, memory=cache,
                                progress=False).fit_transform(corpus.utterances)
    assert {f: f.stat().st_mtime_ns for f in stamp} == stamp
    np.testing.assert_array_equal(again["frames"].iloc[0], remote["frames"].iloc[0])


def test_grid_search_on_the_cluster_matches_a_local_run(cluster, corpus):
    frames = FrameAverager(10).fit_transform(SpeakerStandardizer().fit_transform(
        OpenSmileFrames("emobase45", progress=False).fit_transform(corpus.utterances)))
    est = BLSTMAttentionClassifier(classes=corpus.classes, dense_units=16,
                                   lstm_units=8, head_units=16, max_epochs=2,
                                   random_state=0)
    grid = {"target": ["hard", "soft"], "lr": [1e-3, 3e-3]}

    def search(n_jobs):
        gs = GridSearchCV(est, grid, cv=LeaveOneGroupOut(), n_jobs=n_jobs,
                          scoring=ser_scoring(corpus.classes, per_class=False,
                                              warn=False), refit="uar")
        return gs.fit(frames, corpus.annotations, groups=corpus.utterances["session"])

    local = search(1)
    with joblib.parallel_backend("dask"):
        remote = search(-1)
    np.testing.assert_allclose(remote.cv_results_["mean_test_uar"],
                               local.cv_results_["mean_test_uar"], atol=1e-6)
    assert remote.best_params_ == local.best_params_
    np.testing.assert_array_equal(remote.predict(frames), local.predict(frames))


def _tiny_search(corpus, frames):
    """A 2-candidate search over a tiny BLSTM, fitted on the active backend."""
    gs = GridSearchCV(
        BLSTMAttentionClassifier(classes=corpus.classes, dense_units=8, lstm_units=4,
                                 head_units=8, max_epochs=1, random_state=0),
        {"target": ["hard", "soft"]}, cv=LeaveOneGroupOut(), n_jobs=-1,
        scoring=ser_scoring(corpus.classes, per_class=False, warn=False),
        refit="uar")
    return gs.fit(frames, corpus.annotations, groups=corpus.utterances["session"])


def test_extraction_into_a_shared_store_on_the_cluster(cluster, corpus, tmp_path):
    """Workers extract, frames are written into one store on a shared path,
    and workers of a search read it by its path (not its frames)."""
    local = OpenSmileFrames("emobase45", progress=False).fit_transform(
        corpus.utterances)
    with joblib.parallel_backend("dask"):
        remote = OpenSmileFrames("emobase45", n_jobs=-1, memory=tmp_path,
                                 out_of_core=True, progress=False).fit_transform(
            corpus.utterances)
        fa = remote["frames"].array
        assert fa.on_disk and fa.path.startswith(str(tmp_path))
        for a, b in zip(local["frames"], fa, strict=True):
            np.testing.assert_array_equal(a, b)
        frames = FrameAverager(10).fit_transform(SpeakerStandardizer(
            memory=tmp_path).fit_transform(remote))
        assert frames["frames"].array.on_disk
        gs = _tiny_search(corpus, frames)
    assert np.isfinite(gs.cv_results_["mean_test_uar"]).all()


def test_ray_backend_runs_extraction_and_search(corpus, tmp_path):
    """Ray's joblib backend (optional: ``pip install ray``; not in CI, whose two
    cores pay ~10 s to start Ray and longer for its worker pool)."""
    ray = pytest.importorskip("ray", reason="ray is not installed (optional)")
    from ray.util.joblib import register_ray

    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
    try:
        register_ray()
        with joblib.parallel_backend("ray"):
            frames = OpenSmileFrames("emobase45", n_jobs=-1, memory=tmp_path,
                                     progress=False).fit_transform(corpus.utterances)
            gs = _tiny_search(corpus, frames)
    finally:
        ray.shutdown()
    assert len(frames) == len(corpus.utterances)
    assert np.isfinite(gs.cv_results_["mean_test_uar"]).all()
