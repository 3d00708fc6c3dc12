"""Gemini CLI's "auto" model (`gemini -p` without `-m`) against the proxy (in-process) and the fake Google: a
JSON-mode classifier call first, whose score picks the model of the main call. The plain prompt, the tool
round trip and the no-account case are in test_real_clients.py with the other CLIs.
"""

from __future__ import annotations

import json
from collections.abc import Callable

import pytest

from tests.accountproxy import SignedInProxy
from tests.clientcli import RealClient, generations
from tests.fakes.generation import text
from tests.fakes.requestshape import wants_json

pytestmark = pytest.mark.timeout(180)


@pytest.mark.parametrize(
    ("score", "upstream"),
    [(90, "gemini-3-pro-high"), (5, "gemini-3-flash")],
    ids=["complex-goes-to-pro", "simple-goes-to-flash"],
)
def test_auto_asks_the_classifier_in_json_then_the_model_it_picked(
    real_client: Callable[[str, str, str], RealClient], signed_in: SignedInProxy, score: int, upstream: str
) -> None:
    verdict = {"complexity_reasoning": "scripted by the test", "complexity_score": score}
    signed_in.google.reply([text(json.dumps(verdict))], when=wants_json)
    signed_in.google.reply([text("Routed and answered.")], when=lambda request: not wants_json(request))

    run = real_client("gemini", signed_in.base, signed_in.key).run("Plan a small refactor of the parser.")

    assert run.returncode == 0, run.describe()
    assert "Routed and answered." in run.stdout, run.describe()
    sent = generations(signed_in)
    assert len(sent) == 2, [model for model, _ in sent]
    (classifier_model, classifier), (main_model, main) = sent
    # The classifier: Gemini CLI's lite model (mapped in tests.clientcli), JSON mode, its upper-case schema.
    assert classifier_model == "gemini-2.5-flash"
    config = classifier["generationConfig"]
    assert config["responseMimeType"] == "application/json"
    assert config["responseJsonSchema"]["properties"]["complexity_score"]["type"] == "INTEGER"
    # The main call went where the scripted score sent it: the classifier's JSON was read.
    assert main_model == upstream
    assert not wants_json(main) and "read_file" in json.dumps(main["tools"])


def test_an_unscripted_classifier_call_gets_json(
    real_client: Callable[[str, str, str], RealClient], signed_in: SignedInProxy
) -> None:
    """The fake answers JSON mode with a value of the schema, so `auto` works without a script (no retries)."""
    run = real_client("gemini", signed_in.base, signed_in.key).run("Say hello.")

    assert run.returncode == 0, run.describe()
    assert "Hello from gemini-3-flash" in run.stdout, run.describe()  # a low score: the Flash route
    assert [model for model, _ in generations(signed_in)] == ["gemini-2.5-flash", "gemini-3-flash"]
