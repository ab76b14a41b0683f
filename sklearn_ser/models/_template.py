"""The one ``fit`` of every estimator of :mod:`sklearn_ser.models` (no torch).

Each estimator implements the steps, never ``fit`` itself (a test checks):

1. the parameters are validated: scikit-learn's ``_fit_context`` (the
   ``_parameter_constraints``), then :meth:`~OneFitMixin._check_params`
   (settings that only fit together, before any work);
2. :meth:`~OneFitMixin._fit_inputs` converts X once, parses y once and
   decides the classes once, into one inputs object;
3. :meth:`~OneFitMixin._fit` trains on that object (components and members
   receive what step 2 built and convert or parse nothing again);
4. :meth:`~OneFitMixin._fit_end` sets the fitted attributes that depend on
   what was trained (``classes_`` of the members, one summary of the rows
   left out...).

A fit stopped by Ctrl-C leaves the estimator as it was before the call
(the ``KeyboardInterrupt`` propagates, as scikit-learn users expect), unless
the estimator keeps what it trained so far (``_keeps_interrupted_fit``: the
networks, which say so in ``interrupted_``).
"""

from __future__ import annotations

import contextlib

from sklearn.base import _fit_context


class OneFitMixin:
    """The fit template (see the module docstring); mixed in before
    scikit-learn's ``BaseEstimator``."""

    #: True: a fit stopped by Ctrl-C keeps what it trained so far (networks);
    #: False: the estimator is restored to its state before the call
    _keeps_interrupted_fit = False

    @_fit_context(prefer_skip_nested_validation=False)
    def fit(self, X, y, groups=None):
        """Fit on the utterances ``X`` and their ratings ``y``.

        Parameters
        ----------
        X : utterances, as this estimator reads them
            Frame sequences for the networks and the papers' meta-estimators
            (a DataFrame with a ``frames`` column, whose other columns such as
            ``speaker`` are kept, a :class:`~sklearn_ser.features.FramesArray`
            or a list of (T, D) arrays); features, or a pipeline's input, for
            the estimators that wrap scikit-learn models.
        y : annotation table, ratings, vote counts or 1-D labels
            Every accepted form of :func:`~sklearn_ser.annotations.
            check_annotations`; rows whose target the estimator cannot use are
            left out with a count in a warning.
        groups : array-like, default=None
            Speaker (or session) of each utterance, for the splits made inside
            the fit (early stopping, penalty search, out-of-fold predictions);
            members and components that take ``groups`` receive it. By default
            the ``speaker`` column of a table ``X`` where the estimator reads
            one.

        Returns
        -------
        self : object
            The fitted estimator.

        Notes
        -----
        The one fit of every estimator of :mod:`sklearn_ser.models`: the
        parameters are validated, X converted and y parsed once, the classes
        decided once (``_fit_inputs``), then the estimator trains (``_fit``)
        and sets what it learned (``_fit_end``).
        """
        before = None if self._keeps_interrupted_fit else dict(self.__dict__)
        try:
            self._check_params()
            with self._fit_scope():
                inputs = self._fit_inputs(X, y, groups)
                self._fit_end(inputs, self._fit(inputs))
        except KeyboardInterrupt:
            if before is not None:  # no mix of the old and the new state
                self.__dict__.clear()
                self.__dict__.update(before)
            raise
        return self

    def _check_params(self):
        """Settings that only fit together, before any work (an estimator
        with such rules overrides it)."""

    def _fit_scope(self):
        """A context around the fit (the networks fork torch's RNG in it, so
        the caller's random state is the same after the fit)."""
        return contextlib.nullcontext()

    def _fit_inputs(self, X, y, groups):  # pragma: no cover - every family has one
        """X converted, y parsed and the classes decided, once."""
        raise NotImplementedError

    def _fit(self, inputs):  # pragma: no cover - every estimator has one
        """Train on what :meth:`_fit_inputs` built; what it returns is handed
        to :meth:`_fit_end`."""
        raise NotImplementedError

    def _fit_end(self, inputs, result):
        """Fitted attributes that depend on what :meth:`_fit` trained."""
