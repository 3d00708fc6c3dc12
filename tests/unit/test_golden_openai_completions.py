"""Golden files for the OpenAI legacy completions front end (tests/golden/openai_completions/)."""

from __future__ import annotations

import pytest

from tests.golden import Case, cases, run_case
from trayagent.translate.openai_completions import COMPLETIONS


@pytest.mark.parametrize("case", cases("openai_completions"), ids=lambda case: case.name)
def test_golden(case: Case) -> None:
    run_case(COMPLETIONS, case)
