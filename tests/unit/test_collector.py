"""The collector settings the proxy child serves with (supervision/collector.py), observed in a fresh
interpreter: the test process's own collector is left as pytest set it."""

from __future__ import annotations

import json
import subprocess
import sys

from trayagent.supervision.collector import THRESHOLDS

PROBE = """
import gc, json
from trayagent.supervision.collector import settle_heap
before = {"threshold": gc.get_threshold(), "frozen": gc.get_freeze_count()}
kept = [{"a": [1]} for _ in range(1000)]  # loaded before serving: to be frozen
settle_heap()
young = [[] for _ in range(5000)]  # more than the default threshold's 700: no young collection
after = {"threshold": gc.get_threshold(), "frozen": gc.get_freeze_count(), "young": gc.get_count()[0]}
print(json.dumps({"before": before, "after": after}))
"""


def test_settling_freezes_what_start_up_loaded_and_makes_young_collections_rare() -> None:
    done = subprocess.run([sys.executable, "-c", PROBE], capture_output=True, text=True, timeout=60, check=True)
    seen = json.loads(done.stdout)
    assert seen["before"]["threshold"][0] == 700 and seen["before"]["frozen"] == 0  # Python's defaults
    after = seen["after"]
    assert tuple(after["threshold"]) == THRESHOLDS == (10_000, 10, 10)
    assert after["frozen"] >= 2000  # the thousand dicts and their lists among them
    assert after["young"] >= 5000  # counted, and not yet collected
