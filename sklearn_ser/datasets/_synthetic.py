"""A generated emotional speech corpus with simulated raters.

The waveforms are produced by a small source-filter synthesiser: a glottal
pulse train whose pitch contour, pitch range, loudness, speaking rate, spectral
tilt ("tension"), jitter and breathiness depend on the intended emotion, on how
strongly it is expressed and on the speaker; vowel formants shaped per
syllable and scaled per speaker; background noise. Simulated raters perceive
the emotion through a confusion that grows as the expression weakens, with
personal biases, partial coverage, second choices and non-target labels. The
whole toolkit can thus run end to end, on real waveforms, with no corpus.
"""

from __future__ import annotations

import numbers

import numpy as np
import pandas as pd
from scipy.signal import lfilter
from sklearn.utils import Bunch, check_random_state

from ..annotations import check_names, to_ratings

# Emotion -> prosody relative to the speaker's neutral voice:
# (f0 factor, f0 range, loudness factor, syllable-rate factor,
#  tension (brighter spectrum), breathiness, jitter, arousal)
_PROFILES = {
    "neutral":   (1.00, 0.10, 1.00, 1.00, 0.00, 0.10, 0.005, 0.0),
    "anger":     (1.22, 0.25, 2.20, 1.15, 0.90, 0.04, 0.010, 1.0),
    "happiness": (1.32, 0.45, 1.60, 1.10, 0.45, 0.08, 0.008, 0.8),
    "sadness":   (0.90, 0.05, 0.55, 0.72, -0.50, 0.35, 0.012, -0.8),
    "fear":      (1.42, 0.22, 0.90, 1.28, 0.20, 0.25, 0.030, 0.6),
    "disgust":   (0.94, 0.18, 1.10, 0.80, 0.30, 0.15, 0.020, 0.1),
    "boredom":   (0.93, 0.04, 0.75, 0.85, -0.30, 0.15, 0.006, -0.6),
    "surprise":  (1.50, 0.60, 1.30, 1.00, 0.30, 0.10, 0.010, 0.7),
}
# Vowel formants (Hz) of an adult male voice: /a/, /e/, /i/, /o/, /u/
_VOWELS = np.array([
    [730, 1090, 2440],
    [530, 1840, 2480],
    [270, 2290, 3010],
    [570, 840, 2410],
    [300, 870, 2240],
], dtype=float)

_DEFAULT_RATERS = [
    # name, coverage, skill, bias (label -> log-odds boost)
    ("R1", 1.00, 0.85, {"happiness": 0.7}),
    ("R2", 1.00, 0.95, {}),
    ("R3", 0.80, 0.80, {"neutral": 0.9}),
    ("R4", 0.60, 0.80, {"anger": 0.7, "disgust": 0.4}),
    ("R5", 0.30, 0.70, {"neutral": 1.2}),
    ("R6", 0.15, 0.75, {"happiness": 0.5, "sadness": 0.5}),
]


def _rater_profiles(raters, classes, rng):
    if isinstance(raters, numbers.Integral):
        if raters < 1:
            raise ValueError(f"raters must be >= 1, got {raters}.")
        profiles = []
        for k in range(int(raters)):
            if k < len(_DEFAULT_RATERS):
                name, cov, skill, bias = _DEFAULT_RATERS[k]
                bias = {c: b for c, b in bias.items() if c in classes}
            else:
                name = f"R{k + 1}"
                cov = float(rng.uniform(0.2, 1.0))
                skill = float(rng.uniform(0.65, 0.95))
                bias = {str(rng.choice(classes)): float(rng.uniform(0.3, 1.0))}
            profiles.append({"name": name, "coverage": cov, "skill": skill,
                             "bias": bias})
        return profiles
    profiles = []
    for k, spec in enumerate(raters):
        if not isinstance(spec, dict):
            raise TypeError(
                "raters must be an int or a list of dicts such as "
                "{'name': 'E1', 'coverage': 0.8, 'skill': 0.9, "
                f"'bias': {{'neutral': 0.5}}}}; item {k} is {spec!r}."
            )
        unknown = set(spec) - {"name", "coverage", "skill", "bias"}
        if unknown:
            raise ValueError(f"rater {k}: unknown key(s) {sorted(unknown)}.")
        cov = float(spec.get("coverage", 1.0))
        skill = float(spec.get("skill", 0.85))
        if not 0 < cov <= 1 or not 0 <= skill <= 1:
            raise ValueError(
                f"rater {spec.get('name', k)!r}: coverage must be in (0, 1] and "
                f"skill in [0, 1]; got {cov}, {skill}."
            )
        profiles.append({"name": str(spec.get("name", f"R{k + 1}")),
                         "coverage": cov, "skill": skill,
                         "bias": dict(spec.get("bias", {}))})
    if not profiles:
        raise ValueError("raters is empty; give at least one rater.")
    return profiles


