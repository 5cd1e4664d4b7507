"""AES-256-GCM sealing of provider keys: round trip, fresh nonces, row binding, rotation."""

from __future__ import annotations

import base64
import os
import uuid

import pytest

from threads.store.crypto import KeyRing, SecretDecryptError, associated_data, decode_key

K1, K2 = os.urandom(32), os.urandom(32)
USER = uuid.uuid4()


def test_round_trip_and_fresh_nonce_per_write() -> None:
    ring = KeyRing({"k1": K1}, "k1")
    aad = associated_data(USER, "openai")
    key_id, a = ring.seal("sk-secret-value", aad)
    _, b = ring.seal("sk-secret-value", aad)
    assert key_id == "k1"
    assert a != b and a[:12] != b[:12]  # a new nonce every time
    assert b"sk-secret-value" not in a
    assert ring.open("k1", a, aad) == ring.open("k1", b, aad) == "sk-secret-value"


@pytest.mark.parametrize(
    "aad",
    [associated_data(uuid.uuid4(), "openai"), associated_data(USER, "anthropic"), b""],
)
def test_a_ciphertext_moved_to_another_row_does_not_open(aad: bytes) -> None:
    ring = KeyRing({"k1": K1}, "k1")
    _, blob = ring.seal("sk-secret-value", associated_data(USER, "openai"))
    with pytest.raises(SecretDecryptError):
        ring.open("k1", blob, aad)


def test_tampered_bytes_do_not_open() -> None:
    ring = KeyRing({"k1": K1}, "k1")
    aad = associated_data(USER, "openai")
    _, blob = ring.seal("sk-secret-value", aad)
    flipped = blob[:20] + bytes([blob[20] ^ 1]) + blob[21:]
    with pytest.raises(SecretDecryptError):
        ring.open("k1", flipped, aad)


def test_rotation_old_rows_open_with_their_key_new_rows_use_the_active_one() -> None:
    aad = associated_data(USER, "openai")
    old_id, old_blob = KeyRing({"k1": K1}, "k1").seal("sk-old", aad)
    rotated = KeyRing({"k1": K1, "k2": K2}, "k2")
    assert rotated.open(old_id, old_blob, aad) == "sk-old"
    new_id, new_blob = rotated.seal("sk-new", aad)
    assert new_id == "k2"
    with pytest.raises(SecretDecryptError, match="unknown server key id"):
        KeyRing({"k1": K1}, "k1").open(new_id, new_blob, aad)
    with pytest.raises(SecretDecryptError):
        KeyRing({"k1": K2}, "k1").open("k1", old_blob, aad)  # same id, different key


def test_active_key_must_be_in_the_ring() -> None:
    with pytest.raises(ValueError, match="active key id"):
        KeyRing({"k1": K1}, "k2")


def test_decode_key_accepts_standard_and_urlsafe_base64_of_32_bytes() -> None:
    assert decode_key(base64.b64encode(K1).decode()) == K1
    assert decode_key(base64.urlsafe_b64encode(K1).decode()) == K1
    with pytest.raises(ValueError, match="32 bytes"):
        decode_key(base64.b64encode(b"short").decode())
    with pytest.raises(ValueError, match="base64"):
        decode_key("not base64 at all!")


def test_the_ring_never_shows_its_keys() -> None:
    ring = KeyRing({"k1": K1}, "k1")
    assert K1.hex() not in repr(ring) and str(K1) not in repr(ring)
