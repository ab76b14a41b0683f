import numpy as np
import pandas as pd
import pytest
import soundfile as sf

from sklearn_ser.annotations import (
    ExistenceLabels,
    HardLabels,
    SoftLabels,
    to_ratings,
    to_wide,
)
from sklearn_ser.datasets import (
    load_abaw,
    load_crema_d,
    load_emodb,
    load_iemocap,
    make_emotional_speech,
    parse_crema_d_name,
)
from sklearn_ser.exceptions import DroppedRowsWarning


# --- IEMOCAP -----------------------------------------------------------------
def test_load_iemocap_fixture(fixtures_dir):
    data = load_iemocap(fixtures_dir / "iemocap")
    u, a = data.utterances, data.annotations
    assert len(u) == 6 and list(a.index) == list(u.index)
    wide = to_wide(a)
    row = u.loc["Ses01F_impro01_M000"]
    assert row["speaker"] == "Ses01M" and row["gender"] == "male"
    assert row["session"] == 1 and row["improvised"]
    assert row["path"].endswith(
        "Session1/sentences/wav/Ses01F_impro01/Ses01F_impro01_M000.wav")
    assert row["activation"] == 3.5 and row["corpus_label"] == "frustration"
    assert not u.loc["Ses01M_script01_1_F000", "improvised"]
    assert pd.isna(u.loc["Ses01F_impro01_F001", "corpus_label"])  # xxx
    assert wide.loc["Ses01F_impro01_M000", "E1"] == ("Frustration", "Anger")
    assert wide.loc["Ses01F_impro01_M000", "M1"] == ("Anger",)
    assert data.actor_raters == ["F1", "M1"]
    assert data.evaluator_raters == ["E1", "E2", "E3", "E4", "E5", "E6"]
    # targets on the usual four classes with excitement merged into happiness
    enc = HardLabels(data.classes, label_map=data.label_map).fit(a)
    labels = enc.transform(a)
    assert labels["Ses01F_impro01_F000"] == "neutral"
    assert labels["Ses01F_impro01_F001"] == "happiness"  # exc+hap 3 vs neu 1
    assert labels["Ses02F_impro02_M000"] == "happiness"
    assert enc.target_status(a)["Ses02F_impro02_F000"] == "no_target"  # other
    # without the self-reports
    no_self = load_iemocap(fixtures_dir / "iemocap", self_reports=False)
    assert list(no_self.annotations.ratings.raters) == data.evaluator_raters
    impro = load_iemocap(fixtures_dir / "iemocap", improvised_only=True, sessions=[1])
    assert len(impro.utterances) == 3


@pytest.mark.parametrize("sessions, match", [
    ("12", "not the string"), ([1, 1], "twice"), ([1, "1"], "twice"),
    ([1, None], "names nothing"), ([1.5], "session numbers"),
    ([True], "session numbers"),
])
def test_load_iemocap_sessions_are_checked_once(fixtures_dir, sessions, match):
    with pytest.raises(ValueError, match=match):
        load_iemocap(fixtures_dir / "iemocap", sessions=sessions)
    one = load_iemocap(fixtures_dir / "iemocap", sessions=1)  # one int is a session
    assert one.utterances.index.equals(
        load_iemocap(fixtures_dir / "iemocap", sessions=["1"]).utterances.index)
    assert set(one.utterances["session"]) == {1}


def test_load_iemocap_errors(tmp_path):
    with pytest.raises(FileNotFoundError, match="does not exist"):
        load_iemocap(tmp_path / "nope")
    with pytest.raises(FileNotFoundError, match="no Session<k> folder"):
        load_iemocap(tmp_path)
    (tmp_path / "Session1" / "dialog" / "EmoEvaluation").mkdir(parents=True)
    (tmp_path / "Session1" / "dialog" / "EmoEvaluation" / "x.txt").write_text(
        "[1.0 - 2.0]\tbroken line\n")
    with pytest.warns(DroppedRowsWarning, match="1 summary line"), \
            pytest.raises(FileNotFoundError, match="no utterance found"):
        load_iemocap(tmp_path)


