"""Compare methods leave-one-group-out on a corpus, as the papers do.

The protocol of ``sklearn-ser benchmark`` and of the scripts in
``benchmarks/``, as a library:

* :class:`Method` and :func:`registry`: one record per compared method
  (majority-trained functionals baselines, the every-rating recipe, BLSTMs on
  hard, soft and existence targets, a seed ensemble, the three papers'
  meta-estimators, fusions), :data:`PROFILES` and :data:`CONFOUNDED` the
  training settings;
* :func:`fold_inputs`: per leave-one-group-out fold, the training and test
  inputs of the README's recipe (speaker normalisation decided from the
  training fold, frame averaging), computed once and shared by every method
  and seed;
* :func:`run_comparison`: every (method, seed, fold) one job of
  :func:`run_jobs` (in parallel, each worker with its share of torch
  threads), scored with :func:`score_predictions` against the majority of
  the ratings and an optional truth column, returned as a
  :class:`ComparisonResult`;
* :func:`results_table`, :func:`margins_table`, :func:`distribution_table`,
  :func:`results_legend`, :func:`write_outputs`: the report (Markdown,
  results.json, predictions.csv and the plots), with each method's UAR
  interval and paired test against the plain baseline (a speaker
  bootstrap);
* :func:`out_of_fold`: any estimator's out-of-fold predictions with
  annotations as ``y`` (what ``cross_val_predict`` cannot pass), to score
  pooled with :func:`score_predictions`.

Layout: ``_methods.py`` the method records and training profiles,
``_protocol.py`` the runner in three steps (plan, run, score; with the
speaker-confound policy, :func:`fold_profiles`), ``_folds.py`` the fold
inputs and jobs, ``_scores.py`` the scores of one set of predictions,
``_stats.py`` the speaker bootstrap, ``_oof.py`` out-of-fold predictions,
``_result.py`` the result, ``_report.py`` the report writer, ``_cli.py`` the
command line (:func:`main`).

Examples
--------
>>> from sklearn_ser.experiments import registry, score_predictions
>>> sorted(registry())[:3]
['crowd_hard', 'crowd_soft', 'crowd_soft_x5']
>>> registry()["stacked"].kind
'network'
>>> score_predictions(["a", "b", "b"], ["a", "b", "a"], ["a", "b"])["uar"]
0.75
"""

from ..exceptions import ComparisonError
from ._cli import main
from ._cross import CrossCorpusResult, run_cross_corpus, write_cross_corpus
from ._folds import chosen_epochs, fold_inputs, fold_predictions, run_jobs
from ._methods import (
    BASELINES,
    CONFOUNDED,
    DEMO_METHODS,
    EVERY_RATING,
    FUNCTIONAL_SETS,
    FUNCTIONALS,
    FUSIONS,
    METHODS,
    NORMALISATIONS,
    PENALTY_GRID,
    PROFILES,
    Fold,
    Method,
    baseline_pipeline,
    confounded_profile,
    penalty_grid,
    registry,
)
from ._oof import out_of_fold
from ._protocol import fold_profiles, run_comparison
from ._report import (
    OUTPUT_NAMES,
    PAPER_MARGINS,
    distribution_table,
    margins_table,
    neutralise_formulas,
    results_legend,
    results_table,
    write_outputs,
)
from ._result import ComparisonResult
from ._scores import (
    DISTRIBUTION_SCORES,
    distribution_scores,
    rare_by_class,
    score_predictions,
)

__all__ = [
    "ComparisonResult",
    "Fold",
    "METHODS",
    "Method",
    "PROFILES",
    "baseline_pipeline",
    "confounded_profile",
    "distribution_scores",
    "distribution_table",
    "fold_inputs",
    "fold_predictions",
    "penalty_grid",
    "registry",
    "results_table",
    "run_comparison",
    "run_jobs",
    "score_predictions",
    "write_outputs",
    "run_cross_corpus",
    "CrossCorpusResult",
]
