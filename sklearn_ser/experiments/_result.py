"""The result of a comparison."""

from __future__ import annotations

from dataclasses import dataclass, field, replace


@dataclass(frozen=True)
class ComparisonResult:
    """What :func:`~sklearn_ser.experiments.run_comparison` returns.

    Attributes
    ----------
    methods : dict
        Method name -> its scores (means over seeds): ``uar``, ``wa`` and
        ``per_class_recall`` against the majority, ``uar_truth`` and
        ``per_class_recall_truth`` against the truth column, their per-fold
        means (``uar_fold_mean``...), the scores against every rating
        (:data:`~sklearn_ser.experiments.DISTRIBUTION_SCORES`), ``fit_seconds``,
        ``description``; ``*_sd`` over several seeds; ``chosen_C`` (the
        penalty each fold's search chose) and ``epochs_kept`` where they apply.
    meta : dict
        The run: corpus size, classes, folds, seeds, the normalisation and
        network settings decided per fold, classes rare in a training fold,
        the raters' own agreement.
    plots : dict
        The material of the plots (seed 0's predictions and probabilities of
        every utterance, the noisy-label model's weights, one attention
        curve); not written to results.json.

    ``result["methods"]`` and ``result["meta"]`` read as in results.json;
    :meth:`to_dict` is that file's content. The report functions
    (:func:`~sklearn_ser.experiments.results_table`...) also take the dict read
    back from a results.json.
    """

    methods: dict
    meta: dict
    plots: dict | None = field(default=None, repr=False, compare=False)

    def with_meta(self, **entries):
        """A copy whose ``meta`` holds ``entries`` too (the command line adds
        the command, the corpus and the wall time)."""
        return replace(self, meta={**self.meta, **entries})

    def to_dict(self):
        """``{"methods": ..., "meta": ...}``: the content of results.json."""
        return {"methods": self.methods, "meta": self.meta}

    def __getitem__(self, key):
        if key in ("methods", "meta"):
            return getattr(self, key)
        raise KeyError(f"{key!r}: a comparison result holds 'methods' and 'meta' "
                       "(and the attribute plots).")


def as_result(results):
    """A :class:`ComparisonResult` from one, or from the dict of a
    results.json (``methods``, ``meta``, optionally ``_plots``)."""
    if isinstance(results, ComparisonResult):
        return results
    return ComparisonResult(methods=results["methods"], meta=results["meta"],
                            plots=results.get("_plots"))
