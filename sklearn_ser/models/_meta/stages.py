"""Stage parameters by prefix: ``pretrain__lr``, ``fusion__max_epochs``.

A meta-estimator that trains stages (a pre-trained model, a fine-tuned one,
a fusion head) takes one dict per stage (``MLEEFusionClassifier(pretrain=
{"lr": 1e-3})``) and reads and writes each entry as ``<stage>__<name>``
through ``get_params`` / ``set_params``, as scikit-learn routes a nested
estimator's parameters and skorch its ``module__`` ones: ``GridSearchCV``
searches ``{"fusion__lr": [...]}`` and ``clone`` copies the dicts.
"""

from __future__ import annotations

from sklearn.utils._param_validation import validate_parameter_constraints

from .._sequence.fusion_head import FrozenFusionClassifier

#: What a meta-estimator decides for its fusion head itself, not a stage's
#: setting.
HEAD_SET_BY_META = frozenset({"encoders", "target", "classes", "label_map",
                              "random_state"})

#: The fusion head's parameters.
HEAD_PARAMS = frozenset(FrozenFusionClassifier._get_param_names())


class StagedParamsMixin:
    """``get_params``/``set_params`` for the stage dicts in ``_stage_defaults``.

    ``_stage_defaults`` maps each stage to its parameters' defaults; a stage
    listed in ``_open_stages`` also takes any parameter of the building block
    (the stage's network is the building block at these settings, checked
    by its own fit); the others are fusion heads and take any parameter of
    :class:`FrozenFusionClassifier` the meta-estimator does not set itself
    (checked before any work).
    """

    #: stage -> {parameter: default}
    _stage_defaults: dict = {}
    #: stages whose network is the building block: any of its parameters
    _open_stages: tuple = ()
    #: the fusion head's parameters the meta-estimator decides itself
    _head_decided = HEAD_SET_BY_META

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
            elif stage not in self._open_stages:
                allowed |= HEAD_PARAMS - self._head_decided
            unknown = sorted(set(given) - allowed)
            if unknown:
                raise ValueError(
                    f"{type(self).__name__}: {stage} has no setting "
                    f"{', '.join(map(repr, unknown))}; it takes "
                    f"{sorted(allowed)} (as {stage}={{...}} or "
                    f"set_params({stage}__<name>=...)).")
        out = {**self._stage_defaults[stage], **given}
        if check and stage not in self._open_stages:
            set_here = self._set_here(stage, out)
            validate_parameter_constraints(
                {k: FrozenFusionClassifier._parameter_constraints[k]
                 for k in set_here}, set_here,
                caller_name=f"{type(self).__name__}({stage}=...)")
        return out

    def _set_here(self, stage, settings):
        """The settings a stage sets: a None whose default is None means "as
        the building block" (the meta-estimator fills it in)."""
        defaults = self._stage_defaults[stage]
        return {k: v for k, v in settings.items()
                if not (v is None and k in defaults and defaults[k] is None)}

    def _head_extras(self, stage, head,
                     named=("lr", "input_dropout", "hidden_units")):
        """A head stage's settings other than those given to
        :func:`frozen_fusion` by name, for the head's ``set_params``."""
        return {k: v for k, v in self._set_here(stage, head).items()
                if k not in named}
