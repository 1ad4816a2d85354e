"""Secrets sealed on the desktop before they reach a team's PostgreSQL server.

The local vault needs none of this: SQLCipher encrypts the whole file. A team server is
somebody else's disk, so each secret value (a proxy's or account's password, a browser
session, a route's tokens, a secret setting, an upload URL) is encrypted here with
AES-256-GCM under the team's data key; the server stores only `sealed1:` text, and
`pg_dump` shows nothing else.

The data key is random, made once by `piper team create`; the server keeps it wrapped
(AES-256-GCM) by a key derived from the team passphrase with scrypt, a memory-hard KDF,
in the one-row table `team_keys`. Changing the passphrase re-wraps the data key; the
values stay as they are. Each value's associated data names its column, so a sealed
value copied into another column does not open.

The columns say they are secret by their type (`SealedText`, `SealedJSON`); which key
opens them is the engine's: `attach(engine, box)` once the passphrase has opened it. On
an engine with no box (the SQLCipher file) the types store plain values, as before.
"""

from __future__ import annotations

import base64
import json
import os
import weakref
from dataclasses import dataclass
from typing import Any

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.scrypt import Scrypt
from sqlalchemy import Dialect, Engine, String, Text
from sqlalchemy.types import TypeDecorator, TypeEngine

PREFIX = "sealed1:"
NONCE_BYTES = 12
KEY_BYTES = 32
SALT_BYTES = 16
# scrypt with N=2^17, r=8: 128 MiB and about half a second per derivation (OWASP's
# floor is N=2^17 for r=8, p=1); stored with the key, so a team can raise it later
SCRYPT_N = 2**17
SCRYPT_R = 8
SCRYPT_P = 1
WRAP_AAD = b"piper team data key v1"


class TeamLocked(RuntimeError):
    """A sealed value was read with no team key attached (the passphrase not given)."""

    def __init__(self) -> None:
        super().__init__("the team's secrets are locked: give the team passphrase")


class WrongTeamPassphrase(ValueError):
    def __init__(self) -> None:
        super().__init__("wrong team passphrase")


class SealedValueDamaged(ValueError):
    def __init__(self, column: str) -> None:
        super().__init__(f"a sealed value of {column} does not open (damaged or moved)")


@dataclass(frozen=True)
class KdfParams:
    salt: bytes
    n: int = SCRYPT_N
    r: int = SCRYPT_R
    p: int = SCRYPT_P

    def derive(self, passphrase: str) -> bytes:
        kdf = Scrypt(salt=self.salt, length=KEY_BYTES, n=self.n, r=self.r, p=self.p)
        return kdf.derive(passphrase.encode("utf-8"))

    def as_dict(self) -> dict[str, Any]:
        return {"salt": _b64(self.salt), "n": self.n, "r": self.r, "p": self.p}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> KdfParams:
        return cls(_unb64(str(data["salt"])), int(data["n"]), int(data["r"]), int(data["p"]))


@dataclass(frozen=True)
class WrappedKey:
    """The data key as the server keeps it: wrapped by the passphrase's key."""

    kdf: KdfParams
    wrapped: bytes  # nonce + AES-GCM ciphertext of the data key

    def as_json(self) -> str:
        return json.dumps({"kdf": self.kdf.as_dict(), "wrapped": _b64(self.wrapped)})

    @classmethod
    def from_json(cls, text: str) -> WrappedKey:
        data = json.loads(text)
        return cls(KdfParams.from_dict(data["kdf"]), _unb64(str(data["wrapped"])))


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode("ascii")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text.encode("ascii"))


