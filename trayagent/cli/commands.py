"""The `trayagent` command line: argv → one command, each returning its exit code (0 ok, 1 failed, 2 usage/config)."""

from __future__ import annotations

import argparse
import contextlib
import os
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from trayagent import __version__
from trayagent.apikey import SECRET_NAME as API_KEY_SECRET
from trayagent.apikey import resolve_api_key, rotate_api_key
from trayagent.cli import accounts as cli_accounts
from trayagent.cli import proxycall
from trayagent.cli.context import load_for as _load
from trayagent.cli.context import say as _err
from trayagent.cli.context import secret_store as _store
from trayagent.config import ensure_config_file, load_config
from trayagent.errors import AccountError, ConfigError, SecretError, ServeError
from trayagent.logsetup import CLI_FORMAT, configure_logging
from trayagent.paths import Paths, resolve_paths

Command = Callable[[argparse.Namespace, Paths], int]


def run(argv: Sequence[str]) -> int:
    try:
        return _run(argv)
    except BrokenPipeError:
        return _reader_gone()


def _run(argv: Sequence[str]) -> int:
    try:
        args = _parser().parse_args(argv)
    except SystemExit as exc:  # --help, --version, a usage error: argparse has written its text
        sys.stdout.flush()
        return exc.code if isinstance(exc.code, int) else 2
    # Options may come before or after the command; an absent one is simply not set (SUPPRESS).
    args.config = getattr(args, "config", None)
    args.verbose = getattr(args, "verbose", False)
    configure_logging("debug" if args.verbose else "warning", fmt=CLI_FORMAT)
    paths = resolve_paths(config_override=args.config)
    command: Command | None = getattr(args, "handler", None)
    if command is None:
        command = cmd_tray
    try:
        code = command(args, paths)
        sys.stdout.flush()  # here, where a closed pipe is caught, not at exit
        return code
    except ConfigError as exc:
        _err(f"invalid config: {exc}")
        return 2
    except (SecretError, ServeError, AccountError) as exc:
        _err(str(exc))
        return 1
    except KeyboardInterrupt:
        _err("cancelled")
        return 130


def _reader_gone() -> int:
    """The reader of our output left (`… | head`): normal for a command line, never a traceback. Python would
    flush stdout again at exit and complain, so it is pointed at the null device first."""
    with contextlib.suppress(OSError, ValueError):
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)
    return 141  # what a shell reports for a program ended by SIGPIPE (128 + 13)


def _parser() -> argparse.ArgumentParser:
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--config", metavar="PATH", default=argparse.SUPPRESS, help="use this config file")
    common.add_argument("-v", "--verbose", action="store_true", default=argparse.SUPPRESS, help="debug logging")

    parser = argparse.ArgumentParser(
        prog="trayagent",
        description="One local base URL for OpenAI, Anthropic and Gemini clients, served through Google accounts.",
        epilog="Without a command: the tray agent (with no display, the proxy in the foreground, as `serve`).",
        parents=[common],
    )
    parser.add_argument("--version", action="version", version=f"trayagent {__version__}")
    sub = parser.add_subparsers(title="commands", metavar="COMMAND")

    serve = sub.add_parser("serve", parents=[common], help="run the proxy in the foreground (Ctrl-C stops it)")
    serve.set_defaults(handler=cmd_serve)

    status = sub.add_parser("status", parents=[common], help="ask the running proxy for its status")
    status.set_defaults(handler=cmd_status)

    config = sub.add_parser("config", parents=[common], help="where the config is; validate a file")
    config_sub = config.add_subparsers(metavar="ACTION", required=True)
    config_sub.add_parser("path", parents=[common], help="print the config file's path").set_defaults(
        handler=cmd_config_path
    )
    check = config_sub.add_parser("check", parents=[common], help="validate a config file (exit 2 if invalid)")
    check.add_argument("file", nargs="?", help="the file to check (default: the config in use)")
    check.set_defaults(handler=cmd_config_check)

    cli_accounts.register(sub, common)

    autostart = sub.add_parser("autostart", parents=[common], help="start the tray agent at login")
    autostart.add_argument("action", choices=["enable", "disable", "status"])
    autostart.set_defaults(handler=cmd_autostart)

    key = sub.add_parser("key", parents=[common], help="the proxy's API key")
    key_sub = key.add_subparsers(metavar="ACTION", required=True)
    key_sub.add_parser("show", parents=[common], help="print the API key").set_defaults(handler=cmd_key_show)
    key_sub.add_parser("copy", parents=[common], help="copy the API key to the clipboard").set_defaults(
        handler=cmd_key_copy
    )
    key_sub.add_parser("rotate", parents=[common], help="replace the API key with a new one").set_defaults(
        handler=cmd_key_rotate
    )
    return parser


def cmd_serve(args: argparse.Namespace, paths: Paths) -> int:
    from trayagent.supervision.serve import serve_foreground

    if ensure_config_file(paths.config_file):
        _err(f"first run: wrote a commented config to {paths.config_file}")
    return serve_foreground(paths, verbose=args.verbose)