# --- CREMA-D -----------------------------------------------------------------
def test_load_crema_d_responses_and_votes(fixtures_dir):
    data = load_crema_d(fixtures_dir / "crema_d")
    a = data.annotations
    assert data.source.endswith("finishedResponses.csv")
    assert set(a.ratings.raters) == {"P001", "P002", "P003", "P004"}
    assert a["1001_IEO_NEU_XX"]["P003"] == ("happiness",)
    assert "P004" not in a["1001_IEO_NEU_XX"]  # face-only answer left out
    u = data.utterances
    assert u.loc["1002_DFA_ANG_HI", "gender"] == "female"
    assert u.loc["1001_IEO_HAP_LO", "intended"] == "happiness"
    assert u.loc["1001_IEO_HAP_LO", "level"] == "low"
    votes = load_crema_d(fixtures_dir / "crema_d", source="votes")
    assert list(votes.annotations.columns) == ["anger", "disgust", "fear",
                                               "happiness", "neutral", "sadness"]
    # both sources give the same majority on the fixture
    h1 = HardLabels(data.classes).fit(a).transform(a)
    h2 = HardLabels(data.classes).fit(votes.annotations).transform(votes.annotations)
    pd.testing.assert_series_equal(h1, h2.loc[h1.index], check_names=False,
                                   check_index_type=False)
    face = load_crema_d(fixtures_dir / "crema_d", modality="face", source="votes")
    assert face.annotations.loc["1001_IEO_NEU_XX", "sadness"] == 1


def test_load_crema_d_errors(tmp_path, fixtures_dir):
    with pytest.raises(ValueError, match="modality='smell'"):
        load_crema_d(fixtures_dir / "crema_d", modality="smell")
    with pytest.raises(FileNotFoundError, match="neither finishedResponses"):
        load_crema_d(tmp_path)
    with pytest.raises(ValueError, match="does not follow"):
        parse_crema_d_name("1001_IEO_HAPPY")


# --- EmoDB -------------------------------------------------------------------
def _write_emodb(root, names, ratings=None):
    (root / "wav").mkdir(parents=True)
    for name in names:
        sf.write(root / "wav" / name, np.zeros(1600, dtype=np.float32), 16000)
    if ratings is not None:
        ratings.to_csv(root / "ratings.csv", index=False)


def test_load_emodb_fixture(tmp_path):
    ratings = pd.DataFrame({"utterance": ["03a01Wa", "03a01Wa", "08a02Tb"],
                            "rater": ["E1", "E2", "E1"],
                            "label": ["anger", "anger", "sadness"]})
    _write_emodb(tmp_path, ["03a01Wa.wav", "08a02Tb.wav", "16b10Lb.wav"], ratings)
    data = load_emodb(tmp_path)
    u = data.utterances
    assert u.loc["03a01Wa", "intended"] == "anger"
    assert u.loc["16b10Lb", "intended"] == "boredom"
    assert u.loc["08a02Tb", "gender"] == "female" and u.loc["08a02Tb", "session"] == 1
    assert u.loc["16b10Lb", "session"] == 5
    assert data.annotations["03a01Wa"]["E2"] == ("anger",)
    assert pd.isna(data.annotations["16b10Lb"])  # not rated
    # without ratings.csv the intended emotions are the labels
    other = tmp_path / "plain"
    _write_emodb(other, ["03a01Wa.wav", "bad_name.wav"])
    with pytest.warns(DroppedRowsWarning, match="1 file"):
        plain = load_emodb(other)
    assert plain.annotations.tolist() == ["anger"]


def test_load_emodb_errors(tmp_path):
    with pytest.raises(FileNotFoundError, match="no wav/ folder"):
        load_emodb(tmp_path)


