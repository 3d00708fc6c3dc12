"""Where secrets live: the OS keyring (service "trayagent"), else a 0600 JSON file in the data dir.

The file is the fallback for machines with no usable keyring (headless Linux, CI, a locked or
refusing keyring). A write is verified by reading it back, so a backend that silently drops
secrets (keyring's `null` backend) is treated as unusable too. Never log a secret's value.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import stat
import threading
from contextlib import AbstractContextManager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import keyring
import keyring.backend
import keyring.errors

from trayagent.errors import SecretError
from trayagent.files.atomicfile import write_atomic
from trayagent.files.filelock import locked

SERVICE = "trayagent"
log = logging.getLogger(__name__)


class SecretStore(Protocol):
    @property
    def location(self) -> str:
        """Where secrets are kept, in words for logs and the status view."""
        ...

    def get(self, name: str) -> str | None: ...

    def set(self, name: str, value: str) -> None: ...

    def delete(self, name: str) -> None: ...


class FileSecretStore:
    """A JSON object {name: value} in a file only its owner can read."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def _locked(self) -> AbstractContextManager[None]:
        # The proxy, the tray and CLI commands all read-modify-write this file.
        return locked(self.path.with_name(f".{self.path.name}.lock"))

    @property
    def location(self) -> str:
        return f"file {self.path} (mode 0600)"

    def _read(self) -> dict[str, str]:
        try:
            raw = self.path.read_bytes()
        except FileNotFoundError:
            return {}
        except OSError as exc:
            raise SecretError(f"cannot read {self.path}: {exc}") from None
        mode = stat.S_IMODE(os.stat(self.path).st_mode)
        if os.name == "posix" and mode & 0o077:
            log.warning("%s was readable by others (mode %o); restricting it to 0600", self.path, mode)
            os.chmod(self.path, 0o600)
        try:
            data = json.loads(raw)
        except ValueError:
            raise SecretError(f"{self.path} is not valid JSON; move it aside to start with no secrets") from None
        if not isinstance(data, dict):
            raise SecretError(f"{self.path} should hold a JSON object")
        return {str(k): str(v) for k, v in data.items()}

    def _write(self, data: dict[str, str]) -> None:
        payload = json.dumps(data, indent=1, sort_keys=True).encode()
        try:
            self.path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
            write_atomic(self.path, payload, mode=0o600)
        except OSError as exc:
            raise SecretError(f"cannot write {self.path}: {exc}") from None

    def get(self, name: str) -> str | None:
        with self._locked():
            return self._read().get(name)

    def set(self, name: str, value: str) -> None:
        with self._locked():
            data = self._read()
            data[name] = value
            self._write(data)

    def delete(self, name: str) -> None:
        with self._locked():
            data = self._read()
            if data.pop(name, None) is not None:
                self._write(data)


class KeyringSecretStore:
    """The OS keyring, falling back to `fallback` when it is not usable; the user is told once per machine state."""

    def __init__(self, fallback: FileSecretStore, backend: keyring.backend.KeyringBackend | None = None) -> None:
        self._backend = backend if backend is not None else keyring.get_keyring()
        self._fallback = fallback
        self._notice = KeyringNotice(fallback.path.with_name(NOTICE_FILE_NAME))
        self._failure: _Failure | None = None if _usable(self._backend) else _Failure.absent(self._backend)

    @property
    def using_keyring(self) -> bool:
        return self._failure is None

    @property
    def location(self) -> str:
        if self.using_keyring:
            return f"OS keyring ({_name(self._backend)}, service '{SERVICE}')"
        return self._fallback.location

    @property
    def why_not_keyring(self) -> str | None:
        """Why secrets are in the file, in words ("this machine has no OS keyring"); None while the keyring works."""
        return self._failure.words if self._failure is not None else None

    def _give_up_keyring(self, failure: _Failure) -> None:
        if self._failure is None:
            self._failure = failure
        self._tell()

    def _tell(self) -> None:
        if self._failure is not None:
            self._notice.tell(self._failure, self._fallback.path)

    def get(self, name: str) -> str | None:
        if self.using_keyring:
            try:
                value: str | None = self._backend.get_password(SERVICE, name)
            except keyring.errors.KeyringError as exc:
                self._give_up_keyring(_Failure.refused(self._backend, exc))
            else:
                self._notice.forget()  # the keyring answers: a later outage is news again
                if value is not None:
                    return value
        else:
            self._tell()
        # Secrets written while the keyring was unavailable stay readable after it comes back.
        return self._fallback.get(name)

    def set(self, name: str, value: str) -> None:
        if self.using_keyring:
            try:
                self._backend.set_password(SERVICE, name, value)
                if self._backend.get_password(SERVICE, name) == value:
                    self._fallback.delete(name)  # no stale copy left in the file
                    return
                self._give_up_keyring(_Failure.forgetful(self._backend))
            except keyring.errors.KeyringError as exc:
                self._give_up_keyring(_Failure.refused(self._backend, exc))
        else:
            self._tell()
        self._fallback.set(name, value)

    def delete(self, name: str) -> None:
        if self.using_keyring:
            try:
                self._backend.delete_password(SERVICE, name)
            except keyring.errors.PasswordDeleteError:
                pass  # not there: nothing to delete
            except keyring.errors.KeyringError as exc:
                self._give_up_keyring(_Failure.refused(self._backend, exc))
        self._fallback.delete(name)


