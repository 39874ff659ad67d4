"""deploy/: the systemd units and environment files start what the launcher starts, and the nginx
config passes the live stream unbuffered (checked by `nginx -t` where nginx is installed)."""

from __future__ import annotations

import re
import shlex
import shutil
import subprocess
from pathlib import Path

import pytest
from pydantic import SecretStr

from app.launcher import rasa_services, with_rasa_servers
from core.settings import PROJECT_ROOT, DbSettings, RasaSettings, Settings

DEPLOY = PROJECT_ROOT / "deploy"


def _exec_start(unit: str) -> list[str]:
    text = (DEPLOY / "systemd" / unit).read_text().replace("\\\n", " ")
    (line,) = re.findall(r"^ExecStart=(.*)$", text, re.MULTILINE)
    return shlex.split(line)


def _env_names(name: str) -> set[str]:
    lines = (DEPLOY / "env" / name).read_text().splitlines()
    return {line.split("=", 1)[0] for line in lines if line and not line.startswith("#")}


def _launched_rasa() -> list[str]:
    settings = Settings(
        db=DbSettings(url="postgresql+asyncpg://front:pw@db/frontline"),
        rasa=RasaSettings(url="http://127.0.0.1:5005", token=SecretStr("x" * 32)),
    )
    return rasa_services(with_rasa_servers(settings, 2))[0].argv


def test_the_rasa_unit_runs_rasa_as_the_launcher_does_with_its_whole_environment() -> None:
    launched = _launched_rasa()
    port, model = launched[launched.index("--port") + 1], launched[launched.index("--model") + 1]
    relative = {port: "%i", model: str(Path(model).relative_to(PROJECT_ROOT))}  # the unit's working dir
    assert _exec_start("rasa@.service")[1:] == [relative.get(arg, arg) for arg in launched[1:]]
    settings = Settings(rasa=RasaSettings(urls=["http://127.0.0.1:5005", "http://127.0.0.1:5006"]))
    assert _env_names("rasa.env") == set(rasa_services(settings)[0].env)


def test_the_app_unit_runs_the_app_on_its_instances_port() -> None:
    assert _exec_start("frontline-app@.service")[1:] == ["-m", "app"]
    assert "Environment=FRONTLINE_PORT=%i" in (DEPLOY / "systemd" / "frontline-app@.service").read_text()
    assert {"FRONTLINE_DB__URL", "FRONTLINE_RASA__URLS", "FRONTLINE_RASA__TOKEN"} <= _env_names("app.env")


def test_the_live_stream_is_not_buffered_by_nginx() -> None:
    config = (DEPLOY / "nginx" / "frontline.conf").read_text()
    stream = config[config.index("location = /api/operator/events") :].split("}", 1)[0]
    assert "proxy_buffering off;" in stream


def test_nginx_accepts_the_config(tmp_path: Path) -> None:
    nginx = shutil.which("nginx") or ("/usr/sbin/nginx" if Path("/usr/sbin/nginx").exists() else None)
    if nginx is None:
        pytest.skip("nginx is not installed here (the config is checked where it is)")
    main = tmp_path / "nginx.conf"
    # Everything nginx writes in the scratch folder: the check runs as any user.
    temp_paths = "".join(
        f"{kind}_temp_path {tmp_path}/{kind};\n"
        for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")
    )
    main.write_text(
        f"pid {tmp_path}/nginx.pid;\nerror_log {tmp_path}/error.log;\nevents {{}}\n"
        f"http {{\naccess_log off;\n{temp_paths}include {DEPLOY / 'nginx' / 'frontline.conf'};\n}}\n"
    )
    checked = subprocess.run(
        [nginx, "-t", "-p", str(tmp_path), "-c", str(main)], capture_output=True, text=True
    )
    assert checked.returncode == 0, checked.stderr
