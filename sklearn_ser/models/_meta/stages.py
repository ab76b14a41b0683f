"""Stage parameters by prefix: ``pretrain__lr``, ``fusion__max_epochs``.

A meta-estimator that trains stages (a pre-trained model, a fine-tuned one,
a fusion head) takes one dict per stage (``MLEEFusionClassifier(pretrain=
{"lr": 1e-3})``) and reads and writes each entry as ``<stage>__<name>``
through ``get_params`` / ``set_params``, as scikit-learn routes a nested
estimator's parameters and skorch its ``module__`` ones: ``GridSearchCV``
searches ``{"fusion__lr": [...]}`` and ``clone`` copies the dicts.
"""

from __future__ import annotations

import numbers

from sklearn.utils._param_validation import Interval, validate_parameter_constraints

#: The constraints of the settings a fusion head's stage takes.
HEAD_CONSTRAINTS = {
    "lr": [Interval(numbers.Real, 0, None, closed="neither"), None],
    "hidden_units": [Interval(numbers.Integral, 1, None, closed="left"), None],
    "input_dropout": [Interval(numbers.Real, 0, 1, closed="left")],
    "max_epochs": [Interval(numbers.Integral, 1, None, closed="left"), None],
}


class StagedParamsMixin:
    """``get_params``/``set_params`` for the stage dicts in ``_stage_defaults``.

    ``_stage_defaults`` maps each stage to its parameters' defaults; a stage
    listed in ``_open_stages`` also takes any parameter of the building block
    (the stage's network is the building block at these settings), checked
    at fit.
    """

    #: stage -> {parameter: default}
    _stage_defaults: dict = {}
    #: stages whose network is the building block: any of its parameters
    #: (checked by its own fit); the others are fusion heads (checked here)
    _open_stages: tuple = ()

    def get_params(self, deep=True):
        out = super().get_params(deep=deep)
        if deep:
            for stage in self._stage_defaults:
                for name, value in self._stage(stage, check=False).items():
                    out[f"{stage}__{name}"] = value
        return out

    def set_params(self, **params):
        staged = {}
        for key in list(params):
            stage, sep, name = key.partition("__")
            if sep and stage in self._stage_defaults:
                staged.setdefault(stage, {})[name] = params.pop(key)
        super().set_params(**params)
        for stage, values in staged.items():
            # a new dict: an estimator never shares its stages with a clone
            old = getattr(self, stage, None)
            setattr(self, stage, {**(old if isinstance(old, dict) else {}),
                                  **values})
        return self

    def _stage(self, stage, base=None, *, check=True):
        """The settings of ``stage``: its defaults, then the user's entries
        (unknown names refused at fit, naming the ones it takes)."""
        given = getattr(self, stage, None)
        given = {} if given is None else given
        if not check and not isinstance(given, dict):
            given = {}  # refused at fit
        if check:
            if not isinstance(given, dict):
                raise ValueError(
                    f"{type(self).__name__}: {stage}={given!r}; give a dict of "
                    f"settings, e.g. {stage}={{'lr': 1e-3}}.")
            allowed = set(self._stage_defaults[stage])
            if stage in self._open_stages and base is not None:
                allowed |= set(base.get_params(deep=False))
            unknown = sorted(set(given) - allowed)
            if unknown:
                raise ValueError(
                    f"{type(self).__name__}: {stage} has no setting "
                    f"{', '.join(map(repr, unknown))}; it takes "
                    f"{sorted(allowed)} (as {stage}={{...}} or "
                    f"set_params({stage}__<name>=...)).")
        out = {**self._stage_defaults[stage], **given}
        if check and stage not in self._open_stages:
            validate_parameter_constraints(
                {k: HEAD_CONSTRAINTS[k] for k in out}, out,
                caller_name=f"{type(self).__name__}({stage}=...)")
        return out
