"""Where the data encryption keys come from at start-up (core.crypto holds the cipher): DATA_ENCRYPTION_KEYS, or,
with the embedded database, a key FlyO makes once in DATA_DIR; with MONGODB_URI and no keys, a refusal."""

from __future__ import annotations

import logging
import os
import secrets
from pathlib import Path

from core.config import ConfigError, Settings
from core.crypto import NEW_KEY_HINT, SETTING, KeyRing, generate_key

log = logging.getLogger(__name__)

KEY_FILE = "data-encryption.key"  # under DATA_DIR: the embedded database's own key, backed up with it


def ring_for(settings: Settings) -> KeyRing:
    """DATA_ENCRYPTION_KEYS; else, with the embedded database, DATA_DIR's own key (made on first use); with
    MONGODB_URI and no keys, ConfigError: each replica would make a key of its own and not read the others'."""
    configured = settings.data_encryption_keys
    if configured:
        return KeyRing.from_text(configured)  # checked already when the settings were read
    if settings.mongodb_uri:
        raise ConfigError(f"{SETTING} is not set: with MONGODB_URI every replica must share the key that encrypts "
                          f"birth dates and document numbers; {NEW_KEY_HINT} and set it in every replica")
    path = settings.DATA_DIR / KEY_FILE
    try:
        return KeyRing.from_text(embedded_key(path), str(path))
    except ValueError as exc:
        raise ConfigError(f"Invalid data encryption key file: {exc}") from None


def embedded_key(path: Path) -> str:
    """The key file's key: read, or made once — mode 0600 from the start, and linked into place whole, so two
    starts at once can't each write a key (the second link fails and that start reads the first one's)."""
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        draft = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}")
        descriptor = os.open(draft, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        try:
            with os.fdopen(descriptor, "w") as out:
                out.write(generate_key() + "\n")
            try:
                os.link(draft, path)
                log.info("made the data encryption key %s: back it up with the database", path)
            except FileExistsError:
                pass
        finally:
            draft.unlink(missing_ok=True)
    try:
        if path.stat().st_mode & 0o077:
            path.chmod(0o600)  # a key others can read protects nothing: tightened, and said
            log.warning("%s was readable by other users; now 0600", path)
        return path.read_text().strip()
    except OSError as exc:
        raise ConfigError(f"Cannot read the data encryption key {path}: {exc.strerror}") from None
