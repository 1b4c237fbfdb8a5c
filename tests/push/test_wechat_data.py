"""Values are cut to what WeChat accepts for each data key type (longer ones get 47003)."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest

from app.push.wechat_data import fit

TZ = ZoneInfo("Asia/Shanghai")
NOW = datetime(2026, 12, 2, 2, 5, tzinfo=UTC)


@pytest.mark.parametrize(
    ("key", "value", "expected"),
    [
        ("thing1", "短的", "短的"),
        (
            "thing1",
            "一二三四五六七八九十一二三四五六七八九十多",
            "一二三四五六七八九十一二三四五六七八九…",
        ),
        ("thing2", "两行\n文字", "两行 文字"),
        ("thing3", None, "无"),
        ("phrase4", "已接单 OK", "已接单"),
        ("phrase4", "进行中的服务", "进行中的服"),
        ("phrase4", "OK", "通知"),
        ("name5", "张三 Zhang", "张三"),
        ("name5", "Zhang San", "Zhang San"),
        ("character_string6", "WX-2026 订单 12", "WX-202612"),
        ("number7", "共 12.5 小时", "12.5"),
        ("time8", "2026-12-02T18:30:00+08:00", "2026年12月2日 18:30"),
        ("time8", "2026-12-02T10:30:00Z", "2026年12月2日 18:30"),
        ("time8", "2026年12月2日 18:30", "2026年12月2日 18:30"),
        ("time8", "明天下午", "明天下午"),
        ("date9", None, "2026年12月2日 10:05"),
        ("phone_number10", "138 0000 1111", "13800001111"),
        ("car_number11", "浙E 12345 挂", "浙E12345挂"),
    ],
)
def test_fit(key: str, value: str | None, expected: str) -> None:
    assert fit(key, value, tz=TZ, now=NOW) == expected