def _synthesise(rng, sr, f0_base, formant_scale, prof, n_syll):
    """One utterance: returns float32 waveform."""
    f0_fac, f0_range, loud, rate, tension, breath, jitter, _ = prof
    syll_dur = rng.uniform(0.16, 0.24, size=n_syll) / rate
    gaps = rng.uniform(0.02, 0.06, size=n_syll) / rate
    seg = np.round((syll_dur + gaps) * sr).astype(int)
    n = int(seg.sum())
    t_ctrl = np.concatenate([[0], np.cumsum(seg)])[:-1] + (syll_dur * sr / 2)
    # pitch: declination + one accent per syllable, emotion-dependent range
    accents = rng.normal(0, 1, size=n_syll) * f0_range
    decl = np.linspace(0.06, -0.08, n_syll)
    ctrl = f0_base * f0_fac * np.exp(decl + accents * 0.5)
    f0 = np.interp(np.arange(n), t_ctrl, ctrl)
    f0 *= 1 + jitter * rng.standard_normal(n).cumsum() / np.sqrt(np.arange(1, n + 1))
    f0 = np.clip(f0, 60, 500)
    phase = np.cumsum(f0 / sr)
    source = 2 * (phase % 1.0) - 1.0  # sawtooth: all harmonics, -6 dB/oct
    # spectral tilt: one-pole low-pass, less filtering when tense
    pole = float(np.clip(0.75 - 0.25 * tension, 0.3, 0.95))
    source = lfilter([1 - pole], [1, -pole], source)
    source = source + breath * rng.standard_normal(n) * 0.6
    out = np.zeros(n)
    start = 0
    for k in range(n_syll):
        length = seg[k]
        voiced = int(syll_dur[k] * sr)
        chunk = source[start:start + voiced]
        formants = _VOWELS[rng.randint(len(_VOWELS))] * formant_scale
        y = chunk
        for fc, bw in zip(formants, (80.0, 110.0, 160.0), strict=True):
            r = np.exp(-np.pi * bw / sr)
            theta = 2 * np.pi * fc / sr
            y = lfilter([1 - r], [1, -2 * r * np.cos(theta), r * r], y)
        env = np.sin(np.linspace(0, np.pi, voiced)) ** 0.8
        out[start:start + voiced] = y * env
        # a short unvoiced consonant in the gap
        gap = length - voiced
        if gap > 0:
            out[start + voiced:start + length] = (
                0.05 * rng.standard_normal(gap) * np.hanning(gap)
            )
        start += length
    rms = np.sqrt(np.mean(out**2)) + 1e-12
    out *= 0.08 * loud / rms
    out += rng.standard_normal(n) * 0.08 * 10 ** (-rng.uniform(25, 40) / 20)
    lead = np.zeros(int(rng.uniform(0.05, 0.15) * sr))
    return np.clip(np.concatenate([lead, out, lead]), -1, 1).astype(np.float32)


