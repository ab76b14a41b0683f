"""Modules of earlier development versions, named when a pickle asks for them.

A fitted model pickled by an earlier version names the modules its classes
lived in. Where a module has since moved, unpickling would end in a bare
``ModuleNotFoundError``; the finder below says instead which version wrote the
pickle and what to do. It answers only for the names listed here and only
after Python's own finders found nothing.
"""

from __future__ import annotations

import sys
from importlib.abc import MetaPathFinder

from ._version import __version__

#: old module -> (where its contents went, the versions whose pickles name it)
MOVED = {
    "sklearn_ser.models._estimators": (
        "sklearn_ser.models._sequence, _inputs", "0.1.0.dev0 before 2026-12-01"),
    "sklearn_ser.models._meta_base": ("sklearn_ser.models._meta.base",
                                      "0.1.0.dev0 before 2026-12-01"),
    "sklearn_ser.models._mlee": ("sklearn_ser.models._meta.mlee_fusion",
                                 "0.1.0.dev0 before 2026-12-01"),
    "sklearn_ser.models._noisy": ("sklearn_ser.models._sequence.noisy_label",
                                  "0.1.0.dev0 before 2026-12-01"),
    "sklearn_ser.models._stacked": ("sklearn_ser.models._meta.stacked",
                                    "0.1.0.dev0 before 2026-12-01"),
    "sklearn_ser.models._data": ("sklearn_ser.models._nn.data",
                                 "0.1.0.dev0 before 2026-12-01"),
    "sklearn_ser.models._losses": ("sklearn_ser.models._nn.losses",
                                   "0.1.0.dev0 before 2026-12-01"),
    "sklearn_ser.models._modules": ("sklearn_ser.models._nn.modules",
                                    "0.1.0.dev0 before 2026-12-01"),
    "sklearn_ser.models._ensemble": ("sklearn_ser.models._seed_ensemble",
                                     "0.1.0.dev0 before 2026-12-01"),
    "sklearn_ser.models._base": ("sklearn_ser.models._sequence.base",
                                 "0.1.0.dev0 before 2026-12-01"),
    "sklearn_ser.models._fusion": ("sklearn_ser.models._sequence.fusion_head",
                                   "0.1.0.dev0 before 2026-12-01"),
    "sklearn_ser._cli": ("sklearn_ser.experiments._cli",
                         "0.1.0.dev0 before 2026-12-01"),
    "sklearn_ser.comparison": ("sklearn_ser.experiments",
                               "0.1.0.dev0 before 2026-12-07"),
    "sklearn_ser.benchmark": ("sklearn_ser.experiments",
                              "0.1.0.dev0 before 2026-12-07"),
    **{f"sklearn_ser.benchmark.{m}": (f"sklearn_ser.experiments.{m}",
                                      "0.1.0.dev0 before 2026-12-07")
       for m in ("_cli", "_methods", "_protocol", "_report", "_result",
                 "_scores")},
    "sklearn_ser.models._meta.noisy_label": (
        "sklearn_ser.models._sequence.noisy_label", "0.1.0.dev0 before 2026-12-07"),
    "sklearn_ser.datasets._confound": ("sklearn_ser.datasets._restrict",
                                       "0.1.0.dev0 before 2026-12-07"),
    "sklearn_ser.features._confound": ("sklearn_ser.features._speaker_dependence",
                                       "0.1.0.dev0 before 2026-12-07"),
    "sklearn_ser.annotations._encoders": (
        "sklearn_ser.annotations._hard, _soft, _existence, _rater_labels, "
        "_classes, _encoder_base", "0.1.0.dev0 before 2026-12-07"),
}


class MovedModuleError(ModuleNotFoundError):
    """A pickle names a module of an earlier version of sklearn-ser."""


class _MovedFinder(MetaPathFinder):
    def find_spec(self, fullname, path=None, target=None):
        if fullname not in MOVED:
            return None
        went, written_by = MOVED[fullname]
        raise MovedModuleError(
            f"No module named {fullname!r}: it belongs to sklearn-ser "
            f"{written_by} (its contents are now in {went}). Code that imports "
            f"it: import from {went}. A model being loaded that names it was "
            f"pickled by that version; this is {__version__}, whose fitted "
            "models are laid out differently, so it cannot be loaded here. "
            "Refit it with this version (the same code and data give the same "
            "model), or load it with the version that wrote it.",
            name=fullname)


def install():
    """Put the finder last on ``sys.meta_path`` (once)."""
    if not any(isinstance(f, _MovedFinder) for f in sys.meta_path):
        sys.meta_path.append(_MovedFinder())
