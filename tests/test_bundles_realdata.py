"""Saved models on real audio (issue 45, ``realdata`` tier): a network and a
functionals baseline trained on part of EmoDB, saved, and labelling EmoDB
WAV and ASED FLAC files through ``sklearn-ser predict`` as the loaded model
does; silero-vad finding the utterances of a recording made of EmoDB files
with pauses."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import soundfile as sf

from sklearn_ser import load_model
from sklearn_ser.datasets import load_emodb
from sklearn_ser.experiments._cli import main
from sklearn_ser.experiments._segments import speech_regions

pytestmark = [pytest.mark.realdata, pytest.mark.filterwarnings(
    "ignore::sklearn_ser.exceptions.RareClassWarning",
    "ignore::sklearn_ser.exceptions.UnvoicedWarning",
    "ignore::sklearn_ser.exceptions.AbsentClassWarning")]


@pytest.fixture(scope="module")
def emodb_part(emodb_root, tmp_path_factory):
    """120 EmoDB utterances of four speakers as a corpus folder (links to the
    audio, no copy)."""
    data = load_emodb(emodb_root)
    u = data.utterances
    keep = u[u["speaker"].isin(sorted(u["speaker"].unique())[:4])].index[:120]
    folder = tmp_path_factory.mktemp("emodb") / "part"
    (folder / "wav").mkdir(parents=True)
    for uid in keep:
        (folder / "wav" / f"{uid}.wav").symlink_to(u.loc[uid, "path"])
    u.loc[keep].drop(columns="path").to_csv(folder / "metadata.csv")
    from sklearn_ser.annotations import to_long

    to_long(data.annotations.loc[keep]).to_csv(folder / "ratings.csv", index=False)
    return folder


@pytest.mark.parametrize("method", ["logreg_egemaps", "crowd_soft"])
def test_a_model_trained_on_emodb_labels_wav_and_flac(emodb_part, shared_data,
                                                      tmp_path, method,
                                                      emodb_feature_cache):
    bundle = tmp_path / "model"
    assert main(["fit", "--corpus", str(emodb_part), "--method", method, "--out",
                 str(bundle), "--quick", "--no-progress", "--n-jobs", "1",
                 "--cache", str(emodb_feature_cache)]) == 0
    files = sorted((emodb_part / "wav").glob("*.wav"))[:3]
    ased = shared_data / "ased" / "flac"
    if ased.is_dir():
        files += sorted(ased.glob("*.flac"))[:3]
    out = tmp_path / "p.csv"
    assert main(["predict", str(bundle), *map(str, files), "--out", str(out),
                 "--no-progress", "--n-jobs", "1"]) == 0
    table = pd.read_csv(out, index_col=0)
    model = load_model(bundle)
    direct = model.predict_proba(pd.DataFrame({"path": [str(f) for f in files]}))
    p = table[[f"p_{c}" for c in model.classes_]].to_numpy()
    np.testing.assert_allclose(p, direct, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(p.sum(axis=1), 1.0, rtol=1e-6)


def _long_recording(emodb_root):
    """Eight EmoDB files with pauses of 0.8-1.5 s, at 16 kHz, and their
    spans."""
    data = load_emodb(emodb_root)
    paths = list(data.utterances["path"].iloc[:8])
    rate = 16000
    rng = np.random.default_rng(0)
    pieces, truth, pos = [], [], 0.0
    for p in paths:
        wave, r = sf.read(p, dtype="float32")
        if r != rate:  # EmoDB's copy is at 16 kHz or 22.05 kHz
            from math import gcd

            from scipy.signal import resample_poly

            g = gcd(rate, r)
            wave = resample_poly(wave, rate // g, r // g).astype(np.float32)
        pause = np.zeros(int(rng.uniform(0.8, 1.5) * rate), np.float32)
        truth.append((pos, pos + len(wave) / rate))
        pieces += [wave, pause]
        pos += (len(wave) + len(pause)) / rate
    return np.concatenate(pieces), rate, truth


def test_silero_vad_finds_the_utterances_of_a_long_recording(emodb_root):
    wave, rate, truth = _long_recording(emodb_root)
    regions = speech_regions(wave, rate)

    def iou(a, b):
        inter = max(0.0, min(a[1], b[1]) - max(a[0], b[0]))
        return inter / (max(a[1], b[1]) - min(a[0], b[0]))

    found = [max(iou(t, r) for r in regions) >= 0.5 for t in truth]
    assert sum(found) >= 7, (truth, regions)
    assert len(regions) <= len(truth) + 2


def test_predict_segments_a_long_recording_into_speech_regions(emodb_root,
                                                               emodb_part, tmp_path,
                                                               emodb_feature_cache):
    bundle = tmp_path / "model"
    assert main(["fit", "--corpus", str(emodb_part), "--method", "logreg_egemaps",
                 "--out", str(bundle), "--no-progress", "--n-jobs", "1",
                 "--cache", str(emodb_feature_cache)]) == 0
    wave, rate, truth = _long_recording(emodb_root)
    sf.write(tmp_path / "call.flac", wave, rate)
    out = tmp_path / "p.csv"
    assert main(["predict", str(bundle), str(tmp_path / "call.flac"), "--segment",
                 "auto", "--out", str(out), "--no-progress", "--n-jobs", "1"]) == 0
    table = pd.read_csv(out, index_col=0)
    assert len(truth) - 1 <= len(table) <= len(truth) + 2
    assert (table["start"] < table["end"]).all()
    assert table["end"].max() <= len(wave) / rate + 1e-6
    assert all("@" in i for i in table.index)
    np.testing.assert_allclose(table.filter(like="p_").sum(axis=1), 1.0, rtol=1e-6)
