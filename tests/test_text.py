"""Free text refuses control characters and Unicode format controls, except the joiners and
tags of emoji sequences (`app.text`), in every name, address and note of the API."""

from __future__ import annotations

import pytest
import regex
from fastapi.testclient import TestClient
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.config import Settings
from app.models import Wish
from app.text import TextError, check_text
from tests.fixtures.builders import auth, make_resident, make_tree, wish_body

API = "/api/v1"
CANCEL = "\U000e007f"

ACCEPTED = {
    "中文姓名": "张三",
    "地址": "余村 3 组 12 号",
    "family (man, woman, girl)": "👨\u200d👩\u200d👧",
    "health worker, medium skin tone": "👩🏽\u200d⚕️",
    "rainbow flag": "🏳️\u200d🌈",
    "pirate flag": "🏴\u200d☠️",
    "heart on fire": "❤️\u200d🔥",
    "polar bear": "🐻\u200d❄️",
    "people holding hands, two skin tones": "🧑🏻\u200d🤝\u200d🧑🏿",
    "Scotland flag (tag sequence)": "🏴" + "".join(chr(0xE0000 + ord(c)) for c in "gbsct") + CANCEL,
    "England flag in a sentence": "去🏴"
    + "".join(chr(0xE0000 + ord(c)) for c in "gbeng")
    + CANCEL
    + "看球",
    "keycap": "1️⃣号楼",
    "national flag (regional indicators)": "🇨🇳",
    "text and emoji variation selectors": "☎︎ ☎️",
    "thumbs up, skin tone": "👍🏽谢谢",
    "combining accent": "Zoe\u0301",
    "multi-line note": "第一行\n第二行\r\n\t缩进",
}

REFUSED = {
    "RIGHT-TO-LEFT OVERRIDE": "发票\u202egpj.exe",
    "LEFT-TO-RIGHT EMBEDDING": "a\u202ab",
    "POP DIRECTIONAL FORMATTING": "a\u202cb",
    "FIRST STRONG ISOLATE": "\u2068张三\u2069",
    "LEFT-TO-RIGHT ISOLATE": "\u2066x",
    "LEFT-TO-RIGHT MARK": "张\u200e三",
    "RIGHT-TO-LEFT MARK": "张\u200f三",
    "ARABIC LETTER MARK": "\u061c张三",
    "ZERO WIDTH SPACE": "张\u200b三",
    "ZERO WIDTH NON-JOINER": "张\u200c三",
    "WORD JOINER": "张\u2060三",
    "INVISIBLE SEPARATOR": "张\u2063三",
    "BYTE ORDER MARK / ZWNBSP": "\ufeff张三",
    "MONGOLIAN VOWEL SEPARATOR": "张\u180e三",
    "SOFT HYPHEN": "张\u00ad三",
    "LANGUAGE TAG": "\U000e0001张三",
    "ZWJ between letters": "张\u200d三",
    "ZWJ before an emoji only": "\u200d👨",
    "ZWJ after an emoji only": "👨\u200d",
    "ZWJ after a letter": "a\u200d👨",
    "ZWJ then a combining mark": "👨\u200d\u0301",
    "two ZWJs": "👨\u200d\u200d👩",
    "tags without a base": "a\U000e0067\U000e0062\U000e007f",
    "tags without a cancel tag": "🏴\U000e0067\U000e0062",
    "cancel tag alone": "🏴\U000e007f",
    "BELL (C0)": "张\x07三",
    "NEXT LINE (C1)": "张\x85三",
    "lone surrogate": "张\ud800三",
}


@pytest.mark.parametrize("value", list(ACCEPTED.values()), ids=list(ACCEPTED))
def test_text_people_type_is_accepted(value: str) -> None:
    check_text(value)


@pytest.mark.parametrize("value", list(REFUSED.values()), ids=list(REFUSED))
def test_invisible_and_control_characters_are_refused(value: str) -> None:
    with pytest.raises(TextError) as raised:
        check_text(value)
    message = str(raised.value)
    assert message.startswith("文本中含有")
    assert regex.search(r"\p{Han}", message)


# ---------------------------------------------------------------- properties

