"""Google sign-ins started over the status API: one at a time, run in the proxy, followed by polling.

`POST /api/accounts/login` starts one (or returns the one already waiting), `GET …/<id>` reports it,
`DELETE …/<id>` cancels it. The consent page opens in the system browser (Google refuses embedded web
views); the URL is returned too, for a machine without one, with the SSH tunnel that lets a browser on
another computer finish it. A browser that exits at once is noticed: the sign-in then says so.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import secrets
import threading
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any, Literal

from trayagent.accounts.login import callback_port, ssh_tunnel
from trayagent.accounts.service import AccountService, Outcome
from trayagent.agent.opener import OpenFailed, open_url
from trayagent.errors import AccountError

log = logging.getLogger(__name__)

URL_WAIT_S = 5.0
KEEP_FINISHED = 20  # finished sign-ins remembered for polling
LoginState = Literal["waiting", "done", "failed", "cancelled"]


@dataclass
class LoginJob:
    id: str
    url: str | None = None
    state: LoginState = "waiting"
    message: str = "waiting for you to sign in with Google in the browser"
    account: dict[str, Any] | None = None
    created: bool | None = None  # done: a new account (True) or one already there, updated (False)
    browser_opened: bool = False  # a browser was started on this machine, and has not failed
    browser_problem: str | None = None  # why it did not open, when it did not
    task: asyncio.Task[None] | None = field(default=None, repr=False)

    def view(self) -> dict[str, Any]:
        port = callback_port(self.url) if self.url else None
        return {
            "login_id": self.id,
            "state": self.state,
            "message": self.message,
            "account": self.account,
            "created": self.created,
            "url": self.url,
            "browser_opened": self.browser_opened,
            "browser_problem": self.browser_problem,
            "callback_port": port,
            "ssh_tunnel": ssh_tunnel(port) if port else None,
        }

    def browser_failed(self, reason: str) -> None:
        if self.state != "waiting":
            return
        log.warning("sign-in %s: %s; the link is in the status window", self.id, reason)
        self.browser_opened, self.browser_problem = False, reason
        self.message = f"{reason}; open the link in a browser on this machine"


BrowserFailed = Callable[[str], None]


def open_in_browser(url: str, failed: BrowserFailed) -> None:
    """Start the browser on `url` (off the event loop: a Python fallback may wait for it); `failed(reason)`,
    from another thread, when nothing could be started or it exited at once with an error."""

    def run() -> None:
        try:
            open_url(url, on_early_exit=failed)
        except OpenFailed as exc:
            failed(str(exc))
        except Exception as exc:  # a broken BROWSER setting must not break the sign-in
            log.debug("opening the browser", exc_info=True)
            failed(f"opening the browser failed ({exc})")

    threading.Thread(target=run, name="login-browser", daemon=True).start()


class Logins:
    def __init__(self, open_browser: Callable[[str, BrowserFailed], None] = open_in_browser) -> None:
        self._open_browser = open_browser
        self._jobs: OrderedDict[str, LoginJob] = OrderedDict()
        self._current: LoginJob | None = None

    def get(self, login_id: str) -> LoginJob | None:
        return self._jobs.get(login_id)

    async def start(
        self,
        service: AccountService,
        added: Callable[[Outcome], Awaitable[dict[str, Any]]],
        *,
        timeout: float,
        browse: bool,
    ) -> LoginJob:
        """A new sign-in (or the one still waiting), once its URL is known (at most URL_WAIT_S).

        `added` turns the new account into what `account` shows (and reloads the registry)."""
        current = self._current
        if current is not None and current.state == "waiting":
            return current
        job = LoginJob(secrets.token_urlsafe(9))
        loop = asyncio.get_running_loop()
        url_known: asyncio.Future[None] = loop.create_future()

        def browser_failed(reason: str) -> None:  # from the browser's reaper thread
            with contextlib.suppress(RuntimeError):  # the loop is closed: the proxy stopped meanwhile
                loop.call_soon_threadsafe(job.browser_failed, reason)

        def show(url: str) -> None:
            job.url = url
            if browse:
                job.browser_opened = True
                self._open_browser(url, browser_failed)
            if not url_known.done():
                url_known.set_result(None)

        async def run() -> None:
            try:
                outcome = await service.login(show, timeout)
                job.account = await added(outcome)
                job.created = outcome.created
            except asyncio.CancelledError:
                job.state, job.message = "cancelled", "sign-in cancelled"
            except AccountError as exc:
                job.state, job.message = "failed", str(exc)
            except Exception:
                log.exception("sign-in failed")
                job.state, job.message = "failed", "sign-in failed inside trayagent; the details are in its log"
            else:
                verb = "added" if outcome.created else "updated"
                job.state, job.message = "done", f"{outcome.account.email} was {verb}"
                if outcome.problem:
                    job.message += f", but: {outcome.problem}"
            finally:
                if not url_known.done():
                    url_known.set_result(None)

        self._remember(job)
        job.task = asyncio.create_task(run(), name=f"login-{job.id}")
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(asyncio.shield(url_known), URL_WAIT_S)
        return job

    def cancel(self, login_id: str) -> LoginJob | None:
        job = self._jobs.get(login_id)
        if job is not None and job.state == "waiting" and job.task is not None:
            job.task.cancel()
        return job

    async def wait(self, login_id: str) -> None:
        """Until the sign-in has ended (after a cancel, its state is final once this returns)."""
        job = self._jobs.get(login_id)
        if job is not None and job.task is not None:
            with contextlib.suppress(asyncio.CancelledError):
                await asyncio.shield(job.task)

    async def close(self) -> None:
        """Cancel a sign-in still waiting (the proxy stops)."""
        for job in list(self._jobs.values()):
            if job.state == "waiting" and job.task is not None:
                job.task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await job.task

    def _remember(self, job: LoginJob) -> None:
        self._current = job
        self._jobs[job.id] = job
        while len(self._jobs) > KEEP_FINISHED:
            oldest = next(iter(self._jobs.values()))
            if oldest.state == "waiting":
                break
            self._jobs.popitem(last=False)
