"""`data/accounts.json`: the account records on disk, shared by the proxy, the tray and CLI commands.

Every change is a locked read-modify-write of the current file followed by an atomic replace, so two
processes editing different accounts never undo each other, and a crash leaves the old or the new
file, never half of one. A file we cannot read is copied aside and reported, never replaced.
Blocking I/O: call it from a thread when on an event loop.
"""

from __future__ import annotations

import hashlib
import os
import shutil
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, TypeVar

import orjson

from trayagent.accounts.record import Account, same_email
from trayagent.errors import AccountsFileError
from trayagent.files.atomicfile import write_atomic
from trayagent.files.filelock import locked

SCHEMA_VERSION = 1
_T = TypeVar("_T")
FILE_NAME = "accounts.json"


@dataclass(frozen=True, slots=True)
class FileSignature:
    """Enough of a stat to notice that another process replaced the file."""

    mtime_ns: int
    size: int
    inode: int


class AccountStore:
    def __init__(self, data_dir: Path) -> None:
        self.path = data_dir / FILE_NAME
        self._lock_path = data_dir / f".{FILE_NAME}.lock"

    # -- reading -------------------------------------------------------------------------------

    def load(self) -> list[Account]:
        """All records, in the order they were added. Raises AccountsFileError when unreadable."""
        try:
            raw = self.path.read_bytes()
        except FileNotFoundError:
            return []
        except OSError as exc:
            raise AccountsFileError(f"cannot read {self.path}: {exc.strerror or exc}") from None
        try:
            return _decode(raw)
        except ValueError as exc:
            backup = self._back_up(raw)
            raise AccountsFileError(
                f"{self.path} is damaged ({exc}); a copy is kept at {backup}. "
                "Fix the file, or move it aside to start with no accounts (their tokens stay in the secret store)."
            ) from None

    def signature(self) -> FileSignature | None:
        try:
            st = os.stat(self.path)
        except FileNotFoundError:
            return None
        return FileSignature(st.st_mtime_ns, st.st_size, st.st_ino)

    def find(self, email: str) -> Account | None:
        return next((a for a in self.load() if same_email(a.email, email)), None)

    # -- writing -------------------------------------------------------------------------------

    def upsert(self, account: Account, merge: Callable[[Account, Account], Account] | None = None) -> Account:
        """Insert `account`, or replace the record with the same email (its id and creation time are kept).

        `merge(old, new)` decides what the stored record becomes when one exists.
        """

        def change(accounts: list[Account]) -> Account:
            for i, old in enumerate(accounts):
                if same_email(old.email, account.email):
                    stored = merge(old, account) if merge else account
                    accounts[i] = _keep_identity(old, stored)
                    return accounts[i]
            accounts.append(account)
            return account

        return self._transaction(change)

    def modify(self, account_id: str, change: Callable[[Account], Account]) -> Account | None:
        """Apply `change` to the current stored version of one record; None when it is gone."""

        def apply(accounts: list[Account]) -> Account | None:
            for i, old in enumerate(accounts):
                if old.id == account_id:
                    accounts[i] = _keep_identity(old, change(old))
                    return accounts[i]
            return None

        return self._transaction(apply)

    def remove(self, email: str) -> Account | None:
        def drop(accounts: list[Account]) -> Account | None:
            for i, old in enumerate(accounts):
                if same_email(old.email, email):
                    return accounts.pop(i)
            return None

        return self._transaction(drop)

    def _transaction(self, change: Callable[[list[Account]], _T]) -> _T:
        with locked(self._lock_path):
            accounts = self.load()
            before = list(accounts)
            result = change(accounts)
            if accounts != before:
                self._write(accounts)
            return result

    def _write(self, accounts: list[Account]) -> None:
        document = {"schema": SCHEMA_VERSION, "accounts": [a.to_json() for a in accounts]}
        try:
            self.path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
            write_atomic(self.path, orjson.dumps(document, option=orjson.OPT_INDENT_2) + b"\n", mode=0o600)
        except OSError as exc:
            raise AccountsFileError(f"cannot write {self.path}: {exc.strerror or exc}") from None

    def _back_up(self, raw: bytes) -> Path:
        # One copy per distinct damaged content, so a poller re-reading a bad file does not pile up copies.
        digest = hashlib.sha256(raw).hexdigest()[:12]
        backup = self.path.with_name(f"{FILE_NAME}.damaged-{digest}")
        if not backup.exists():
            try:
                shutil.copyfile(self.path, backup)
                os.chmod(backup, 0o600)
            except OSError:
                write_atomic(backup, raw, mode=0o600)
        return backup


def _decode(raw: bytes) -> list[Account]:
    try:
        document: Any = orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        raise ValueError(f"not valid JSON: {exc}") from None
    if not isinstance(document, dict) or not isinstance(document.get("accounts"), list):
        raise ValueError('expected {"schema": 1, "accounts": [...]}')
    schema = document.get("schema")
    if not isinstance(schema, int) or schema < 1:
        raise ValueError(f"unknown schema {schema!r}")
    if schema > SCHEMA_VERSION:
        raise ValueError(f"written by a newer trayagent (schema {schema}; this version reads {SCHEMA_VERSION})")
    accounts = [Account.from_json(item) for item in document["accounts"]]
    seen: set[str] = set()
    for account in accounts:
        if account.id in seen:
            raise ValueError(f"two accounts share the id {account.id}")
        seen.add(account.id)
    return accounts


def _keep_identity(old: Account, new: Account) -> Account:
    return replace(new, id=old.id, created_at=old.created_at)