FORMAT_CONTROLS = sorted(
    chr(c) for c in range(0x110000) if not 0xD800 <= c <= 0xDFFF and regex.match(r"\p{Cf}", chr(c))
)
# The only format controls an accepted text may hold: ZWJ and the tags of emoji sequences.
EMOJI_CONTROLS = {"\u200d", *(chr(c) for c in range(0xE0020, 0xE0080))}
PICTOGRAPHS = ["👨", "👩", "👧", "🧑", "❤", "🔥", "⚕", "🏳", "🌈", "🐻", "❄", "☠", "🤝", "🏴"]
MODIFIERS = ["", "\ufe0f", "🏻", "🏽", "🏿"]
plain = st.text(
    alphabet=st.characters(
        blacklist_categories=("Cc", "Cf", "Cs", "Zl", "Zp"),
        blacklist_characters="\u200d",
    ),
    max_size=20,
).filter(lambda s: not regex.search(r"\p{Extended_Pictographic}", s))
emoji = st.tuples(st.sampled_from(PICTOGRAPHS), st.sampled_from(MODIFIERS)).map("".join)
zwj_sequence = st.lists(emoji, min_size=2, max_size=4).map("\u200d".join)
tag_sequence = st.text(
    alphabet=[chr(c) for c in range(0xE0020, 0xE007F)], min_size=1, max_size=6
).map(lambda tags: "🏴" + tags + "\U000e007f")


def test_every_format_control_but_the_emoji_ones_is_refused_alone() -> None:
    assert len(FORMAT_CONTROLS) > 150
    for char in FORMAT_CONTROLS:
        if char in EMOJI_CONTROLS:
            continue
        with pytest.raises(TextError):
            check_text(f"张{char}三")


@settings(max_examples=300, deadline=None)
@given(parts=st.lists(st.one_of(plain, zwj_sequence, tag_sequence), max_size=5))
def test_text_and_emoji_sequences_are_accepted(parts: list[str]) -> None:
    check_text(" ".join(parts))


@settings(max_examples=300, deadline=None)
@given(
    text=st.lists(st.one_of(plain, zwj_sequence, tag_sequence), min_size=1, max_size=4).map(
        " ".join
    ),
    char=st.sampled_from([c for c in FORMAT_CONTROLS if c not in EMOJI_CONTROLS]),
    at=st.integers(0, 200),
)
def test_a_format_control_inserted_anywhere_is_refused(text: str, char: str, at: int) -> None:
    at = min(at, len(text))
    with pytest.raises(TextError):
        check_text(text[:at] + char + text[at:])


@settings(max_examples=300, deadline=None)
@given(left=plain, right=plain, seq=zwj_sequence)
def test_a_zwj_is_refused_unless_it_joins_two_pictographs(left: str, right: str, seq: str) -> None:
    check_text(left + seq + right)
    # Between a letter and anything, or at either end, a ZWJ is refused.
    with pytest.raises(TextError):
        check_text(left + "字\u200d" + right)
    with pytest.raises(TextError):
        check_text(seq + "\u200d" + right.lstrip("\u200d"))
    with pytest.raises(TextError):
        check_text("\u200d" + seq)


# ---------------------------------------------------------------- through the API


def test_the_api_refuses_a_hidden_override_in_a_wish_and_writes_nothing(
    client: TestClient, session: Session, settings: Settings
) -> None:
    tree = make_tree(session)
    station = tree.stations[0]
    assert station.lat is not None and station.lng is not None
    resident = make_resident(session)
    before = session.scalar(select(func.count()).select_from(Wish))
    for field, value in (
        ("title", "帮老人买菜\u202e"),
        ("full_address", "余村\u200b3 组"),
        ("description", "备注\u2066隐藏\u2069"),
        ("coarse_address", "\ufeff余村"),
    ):
        body = wish_body(station.lat, station.lng, **{field: value})
        r = client.post(f"{API}/wishes", json=body, headers=auth(resident, settings))
        assert r.status_code == 422, r.text
        [error] = r.json()["error"]["details"]["errors"]
        assert error["loc"][-1] == field
        assert "格式控制字符" in error["msg"]
    assert session.scalar(select(func.count()).select_from(Wish)) == before
    body = wish_body(station.lat, station.lng, title="给奶奶👩\u200d🦳送药")
    r = client.post(f"{API}/wishes", json=body, headers=auth(resident, settings))
    assert r.status_code == 201, r.text
    assert r.json()["title"] == "给奶奶👩\u200d🦳送药"


def test_single_line_fields_refuse_unicode_line_separators(
    client: TestClient, session: Session, settings: Settings
) -> None:
    tree = make_tree(session)
    station = tree.stations[0]
    assert station.lat is not None and station.lng is not None
    body = wish_body(station.lat, station.lng, title="第一行\u2028第二行")
    r = client.post(f"{API}/wishes", json=body, headers=auth(make_resident(session), settings))
    assert r.status_code == 422
    assert r.json()["error"]["details"]["errors"][0]["msg"] == "此字段只能为单行文本"
