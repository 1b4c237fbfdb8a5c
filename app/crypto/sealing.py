"""Encryption of personal data at rest, and the keyed hash that finds an account by phone.

Values are sealed with AES-256-GCM (authenticated: a changed byte fails to open, it never
decrypts to something else). A sealed value describes itself:

    enc1:<key id>:<nonce, base64url>:<ciphertext and tag, base64url>

so any stored value says which key opened it, and keys can rotate: `DATA_KEYS` holds every key
still needed to read (`{"2027a": "<base64 of 32 bytes>", ...}`), `DATA_KEY_ID` names the one new
values are sealed with, and `wenming reencrypt` moves old values to it. The column a value
belongs to (`users.phone`) is bound in as associated data, so a value copied into another
column does not open there.

Lookups by phone cannot search ciphertext (every sealing uses a fresh nonce): an HMAC-SHA256 of
the phone under its own key (`LOOKUP_KEY`) sits beside it in a unique column.

Development and tests use the keys below, labelled as what they are; production refuses them
(see `app.config.Settings`).

This module imports nothing else of the application: the settings register where the process's
keys come from (`set_key_source`, at the bottom of app/config.py).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import os
import re
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

FORMAT = "enc1"
NONCE_BYTES = 12
KEY_BYTES = 32
KEY_ID = re.compile(r"^[A-Za-z0-9_-]{1,32}$")

# Development only: public in the source, refused in production.
DEVELOPMENT_KEY_ID = "dev"
DEVELOPMENT_DATA_KEY = b"wenming DEVELOPMENT data key !!!"
DEVELOPMENT_LOOKUP_KEY = b"wenming DEVELOPMENT lookup key!!"
assert len(DEVELOPMENT_DATA_KEY) == KEY_BYTES and len(DEVELOPMENT_LOOKUP_KEY) == KEY_BYTES


class KeySettingError(ValueError):
    """A key setting that cannot be used (wrong length, not base64, unknown id)."""


class Undecryptable(RuntimeError):
    """A stored value that does not open: a key missing from DATA_KEYS, or tampering."""


def decode_key(text: str, *, name: str) -> bytes:
    """A key given as base64 (standard or URL-safe, padding optional): exactly 32 bytes."""
    cleaned = text.strip().replace("+", "-").replace("/", "_")
    try:
        raw = base64.urlsafe_b64decode(cleaned + "=" * (-len(cleaned) % 4))
    except (binascii.Error, ValueError):
        raise KeySettingError(f"{name}: not base64") from None
    if len(raw) != KEY_BYTES:
        raise KeySettingError(f"{name}: must be {KEY_BYTES} bytes (base64 of 32 random bytes)")
    return raw


def new_key() -> str:
    """A fresh random key, base64url (for the operator: `wenming new-key`)."""
    return base64.urlsafe_b64encode(os.urandom(KEY_BYTES)).decode("ascii").rstrip("=")


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode("ascii").rstrip("=")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


@dataclass(frozen=True)
class Sealed:
    key_id: str
    nonce: bytes
    ciphertext: bytes

    @classmethod
    def parse(cls, token: str) -> Sealed:
        parts = token.split(":")
        if len(parts) != 4 or parts[0] != FORMAT:
            raise Undecryptable("not a sealed value")
        try:
            return cls(parts[1], _unb64(parts[2]), _unb64(parts[3]))
        except (binascii.Error, ValueError):
            raise Undecryptable("sealed value is damaged") from None

    def __str__(self) -> str:
        return f"{FORMAT}:{self.key_id}:{_b64(self.nonce)}:{_b64(self.ciphertext)}"


@dataclass(frozen=True)
class Keyring:
    """The data keys (by id), the current one, and the lookup key."""

    keys: Mapping[str, bytes]
    current: str
    lookup_key: bytes
    _ciphers: dict[str, AESGCM] = field(default_factory=dict, compare=False, repr=False)

    def __post_init__(self) -> None:
        if self.current not in self.keys:
            raise KeySettingError(f"DATA_KEY_ID {self.current!r} is not in DATA_KEYS")
        for key_id, key in self.keys.items():
            if not KEY_ID.match(key_id):
                raise KeySettingError(f"DATA_KEYS: key id {key_id!r} (letters, digits, _ and -)")
            if len(key) != KEY_BYTES:
                raise KeySettingError(f"DATA_KEYS[{key_id!r}]: must be {KEY_BYTES} bytes")
            self._ciphers[key_id] = AESGCM(key)

    def encrypt(self, plaintext: str, context: str) -> str:
        return self.encrypt_bytes(plaintext.encode("utf-8"), context)

    def decrypt(self, token: str, context: str) -> str:
        return self.decrypt_bytes(token, context).decode("utf-8")

    def encrypt_bytes(self, plaintext: bytes, context: str) -> str:
        nonce = os.urandom(NONCE_BYTES)
        sealed = self._ciphers[self.current].encrypt(nonce, plaintext, context.encode("ascii"))
        return str(Sealed(self.current, nonce, sealed))

    def decrypt_bytes(self, token: str, context: str) -> bytes:
        sealed = Sealed.parse(token)
        cipher = self._ciphers.get(sealed.key_id)
        if cipher is None:
            raise Undecryptable(f"no key {sealed.key_id!r} in DATA_KEYS to open a stored value")
        try:
            return cipher.decrypt(sealed.nonce, sealed.ciphertext, context.encode("ascii"))
        except InvalidTag:
            raise Undecryptable(f"a stored value of {context} does not open (tampered?)") from None

    def is_current(self, token: str) -> bool:
        return token.startswith(f"{FORMAT}:{self.current}:")

    def lookup_hash(self, value: str, purpose: str = "phone") -> str:
        """The keyed hash that finds a value without storing it readable (64 hex digits)."""
        message = f"{purpose}:{value}".encode()
        return hmac.new(self.lookup_key, message, hashlib.sha256).hexdigest()

    @property
    def is_development(self) -> bool:
        return self.lookup_key == DEVELOPMENT_LOOKUP_KEY or any(
            key == DEVELOPMENT_DATA_KEY for key in self.keys.values()
        )


def development_keyring() -> Keyring:
    return Keyring(
        keys={DEVELOPMENT_KEY_ID: DEVELOPMENT_DATA_KEY},
        current=DEVELOPMENT_KEY_ID,
        lookup_key=DEVELOPMENT_LOOKUP_KEY,
    )


def keyring_from(
    data_keys: Mapping[str, str] | None, data_key_id: str | None, lookup_key: str | None
) -> Keyring:
    """The keyring the settings describe; unset parts fall back to the development keys
    (production settings refuse that before it gets here)."""
    if data_keys:
        keys = {
            kid: decode_key(text, name=f"DATA_KEYS[{kid!r}]") for kid, text in data_keys.items()
        }
        if data_key_id is None:
            if len(keys) != 1:
                raise KeySettingError(
                    "DATA_KEY_ID must name the current key when DATA_KEYS has several"
                )
            data_key_id = next(iter(keys))
    else:
        if data_key_id not in (None, DEVELOPMENT_KEY_ID):
            raise KeySettingError("DATA_KEY_ID is set but DATA_KEYS is not")
        keys, data_key_id = {DEVELOPMENT_KEY_ID: DEVELOPMENT_DATA_KEY}, DEVELOPMENT_KEY_ID
    lookup = decode_key(lookup_key, name="LOOKUP_KEY") if lookup_key else DEVELOPMENT_LOOKUP_KEY
    return Keyring(keys=keys, current=data_key_id, lookup_key=lookup)


# ---------------------------------------------------------------- the process's keyring

_keyring: Keyring | None = None
_key_source: Callable[[], Keyring] | None = None


def set_key_source(source: Callable[[], Keyring]) -> None:
    """Where `keyring()` reads the keys from when no command configured them: the settings
    register it (app/config.py)."""
    global _key_source
    _key_source = source


def keyring() -> Keyring:
    """The keyring in force: configured by a command (`wenming reencrypt`), else read from the
    environment's settings (the registered key source), as the server and the CLI read them."""
    global _keyring
    if _keyring is None:
        if _key_source is None:
            raise RuntimeError("no key source: import app.config before sealing values")
        _keyring = _key_source()
    return _keyring


def configure(ring: Keyring) -> None:
    global _keyring
    _keyring = ring


@contextmanager
def using(ring: Keyring) -> Iterator[Keyring]:
    """Use another keyring for a while (key rotation, tests)."""
    global _keyring
    previous = _keyring
    _keyring = ring
    try:
        yield ring
    finally:
        _keyring = previous


def lookup_hash(value: str, purpose: str = "phone") -> str:
    return keyring().lookup_hash(value, purpose)