def make_emotional_speech(
    n_utterances=600,
    n_speakers=10,
    n_sessions=5,
    raters=6,
    *,
    classes=("anger", "happiness", "neutral", "sadness"),
    sample_rate=16000,
    min_raters=3,
    ambiguity=0.3,
    second_choice_rate=0.12,
    other_rate=0.04,
    class_weights=None,
    emotions_per_speaker=None,
    random_state=None,
):
    """Generate emotional speech with simulated raters.

    Parameters
    ----------
    n_utterances : int, default=600
    n_speakers : int, default=10
        Half female, half male (alternating), spread evenly over sessions.
    n_sessions : int, default=5
        Sessions group speakers (two per session by default), for
        leave-one-session-out evaluation as on IEMOCAP.
    raters : int or list of dict, default=6
        Number of simulated raters (the first six have the coverage and biases
        of the EmoDB-crowd raters: 100/100/80/60/30/15 % coverage, leaning to
        happiness, -, neutral, anger/disgust, neutral, happiness/sadness), or
        one dict per rater: ``{"name", "coverage", "skill", "bias"}`` where
        ``bias`` maps labels to log-odds boosts.
    classes : sequence of str
        Intended emotions, among anger, happiness, neutral, sadness, fear,
        disgust, boredom, surprise.
    sample_rate : int, default=16000
    min_raters : int, default=3
        Extra raters are drawn until every utterance has at least this many.
    ambiguity : float, default=0.3
        Share of utterances that blend in a second emotion.
    second_choice_rate : float, default=0.12
        Probability that a rater adds a second label.
    other_rate : float, default=0.04
        Probability that a rater answers a non-target label (``"other"``).
    class_weights : sequence of float, default=None
        Relative frequency of each intended class (default: equal).
    emotions_per_speaker : int, default=None
        Each speaker shows only this many of the classes (1: one emotion per
        speaker, as in many naturalistic corpora, where speaker and emotion
        are confounded). Classes are dealt to speakers in turn, so that each
        class is shown by speakers of at least two sessions where there are
        enough speakers. None: every speaker shows every class.
    random_state : int, RandomState or None

    Returns
    -------
    data : sklearn.utils.Bunch
        ``utterances`` (index ``utt0000``...: ``audio`` (float32 waveform),
        ``sample_rate``, ``speaker``, ``gender``, ``session``, ``intended``,
        ``intensity`` (0-1, how strongly expressed), ``blend`` (second
        emotion or None), ``duration``), ``annotations`` (rater table),
        ``raters`` (DataFrame of the simulated profiles), ``classes``.

    Examples
    --------
    >>> data = make_emotional_speech(20, n_speakers=4, n_sessions=2, random_state=0)
    >>> data.utterances[["speaker", "session", "intended"]].shape
    (20, 3)
    >>> list(data.annotations.ratings.raters)[:3]
    ['R1', 'R2', 'R3']
    """
    rng = check_random_state(random_state)
    classes = [str(c) for c in check_names(classes, "classes",
                                            "make_emotional_speech")]
    unknown = [c for c in classes if c not in _PROFILES]
    if unknown or len(classes) < 2:
        raise ValueError(
            f"classes must be at least two of {sorted(_PROFILES)}; got {classes}."
        )
    for name, value, low in (("n_utterances", n_utterances, 1),
                             ("n_speakers", n_speakers, 1),
                             ("n_sessions", n_sessions, 1),
                             ("min_raters", min_raters, 1)):
        if not isinstance(value, numbers.Integral) or value < low:
            raise ValueError(f"{name} must be an integer >= {low}, got {value!r}.")
    if n_sessions > n_speakers:
        raise ValueError(
            f"n_sessions={n_sessions} exceeds n_speakers={n_speakers}; every "
            "session needs at least one speaker."
        )
    for name, value in (("ambiguity", ambiguity),
                        ("second_choice_rate", second_choice_rate),
                        ("other_rate", other_rate)):
        if not 0 <= value <= 1:
            raise ValueError(f"{name} must be in [0, 1], got {value!r}.")
    profiles = _rater_profiles(raters, classes, rng)
    if min_raters > len(profiles):
        raise ValueError(
            f"min_raters={min_raters} but only {len(profiles)} rater(s) exist."
        )
    weights = np.ones(len(classes)) if class_weights is None else np.asarray(
        class_weights, dtype=float)
    if weights.shape != (len(classes),) or (weights < 0).any() or weights.sum() <= 0:
        raise ValueError(
            f"class_weights must be {len(classes)} non-negative numbers, got "
            f"{class_weights!r}."
        )
    weights = weights / weights.sum()

    # speakers
    genders = np.array(["female" if k % 2 == 0 else "male" for k in range(n_speakers)])
    f0_base = np.where(genders == "female", rng.normal(210, 18, n_speakers),
                       rng.normal(118, 12, n_speakers))
    formant_scale = np.where(genders == "female", 1.16, 1.0) * rng.normal(
        1.0, 0.04, n_speakers)
    expressiveness = rng.uniform(0.6, 1.2, n_speakers)
    speaker_session = np.arange(n_speakers) * n_sessions // n_speakers + 1
    speaker_names = [f"spk{k:02d}" for k in range(n_speakers)]

    spk = rng.randint(n_speakers, size=n_utterances)
    if emotions_per_speaker is None:
        intended = rng.choice(len(classes), size=n_utterances, p=weights)
    else:
        if (not isinstance(emotions_per_speaker, numbers.Integral)
                or not 1 <= emotions_per_speaker <= len(classes)):
            raise ValueError(
                f"emotions_per_speaker must be an integer in [1, {len(classes)}], "
                f"got {emotions_per_speaker!r}."
            )
        order = rng.permutation(len(classes))
        shown = [[order[(k * emotions_per_speaker + j) % len(classes)]
                  for j in range(emotions_per_speaker)] for k in range(n_speakers)]
        intended = np.empty(n_utterances, dtype=int)
        for i in range(n_utterances):
            allowed = np.asarray(shown[spk[i]])
            p = weights[allowed]
            p = p / p.sum() if p.sum() > 0 else np.full(len(allowed),
                                                         1 / len(allowed))
            intended[i] = rng.choice(allowed, p=p)
    intensity = rng.beta(2.2, 1.6, size=n_utterances)
    blend = np.full(n_utterances, -1)
    blended = rng.random(n_utterances) < ambiguity
    for i in np.flatnonzero(blended):
        blend[i] = rng.choice([k for k in range(len(classes)) if k != intended[i]])
    neutral = np.array(_PROFILES["neutral"])
    audio, durations = [], []
    for i in range(n_utterances):
        strength = np.clip(intensity[i] * expressiveness[spk[i]], 0.05, 1.2)
        target = np.array(_PROFILES[classes[intended[i]]])
        prof = neutral + strength * (target - neutral)
        if blend[i] >= 0:
            other = np.array(_PROFILES[classes[blend[i]]])
            prof = prof + 0.35 * rng.uniform(0.3, 1.0) * (other - neutral)
        # per-utterance variation that is not emotion
        prof = prof * np.array([rng.normal(1, 0.04), 1, rng.lognormal(0, 0.25),
                                rng.normal(1, 0.07), 1, 1, 1, 1])
        wave = _synthesise(rng, sample_rate, f0_base[spk[i]], formant_scale[spk[i]],
                           tuple(prof), int(rng.randint(4, 11)))
        audio.append(wave)
        durations.append(len(wave) / sample_rate)

    index = pd.Index([f"utt{i:04d}" for i in range(n_utterances)], name="utterance")
    utterances = pd.DataFrame({
        "audio": pd.Series(audio, index=index, dtype=object),
        "sample_rate": sample_rate,
        "speaker": [speaker_names[s] for s in spk],
        "gender": genders[spk],
        "session": speaker_session[spk],
        "intended": [classes[k] for k in intended],
        "intensity": intensity,
        "blend": [classes[b] if b >= 0 else None for b in blend],
        "duration": durations,
    }, index=index)

    annotations = to_ratings(_simulate_ratings(
        rng, classes, profiles, intended, intensity * expressiveness[spk], blend,
        min_raters, second_choice_rate, other_rate, index,
    ))
    raters_df = pd.DataFrame(profiles).set_index("name")
    return Bunch(
        utterances=utterances,
        annotations=annotations,
        raters=raters_df,
        classes=sorted(classes),
        sample_rate=sample_rate,
        DESCR="Generated emotional speech (sklearn_ser.datasets."
        "make_emotional_speech): source-filter synthesis with emotion- and "
        "speaker-dependent prosody, simulated raters.",
    )


