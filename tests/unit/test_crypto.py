"""The data key ring (core.crypto, issue #21): keys as DATA_ENCRYPTION_KEYS spells them, sealed values, rotation
order, a key missing from the ring, and the property that holds for any text, date and ring order."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from core.config import ConfigError, Settings, load_settings
from core.crypto import KeyRing, UnreadableData, generate_key, is_sealed, key_id, parse_keys
from core.data_keys import KEY_FILE, embedded_key, ring_for

KEYS = [generate_key() for _key in range(3)]


def test_the_first_key_writes_and_every_key_reads() -> None:
    a, b = KeyRing.from_text(KEYS[0]), KeyRing.from_text(f"{KEYS[1]},{KEYS[0]}")
    sealed = a.seal("X1234567")
    assert is_sealed(sealed) and sealed.startswith(f"fy1:{key_id(parse_keys(KEYS[0])[0])}:")
    assert b.open(sealed) == "X1234567" and not b.is_current(sealed)
    again = b.seal(b.open(sealed))
    assert b.is_current(again) and KeyRing.from_text(KEYS[1]).open(again) == "X1234567"
    assert b.seal(sealed) != sealed and b.open(b.seal(sealed)) == "X1234567"  # sealing twice seals once


def test_a_plain_value_from_before_encryption_reads_as_it_is() -> None:
    ring = KeyRing.from_text(KEYS[0])
    assert ring.open("1985-12-10") == "1985-12-10" and ring.readable("X1234567") and not ring.is_current("X1")


def test_a_value_under_a_key_not_in_the_ring_names_the_key_and_the_setting() -> None:
    sealed = KeyRing.from_text(KEYS[2]).seal("1985-12-10")
    ring = KeyRing.from_text(KEYS[0])
    with pytest.raises(UnreadableData) as info:
        ring.open(sealed)
    message = str(info.value)
    assert key_id(parse_keys(KEYS[2])[0]) in message and "DATA_ENCRYPTION_KEYS" in message and "rotate-keys" in message
    assert not isinstance(info.value, ValueError)  # pydantic would wrap a ValueError into a ValidationError
    assert not ring.readable(sealed)


def test_an_altered_value_fails_its_check() -> None:
    ring = KeyRing.from_text(KEYS[0])
    sealed = ring.seal("X1234567")
    body = sealed.rsplit(":", 1)[1]
    forged = sealed[: -len(body)] + ("A" if body[0] != "A" else "B") + body[1:]
    with pytest.raises(UnreadableData, match="integrity"):
        ring.open(forged)


@pytest.mark.parametrize("raw", ["not-a-key", KEYS[0][:-8], f"{KEYS[0]},short", ",", f"{KEYS[0]},{KEYS[0]}",
                                 KEYS[0][:20] + "!" + KEYS[0][20:]])
def test_a_malformed_key_is_refused_without_being_shown(raw: str) -> None:
    with pytest.raises(ConfigError) as info:
        load_settings(DATA_ENCRYPTION_KEYS=raw)
    assert str(info.value).startswith("Invalid setting DATA_ENCRYPTION_KEYS: ")
    assert raw not in str(info.value) and KEYS[0] not in str(info.value)


def test_an_empty_setting_is_unset() -> None:
    assert load_settings(DATA_ENCRYPTION_KEYS=" ").DATA_ENCRYPTION_KEYS is None


def test_keys_may_be_separated_by_spaces_and_be_standard_base64() -> None:
    assert load_settings(DATA_ENCRYPTION_KEYS=f" {KEYS[0]} , {KEYS[1]}").data_encryption_keys
    standard = KEYS[0].replace("-", "+").replace("_", "/").rstrip("=")
    assert parse_keys(standard) == parse_keys(KEYS[0])


def test_the_fingerprint_is_keyed_and_stable() -> None:
    a, also_a = KeyRing.from_text(KEYS[0]), KeyRing.from_text(f"{KEYS[0]},{KEYS[1]}")
    assert a.fingerprint("1985-12-10") == also_a.fingerprint("1985-12-10") != a.fingerprint("1985-12-11")
    assert KeyRing.from_text(KEYS[1]).fingerprint("1985-12-10") != a.fingerprint("1985-12-10")
    assert "1985" not in a.fingerprint("1985-12-10")


def test_the_embedded_key_file_is_made_once_0600(tmp_path: Path) -> None:
    path = tmp_path / "var" / KEY_FILE
    first = embedded_key(path)
    assert path.stat().st_mode & 0o777 == 0o600 and parse_keys(first)
    assert embedded_key(path) == first and [p.name for p in path.parent.iterdir()] == [KEY_FILE]
    path.chmod(0o644)  # someone loosened it: tightened again
    assert embedded_key(path) == first and path.stat().st_mode & 0o777 == 0o600


def test_where_the_ring_comes_from(tmp_path: Path) -> None:
    configured = Settings(DATA_ENCRYPTION_KEYS=KEYS[1], MONGODB_URI="mongodb://db.example", DATA_DIR=tmp_path)
    assert ring_for(configured).current == key_id(parse_keys(KEYS[1])[0])
    with pytest.raises(ConfigError, match=r"DATA_ENCRYPTION_KEYS is not set.*python -m bot new-key"):
        ring_for(Settings(MONGODB_URI="mongodb://db.example", DATA_DIR=tmp_path))
    assert not (tmp_path / KEY_FILE).exists()  # replicas never make keys of their own
    embedded = ring_for(Settings(DATA_DIR=tmp_path))
    assert (tmp_path / KEY_FILE).exists() and ring_for(Settings(DATA_DIR=tmp_path)).current == embedded.current
    (tmp_path / KEY_FILE).write_text("garbage\n")
    with pytest.raises(ConfigError, match=f"Invalid data encryption key file: key 1 of .*{KEY_FILE}"):
        ring_for(Settings(DATA_DIR=tmp_path))


@settings(max_examples=200, deadline=None)
@given(text=st.text(min_size=1, max_size=60), day=st.dates(min_value=date(1900, 1, 1)),
       order=st.permutations(range(3)), writer=st.integers(0, 2))
def test_any_text_or_date_round_trips_under_any_ring_order(text: str, day: date, order: list[int],
                                                           writer: int) -> None:
    """Written under any key of the ring, read by the ring in any order; the ciphertext never holds the plain text
    (a date as ISO, or any text of 8+ characters: a shorter one may occur in random base64 by chance)."""
    written = KeyRing.from_text(KEYS[writer])
    reader = KeyRing.from_text(",".join(KEYS[i] for i in order))
    for plain in (text, day.isoformat()):
        sealed = written.seal(plain)
        assert reader.open(sealed) == plain
        assert reader.is_current(sealed) == (order[0] == writer)
        assert len(plain) < 8 or plain not in sealed.split(":", 2)[2]
        assert written.seal(plain) != sealed  # a fresh nonce each time: equal values don't look equal
