"""Unvalidated numbers (issue 42, class 10): every number a user writes (a
per-row sample rate, frame settings, a device, thread counts, a list of
class names) is either the documented conversion or a clear error naming the
parameter or utterance and what is accepted; never a 9 GiB upsample, a raw
``int()`` error, a silent real part or a class list of characters."""

from __future__ import annotations

import os
import warnings

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sklearn_ser._parallel import thread_count
from sklearn_ser.features import AudioError, LogSpectrogram
from sklearn_ser.features._audio import MAX_CHANNELS_FIRST, RATE_RANGE, checked_rate

WAVE = (0.1 * np.sin(2 * np.pi * 220 * np.arange(8000) / 16000)).astype(np.float32)

BAD_RATES = st.one_of(
    st.booleans(),
    st.integers(max_value=RATE_RANGE[0] - 1),
    st.integers(min_value=RATE_RANGE[1] + 1),
    st.floats(RATE_RANGE[0], RATE_RANGE[1]).filter(lambda x: x != int(x)),
    st.sampled_from([float("inf"), float("-inf"), "16 kHz", "16k", "", "abc",
                     "-16000", "0", "16000 Hz", "1e9", np.bool_(True)]),
    st.integers(1, 99).map(lambda k: f"{k} kHz"),
)
GOOD_RATES = st.integers(RATE_RANGE[0], RATE_RANGE[1]).flatmap(
    lambda r: st.sampled_from([r, float(r), np.int32(r), np.float64(r), str(r),
                               f" {r} ", f"{r}.0"]))


def _table(wave, rate):
    return pd.DataFrame({"audio": [wave], "sample_rate": [rate]}, index=["utt 7"])


@settings(max_examples=60, deadline=None)
@given(BAD_RATES)
def test_a_per_row_sample_rate_that_is_not_hz_is_named(rate):
    with pytest.raises(AudioError, match="'utt 7': sample rate .* is not a rate in Hz"):
        LogSpectrogram(progress=False).fit_transform(_table(WAVE, rate))


@settings(max_examples=40, deadline=None)
@given(GOOD_RATES)
def test_a_whole_number_of_hz_in_any_form_is_read_as_that_number(rate):
    assert checked_rate("u", rate) == int(float(str(rate).strip()))


@settings(max_examples=8, deadline=None)
@given(st.sampled_from([8000, 8000.0, "8000", np.int16(8000), " 8000.0"]))
def test_the_forms_of_one_rate_give_one_set_of_frames(rate):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # upsampled from 8 kHz: warned
        got = LogSpectrogram(progress=False).fit_transform(_table(WAVE, rate))
        want = LogSpectrogram(progress=False).fit_transform(_table(WAVE, 8000))
    np.testing.assert_array_equal(got["frames"].iloc[0], want["frames"].iloc[0])


@settings(max_examples=20, deadline=None)
@given(st.sampled_from([np.complex64, np.complex128]),
       st.sampled_from(["1-D", "(N, 2)", "(2, N)"]), st.booleans())
def test_a_complex_waveform_is_refused_whatever_its_imaginary_part(dtype, shape,
                                                                   zero):
    wave = WAVE.astype(dtype) + (0 if zero else 1j * 0.01)
    if shape == "(N, 2)":
        wave = np.stack([wave, wave], axis=1)
    elif shape == "(2, N)":
        wave = np.stack([wave, wave])
    with pytest.raises(AudioError, match="'utt 7': the waveform holds complex"):
        LogSpectrogram(progress=False).fit_transform(_table(wave, 16000))


@settings(max_examples=20, deadline=None)
@given(st.integers(2, MAX_CHANNELS_FIRST + 12))
def test_rows_of_samples_are_channels_up_to_the_limit_and_refused_beyond(rows):
    rng = np.random.default_rng(rows)
    wave = (WAVE[None, :] * rng.uniform(0.5, 1, size=(rows, 1))).astype(np.float32)
    ext = LogSpectrogram(progress=False)
    if rows > MAX_CHANNELS_FIRST:
        with pytest.raises(AudioError, match=f"'utt 7'.*{rows} channels of one "
                                             f"recording, or {rows} utterances"):
            ext.fit_transform(_table(wave, 16000))
        return
    got = ext.fit_transform(_table(wave, 16000))["frames"].iloc[0]
    want = ext.fit_transform(_table(wave.T.copy(), 16000))["frames"].iloc[0]
    np.testing.assert_array_equal(got, want)  # (C, N) reads as (N, C)


@settings(max_examples=40, deadline=None)
@given(name=st.sampled_from(["frame_length", "frame_shift"]),
       seconds=st.floats(1e-12, 2e-4), rate=st.sampled_from([8000, 16000, None]))
def test_frame_settings_under_a_sample_are_named(name, seconds, rate):
    ext = LogSpectrogram(progress=False, sample_rate=rate, **{name: seconds})
    at = rate or RATE_RANGE[1]
    least = 2 if name == "frame_length" else 1
    if round(seconds * at) >= least:
        return  # long enough at this rate
    with pytest.raises(ValueError, match=f"{name}=.* s is \\d+ sample"):
        ext.fit(None)


