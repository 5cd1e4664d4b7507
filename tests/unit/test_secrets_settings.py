"""The threads service refuses to start outside development without a real server key."""

from __future__ import annotations

import base64
import json
import os

import pytest
from pydantic import ValidationError

from threads.config import Settings
from threads.store.crypto import DEV_KEY, DEV_KEY_ID


def b64(raw: bytes) -> str:
    return base64.b64encode(raw).decode()


@pytest.fixture(autouse=True)
def clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in list(os.environ):
        if name.startswith("THREADS_"):
            monkeypatch.delenv(name)


def test_production_without_a_key_refuses_to_start() -> None:
    with pytest.raises(ValidationError, match="THREADS_SECRET_KEYS must be set"):
        Settings(environment="production")


def test_production_with_the_dev_key_refuses_to_start() -> None:
    with pytest.raises(ValidationError, match="development key"):
        Settings(environment="production", secret_keys={"k1": DEV_KEY})


@pytest.mark.parametrize("bad", ["not-base64!!", b64(b"too short"), b64(os.urandom(33))])
def test_a_malformed_key_refuses_to_start_without_echoing_it(bad: str) -> None:
    with pytest.raises(ValidationError) as info:
        Settings(environment="production", secret_keys={"k1": bad})
    assert bad not in str(info.value)


def test_several_keys_need_an_active_one_that_exists() -> None:
    keys = {"k1": b64(os.urandom(32)), "k2": b64(os.urandom(32))}
    with pytest.raises(ValidationError, match="ACTIVE_SECRET_KEY_ID is required"):
        Settings(environment="production", secret_keys=keys)
    with pytest.raises(ValidationError, match="must name a key"):
        Settings(environment="production", secret_keys=keys, active_secret_key_id="k3")
    ring = Settings(
        environment="production", secret_keys=keys, active_secret_key_id="k2"
    ).secret_keyring()
    assert ring.active_id == "k2" and set(ring.keys) == {"k1", "k2"}


def test_production_reads_keys_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    raw = os.urandom(32)
    monkeypatch.setenv("THREADS_ENVIRONMENT", "production")
    monkeypatch.setenv("THREADS_SECRET_KEYS", json.dumps({"2026-01": b64(raw)}))
    settings = Settings()
    ring = settings.secret_keyring()
    assert ring.active_id == "2026-01" and ring.keys == {"2026-01": raw}
    assert b64(raw) not in repr(settings) and b64(raw) not in str(settings.model_dump())


def test_development_uses_the_labelled_dev_key() -> None:
    ring = Settings().secret_keyring()
    assert ring.active_id == DEV_KEY_ID
    assert DEV_KEY_ID == "dev"


def test_development_keeps_the_dev_key_readable_after_adding_a_real_one() -> None:
    ring = Settings(secret_keys={"k1": b64(os.urandom(32))}).secret_keyring()
    assert ring.active_id == "k1" and DEV_KEY_ID in ring.keys


def test_a_malformed_key_from_the_environment_is_not_echoed(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("THREADS_ENVIRONMENT", "production")
    monkeypatch.setenv("THREADS_SECRET_KEYS", json.dumps({"k1": "not-base64-XYZZY!!"}))
    with pytest.raises(ValidationError) as info:
        Settings()
    assert "XYZZY" not in str(info.value)