def open_secret_store(data_dir: Path) -> KeyringSecretStore:
    return KeyringSecretStore(FileSecretStore(data_dir / "secrets.json"))


def _name(backend: Any) -> str:
    return f"{type(backend).__module__}.{type(backend).__name__}"


def _usable(backend: keyring.backend.KeyringBackend) -> bool:
    # `fail` raises on every call, `null` accepts writes and forgets them; both mean "no keyring".
    from keyring.backends import chainer, fail, null

    if isinstance(backend, fail.Keyring | null.Keyring):
        return False
    if isinstance(backend, chainer.ChainerBackend) and not backend.backends:
        return False
    return True


@dataclass(frozen=True, slots=True)
class _Failure:
    """Why the keyring is not used: `state` names the machine's situation, `words` tell the user."""

    state: str
    words: str

    @classmethod
    def absent(cls, backend: Any) -> _Failure:
        return cls(f"absent {_name(backend)}", "this machine has no OS keyring")

    @classmethod
    def refused(cls, backend: Any, exc: BaseException) -> _Failure:
        detail = f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
        return cls(f"refused {_name(backend)} {type(exc).__name__}", f"the OS keyring cannot be used ({detail})")

    @classmethod
    def forgetful(cls, backend: Any) -> _Failure:
        return cls(
            f"forgetful {_name(backend)}", f"the OS keyring ({_name(backend)}) does not keep what is stored in it"
        )


NOTICE_FILE_NAME = "keyring-notice.json"
_told: set[tuple[str, str]] = set()  # (notice file, state) already handled in this process
_told_lock = threading.Lock()


class KeyringNotice:
    """Says "secrets are kept in a file" once per machine state, not once per command: the state last told is
    remembered in a small file beside the secrets, and forgotten when the keyring answers again."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def tell(self, failure: _Failure, secrets_file: Path) -> None:
        with _told_lock:
            if (str(self.path), failure.state) in _told:
                return
            _told.add((str(self.path), failure.state))
        message = f"{failure.words}; secrets are kept in {secrets_file} with mode 0600 (only you can read it)"
        if self._last_told() == failure.state:
            log.debug("%s", message)  # said before, on this machine, in this state
            return
        log.warning("%s", message)
        try:
            write_atomic(self.path, json.dumps({"state": failure.state}).encode(), mode=0o600)
        except OSError as exc:
            log.debug("cannot remember the keyring notice in %s: %s", self.path, exc)

    def forget(self) -> None:
        with contextlib.suppress(FileNotFoundError, OSError):
            self.path.unlink()
        with _told_lock:
            for told in [t for t in _told if t[0] == str(self.path)]:
                _told.discard(told)

    def _last_told(self) -> str | None:
        try:
            data = json.loads(self.path.read_bytes())
        except (OSError, ValueError):
            return None
        state = data.get("state") if isinstance(data, dict) else None
        return state if isinstance(state, str) else None