# --- ABAW --------------------------------------------------------------------
def test_load_abaw_rule(tmp_path):
    csv = tmp_path / "assessment.csv"
    csv.write_text(
        "audio,annotator,happy,sad,anger,fear,disgust,surprise,sentiment,notes\n"
        "/x/?d=sample/c1.m4a,1,Moderate,A little,None,None,None,None,1,\n"
        "/x/?d=sample/c1.m4a,2,None,None,None,None,None,None,0,noise\n"
        "/x/?d=sample/1001_SAD_XX_ITS_cremad.m4a,1,None,Extremely,None,None,None,"
        "None,-2,\n"
    )
    data = load_abaw(csv)
    a = data.annotations
    assert a["c1"]["A1"] == ("happiness", "sadness")  # strongest first
    assert a["c1"]["A2"] == ("neutral",)  # chose nothing
    assert data.utterances.loc["1001_SAD_XX_ITS_cremad", "crema_d_name"] == (
        "1001_ITS_SAD_XX")
    strict = load_abaw(csv, threshold="Moderate")
    assert strict.annotations["c1"]["A1"] == ("happiness",)
    csv.write_text(
        "audio,annotator,happy,sad,anger,fear,disgust,surprise\n"
        "/x/c1.m4a,1,Lots,None,None,None,None,None\n")
    with pytest.raises(ValueError, match=r"clip 'c1', annotator '1': happy='Lots'"):
        load_abaw(csv)


# --- generated corpus --------------------------------------------------------
def test_make_emotional_speech_shapes_and_reproducibility():
    a = make_emotional_speech(40, n_speakers=4, n_sessions=2, random_state=3)
    b = make_emotional_speech(40, n_speakers=4, n_sessions=2, random_state=3)
    u = a.utterances
    assert set(u.columns) >= {"audio", "sample_rate", "speaker", "gender", "session",
                              "intended"}
    assert u["session"].nunique() == 2 and u["speaker"].nunique() <= 4
    assert all(isinstance(w, np.ndarray) and w.dtype == np.float32 for w in u["audio"])
    assert all(np.abs(w).max() <= 1 for w in u["audio"])
    np.testing.assert_array_equal(u["audio"].iloc[0], b.utterances["audio"].iloc[0])
    pd.testing.assert_series_equal(a.annotations, b.annotations)
    # every utterance has at least min_raters raters
    assert (a.annotations.ratings.n_rated() >= 3).all()
    # second choices and "other" appear; soft / existence targets can be built
    labels = set(a.annotations.ratings.to_long()["label"])
    assert set(labels) <= set(a.classes) | {"other"}
    assert SoftLabels(a.classes).fit_transform(a.annotations).shape == (40, 4)
    assert ExistenceLabels(a.classes).fit_transform(a.annotations).shape == (40, 4)


