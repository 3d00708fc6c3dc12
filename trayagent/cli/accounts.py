"""`trayagent accounts …`: list, login, add, remove, export and import Google accounts."""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import threading
import time
from collections.abc import Coroutine
from pathlib import Path
from typing import Any, TypeVar

from trayagent.accounts.login import LOGIN_TIMEOUT_S, callback_port, elsewhere_help
from trayagent.accounts.service import AccountService, Outcome, parse_export
from trayagent.accounts.table import as_json, render_table, status_text
from trayagent.agent.opener import OpenFailed, can_open_browser, open_url
from trayagent.cli.context import load_for, say, secret_store
from trayagent.errors import AccountError
from trayagent.files.atomicfile import write_atomic
from trayagent.paths import Paths
from trayagent.redact import redact

_T = TypeVar("_T")


def register(sub: Any, common: argparse.ArgumentParser) -> None:
    accounts = sub.add_parser("accounts", parents=[common], help="the Google accounts requests are served through")
    actions = accounts.add_subparsers(metavar="ACTION", required=True)

    listing = actions.add_parser("list", parents=[common], help="table of accounts: tier, project, status, quota")
    listing.add_argument("--refresh", action="store_true", help="ask Google for fresh quota and status first")
    listing.add_argument("--full", action="store_true", help="show whole emails (masked by default)")
    listing.add_argument("--json", action="store_true", help="print the records as JSON (never tokens)")
    listing.set_defaults(handler=cmd_list)

    login = actions.add_parser("login", parents=[common], help="sign in with Google in your browser")
    login.add_argument("--timeout", type=float, default=LOGIN_TIMEOUT_S, metavar="SECONDS", help="default: 300")
    login.add_argument("--no-browser", action="store_true", help="only print the link (for another machine)")
    login.set_defaults(handler=cmd_login)

    add = actions.add_parser("add", parents=[common], help="add or update an account from a refresh token")
    add.add_argument("--refresh-token", required=True, metavar="TOKEN", help="the token, or - to read it from stdin")
    add.set_defaults(handler=cmd_add)

    remove = actions.add_parser("remove", parents=[common], help="forget an account and its tokens")
    remove.add_argument("email")
    remove.set_defaults(handler=cmd_remove)

    export = actions.add_parser("export", parents=[common], help='write [{"email","refresh_token"}] (a secret!)')
    export.add_argument("file", nargs="?", help="where to write (mode 0600); default: standard output")
    export.add_argument("--force", action="store_true", help="replace FILE if it exists")
    export.set_defaults(handler=cmd_export)

    imp = actions.add_parser("import", parents=[common], help="add every account of an exported file")
    imp.add_argument("file", help="a file written by `accounts export`, or - for stdin")
    imp.set_defaults(handler=cmd_import)


def _run(paths: Paths, work: Any) -> Any:
    """Run `work(service)` on a fresh event loop with an AccountService for the config in force."""
    config = load_for(paths, create=True)
    store = secret_store(paths)

    async def main() -> Any:
        async with AccountService.open(config, paths.data_dir, store) as service:
            return await work(service)

    return _arun(main())


def _arun(coro: Coroutine[Any, Any, _T]) -> _T:
    return asyncio.run(coro)


def _describe(outcome: Outcome, verb: str) -> int:
    account = outcome.account
    print(f"{verb} {account.email}: {status_text(account)}; tier {account.tier}; project {account.project_id or '-'}")
    if outcome.problem:
        say(f"warning: {outcome.problem}")
        say("the account is saved; `trayagent accounts list --refresh` checks it again")
    return 0


def cmd_list(args: argparse.Namespace, paths: Paths) -> int:
    problems: list[str] = []

    async def work(service: AccountService) -> Any:
        accounts = await asyncio.to_thread(service.store.load)
        if args.refresh and accounts:
            say(f"checking {len(accounts)} account(s) with Google…")
            outcomes = await service.refresh_many(accounts, recheck_project=True)
            problems.extend(
                f"{redact(o.account.email) if not args.full else o.account.email}: {o.problem}"
                for o in outcomes
                if o.problem
            )
            accounts = await asyncio.to_thread(service.store.load)
        return accounts

    accounts = _run(paths, work)
    if args.json:
        print(json.dumps(as_json(accounts, full=args.full), indent=2))
    else:
        print(render_table(accounts, now=time.time(), full=args.full))
    for problem in problems:
        say(f"warning: {problem if args.full else redact(problem)}")
    return 0


