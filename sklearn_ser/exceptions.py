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