def cmd_tray(args: argparse.Namespace, paths: Paths) -> int:
    from trayagent.agent.agent import run_agent

    if ensure_config_file(paths.config_file):
        _err(f"first run: wrote a commented config to {paths.config_file}")
    return run_agent(paths, verbose=args.verbose, config_override=Path(args.config) if args.config else None)


def cmd_autostart(args: argparse.Namespace, paths: Paths) -> int:
    from trayagent.agent import autostart
    from trayagent.agent.iconart import asset_path
    from trayagent.logsetup import log_file_path

    entry = autostart.for_platform(asset_path(), log_file_path(paths.data_dir))
    if args.action == "enable":
        override = Path(paths.config_file) if args.config else None
        entry.enable(autostart.launch_command(config_override=override))
    elif args.action == "disable":
        entry.disable()
    print(autostart.describe(entry))
    return 0


def cmd_config_path(args: argparse.Namespace, paths: Paths) -> int:
    print(paths.config_file)
    return 0


def cmd_config_check(args: argparse.Namespace, paths: Paths) -> int:
    target = Path(args.file) if args.file else paths.config_file
    if not args.file and not target.exists():
        print(f"no config file at {target} yet: the defaults apply (`trayagent serve` writes a commented one)")
        return 0
    config = load_config(target)
    for warning in config.warnings:
        print(f"warning: {warning}", file=sys.stderr)
    print(f"{target}: ok")
    return 0


def cmd_key_show(args: argparse.Namespace, paths: Paths) -> int:
    config = _load(paths, create=True)
    print(resolve_api_key(config, _store(paths)).value)
    return 0


def cmd_key_copy(args: argparse.Namespace, paths: Paths) -> int:
    from trayagent.agent.clipboard import ClipboardUnavailable, copy_text

    config = _load(paths, create=True)
    key = resolve_api_key(config, _store(paths))
    try:
        copy_text(key.value)
    except ClipboardUnavailable as exc:
        _err(f"no clipboard available ({exc}); here is the key instead:")
        print(key.value)
        return 0
    _err("API key copied to the clipboard")
    return 0


def cmd_key_rotate(args: argparse.Namespace, paths: Paths) -> int:
    config = _load(paths, create=True)
    store = _store(paths)
    old = resolve_api_key(config, store)
    if old.from_config:
        _err(f"proxy.api_key is set in {paths.config_file}; change it there instead")
        return 1
    new = rotate_api_key(store)
    print(new)
    try:
        reply = proxycall.call(proxycall.locate(paths, config), "POST", "/api/key/reload", old.value)
    except proxycall.NotTrayagent:
        reply = None  # another program on the port: no proxy of ours to tell
    except ServeError as exc:
        _err(f"the running proxy was not told ({exc}); restart it to use the new key")
        return 0
    if reply is None or reply.get("reloaded") is not True:
        _err("no proxy is running here; the new key applies when it starts")
    else:
        _err("the running proxy now accepts only the new key")
    return 0


def cmd_status(args: argparse.Namespace, paths: Paths) -> int:
    config = _load(paths, create=False)
    store = _store(paths)
    # Read the key, never create one: a proxy that needs a key has already stored it.
    key = config.proxy.api_key or store.get(API_KEY_SECRET) or ""
    target = proxycall.locate(paths, config)
    if target.port is None:
        _err(f"no proxy is serving: {target.why_not} ({target.agent})")
        return 1
    status = proxycall.call(target, "GET", "/api/status", key)
    if status is None:
        _err(f"no trayagent proxy is answering on http://127.0.0.1:{target.port}")
        return 1
    print("\n".join(status_lines(status, secrets=store.location, why_file=store.why_not_keyring)))
    return 0


def status_lines(status: dict[str, Any], *, secrets: str, why_file: str | None) -> list[str]:
    """`trayagent status` from the proxy's /api/status: what runs where, and anything wrong, in full."""
    accounts = status.get("accounts", {})
    lines = [
        f"state      {status.get('state')} (version {status.get('version')}, up {status.get('uptime_s')} s)",
        f"address    {status.get('address')}",
    ]
    if status.get("move_error"):
        lines.append(f"           {status['move_error']}")
        name = Path(str(status.get("config_path") or "config.yaml")).name
        lines.append(f"           free that port, then Restart from the tray (or save {name} again) to move")
    lines += [
        f"auth       {status.get('effective_auth_mode')} (auth_mode: {status.get('auth_mode')})",
        f"API key    in {status.get('api_key_source')}",
        f"secrets    {secrets}{f': {why_file}' if why_file else ''}",
        f"config     {status.get('config_path')}",
    ]
    if status.get("config_error"):
        lines.append(f"           invalid: {status['config_error']}")
    if status.get("serving_previous_config"):
        lines.append("           the proxy serves the previous config")
    lines.append(f"accounts   {accounts.get('available', 0)} available of {accounts.get('total', 0)}")
    return lines
