"""Every warning and error class of sklearn-ser, in one place, and
:func:`summed_warnings`, which says each cause once with its counts summed.

Every warning the toolkit emits derives from :class:`SERWarning`, so a user can
silence or escalate them as a family::

    import warnings
    from sklearn_ser.exceptions import SERWarning
    warnings.simplefilter("error", SERWarning)

The sub-packages re-export the classes they raise where users import them
(``sklearn_ser.features.AudioError`` is ``sklearn_ser.exceptions.AudioError``).
"""

__all__ = [
    "SERWarning",
    "DroppedRowsWarning",
    "EmptyRaterWarning",
    "AnnotationError",
    "LabelCodeWarning",
    "RepeatedRatingWarning",
    "SparseRaterWarning",
    "WaveformScaleWarning",
    "NonFiniteFeatureWarning",
    "AudioError",
    "LowBandwidthWarning",
    "CacheWarning",
    "TruncatedAudioWarning",
    "UnvoicedWarning",
    "SingleUtteranceSpeakerWarning",
    "SpeakerConfoundWarning",
    "InnerSplitWarning",
    "AbsentClassWarning",
    "RareClassWarning",
    "NoRaterModelWarning",
    "ComparisonError",
    "BundleError",
    "summed_warnings",
]

from ._errors import (  # noqa: E402  (after __all__, as documented)
    AbsentClassWarning,
    AnnotationError,
    AudioError,
    BundleError,
    CacheWarning,
    ComparisonError,
    DroppedRowsWarning,
    EmptyRaterWarning,
    InnerSplitWarning,
    LabelCodeWarning,
    LowBandwidthWarning,
    NonFiniteFeatureWarning,
    NoRaterModelWarning,
    RareClassWarning,
    RepeatedRatingWarning,
    SERWarning,
    SingleUtteranceSpeakerWarning,
    SparseRaterWarning,
    SpeakerConfoundWarning,
    TruncatedAudioWarning,
    UnvoicedWarning,
    WaveformScaleWarning,
)
from ._warnings import summed_warnings  # noqa: E402

for _name in __all__:  # shown and pickled under their public home
    if _name != "summed_warnings":
        globals()[_name].__module__ = __name__
del _name
