"""Instructions per request of each row's front end, counted by valgrind's callgrind: a figure that does not move
with the load on the machine, unlike every timing (on a shared virtual machine those move by 10–50%).

The work counted is scripts/bench_translate.py's for one request of a row (the body parsed as the relay does,
the front end's parse, and the fake upstream's reply encoded or rendered). Each row runs twice under callgrind,
for a few and for many more requests, and the difference is divided out, so start-up and imports cancel.
Python's hash seed is fixed; what is left moves by about 1% between runs. Needs valgrind (Debian: valgrind).

    python scripts/bench_instructions.py [ROW…] [--source CHECKOUT]   # one line per row
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

HERE = Path(__file__).resolve().parent
FEW, MANY = 50, 550
_COLLECTED = re.compile(r"Collected\s*:\s*(\d+)")


def _run(source: Path, row: str, requests: int) -> int:
    """Instructions callgrind counted for a process doing `requests` requests of `row`."""
    code = (
        "import sys; from bench_translate import one_request; request = one_request(sys.argv[1])\n"
        "for _ in range(int(sys.argv[2])): request()\n"
    )
    env = {**os.environ, "PYTHONHASHSEED": "0", "PYTHONPATH": os.pathsep.join([str(source), str(HERE)])}
    done = subprocess.run(
        [
            "valgrind",
            "--tool=callgrind",
            "--callgrind-out-file=/dev/null",
            sys.executable,
            "-c",
            code,
            row,
            str(requests),
        ],
        env=env,
        cwd=source,  # `-c` puts the working directory first on sys.path: it must be the checkout counted
        capture_output=True,
        text=True,
        timeout=600,
    )
    found = _COLLECTED.search(done.stderr)
    if done.returncode != 0 or found is None:
        raise RuntimeError(f"{row}: callgrind failed: {done.stderr.strip()[-500:]}")
    return int(found[1])


def per_request(source: Path, row: str) -> int:
    with ThreadPoolExecutor(2) as pool:
        few, many = pool.map(lambda n: _run(source, row, n), (FEW, MANY))
    return round((many - few) / (MANY - FEW))


def main() -> None:
    from bench_rows import rows

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("rows", nargs="*", help=f"rows (default all): {', '.join(rows())}")
    parser.add_argument("--source", type=Path, default=HERE.parent, help="the checkout whose trayagent to count")
    args = parser.parse_args()
    if shutil.which("valgrind") is None:
        sys.exit("bench_instructions: valgrind is not installed (Debian: apt install valgrind)")
    for row in args.rows or list(rows()):
        print(f"{row:16} {per_request(args.source.resolve(), row):>9,} instructions per request", flush=True)


if __name__ == "__main__":
    main()
