"""Tests run at any hour: unless a test says otherwise, operators are on duty around the clock.

Set here (before any Settings is built, subprocesses included) so no test depends on the clock."""

import os
from pathlib import Path

os.environ.setdefault("FRONTLINE_HOURS_PATH", str(Path(__file__).parent / "data" / "hours_always_open.yml"))
