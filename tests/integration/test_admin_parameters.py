"""Every admin query and path parameter is checked in words: a 400 naming what is expected, never a 500.

Unicode digits ('²', '٣') pass str.isdigit() and then break int() or SQLite; ids past SQLite's INTEGER
overflow. Served in-process in front of the fake Google, asked over real HTTP.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.fakes.google import FakeGoogle
from tests.inprocess import InProcessProxy

pytestmark = pytest.mark.timeout(60)


@pytest.fixture(scope="module")
def proxy(tmp_path_factory: pytest.TempPathFactory) -> Iterator[InProcessProxy]:
    google = FakeGoogle().start()
    served = InProcessProxy(tmp_path_factory.mktemp("admin"), google, key="sk-admin-params-1").start()
    yield served
    served.stop()
    google.stop()


LIMIT = "limit must be a whole number of at least 1, got"
STATUS = "status must be ok, error or an HTTP status code 100-599, got"
HOURS = "hours must be a whole number from 1 to 8784, got"
BY = "by must be one of hour, day, account, model, got"
ID = "the request id must be a whole number from 1 to 9223372036854775807, got"

BAD = [
    ("/api/logs?limit=%C2%B2", LIMIT),  # ²
    ("/api/logs?limit=%D9%A3", LIMIT),  # ٣, which int() would read as 3
    ("/api/logs?limit=-1", LIMIT),
    ("/api/logs?limit=1e3", LIMIT),
    ("/api/logs?limit=%FF", LIMIT),
    ("/api/logs?status=%C2%B2", STATUS),
    ("/api/logs?status=%D9%A2%D9%A0%D9%A0", STATUS),
    ("/api/logs?status=99999999999999999999999", STATUS),
    ("/api/logs?model=" + "m" * 201, "model must be at most 200 characters"),
    ("/api/stats?hours=%C2%B2", HOURS),
    ("/api/stats?hours=99999999999999999999999", HOURS),
    ("/api/stats?hours=" + "9" * 5000, HOURS),
    ("/api/stats?by=%C2%B2", BY),
    ("/api/logs/99999999999999999999999", ID),
    ("/api/logs/9223372036854775808", ID),
    ("/api/logs/" + "9" * 5000, ID),
    ("/api/logs/0", ID),
    ("/api/logs/-1", ID),
    ("/api/logs/%C2%B2", ID),
    ("/api/logs/abc", ID),
]


@pytest.mark.parametrize(("path", "says"), BAD, ids=[p[:40] for p, _ in BAD])
def test_a_bad_admin_parameter_is_a_400_in_words(proxy: InProcessProxy, path: str, says: str) -> None:
    reply = proxy.request("GET", path)
    assert reply.status == 400, reply.body
    assert says in reply.json()["error"]["message"]


@pytest.mark.parametrize(
    ("path", "status"),
    [
        ("/api/logs?limit=99999999999999999999999", 200),  # above the cap: the cap
        ("/api/logs?status=200&model=%00", 200),
        ("/api/stats?hours=8784&by=account", 200),
        ("/api/logs/9223372036854775807", 404),  # a possible id, just not logged
        ("/api/logs/1", 404),
    ],
)
def test_good_admin_parameters_still_answer(proxy: InProcessProxy, path: str, status: int) -> None:
    assert proxy.request("GET", path).status == status
