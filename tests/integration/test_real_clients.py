"""The real client CLIs against the proxy (in-process) and the fake Google: Claude Code (`claude -p`, /v1/messages),
Codex (`codex exec`, /v1/responses) and Gemini CLI (`gemini -p`, /v1beta). Each gets the fake's scripted text
on stdout, runs one of its own harmless tools when the fake's functionCall asks and sends the result back, and
with no account in the pool shows our message within seconds instead of retrying for minutes.

What each CLI printed is kept in test-artifacts/clients/<test>/.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.accountproxy import SignedInProxy
from tests.clientcli import RealClient, generations
from tests.fakes.generation import function_call, text
from tests.fakes.requestshape import answers, function_responses, offers

pytestmark = pytest.mark.timeout(180)

Factory = Callable[[str, str, str], RealClient]
# Time for a CLI to start, ask once and print the reason. Retrying a 5xx takes them 25 s (Codex) to minutes.
SHOWN_WITHIN = 15.0
SIGNATURE = "c2lnLW9uLXRoZS1jYWxs"  # the fake's thought signature on its functionCall


@dataclass(frozen=True)
class Client:
    name: str
    model_args: tuple[str, ...]  # the CLI's default model unless it needs a name the fake serves
    tool: str  # a harmless built-in tool of the CLI, which the fake asks for
    tool_args: Callable[[Path], dict[str, Any]]  # the call's arguments, given the file it should read
    tool_flags: tuple[str, ...]
    upstream: str | None = None  # the model Google must be asked for, where the test checks the routing


CLAUDE = Client("claude", (), "Read", lambda f: {"file_path": str(f)}, ("--allowedTools", "Read"))
# With a Gemini model name Codex offers exec_command(cmd) as a function tool.
CODEX = Client("codex", (), "exec_command", lambda f: {"cmd": f"cat {f.name}"}, ("-m", "gemini-3-flash"))
# With its default model (gpt-6.2-sol, routed by the gpt-* fallback) Codex declares its tools in an
# `additional_tools` input item, and its one way to act is `exec` in the `functions` namespace: a custom
# (free-form) tool whose input is JavaScript calling the nested tools. It comes to Google flattened as
# functions__exec with one free-text parameter, and the call goes back to Codex as a custom_tool_call.
CODEX_DEFAULT_MODEL = Client(
    "codex",
    (),
    "functions__exec",
    lambda f: {"input": f'const r = await tools.exec_command({{cmd: "cat {f.name}"}});\ntext(r.output);'},
    (),
    upstream="gemini-3-pro-high",
)
GEMINI = Client(
    "gemini", ("-m", "gemini-2.5-flash"), "read_file", lambda f: {"file_path": str(f)}, ("-m", "gemini-2.5-flash")
)


def each_client() -> list[Any]:
    return [
        pytest.param(CLAUDE, id="claude-code"),
        pytest.param(CODEX, id="codex"),
        pytest.param(GEMINI, id="gemini-cli"),
    ]


@pytest.mark.parametrize("client", each_client())
def test_a_prompt_gets_the_scripted_answer(real_client: Factory, signed_in: SignedInProxy, client: Client) -> None:
    signed_in.google.reply([text("Lanterns over ")], [text("the quiet harbour.")])

    run = real_client(client.name, signed_in.base, signed_in.key).run(
        "Describe the harbour at night.", *client.model_args
    )

    assert run.returncode == 0, run.describe()
    assert "Lanterns over the quiet harbour." in run.stdout, run.describe()
    sent = generations(signed_in)
    # One request per prompt: a second one would be a client retrying what it could not read.
    assert len(sent) == 1, [model for model, _ in sent]
    assert "Describe the harbour at night." in json.dumps(sent[0][1]["contents"])


@pytest.mark.parametrize("client", [*each_client(), pytest.param(CODEX_DEFAULT_MODEL, id="codex-default-model")])
def test_a_tool_round_trip(real_client: Factory, signed_in: SignedInProxy, client: Client) -> None:
    cli = real_client(client.name, signed_in.base, signed_in.key)
    notes = cli.workspace / "notes.txt"
    notes.write_text("the code word is marmalade-77\n")
    call = function_call(client.tool, client.tool_args(notes), signature=SIGNATURE, call_id="call-notes-1")
    signed_in.google.reply([text("Let me look.")], [call], when=offers(client.tool))
    signed_in.google.reply([text("The code word is marmalade-77.")], when=answers(client.tool))

    run = cli.run(f"What is the code word in {notes}?", *client.tool_flags)

    assert run.returncode == 0, run.describe()
    assert "The code word is marmalade-77." in run.stdout, run.describe()
    asked = generations(signed_in)
    sent = [request for _, request in asked]
    assert len(sent) == 2, run.describe()
    if client.upstream is not None:
        assert [model for model, _ in asked] == [client.upstream] * 2
    # The CLI ran its own tool on the file: what it read reached Google as the call's functionResponse.
    returned = function_responses(sent[1])
    assert [r["name"] for r in returned] == [client.tool], returned
    assert "marmalade-77" in json.dumps(returned[0]["response"])
    # The model's turn comes back with the call and the signature Google gave it (or Google refuses it).
    echoed = [p for p in sent[1]["contents"][-2]["parts"] if "functionCall" in p]
    assert len(echoed) == 1 and echoed[0]["functionCall"]["name"] == client.tool, sent[1]["contents"][-2]
    assert echoed[0]["functionCall"]["args"] == client.tool_args(notes)
    assert echoed[0].get("thoughtSignature") == SIGNATURE
    assert returned[0].get("id") == echoed[0]["functionCall"].get("id")  # the result names its call


@pytest.mark.parametrize("client", each_client())
def test_no_account_is_shown_at_once(real_client: Factory, no_account: SignedInProxy, client: Client) -> None:
    cli = real_client(client.name, no_account.base, no_account.key)

    # The CLI's own retry policy, as a user has it; killed a little after the limit if it is still retrying.
    run = cli.run("Say hello.", *client.model_args, own_retries=True, timeout=SHOWN_WITHIN + 1)

    assert run.returncode is not None and run.seconds <= SHOWN_WITHIN, f"still retrying: {run.describe()}"
    assert run.returncode != 0, run.describe()
    assert "no Google account yet" in run.output and "trayagent accounts login" in run.output, run.describe()
