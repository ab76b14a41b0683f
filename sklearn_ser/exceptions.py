"""Warnings and errors raised by sklearn-ser.

Every warning the toolkit emits derives from :class:`SERWarning`, so a user can
silence or escalate them as a family::

    import warnings
    from sklearn_ser.exceptions import SERWarning
    warnings.simplefilter("error", SERWarning)
"""


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
