"""`rasa run` with its API secret taken from the environment, so it never shows in `ps`.

Runs in Rasa's own venv (Python 3.10): it imports nothing of the front line. Rasa's CLI reads
`--jwt-secret` only from argv; argv rewritten inside the process reaches Rasa's parser but not
`/proc/<pid>/cmdline`, which every local user can read (the environment is readable by the owner only).
"""

from __future__ import annotations

import os
import sys

SECRET_VARIABLE = "FRONTLINE_RASA_JWT_SECRET"


def main() -> None:
    secret = os.environ.pop(SECRET_VARIABLE, "")
    if not secret:
        sys.exit(f"{SECRET_VARIABLE} is not set: Rasa's HTTP API would be open to anyone on this host")
    sys.argv = ["rasa", "run", *sys.argv[1:], "--jwt-secret", secret, "--jwt-method", "HS256"]
    from rasa.__main__ import main as rasa_main

    rasa_main()


if __name__ == "__main__":
    main()