@settings(max_examples=40, deadline=None)
@given(st.one_of(st.floats(1e-6, 4.99), st.floats(8000.01, 1e12)))
def test_a_max_frequency_outside_the_grid_or_the_band_is_named(freq):
    with pytest.raises(ValueError,
                       match=r"max_frequency=.* Hz (keeps no bin|is above)"):
        LogSpectrogram(max_frequency=freq, progress=False).fit(None)


# --- a list of class names given as one string ---------------------------------
@pytest.fixture(scope="module")
def rated():
    from sklearn_ser.annotations import HardLabels
    from sklearn_ser.datasets import make_emotional_speech

    data = make_emotional_speech(24, n_speakers=2, n_sessions=2, random_state=0)
    classes = list(HardLabels().fit(data.annotations).classes_)
    y = pd.Series(data.utterances["intended"].astype(object).to_numpy(),
                  index=data.utterances.index)
    proba = np.full((len(y), len(classes)), 1 / len(classes))
    return data.annotations, classes, y, proba


def _calls(ann, classes, y, P):
    import sklearn_ser.annotations as A
    import sklearn_ser.metrics as M
    from sklearn_ser.datasets import make_emotional_speech
    from sklearn_ser.models import EveryRatingClassifier, combine_probabilities

    X = np.random.default_rng(0).normal(size=(len(y) if y is not None else 1, 3))
    return {
        "agreement_levels": lambda c: M.agreement_levels(ann, classes=c),
        "agreement_report": lambda c: M.agreement_report(ann, P, classes=c),
        "all_inclusive_f1": lambda c: M.all_inclusive_f1(ann, P, classes=c),
        "expected_calibration_error":
            lambda c: M.expected_calibration_error(ann, P, classes=c),
        "jensen_shannon_divergence":
            lambda c: M.jensen_shannon_divergence(ann, P, classes=c),
        "soft_brier_score": lambda c: M.soft_brier_score(ann, P, classes=c),
        "soft_log_loss": lambda c: M.soft_log_loss(ann, P, classes=c),
        "krippendorff_alpha": lambda c: M.krippendorff_alpha(ann, classes=c),
        "vote_shares": lambda c: M.vote_shares(ann, classes=c),
        "confusion_table": lambda c: M.confusion_table(y, y, labels=c),
        "per_class_report": lambda c: M.per_class_report(y, y, labels=c),
        "weighted_accuracy": lambda c: M.weighted_accuracy(y, y, labels=c),
        "unweighted_average_recall":
            lambda c: M.unweighted_average_recall(y, y, labels=c),
        "ser_scoring": lambda c: M.ser_scoring(classes=c),
        "check_annotations": lambda c: A.check_annotations(ann, classes=c),
        "rater_profiles": lambda c: A.rater_profiles(ann, c),
        "resolve_classes": lambda c: A.resolve_classes(ann, c),
        "truth_labels": lambda c: A.truth_labels(y, labels=c),
        "rare_classes": lambda c: A.rare_classes(c, [5] * len(c)),
        "combine_probabilities": lambda c: combine_probabilities([P, P], classes=c),
        "make_emotional_speech": lambda c: make_emotional_speech(12, classes=c),
        "HardLabels": lambda c: A.HardLabels(classes=c).fit(ann),
        "SoftLabels": lambda c: A.SoftLabels(classes=c).fit(ann),
        "ExistenceLabels": lambda c: A.ExistenceLabels(classes=c).fit(ann),
        "RaterLabels": lambda c: A.RaterLabels(classes=c).fit(ann),
        "EveryRatingClassifier":
            lambda c: EveryRatingClassifier(classes=c).fit(X, ann),
    }


NAMES = list(_calls(None, None, None, None))


