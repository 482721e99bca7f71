"""Field-level encryption of personal data at rest (issue #21): birth dates and travel document numbers.

AES-256-GCM under a key ring. A sealed value is the text ``fy1:<key id>:<base64url(nonce ‖ ciphertext ‖ tag)>``:
the key id (a hash of the key, never the key) says at once which key wrote it, so a value under a key the ring
lacks fails with a message naming that id instead of a bare authentication error, and the rotation knows which
values to rewrite without trying every key (a value under the first key is left alone: a rerun writes nothing).
The header is authenticated as associated data, so it cannot be swapped. A 96-bit random nonce per value: far
below the 2^32 values per key where random GCM nonces start to matter.

The ring (DATA_ENCRYPTION_KEYS): the first key encrypts, every key decrypts. Keys are 32 random bytes in url-safe
base64 (`python -m bot new-key`; the same format as Fernet.generate_key()). Without the setting, an embedded
database (no MONGODB_URI) gets a key generated once into DATA_DIR (mode 0600); with MONGODB_URI the replicas must
share a configured key, so FlyO refuses to start without one.

Plain values written before encryption still read (`open` returns them as they are); the next write, or
`python -m bot rotate-keys`, encrypts them. The models hold plain values; models.sealed seals them on the way
to the database and opens them on the way back, with the ring installed here at start-up.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import secrets
from collections.abc import Sequence

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

VERSION = "fy1"
KEY_BYTES = 32
NONCE_BYTES = 12
SETTING = "DATA_ENCRYPTION_KEYS"
NEW_KEY_HINT = "generate one with `python -m bot new-key`"


class UnreadableData(Exception):
    """A stored value can't be decrypted: its key is not in the ring, or it was altered. Not a ValueError on
    purpose: pydantic wraps those into a ValidationError; this one reaches the error handler as itself."""


class NoKeyRing(RuntimeError):
    """Personal data was about to be written or read before the start-up installed the key ring."""


def _b64decode(text: str) -> bytes:
    """url-safe base64, padded or not; standard base64's + and / too (`openssl rand -base64 32`). Strict: a stray
    character is an error, not skipped."""
    text = text.rstrip("=").replace("-", "+").replace("_", "/")
    return base64.b64decode(text + "=" * (-len(text) % 4), validate=True)


def _b64encode(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def key_id(key: bytes) -> str:
    """8 characters naming a key in logs and sealed values; says nothing about the key itself."""
    return _b64encode(hashlib.sha256(b"flyo data key id\0" + key).digest()[:6])


def generate_key() -> str:
    return base64.urlsafe_b64encode(secrets.token_bytes(KEY_BYTES)).decode()


def parse_keys(raw: str, source: str = SETTING) -> list[bytes]:
    """Comma-separated keys → bytes; ValueError naming the position of a malformed one (never its value)."""
    parts = [p.strip() for p in raw.split(",") if p.strip()]
    if not parts:
        raise ValueError(f"{source} holds no key; {NEW_KEY_HINT}")
    keys = []
    for number, part in enumerate(parts, 1):
        try:
            key = _b64decode(part)
        except (binascii.Error, ValueError):
            key = b""
        if len(key) != KEY_BYTES or any(c.isspace() for c in part):
            raise ValueError(f"key {number} of {source} is not 32 bytes in url-safe base64; {NEW_KEY_HINT}")
        keys.append(key)
    if len({key_id(k) for k in keys}) != len(keys):
        raise ValueError(f"{source} holds the same key twice")
    return keys


def is_sealed(value: object) -> bool:
    return isinstance(value, str) and value.startswith(VERSION + ":") and value.count(":") == 2


def sealed_key_id(value: str) -> str:
    return value.split(":", 2)[1]


class KeyRing:
    """The keys FlyO reads personal data with; the first one writes."""

    def __init__(self, keys: Sequence[bytes]) -> None:
        if not keys:
            raise ValueError("a key ring needs at least one key")
        self._ciphers = {key_id(k): AESGCM(k) for k in keys}
        self.ids = list(self._ciphers)
        self.current = self.ids[0]
        # The blind index of saved travellers (services.travellers.traveller_key): keyed, so a birth date in it
        # can't be found by hashing the 36 500 dates of a century; derived from the first key like the cipher.
        self._fingerprint_key = hmac.new(keys[0], b"flyo fingerprint", hashlib.sha256).digest()

    @classmethod
    def from_text(cls, raw: str, source: str = SETTING) -> KeyRing:
        return cls(parse_keys(raw, source))

    def seal(self, plain: str) -> str:
        """`plain` encrypted under the first key (a value sealed already is opened first: never sealed twice)."""
        if is_sealed(plain):
            plain = self.open(plain)
        header = f"{VERSION}:{self.current}"
        nonce = secrets.token_bytes(NONCE_BYTES)
        sealed = self._ciphers[self.current].encrypt(nonce, plain.encode(), header.encode())
        return f"{header}:{_b64encode(nonce + sealed)}"

    def open(self, value: str) -> str:
        """The plain text of a sealed value; a plain value (written before encryption) as it is."""
        if not is_sealed(value):
            return value
        _version, kid, body = value.split(":", 2)
        cipher = self._ciphers.get(kid)
        if cipher is None:
            raise UnreadableData(
                f"a stored value was encrypted with data key {kid}, which is not in {SETTING} (its keys: "
                f"{', '.join(self.ids)}): add that key back (second is enough) — it may have been removed before "
                f"`python -m bot rotate-keys` re-encrypted everything, or this replica lacks a key the others have")
        try:
            raw = _b64decode(body)
            return cipher.decrypt(raw[:NONCE_BYTES], raw[NONCE_BYTES:], f"{VERSION}:{kid}".encode()).decode()
        except (InvalidTag, binascii.Error, ValueError) as exc:
            raise UnreadableData(f"a stored value under data key {kid} fails its integrity check: it was altered "
                                 "or truncated") from exc

    def is_current(self, value: object) -> bool:
        """Sealed under the first key: nothing for the rotation to do."""
        return is_sealed(value) and sealed_key_id(str(value)) == self.current

    def readable(self, value: str) -> bool:
        return not is_sealed(value) or sealed_key_id(value) in self._ciphers

    def fingerprint(self, plain: str) -> str:
        """A keyed hash of `plain` (22 characters): equal plain texts, equal fingerprints, under the first key."""
        return _b64encode(hmac.new(self._fingerprint_key, plain.encode(), hashlib.sha256).digest()[:16])


# ---- the process's ring ---------------------------------------------------------------------------------
_installed: KeyRing | None = None


def install(ring: KeyRing) -> None:
    """The ring every model reads and writes personal data with from now on (start-up; tests)."""
    global _installed
    _installed = ring


def ring() -> KeyRing:
    if _installed is None:
        raise NoKeyRing("no data encryption key ring installed (core.crypto.install): start FlyO through "
                        "bot.runtime, which reads DATA_ENCRYPTION_KEYS")
    return _installed


def installed_ring() -> KeyRing | None:
    return _installed
