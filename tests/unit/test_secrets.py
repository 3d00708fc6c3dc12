"""SecretStore: the OS keyring when it works, the 0600 file when it does not, one warning."""

from __future__ import annotations

import json
import logging
import stat
from pathlib import Path

import pytest
from keyring.backends import fail, null

from tests.fakes.keyrings import LockedKeyring, MemoryKeyring
from trayagent import secrets as secrets_module
from trayagent.apikey import ApiKey, resolve_api_key, rotate_api_key
from trayagent.config import parse_config
from trayagent.errors import SecretError
from trayagent.secrets import SERVICE, FileSecretStore, KeyringSecretStore


@pytest.fixture(autouse=True)
def _fresh_warnings(monkeypatch: pytest.MonkeyPatch) -> None:
    # The notice is once per machine state (remembered in the data dir) and process; each test starts clean.
    monkeypatch.setattr(secrets_module, "_told", set())


def mode_of(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_a_working_keyring_holds_the_secrets_and_no_file_is_written(tmp_path: Path) -> None:
    backend = MemoryKeyring()
    store = KeyringSecretStore(FileSecretStore(tmp_path / "secrets.json"), backend)
    store.set("api_key", "sk-value-1")
    assert backend.items == {(SERVICE, "api_key"): "sk-value-1"}
    assert store.get("api_key") == "sk-value-1"
    assert store.using_keyring and "OS keyring" in store.location and "'trayagent'" in store.location
    assert not (tmp_path / "secrets.json").exists()
    store.delete("api_key")
    assert store.get("api_key") is None
    store.delete("api_key")  # deleting what is not there is fine


@pytest.mark.parametrize("backend", [LockedKeyring(), fail.Keyring(), null.Keyring()], ids=["locked", "fail", "null"])
def test_unusable_keyrings_fall_back_to_a_0600_file_with_one_warning(
    tmp_path: Path, backend: object, caplog: pytest.LogCaptureFixture
) -> None:
    path = tmp_path / "data" / "secrets.json"
    store = KeyringSecretStore(FileSecretStore(path), backend)  # type: ignore[arg-type]
    with caplog.at_level(logging.WARNING, logger="trayagent.secrets"):
        store.set("api_key", "sk-value-2")
        store.set("other", "x")
        assert store.get("api_key") == "sk-value-2"
    assert mode_of(path) == 0o600
    assert json.loads(path.read_text()) == {"api_key": "sk-value-2", "other": "x"}
    assert not store.using_keyring and str(path) in store.location
    warnings = [r.getMessage() for r in caplog.records]
    assert len(warnings) == 1
    assert f"secrets are kept in {path} with mode 0600 (only you can read it)" in warnings[0]
    assert "is not usable" not in warnings[0]  # words for a person, not a class name
    # A new store (a new process) reads what the first one kept.
    assert KeyringSecretStore(FileSecretStore(path), backend).get("api_key") == "sk-value-2"  # type: ignore[arg-type]


def test_the_keyring_notice_is_said_once_per_machine_state(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    path = tmp_path / "data" / "secrets.json"

    def a_new_process(backend: object) -> list[str]:
        monkeypatch.setattr(secrets_module, "_told", set())  # what a new command or proxy restart starts with
        caplog.clear()
        with caplog.at_level(logging.WARNING, logger="trayagent.secrets"):
            store = KeyringSecretStore(FileSecretStore(path), backend)  # type: ignore[arg-type]
            store.set("api_key", "sk-value-3")
            store.get("api_key")
        return [r.getMessage() for r in caplog.records]

    first = a_new_process(fail.Keyring())
    assert first == [
        f"this machine has no OS keyring; secrets are kept in {path} with mode 0600 (only you can read it)"
    ]
    assert a_new_process(fail.Keyring()) == []  # the next command, the next proxy restart: nothing new to say
    locked = a_new_process(LockedKeyring())  # the machine changed: a keyring that refuses
    assert len(locked) == 1 and "the OS keyring cannot be used (KeyringLocked: the collection is locked)" in locked[0]
    assert a_new_process(LockedKeyring()) == []
    assert a_new_process(MemoryKeyring()) == []  # it works again: forgotten…
    assert len(a_new_process(fail.Keyring())) == 1  # …so the next outage is news


def test_where_secrets_live_and_why_in_words(tmp_path: Path) -> None:
    store = KeyringSecretStore(FileSecretStore(tmp_path / "s.json"), fail.Keyring())
    assert store.why_not_keyring == "this machine has no OS keyring"
    assert store.location == f"file {tmp_path / 's.json'} (mode 0600)"
    assert KeyringSecretStore(FileSecretStore(tmp_path / "s.json"), MemoryKeyring()).why_not_keyring is None


def test_a_keyring_that_forgets_writes_is_abandoned(tmp_path: Path) -> None:
    class Forgetful(MemoryKeyring):
        def set_password(self, service: str, username: str, password: str) -> None:
            pass

    store = KeyringSecretStore(FileSecretStore(tmp_path / "s.json"), Forgetful())
    store.set("api_key", "sk-kept")
    assert store.get("api_key") == "sk-kept"
    assert not store.using_keyring


def test_secrets_written_during_an_outage_are_still_found(tmp_path: Path) -> None:
    file_store = FileSecretStore(tmp_path / "s.json")
    file_store.set("api_key", "sk-from-file")
    store = KeyringSecretStore(file_store, MemoryKeyring())
    assert store.get("api_key") == "sk-from-file"
    store.set("api_key", "sk-in-keyring")  # moving it to the keyring removes the file copy
    assert file_store.get("api_key") is None
    assert store.get("api_key") == "sk-in-keyring"


def test_a_too_open_file_is_tightened(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    path = tmp_path / "s.json"
    path.write_text('{"api_key": "sk-x"}')
    path.chmod(0o644)
    with caplog.at_level(logging.WARNING):
        assert FileSecretStore(path).get("api_key") == "sk-x"
    assert mode_of(path) == 0o600
    assert "readable by others" in caplog.text


@pytest.mark.parametrize("content", ["{not json", "[1, 2]"])
def test_a_corrupt_file_is_an_error_not_an_empty_store(tmp_path: Path, content: str) -> None:
    path = tmp_path / "s.json"
    path.write_text(content)
    path.chmod(0o600)
    with pytest.raises(SecretError, match=str(path)):
        FileSecretStore(path).get("api_key")
    assert path.read_text() == content  # nothing overwritten


def test_api_key_is_generated_once_and_kept(tmp_path: Path) -> None:
    store = KeyringSecretStore(FileSecretStore(tmp_path / "s.json"), MemoryKeyring())
    config = parse_config({})
    first = resolve_api_key(config, store)
    assert first.value.startswith("sk-") and len(first.value) == 35
    int(first.value[3:], 16)
    assert resolve_api_key(config, store) == first
    rotated = rotate_api_key(store)
    assert rotated != first.value and resolve_api_key(config, store).value == rotated


def test_a_key_in_the_config_wins(tmp_path: Path) -> None:
    store = KeyringSecretStore(FileSecretStore(tmp_path / "s.json"), MemoryKeyring())
    key = resolve_api_key(parse_config({"proxy": {"api_key": "sk-configured"}}), store)
    assert key == ApiKey("sk-configured", key.source) and key.from_config
    assert store.get("api_key") is None  # nothing generated behind the user's back
