"""Frame features from audio, speaker normalisation, pooling, augmentation.

Extractors take the utterance table (a ``path`` or ``audio`` column plus any
metadata) and return it with a ``frames`` column of ``(T, D)`` arrays (a
:class:`FramesArray`: one buffer plus offsets, in memory or in a store on
disk), so the speaker, session and other metadata stay reachable by later
steps:

* :class:`OpenSmileFrames`: openSMILE LLDs (``"emobase45"`` of Chou & Lee,
  ``"fujioka32"`` of Fujioka et al., stock sets by name);
* :class:`LogSpectrogram`: 400-bin log power spectrograms (Ando et al.);
* :class:`PretrainedFrames`: hidden states of a self-supervised speech model
  (WavLM, HuBERT, wav2vec 2.0) read from a local folder (``[ssl]`` extra);
* :class:`OpenSmileFunctionals`: utterance-level functionals (eGeMAPS) as a
  2-D array, for classic baselines;
* :class:`SpeakerStandardizer`, :class:`FrameAverager`: normalisation (per
  speaker or global, chosen from the training data by default, see
  :func:`speaker_label_dependence`) and pooling of frame sequences;
* :class:`FrameStatistics`: per-utterance statistics of the frames as a 2-D
  array (after ``OpenSmileFunctionals(output="frames")`` and speaker
  normalisation: functionals for any scikit-learn estimator);
* :class:`SpeedPerturbation`: a training-only sampler (``fit_resample``).
"""

from ..exceptions import (
    AudioError,
    CacheWarning,
    LowBandwidthWarning,
    SingleUtteranceSpeakerWarning,
    SpeakerConfoundWarning,
    TruncatedAudioWarning,
    UnvoicedWarning,
)
from ._audio import load_audio
from ._augment import SpeedPerturbation, speed_perturb
from ._base import FRAMES, get_frames
from ._deployed import PredictionStandardizer
from ._frames import FramesArray, FramesDtype
from ._normalize import SpeakerStandardizer
from ._opensmile import OpenSmileFrames, OpenSmileFunctionals
from ._pooling import FrameAverager, FrameStatistics, frame_hop
from ._pretrained import PretrainedFrames
from ._speaker_dependence import (
    CONFOUND_THRESHOLD,
    is_speaker_confounded,
    speaker_label_dependence,
    training_labels,
)
from ._spectrogram import LogSpectrogram
from ._store import frames_temp_dir

__all__ = [
    "FrameAverager",
    "FrameStatistics",
    "FramesArray",
    "FramesDtype",
    "LogSpectrogram",
    "OpenSmileFrames",
    "OpenSmileFunctionals",
    "PredictionStandardizer",
    "PretrainedFrames",
    "SpeakerStandardizer",
    "SpeedPerturbation",
    "load_audio",
    "speaker_label_dependence",
    "is_speaker_confounded",
]
