"""A stand-in for the user's browser during `trayagent accounts login`: `BROWSER` points at it.

It fetches the consent URL the way a browser would: the fake Google answers with a redirect to the
loopback callback, which it then follows. FAKE_BROWSER_MODE changes what "the user" does:
  follow (default)  sign in normally
  tamper-state      come back with a different `state` (as a forged or stale redirect would)
  ignore            never come back (the user closed the tab)
The page finally shown is written to FAKE_BROWSER_PAGE when set. Standard library only.
"""

from __future__ import annotations

import os
import sys
import urllib.error
import urllib.parse
import urllib.request


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: object, **kwargs: object) -> None:
        return None


def main(url: str) -> int:
    mode = os.environ.get("FAKE_BROWSER_MODE", "follow")
    log = os.environ.get("FAKE_BROWSER_LOG")
    if log:
        with open(log, "a", encoding="utf-8") as f:
            f.write(url + "\n")
    if mode == "ignore":
        return 0
    opener = urllib.request.build_opener(_NoRedirect)
    try:
        opener.open(url, timeout=10)
        return 1  # Google always redirects back
    except urllib.error.HTTPError as exc:
        if exc.code != 302:
            _save(exc.read())
            return 1
        location = exc.headers["Location"]
    if mode == "tamper-state":
        parts = urllib.parse.urlsplit(location)
        query = dict(urllib.parse.parse_qsl(parts.query))
        query["state"] = "forged-" + query.get("state", "")[:6]
        location = urllib.parse.urlunsplit(parts._replace(query=urllib.parse.urlencode(query)))
    try:
        with urllib.request.urlopen(location, timeout=60) as reply:
            _save(reply.read())
    except urllib.error.HTTPError as exc:
        _save(exc.read())
    return 0


def _save(page: bytes) -> None:
    target = os.environ.get("FAKE_BROWSER_PAGE")
    if target:
        with open(target, "wb") as f:
            f.write(page)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
