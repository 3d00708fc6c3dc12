"""Fixtures of the integration tests: the official-SDK tests' stage."""

from __future__ import annotations

from collections.abc import Iterator

import anthropic
import pytest

from tests.inprocess import InProcessProxy
from tests.sdkproxy import SDK_KEY, Upstream, anthropic_sdk, stage


@pytest.fixture(scope="module")
def sdk_proxy(tmp_path_factory: pytest.TempPathFactory) -> Iterator[InProcessProxy]:
    """The official-SDK tests' stage, one per module (tests/sdkproxy.py): an in-process proxy with two accounts,
    its key SDK_KEY, in front of a fake Google as strict about thought signatures as the real one."""
    with stage(tmp_path_factory.mktemp("sdk"), SDK_KEY) as proxy:
        yield proxy


@pytest.fixture
def upstream(sdk_proxy: InProcessProxy) -> Upstream:
    """What this test's requests do at the fake Google; scripts an earlier test left unused are forgotten."""
    sdk_proxy.google.clear_scripts()
    return Upstream(sdk_proxy.google)


@pytest.fixture(scope="module")
def anthropic_client(sdk_proxy: InProcessProxy) -> Iterator[anthropic.Anthropic]:
    with anthropic_sdk(sdk_proxy.base) as client:
        yield client
