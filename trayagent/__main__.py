"""`python -m trayagent` and the `trayagent` console script."""

from __future__ import annotations

import sys

from trayagent.cli.commands import run


def main() -> None:
    sys.exit(run(sys.argv[1:]))


if __name__ == "__main__":
    main()
