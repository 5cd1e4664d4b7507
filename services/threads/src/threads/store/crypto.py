"""Authenticated encryption of provider keys (AES-256-GCM) under rotatable server keys.

Every ciphertext is `nonce (12 bytes) || AES-GCM output` and is bound to its row by the
associated data, so a ciphertext copied to another user's or provider's row fails to decrypt.
Each row stores the id of the server key that sealed it: new writes use the active key, older
rows keep decrypting with theirs until `switchboard-threads rotate-secrets` re-seals them.
"""

from __future__ import annotations

import base64
import binascii
import os
from collections.abc import Mapping
from dataclasses import dataclass, field

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

NONCE_BYTES = 12
KEY_BYTES = 32

# Development only: a fixed, public key so a laptop stack works without setup. Settings refuse
# it outside development, because anyone can read it here.
DEV_KEY_ID = "dev"
DEV_KEY = base64.b64encode(b"switchboard-DEV-ONLY-not-secret!").decode()


class SecretDecryptError(Exception):
    """A stored secret cannot be opened: unknown key id, wrong row, or tampered bytes."""


def decode_key(value: str) -> bytes:
    """A base64 (standard or URL-safe) 32-byte key; ValueError otherwise (never echoing it)."""
    try:
        raw = base64.b64decode(value.replace("-", "+").replace("_", "/"), validate=True)
    except (binascii.Error, ValueError):
        raise ValueError("is not valid base64") from None
    if len(raw) != KEY_BYTES:
        raise ValueError(f"must decode to {KEY_BYTES} bytes, got {len(raw)}")
    return raw


def associated_data(user_id: object, provider: str) -> bytes:
    return f"{user_id}|{provider}".encode()


@dataclass(frozen=True)
class KeyRing:
    """The server keys by id, and which one seals new secrets."""

    keys: Mapping[str, bytes] = field(repr=False)
    active_id: str

    def __post_init__(self) -> None:
        if self.active_id not in self.keys:
            raise ValueError(f"active key id {self.active_id!r} is not among the keys")

    def seal(self, plaintext: str, aad: bytes) -> tuple[str, bytes]:
        """(key id, nonce || ciphertext) under the active key, with a fresh random nonce."""
        nonce = os.urandom(NONCE_BYTES)
        sealed = AESGCM(self.keys[self.active_id]).encrypt(nonce, plaintext.encode(), aad)
        return self.active_id, nonce + sealed

    def open(self, key_id: str, blob: bytes, aad: bytes) -> str:
        key = self.keys.get(key_id)
        if key is None:
            raise SecretDecryptError(f"unknown server key id {key_id!r}")
        try:
            plain = AESGCM(key).decrypt(blob[:NONCE_BYTES], blob[NONCE_BYTES:], aad)
        except InvalidTag:
            raise SecretDecryptError("stored secret failed authentication") from None
        return plain.decode()
