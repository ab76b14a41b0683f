"""A model pickled by an earlier development version names modules that have
moved: loading it says which version wrote it and what to do."""

from __future__ import annotations

import io
import pickle
import pickletools

import pytest

from sklearn_ser._moved import MOVED, MovedModuleError


def _pickle_naming(module, name="BLSTMAttentionClassifier"):
    """The bytes of a pickle of a class ``module.name`` (as an old version
    wrote it), made by hand: protocol 2's GLOBAL opcode."""
    return b"\x80\x02c" + f"{module}\n{name}\n".encode() + b"q\x00."


@pytest.mark.parametrize("module", sorted(MOVED))
def test_an_old_pickle_says_which_version_wrote_it(module):
    data = _pickle_naming(module)
    pickletools.dis(data, out=io.StringIO())  # a well-formed pickle
    with pytest.raises(MovedModuleError, match=r"0\.1\.0\.dev0 before .*Refit it"):
        pickle.loads(data)
    with pytest.raises(ModuleNotFoundError):  # what callers already catch
        pickle.loads(data)


def test_other_missing_modules_are_untouched():
    with pytest.raises(ModuleNotFoundError) as info:
        pickle.loads(_pickle_naming("sklearn_ser.models._never_was"))
    assert not isinstance(info.value, MovedModuleError)
