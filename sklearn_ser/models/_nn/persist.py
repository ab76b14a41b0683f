"""Networks as data: a torch module as the arguments of its constructor
(JSON-able) and its tensors, rebuilt from this package's own network classes
only. Nothing is unpickled and no class is looked up by an arbitrary name:
a saved model's networks are data, not code."""

from __future__ import annotations

import numbers

import numpy as np
import torch
from torch import nn

from .modules import (
    BLSTMAttentionNet,
    CNNBLSTMNet,
    FusionHead,
    LayerWeightedNet,
    PooledHeadNet,
)

#: The networks a saved model may hold, by class name.
MODULES = {cls.__name__: cls for cls in (BLSTMAttentionNet, CNNBLSTMNet,
                                         LayerWeightedNet, PooledHeadNet,
                                         FusionHead)}


def module_spec(module, where="module"):
    """``{"class": name, "args": {...}}``: how to build ``module`` again
    (nested networks, such as a fusion head's encoders, nested specs)."""
    name = type(module).__name__
    if MODULES.get(name) is not type(module) or "init_args" not in vars(module):
        raise TypeError(
            f"{where} is a {type(module).__module__}.{type(module).__qualname__}; "
            "a saved model rebuilds only this package's networks "
            f"({', '.join(sorted(MODULES))}), from their constructor's arguments.")
    return {"class": name, "args": {k: _arg(v, f"{where}.{k}")
                                    for k, v in module.init_args.items()}}


def _arg(value, where):
    if isinstance(value, nn.Module):
        return {"module": module_spec(value, where)}
    if isinstance(value, list | tuple):
        return [_arg(v, f"{where}[{i}]") for i, v in enumerate(value)]
    if isinstance(value, np.generic):
        value = value.item()
    if value is None or isinstance(value, bool | str):
        return value
    if isinstance(value, numbers.Integral):
        return int(value)
    if isinstance(value, numbers.Real):
        return float(value)
    raise TypeError(f"{where} is a {type(value).__name__}; a saved network's "
                    "arguments are numbers, text, lists or networks.")


def build_module(spec, where="module"):
    """The network a :func:`module_spec` describes (fresh weights)."""
    if not isinstance(spec, dict) or spec.get("class") not in MODULES or not (
            isinstance(spec.get("args"), dict)):
        raise ValueError(
            f"{where}: {str(spec)[:80]!r} is not a network this package builds "
            f"(expected a class among {sorted(MODULES)} and its arguments).")
    args = {k: _built(v, f"{where}.{k}") for k, v in spec["args"].items()}
    try:
        return MODULES[spec["class"]](**args)
    except (TypeError, ValueError) as e:
        raise ValueError(f"{where}: {spec['class']} cannot be built from the saved "
                         f"arguments: {e}") from None


def _built(value, where):
    if isinstance(value, dict) and "module" in value:
        return build_module(value["module"], where)
    if isinstance(value, list):
        return [_built(v, f"{where}[{i}]") for i, v in enumerate(value)]
    return value


def module_state(module):
    """Every tensor of ``module`` (parameters and buffers), on the CPU."""
    return {k: v.detach().cpu().contiguous().clone()
            for k, v in module.state_dict().items()}


def restore_module(spec, state, where="module"):
    """The network of ``spec`` with the tensors of ``state`` (every one of
    them, of the right shapes), in evaluation mode."""
    module = build_module(spec, where)
    try:
        module.load_state_dict({k: torch.as_tensor(v) for k, v in state.items()},
                               strict=True)
    except RuntimeError as e:
        raise ValueError(f"{where}: the saved weights do not fit the saved "
                         f"{spec['class']}: {str(e).splitlines()[0]}") from None
    return module.eval()


class LoadedNet:
    """What a loaded model keeps of a trained skorch net: its module (in
    evaluation mode) and the device it predicts on; the training state
    (optimizer, callbacks, history) is not saved (the estimator's
    ``history_`` is)."""

    def __init__(self, module, device="cpu"):
        self.module_ = module
        self.device = device

    def __repr__(self):
        return f"LoadedNet({type(self.module_).__name__})"