@settings(max_examples=60, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(which=st.sampled_from(NAMES), pick=st.integers(0, 3),
       form=st.sampled_from([str, np.str_, lambda s: s.upper(), lambda s: s.encode()]))
def test_one_class_name_where_a_list_belongs_is_refused(rated, which, pick, form):
    ann, classes, y, P = rated
    value = form(classes[pick % len(classes)])
    with pytest.raises(ValueError) as e:
        _calls(ann, classes, y, P)[which](value)
    text = str(e.value)
    assert "not the string" in text or "must be an array-like" in text, text


def test_every_public_list_of_classes_is_in_the_property():
    """A public callable with a ``classes``/``labels`` list parameter that the
    property above does not call is a gap (the two with a per-utterance
    ``labels`` sequence excepted)."""
    import inspect

    import sklearn_ser.annotations as A
    import sklearn_ser.datasets as D
    import sklearn_ser.metrics as M
    import sklearn_ser.models as Mo

    not_lists = {"check_label_spellings", "check_names", "RatingsArray",
                 "AggregatedLabels", "BaseTargetEncoder", "class_probabilities",
                 "ProbaScorer"}  # internal building blocks, or checked by callers
    nets = {n for n in Mo.__all__ if n.endswith("Classifier")}  # below
    found = set()
    for mod in (A, M, Mo, D):
        for name in mod.__all__:
            try:
                params = inspect.signature(getattr(mod, name)).parameters
            except (TypeError, ValueError):
                continue
            if {"classes", "labels"} & set(params):
                found.add(name)
    missing = found - set(NAMES) - not_lists - nets
    assert not missing, missing


@pytest.mark.parametrize("name", ["BLSTMAttentionClassifier", "CNNBLSTMClassifier",
                                  "StackedAnnotatorClassifier",
                                  "MLEEFusionClassifier", "NoisyLabelMetaClassifier"])
def test_the_networks_refuse_one_class_name_for_a_list(rated, name):
    import sklearn_ser.models as Mo
    from sklearn_ser.features import FramesArray

    ann, classes, y, _ = rated
    rng = np.random.default_rng(0)
    X = pd.DataFrame({"frames": FramesArray.from_list([rng.normal(size=(5, 3)).astype(
        np.float32) for _ in range(len(y))])}, index=y.index)
    est = getattr(Mo, name)(classes=classes[0])
    with pytest.raises(ValueError, match="not the string|must be an array-like"):
        est.fit(X, ann)


# --- devices and threads ---------------------------------------------------------
NO_GPU = not __import__("torch").cuda.is_available()


@pytest.mark.skipif(not NO_GPU, reason="checks the refusal on a machine without GPU")
@pytest.mark.filterwarnings("ignore::sklearn_ser.exceptions.DroppedRowsWarning")
@pytest.mark.parametrize("device", ["cuda", "cuda:0", "cuda:3"])
@pytest.mark.parametrize("name", ["BLSTMAttentionClassifier",
                                  "NoisyLabelMetaClassifier"])
def test_a_gpu_this_machine_lacks_is_named_at_fit(rated, device, name):
    import sklearn_ser.models as Mo
    from sklearn_ser.features import FramesArray

    ann, classes, y, _ = rated
    rng = np.random.default_rng(0)
    X = pd.DataFrame({"frames": FramesArray.from_list([rng.normal(size=(5, 3)).astype(
        np.float32) for _ in range(len(y))])}, index=y.index)
    est = getattr(Mo, name)(classes=classes, device=device)
    with pytest.raises(ValueError, match=f"device='{device}', but torch sees no GPU"):
        est.fit(X, ann)


@pytest.mark.parametrize("device", ["gpu", "cuda:x", "", "auto"])
def test_a_device_torch_does_not_know_is_named(device):
    from sklearn_ser._device import torch_device

    if device == "auto":
        assert torch_device(device, "X").type in {"cpu", "cuda"}
        return
    with pytest.raises(ValueError, match=f"X: device='{device}' is not a torch device"):
        torch_device(device, "X")


@settings(max_examples=40, deadline=None)
@given(st.integers(-64, 64))
def test_n_jobs_reads_as_scikit_learn_reads_it(n_jobs):
    cores = os.cpu_count() or 1
    if n_jobs > 0:
        assert thread_count(n_jobs, "X") == n_jobs
    elif n_jobs < 0 and cores + 1 + n_jobs >= 1:
        assert thread_count(n_jobs, "X") == cores + 1 + n_jobs
    else:
        with pytest.raises(ValueError, match=f"X: n_jobs={n_jobs}"):
            thread_count(n_jobs, "X")


def test_pretrained_frames_take_n_jobs_minus_one_and_refuse_a_missing_gpu(tmp_path):
    transformers = pytest.importorskip("transformers")
    import torch

    from sklearn_ser.features import PretrainedFrames

    cfg = transformers.Wav2Vec2Config(
        hidden_size=32, num_hidden_layers=2, num_attention_heads=2,
        intermediate_size=64, conv_dim=(32,) * 7, num_conv_pos_embeddings=16,
        num_conv_pos_embedding_groups=2)
    torch.manual_seed(0)
    transformers.Wav2Vec2Model(cfg).eval().save_pretrained(tmp_path)
    threads = torch.get_num_threads()
    out = PretrainedFrames(str(tmp_path), n_jobs=-1, progress=False).fit_transform(
        [WAVE])
    assert out["frames"].iloc[0].shape[1] > 0
    assert torch.get_num_threads() == threads  # restored
    if NO_GPU:
        with pytest.raises(ValueError, match="torch sees no GPU"):
            PretrainedFrames(str(tmp_path), device="cuda").fit()


@settings(max_examples=30, deadline=None)
@given(st.lists(st.one_of(st.integers(0, 50), st.just(-1), st.just(float("nan"))),
                min_size=0, max_size=6))
def test_rare_classes_takes_one_finite_count_per_class(counts):
    from sklearn_ser.annotations import rare_classes

    classes = ["anger", "fear", "sadness"]
    ok = len(counts) == 3 and all(c == c and c >= 0 for c in counts)
    if ok:
        rare_classes(classes, counts)
    else:
        with pytest.raises(ValueError, match="one finite count >= 0 per class"):
            rare_classes(classes, counts)