class SecretBox:
    """The team's data key, open: seals and opens values."""

    def __init__(self, data_key: bytes) -> None:
        if len(data_key) != KEY_BYTES:
            raise ValueError("a data key is 32 bytes")
        self._aead = AESGCM(data_key)
        self._key = data_key

    @classmethod
    def new(cls) -> SecretBox:
        return cls(AESGCM.generate_key(bit_length=256))

    def wrap(self, passphrase: str, *, n: int = SCRYPT_N) -> WrappedKey:
        kdf = KdfParams(os.urandom(SALT_BYTES), n=n)
        nonce = os.urandom(NONCE_BYTES)
        wrapped = nonce + AESGCM(kdf.derive(passphrase)).encrypt(nonce, self._key, WRAP_AAD)
        return WrappedKey(kdf, wrapped)

    @classmethod
    def unwrap(cls, wrapped: WrappedKey, passphrase: str) -> SecretBox:
        nonce, body = wrapped.wrapped[:NONCE_BYTES], wrapped.wrapped[NONCE_BYTES:]
        try:
            key = AESGCM(wrapped.kdf.derive(passphrase)).decrypt(nonce, body, WRAP_AAD)
        except InvalidTag:
            raise WrongTeamPassphrase() from None
        return cls(key)

    def seal(self, plaintext: str, column: str) -> str:
        nonce = os.urandom(NONCE_BYTES)
        body = self._aead.encrypt(nonce, plaintext.encode("utf-8"), column.encode("utf-8"))
        return PREFIX + _b64(nonce + body)

    def open(self, sealed: str, column: str) -> str:
        raw = _unb64(sealed[len(PREFIX) :])
        try:
            plain = self._aead.decrypt(raw[:NONCE_BYTES], raw[NONCE_BYTES:], column.encode("utf-8"))
        except InvalidTag:
            raise SealedValueDamaged(column) from None
        return plain.decode("utf-8")


# which box opens an engine's values: by its dialect object, one per engine
_boxes: weakref.WeakKeyDictionary[Dialect, SecretBox] = weakref.WeakKeyDictionary()


def attach(engine: Engine, box: SecretBox) -> None:
    _boxes[engine.dialect] = box


def detach(engine: Engine) -> None:
    _boxes.pop(engine.dialect, None)


def box_for(dialect: Dialect) -> SecretBox | None:
    return _boxes.get(dialect)


def seal_for(dialect: Dialect, plaintext: str, column: str) -> str:
    if plaintext == "":
        return ""  # "no password" stays comparable; it tells nothing a reader cannot see
    box = box_for(dialect)
    if box is None:
        if dialect.name == "postgresql":
            # never let a secret reach a team server in the clear
            raise TeamLocked()
        return plaintext
    return box.seal(plaintext, column)


def open_for(dialect: Dialect, stored: str, column: str) -> str:
    if not stored.startswith(PREFIX):
        return stored
    box = box_for(dialect)
    if box is None:
        raise TeamLocked()
    return box.open(stored, column)


class SealedText(TypeDecorator[str]):
    """A secret string; sealed on a team server, plain in the (encrypted) local file.

    `local_length`: the column's VARCHAR length in the local file's schema, where it was
    declared so before sealing existed (SQLite enforces no length; a sealed value is
    longer, so PostgreSQL gets TEXT)."""

    impl = Text
    cache_ok = True

    def __init__(self, column: str, local_length: int | None = None) -> None:
        super().__init__()
        self.column = column
        self.local_length = local_length

    def load_dialect_impl(self, dialect: Dialect) -> TypeEngine[Any]:
        if self.local_length is not None and dialect.name != "postgresql":
            return dialect.type_descriptor(String(self.local_length))
        return dialect.type_descriptor(Text())

    def process_bind_param(self, value: str | None, dialect: Dialect) -> str | None:
        return None if value is None else seal_for(dialect, value, self.column)

    def process_result_value(self, value: str | None, dialect: Dialect) -> str | None:
        return None if value is None else open_for(dialect, value, self.column)


class SealedJSON(TypeDecorator[Any]):
    """A secret JSON value (a browser session, a route's tokens), sealed as text."""

    impl = Text
    cache_ok = True

    def __init__(self, column: str) -> None:
        super().__init__()
        self.column = column

    def process_bind_param(self, value: Any, dialect: Dialect) -> str | None:
        if value is None:
            return None
        text = json.dumps(value, separators=(",", ":"), ensure_ascii=False)
        return seal_for(dialect, text, self.column)

    def process_result_value(self, value: str | None, dialect: Dialect) -> Any:
        return None if value is None else json.loads(open_for(dialect, value, self.column))