def test_make_emotional_speech_is_learnable_but_not_trivial():
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import GroupKFold, cross_val_score
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    data = make_emotional_speech(300, random_state=0)
    u = data.utterances

    def simple_features(w, sr=16000):
        frames = w[: len(w) // 400 * 400].reshape(-1, 400)
        energy = np.log(np.mean(frames**2, axis=1) + 1e-8)
        zcr = np.mean(np.abs(np.diff(np.sign(frames), axis=1)) > 0, axis=1)
        return [energy.mean(), energy.std(), zcr.mean(), zcr.std(), len(w) / sr]

    X = np.array([simple_features(w) for w in u["audio"]])
    clf = make_pipeline(StandardScaler(), LogisticRegression(max_iter=1000))
    acc = cross_val_score(clf, X, u["intended"], groups=u["speaker"],
                          cv=GroupKFold(5)).mean()
    assert 0.4 < acc < 0.95, acc  # chance is 0.25
    # the crowd disagrees: individual raters are far from perfect
    h = HardLabels(data.classes).fit(data.annotations)
    status = h.target_status(data.annotations)
    assert 0.05 < (status != "ok").mean() < 0.4


@pytest.mark.parametrize(
    "kwargs, match",
    [({"classes": ["anger"]}, "at least two"),
     ({"classes": ["anger", "joyful"]}, "at least two of"),
     ({"n_sessions": 20}, "exceeds n_speakers"),
     ({"raters": 2}, "min_raters=3 but only 2"),
     ({"raters": [{"name": "x", "coverage": 2.0}] * 3}, "coverage must be in"),
     ({"ambiguity": 1.5}, "ambiguity must be in")],
)
def test_make_emotional_speech_errors(kwargs, match):
    with pytest.raises(ValueError, match=match):
        make_emotional_speech(10, **kwargs)


def test_save_and_load_corpus_round_trip(tmp_path):
    from sklearn_ser.datasets import load_corpus, save_corpus

    data = make_emotional_speech(12, n_speakers=4, n_sessions=2, random_state=0)
    paths = save_corpus(data, tmp_path / "c")
    back = load_corpus(paths.audio_dir, paths.ratings, paths.metadata)
    assert list(back.utterances.index) == list(data.utterances.index)
    pd.testing.assert_series_equal(back.annotations, data.annotations,
                                  check_names=False)
    assert (back.utterances["speaker"] == data.utterances["speaker"]).all()
    audio, sr = sf.read(back.utterances["path"].iloc[0])
    assert sr == data.utterances["sample_rate"].iloc[0]
    np.testing.assert_allclose(audio, data.utterances["audio"].iloc[0], atol=1e-4)
    # never overwrites
    with pytest.raises(FileExistsError, match="never overwrites"):
        save_corpus(data, tmp_path / "c")


def test_load_corpus_errors_name_the_item(tmp_path):
    from sklearn_ser.datasets import load_corpus, save_corpus

    data = make_emotional_speech(6, n_speakers=2, n_sessions=1, random_state=0)
    p = save_corpus(data, tmp_path / "c")
    with pytest.raises(FileNotFoundError, match="audio folder"):
        load_corpus(tmp_path / "nowhere", p.ratings)
    with pytest.raises(FileNotFoundError, match="no such file"):
        load_corpus(p.audio_dir, tmp_path / "none.csv")
    bad = tmp_path / "bad.csv"
    bad.write_text("a,b\n1,2\n")
    with pytest.raises(ValueError, match=r"expected one row per rating"):
        load_corpus(p.audio_dir, bad)
    meta = pd.read_csv(p.metadata)
    pd.concat([meta, meta.iloc[:1]]).to_csv(tmp_path / "dup.csv", index=False)
    with pytest.raises(ValueError, match=r"lists utterance 'utt0000' more than once"):
        load_corpus(p.audio_dir, p.ratings, tmp_path / "dup.csv")
    no_audio = data.utterances.drop(columns=["audio"])
    with pytest.raises(ValueError, match="needs an 'audio'"):
        save_corpus(type(data)(utterances=no_audio, annotations=data.annotations),
                    tmp_path / "d")
    (p.audio_dir / "utt0003.wav").unlink()
    with pytest.raises(FileNotFoundError, match=r"1 of 6 audio files are missing"):
        load_corpus(p.audio_dir, p.ratings)


# --- corpora whose speakers show few emotions ------------------------------------
def test_make_emotional_speech_emotions_per_speaker():
    data = make_emotional_speech(80, n_speakers=10, n_sessions=5,
                                 emotions_per_speaker=1, random_state=0)
    u = data.utterances
    per_speaker = u.groupby("speaker")["intended"].nunique()
    assert (per_speaker == 1).all()
    # every class is shown in at least two sessions (leave-one-session-out
    # training folds keep every class)
    assert (u.groupby("intended")["session"].nunique() >= 2).all()
    two = make_emotional_speech(80, emotions_per_speaker=2, random_state=0)
    assert (two.utterances.groupby("speaker")["intended"].nunique() <= 2).all()
    # the default stays as it was (same seed, same corpus)
    a = make_emotional_speech(10, random_state=3).utterances["intended"]
    b = make_emotional_speech(10, random_state=3,
                              emotions_per_speaker=None).utterances["intended"]
    assert a.tolist() == b.tolist()
    with pytest.raises(ValueError, match="emotions_per_speaker"):
        make_emotional_speech(10, emotions_per_speaker=5)


def test_restrict_speaker_emotions_keeps_every_emotion_in_two_groups():
    from sklearn.utils import Bunch

    from sklearn_ser.datasets import restrict_speaker_emotions

    data = make_emotional_speech(120, n_speakers=10, n_sessions=5, random_state=1)
    out = restrict_speaker_emotions(data, 2, random_state=0)
    u = out.utterances
    assert (u.groupby("speaker")["intended"].nunique() <= 2).all()
    assert set(u["intended"]) == set(data.utterances["intended"])
    assert (u.groupby("intended")["session"].nunique() >= 2).all()
    assert list(out.annotations.index) == list(u.index)
    assert out.speaker_emotions["spk00"] == sorted(
        u.loc[u.speaker == "spk00", "intended"].unique())
    # seeded
    again = restrict_speaker_emotions(data, 2, random_state=0)
    assert list(again.utterances.index) == list(u.index)
    assert "2 emotion(s) per speaker" in out.DESCR
    with pytest.raises(ValueError, match="no 'intended' column"):
        restrict_speaker_emotions(Bunch(utterances=u.drop(columns="intended"),
                                        annotations=out.annotations))
    with pytest.raises(ValueError, match="emotions_per_speaker"):
        restrict_speaker_emotions(data, 0)
    # one speaker per emotion, each in its own session: kept whole
    tiny = Bunch(utterances=pd.DataFrame({"speaker": ["a", "b"], "session": [1, 2],
                                          "intended": ["x", "y"]}),
                 annotations=pd.Series(["x", "y"]))
    assert len(restrict_speaker_emotions(tiny, 1).utterances) == 2
    # impossible: one speaker, one emotion kept, two emotions to keep
    one = Bunch(utterances=pd.DataFrame({"speaker": ["a", "a"], "session": [1, 1],
                                         "intended": ["x", "y"]}),
                annotations=pd.Series(["x", "y"]))
    with pytest.raises(ValueError, match="keep more emotions per speaker"):
        restrict_speaker_emotions(one, 1, max_tries=20)


@pytest.mark.realdata
def test_emodb_confounded(emodb_root):
    data = load_emodb(emodb_root, emotions_per_speaker=2)
    u = data.utterances
    assert (u.groupby("speaker")["intended"].nunique() == 2).all()
    assert set(u["intended"]) == set(data.classes)
    assert (u.groupby("intended")["session"].nunique() >= 2).all()
    assert 100 < len(u) < 535
    assert list(data.annotations.index) == list(u.index)


def test_load_corpus_gives_the_majority_classes(tmp_path):
    from sklearn_ser.datasets import load_corpus, save_corpus

    data = make_emotional_speech(12, n_speakers=4, n_sessions=2, random_state=0)
    table = to_wide(data.annotations)
    # a stray second choice of a label that never wins a majority
    first = table.index[0]
    col = table.loc[first].first_valid_index()
    table.loc[first, col] = table.loc[first, col] + ("contempt",)
    data.annotations = to_ratings(table)
    paths = save_corpus(data, tmp_path / "c")
    back = load_corpus(paths.audio_dir, paths.ratings, paths.metadata)
    assert "contempt" not in back.classes
    assert set(back.classes) <= set(data.classes)
    assert back.classes_report["left_out"]["contempt"] == 1
    assert "win the majority" in back.DESCR