def _arousal_confusion(classes):
    """Perceptual confusion: emotions of similar arousal are confused more."""
    ar = np.array([_PROFILES[c][7] for c in classes])
    dist = np.abs(ar[:, None] - ar[None, :])
    conf = np.exp(-1.5 * dist)
    np.fill_diagonal(conf, 0)
    return conf / conf.sum(axis=1, keepdims=True)


def _simulate_ratings(rng, classes, profiles, intended, clarity, blend, min_raters,
                      second_rate, other_rate, index):
    K = len(classes)
    n = len(intended)
    conf = _arousal_confusion(classes)
    clarity = np.clip(clarity, 0, 1)
    # perceived distribution of the crowd
    p_true = 0.36 + 0.60 * clarity
    base = (1 - p_true)[:, None] * conf[intended]
    base[np.arange(n), intended] += p_true
    has_blend = blend >= 0
    base[np.flatnonzero(has_blend), blend[has_blend]] += 0.18
    base /= base.sum(axis=1, keepdims=True)
    labels = np.array(classes, dtype=object)
    R = len(profiles)
    rated = np.array([rng.random(n) < p["coverage"] for p in profiles]).T  # (n, R)
    for i in np.flatnonzero(rated.sum(axis=1) < min_raters):
        missing = np.flatnonzero(~rated[i])
        need = min_raters - rated[i].sum()
        rated[i, rng.choice(missing, size=need, replace=False)] = True
    cells = np.empty((n, R), dtype=object)
    for r, prof in enumerate(profiles):
        boost = np.array([prof["bias"].get(c, 0.0) for c in classes])
        p = base * np.exp(boost)[None, :]
        p /= p.sum(axis=1, keepdims=True)
        p = prof["skill"] * p + (1 - prof["skill"]) / K
        for i in np.flatnonzero(rated[:, r]):
            first = rng.choice(K, p=p[i])
            choice = [labels[first]]
            if rng.random() < second_rate:
                rest = p[i].copy()
                rest[first] = 0
                choice.append(labels[rng.choice(K, p=rest / rest.sum())])
            if rng.random() < other_rate:
                choice[0] = "other"
            cells[i, r] = tuple(choice)
    return pd.DataFrame(cells, index=index,
                        columns=pd.Index([p["name"] for p in profiles], name="rater"),
                        dtype=object)
