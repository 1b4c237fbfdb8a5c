"""Sealing personal data: authenticated, bound to its column, keyed by id so keys rotate; the
phone lookup hash; and the settings that production refuses."""

from __future__ import annotations

import base64
import os

import pytest
from pydantic import ValidationError

from app.config import Environment, Settings
from app.crypto.sealing import (
    DEVELOPMENT_DATA_KEY,
    Keyring,
    KeySettingError,
    Sealed,
    Undecryptable,
    development_keyring,
    keyring_from,
    new_key,
)

SECRET = "a-production-secret-key-with-plenty-of-length-0123456789"


def b64(raw: bytes) -> str:
    return base64.b64encode(raw).decode()


def ring(**keys: bytes) -> Keyring:
    current = next(iter(keys))
    return Keyring(keys=keys, current=current, lookup_key=b"L" * 32)


def test_a_sealed_value_opens_only_with_its_key_and_column() -> None:
    k = ring(k1=os.urandom(32))
    token = k.encrypt("13812345678", "users.phone")
    assert token.startswith("enc1:k1:") and "13812345678" not in token
    assert k.decrypt(token, "users.phone") == "13812345678"
    # Every sealing differs (a fresh nonce), so equal phones do not show as equal.
    assert k.encrypt("13812345678", "users.phone") != token
    # Moved to another column, it does not open.
    with pytest.raises(Undecryptable):
        k.decrypt(token, "wishes.contact_phone")
    # Another key with the same id does not open it either.
    with pytest.raises(Undecryptable):
        ring(k1=os.urandom(32)).decrypt(token, "users.phone")


def test_any_changed_byte_is_refused() -> None:
    k = ring(k1=os.urandom(32))
    sealed = Sealed.parse(k.encrypt("安吉县天荒坪镇余村 2 组 18 号", "wishes.full_address"))
    for i in range(len(sealed.ciphertext)):
        flipped = bytearray(sealed.ciphertext)
        flipped[i] ^= 0x01
        tampered = str(Sealed(sealed.key_id, sealed.nonce, bytes(flipped)))
        with pytest.raises(Undecryptable):
            k.decrypt(tampered, "wishes.full_address")
    with pytest.raises(Undecryptable):
        k.decrypt("13812345678", "users.phone")  # plaintext is not a sealed value


def test_a_rotated_keyring_reads_old_values_and_seals_with_the_new_key() -> None:
    old, new = os.urandom(32), os.urandom(32)
    before = Keyring(keys={"2026": old}, current="2026", lookup_key=b"L" * 32)
    token = before.encrypt("13812345678", "users.phone")
    after = Keyring(keys={"2026": old, "2027": new}, current="2027", lookup_key=b"L" * 32)
    assert after.decrypt(token, "users.phone") == "13812345678"
    assert not after.is_current(token)
    fresh = after.encrypt("13812345678", "users.phone")
    assert fresh.startswith("enc1:2027:") and after.is_current(fresh)
    retired = Keyring(keys={"2027": new}, current="2027", lookup_key=b"L" * 32)
    with pytest.raises(Undecryptable, match="no key '2026'"):
        retired.decrypt(token, "users.phone")


def test_the_lookup_hash_is_keyed_and_stable() -> None:
    a = Keyring(keys={"k": os.urandom(32)}, current="k", lookup_key=b"A" * 32)
    b = Keyring(keys={"k": os.urandom(32)}, current="k", lookup_key=b"B" * 32)
    assert a.lookup_hash("13812345678") == a.lookup_hash("13812345678")
    assert len(a.lookup_hash("13812345678")) == 64
    assert a.lookup_hash("13812345678") != a.lookup_hash("13812345679")
    assert a.lookup_hash("13812345678") != b.lookup_hash("13812345678")


def test_keys_from_settings() -> None:
    raw = os.urandom(32)
    k = keyring_from({"a": b64(raw)}, None, new_key())
    assert k.current == "a" and k.keys["a"] == raw
    # URL-safe base64 without padding, as `wenming new-key` prints, reads the same.
    assert keyring_from({"a": new_key()}, "a", new_key()).current == "a"
    for keys, current in (
        ({"a": b64(b"short")}, None),  # not 32 bytes
        ({"a": "not base64!"}, None),
        ({"a": new_key(), "b": new_key()}, None),  # several: which is current?
        ({"a": new_key()}, "b"),  # current unknown
        ({"bad id!": new_key()}, None),
    ):
        with pytest.raises(KeySettingError):
            keyring_from(keys, current, new_key())
    assert keyring_from(None, None, None) == development_keyring()


def test_production_refuses_missing_or_development_keys() -> None:
    def settings(**kw: object) -> Settings:
        return Settings(
            env=Environment.PRODUCTION,
            secret_key=SECRET,
            wechat_app_id="wx1234567890abcdef",
            wechat_app_secret="0123456789abcdef0123456789abcdef",
            **kw,  # type: ignore[arg-type]
        )

    good = {"data_keys": {"2027a": new_key()}, "lookup_key": new_key()}
    assert settings(**good).data_keys == good["data_keys"]
    for bad, why in (
        ({}, "DATA_KEYS and LOOKUP_KEY must be set"),
        ({"data_keys": good["data_keys"]}, "DATA_KEYS and LOOKUP_KEY must be set"),
        ({**good, "data_keys": {"dev": b64(DEVELOPMENT_DATA_KEY)}}, "development"),
        ({**good, "data_key_id": "other"}, "not in DATA_KEYS"),
        ({**good, "lookup_key": good["data_keys"]["2027a"]}, "must differ"),
    ):
        with pytest.raises(ValidationError, match=why):
            settings(**bad)
    # Development runs with nothing set (the labelled development keys).
    assert Settings(env=Environment.DEVELOPMENT).data_keys is None
