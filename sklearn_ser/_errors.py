"""The warning and error classes of sklearn-ser (the ground floor: imports
nothing of the package). Users import them from :mod:`sklearn_ser.exceptions`,
which also holds :func:`~sklearn_ser.exceptions.summed_warnings`."""

class SERWarning(UserWarning):
    """Base class of every warning emitted by sklearn-ser."""


class DroppedRowsWarning(SERWarning):
    """Rows were left out (no consensus, no target emotion, skipped files...).

    The message always says how many rows and why.
    """


class EmptyRaterWarning(SERWarning):
    """A rater column of an annotation table holds no rating at all."""


class AnnotationError(ValueError):
    """An annotation table is malformed (duplicate ids, unknown labels, ...)."""


class LabelCodeWarning(SERWarning):
    """Labels are numbers (codes); they are kept as class names, not read as
    emotions."""


class RepeatedRatingWarning(DroppedRowsWarning):
    """One rater gave several different labels to one utterance in a long
    table (read as several choices, or some rows left out; the message says
    which and how many)."""


class SparseRaterWarning(SERWarning):
    """Raters with a single rating: an aggregation model cannot estimate their
    reliability from it (the message gives the count)."""


class WaveformScaleWarning(SERWarning):
    """An in-memory float waveform lies outside [-1, 1]: integer PCM values
    stored as floats are scaled as a file reader scales them (the message
    says so); other out-of-range waveforms are used as they are."""


class NonFiniteFeatureWarning(SERWarning):
    """Features of some utterances are NaN or infinite (skipped files with
    ``on_error="skip"``, non-finite frames); the message names them."""


# -- audio and features ----------------------------------------------------

class AudioError(ValueError):
    """An utterance's audio cannot be used; the message names the utterance."""


class LowBandwidthWarning(SERWarning):
    """Audio was upsampled: no content above the original Nyquist frequency."""


class CacheWarning(SERWarning):
    """Feature-cache entries were unreadable (recomputed) or could not be
    written (read-only folder, full disk); results are unaffected."""


class TruncatedAudioWarning(SERWarning):
    """Audio files hold less audio than their header declares."""


class UnvoicedWarning(SERWarning):
    """Utterances with no voiced frame at all (F0 = 0 throughout)."""


class SingleUtteranceSpeakerWarning(SERWarning):
    """Speakers whose statistics come from a single utterance."""


class SpeakerConfoundWarning(SERWarning):
    """Per-speaker normalisation asked for where speaker predicts the labels.

    When most training speakers show a single emotion (or a few), removing a
    speaker's mean removes their emotion too; ``mode="auto"`` or
    ``mode="global"`` is the safer choice there.
    """


# -- models ----------------------------------------------------------------

class InnerSplitWarning(SERWarning):
    """The early-stopping split could not hold out whole speakers, or holding
    them out removes emotions from training (speakers predict the labels)."""


class AbsentClassWarning(SERWarning):
    """A target class has no training example."""


class RareClassWarning(SERWarning):
    """A target class has few training examples: less than a quarter of an
    even share (``1 / (4 K)`` of the targets for ``K`` classes), the rule by
    which :func:`~sklearn_ser.annotations.infer_classes` leaves labels out."""


class NoRaterModelWarning(SERWarning):
    """No individual rater model could be built (no rater table, or too few
    ratings per rater)."""


# -- the comparison protocol -----------------------------------------------

class ComparisonError(ValueError):
    """The comparison cannot run as asked (unknown method, one group...)."""


class BundleError(ValueError):
    """A saved model folder cannot be written or loaded safely: a file
    missing or altered since it was written, a type outside the trusted
    list, another bundle format."""
