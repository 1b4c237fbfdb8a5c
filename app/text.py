"""Which characters free text may hold: what people type, never what hides or reorders text.

Names, addresses, titles and notes refuse control characters (C0 and C1, except the line breaks
and tabs of multi-line fields) and Unicode format controls (category Cf): bidirectional
embeddings, overrides and isolates (U+202A–202E, U+2066–2069), direction marks (U+200E, U+200F,
U+061C), zero-width characters (U+200B, U+200C, U+2060–2064, U+FEFF), the Mongolian vowel
separator (U+180E), the soft hyphen, language tags and the rest. They are invisible, so a name
that shows as “张三” could hold anything, and they reorder what a coordinator reads (“Trojan
Source”).

Two format controls are part of emoji as phones type them, and stay allowed where they are
part of one:
- ZERO WIDTH JOINER (U+200D) between two pictographs, as in 👨‍👩‍👧 or 👩🏽‍⚕️ (the rule of
  Unicode's grapheme clusters, UAX #29 GB11: a pictograph, any extending marks such as skin
  tones and variation selectors, ZWJ, then a pictograph);
- TAG characters (U+E0020–E007E) closed by CANCEL TAG (U+E007F) right after a pictograph, the
  emoji tag sequences of subdivision flags such as 🏴󠁧󠁢󠁳󠁣󠁴󠁿 (UTS #51 ED-14a).
Variation selectors (U+FE00–FE0F) are combining marks, not format controls, and stay allowed.

Character properties come from the `regex` package, whose Unicode tables are newer than the
standard library's.
"""

from __future__ import annotations

import regex

ZWJ = "\u200d"
CANCEL_TAG = "\U000e007f"
_TAG_FIRST, _TAG_LAST = 0xE0020, 0xE007E

# Everything that may need a closer look; plain text (ASCII or not) never matches.
_SUSPECT = regex.compile(r"[\p{Cc}\p{Cf}\p{Cs}]")
_PICTOGRAPH = regex.compile(r"\p{Extended_Pictographic}")
# Marks that may stand between a pictograph and a ZWJ (Grapheme_Cluster_Break=Extend: skin
# tones, variation selectors, combining marks, tags).
_EXTEND = regex.compile(r"\p{Grapheme_Cluster_Break=Extend}")
# What may follow a pictograph before its tags: an emoji presentation selector or a skin tone.
_TAG_BASE_SUFFIX = regex.compile(r"[\uFE0F\p{Emoji_Modifier}]")
_CONTROL = regex.compile(r"\p{Cc}")
_ALLOWED_CONTROLS = frozenset("\t\n\r")


class TextError(ValueError):
    """A character text may not hold; the message is Chinese, for the person who typed it."""


def _u(char: str) -> str:
    return f"U+{ord(char):04X}"


def _is_pictograph(char: str) -> bool:
    return bool(_PICTOGRAPH.match(char))


def _is_tag(char: str) -> bool:
    return _TAG_FIRST <= ord(char) <= _TAG_LAST


def _zwj_joins_emoji(value: str, at: int) -> bool:
    """Whether the ZWJ at `at` joins two pictographs (GB11)."""
    if at + 1 >= len(value) or not _is_pictograph(value[at + 1]):
        return False
    before = at - 1
    while before >= 0 and _EXTEND.match(value[before]):
        before -= 1
    return before >= 0 and _is_pictograph(value[before])


def _tag_run(value: str, at: int) -> tuple[int, int] | None:
    """The well-formed emoji tag sequence's tags (start, end exclusive) around position `at`,
    or None when the tag there is not part of one."""
    start = at
    while start > 0 and _is_tag(value[start - 1]):
        start -= 1
    end = start
    while end < len(value) and _is_tag(value[end]):
        end += 1
    # One or more tag specs, then exactly one cancel tag.
    if end == start or end >= len(value) or value[end] != CANCEL_TAG:
        return None
    base = start - 1
    if base >= 0 and _TAG_BASE_SUFFIX.match(value[base]):
        base -= 1
    if base < 0 or not _is_pictograph(value[base]):
        return None
    return start, end + 1


def check_text(value: str) -> None:
    """Raise `TextError` for the first character `value` may not hold (see the module)."""
    if _SUSPECT.search(value) is None:
        return
    allowed_until = -1  # end of the last tag sequence found well-formed
    for at, char in enumerate(value):
        if at < allowed_until or not _SUSPECT.match(char):
            continue
        if char in _ALLOWED_CONTROLS:
            continue
        if 0xD800 <= ord(char) <= 0xDFFF:
            raise TextError("文本中含有无效的字符编码")
        if _CONTROL.match(char):
            raise TextError(f"文本中含有不允许的控制字符（{_u(char)}）")
        if char == ZWJ:
            if _zwj_joins_emoji(value, at):
                continue
            raise TextError("文本中含有零宽连接符（U+200D）：它只能用在组合表情符号中")
        if _is_tag(char) or char == CANCEL_TAG:
            run = _tag_run(value, at)
            if run is not None:
                allowed_until = run[1]
                continue
            raise TextError(f"文本中含有标签字符（{_u(char)}）：它只能用在旗帜表情符号中")
        raise TextError(
            f"文本中含有不可见的格式控制字符（{_u(char)}，如文字方向控制符、零宽字符），"
            "请删除后重试"
        )