def cmd_login(args: argparse.Namespace, paths: Paths) -> int:
    if args.timeout <= 0:
        say("--timeout must be a positive number of seconds")
        return 2

    browse = not args.no_browser and can_open_browser()

    def show(url: str) -> None:
        port = callback_port(url)
        if browse:
            print("Sign in with Google in the browser that is opening; if none opens, open this link:", file=sys.stderr)
            print(url, flush=True)
            # Started in the background; a browser that fails at once is reported, with what else works.
            threading.Thread(target=_open_browser, args=(url, port), daemon=True).start()
        else:
            why = "" if args.no_browser else " (no graphical display here)"
            print(f"Open this link in a browser to sign in with Google{why}:", file=sys.stderr)
            print(url, flush=True)
            _print_lines(elsewhere_help(port))
        say(f"waiting for the browser (up to {args.timeout:g} s; Ctrl-C cancels)…")

    outcome: Outcome = _run(paths, lambda service: service.login(show, timeout=args.timeout))
    return _describe(outcome, "added" if outcome.created else "updated")


def _open_browser(url: str, port: int | None) -> None:
    def failed(reason: str) -> None:
        say(reason.rstrip(".") + ".")
        _print_lines(elsewhere_help(port))

    try:
        open_url(url, on_early_exit=failed)
    except OpenFailed as exc:
        failed(str(exc))
    except Exception as exc:  # a broken BROWSER setting must not lose the printed link
        failed(f"opening the browser failed ({exc})")


def _print_lines(lines: list[str]) -> None:
    print("\n".join(lines), file=sys.stderr, flush=True)


def cmd_add(args: argparse.Namespace, paths: Paths) -> int:
    token = sys.stdin.read() if args.refresh_token == "-" else args.refresh_token
    token = token.strip()
    if not token:
        say("no refresh token given (empty input)")
        return 2
    outcome: Outcome = _run(paths, lambda service: service.add_refresh_token(token))
    return _describe(outcome, "added" if outcome.created else "updated")


def cmd_remove(args: argparse.Namespace, paths: Paths) -> int:
    removed = _run(paths, lambda service: asyncio.to_thread(service.remove, args.email))
    if removed is None:
        say(f"no account {args.email} (see `trayagent accounts list --full`)")
        return 1
    print(f"removed {removed.email} and its tokens")
    return 0


def cmd_export(args: argparse.Namespace, paths: Paths) -> int:
    target = Path(args.file) if args.file and args.file != "-" else None
    if target is not None and target.exists() and not args.force:
        say(f"{target} exists; pass --force to replace it")
        return 1
    entries, missing = _run(paths, lambda service: asyncio.to_thread(service.export))
    for email in missing:
        say(f"warning: {email} has no stored refresh token and is left out")
    payload = json.dumps(entries, indent=2) + "\n"
    say("this export holds refresh tokens: anyone with it can use these Google accounts. Keep it private.")
    if target is None:
        sys.stdout.write(payload)
        return 0
    try:
        write_atomic(target, payload.encode(), mode=0o600)
    except OSError as exc:
        say(f"cannot write {target}: {exc.strerror or exc}")
        return 1
    say(f"wrote {len(entries)} account(s) to {target} (mode 0600)")
    return 0


def cmd_import(args: argparse.Namespace, paths: Paths) -> int:
    try:
        text = sys.stdin.read() if args.file == "-" else Path(args.file).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        say(f"cannot read {args.file}: {getattr(exc, 'strerror', None) or exc}")
        return 1
    try:
        entries = parse_export(json.loads(text))
    except ValueError as exc:
        say(f"{args.file} is not an export file: {exc}")
        return 2
    if not entries:
        say(f"{args.file} lists no accounts")
        return 0
    results = _run(paths, lambda service: service.import_entries(entries))
    failed = 0
    for label, result in results:
        if isinstance(result, AccountError):
            failed += 1
            say(f"{label}: not imported: {result}")
        else:
            _describe(result, "added" if result.created else "updated")
    print(f"imported {len(results) - failed} of {len(results)} account(s)")
    return 1 if failed else 0
