"""Text as a person reads it: the Unicode rule behind every spelling check.

Two strings that print alike (``"colère"`` in NFC and NFD, ``"sad"`` and
``"sad\u200b"``, fullwidth ``"ＳＡＤ"``) share :func:`unicode_key`; labels that
differ only in it, case or spaces share :func:`spelling_key`. Used by the
annotations (labels, raters, ids), the metrics, the models and the loaders.
"""

from __future__ import annotations

import unicodedata

#: Characters that print as nothing, dropped by the spelling rule beside
#: Unicode's format characters (category Cf: zero-width spaces and joiners,
#: the byte-order mark, soft hyphens, bidirectional marks): the combining
#: grapheme joiner, variation selectors and the Hangul fillers.
_INVISIBLE = frozenset(
    [0x034F, 0x115F, 0x1160, 0x17B4, 0x17B5, 0x3164, 0xFFA0]
    + list(range(0xFE00, 0xFE10)) + list(range(0xE0100, 0xE01F0)))


def unicode_key(text):
    """``text`` in Unicode's compatibility form (NFKC) without invisible
    characters: what two strings that print alike share ("colère" in NFC
    and NFD, "sad" and "sad\u200b", fullwidth "ＳＡＤ" and "SAD"). ASCII
    text is its own key."""
    if text.isascii():
        return text
    text = unicodedata.normalize("NFKC", text)
    return "".join(ch for ch in text if ord(ch) not in _INVISIBLE
                   and unicodedata.category(ch) != "Cf")


def shown(value):
    """``repr(value)``, with its escaped ASCII form beside it when the two
    differ (two spellings that print alike must be told apart)."""
    r = repr(value)
    a = ascii(value)
    return r if r == a else f"{r} (written {a})"


def spelling_key(label):
    """The key two spellings of one label share: Unicode form, invisible
    characters, case and spaces dropped (the ratings' own clash rule,
    :func:`check_label_spellings` and the aliases)."""
    return " ".join(unicode_key(label).split()).lower()
