"""The product is Apache-2.0: nothing its lock files install may be under the GPL.

Read from each locked package's own metadata as installed (its licence expression, licence field and
classifiers), in the environment that runs it; a package left over in an older environment but no
longer locked does not count. The Lesser GPL is allowed only in Rasa's environment,
where Rasa itself brings psycopg2 (LGPL with exceptions); the front line's environment has none.
"""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path

import pytest

from app.launcher import APP_PYTHON, RASA_PYTHON
from core.settings import PROJECT_ROOT

# Prints [name, licence text] for every locked distribution (names on stdin) whose licence names the GPL.
_LIST_GPL = """
import json, re, sys
from importlib import metadata
locked = set(json.load(sys.stdin))
found = []
for dist in metadata.distributions():
    meta = dist.metadata
    if re.sub(r"[-_.]+", "-", meta["Name"]).lower() not in locked:
        continue
    text = " ".join([meta.get("License-Expression") or "", (meta.get("License") or "")[:200],
                     *[c for c in meta.get_all("Classifier") or [] if c.startswith("License")]])
    if re.search(r"GPL|General Public License", text):
        found.append([meta["Name"], text.strip()])
print(json.dumps(found))
"""


def locked_names(lock: Path) -> list[str]:
    """Normalised package names pinned in a lock file (`name==version` lines)."""
    pins = (line.split("==")[0].strip() for line in lock.read_text().splitlines() if "==" in line)
    return [re.sub(r"[-_.]+", "-", name).lower() for name in pins if not name.startswith("#")]


def gpl_packages(python: Path, lock: Path) -> list[tuple[str, str]]:
    out = subprocess.run(
        [str(python), "-c", _LIST_GPL], input=json.dumps(locked_names(lock)),
        capture_output=True, text=True, check=True, timeout=120,
    )  # fmt: skip
    return [(name, text) for name, text in json.loads(out.stdout)]


def lesser_only(text: str) -> bool:
    return "LGPL" in text or "Lesser" in text or "Library" in text


def test_the_front_lines_environment_has_no_gpl_package() -> None:
    if not APP_PYTHON.exists():
        pytest.skip(f"{APP_PYTHON} is not built yet (make setup)")
    assert gpl_packages(APP_PYTHON, PROJECT_ROOT / "requirements" / "app.lock") == []


def test_rasas_environment_has_no_gpl_package_beyond_the_lesser_gpl() -> None:
    if not RASA_PYTHON.exists():
        pytest.skip(f"{RASA_PYTHON} is not built yet (make setup)")
    found = gpl_packages(RASA_PYTHON, PROJECT_ROOT / "requirements" / "rasa.lock")
    strong = [(name, text) for name, text in found if not lesser_only(text)]
    assert strong == []
