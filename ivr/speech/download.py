"""Download the Vosk model for a language, checked against the official list's checksum.

    python -m ivr.speech.download ru [--dir var/speech-models] [--name NAME] [--list-url URL]

The official list names every model with its language, size, type and md5. The newest small,
non-obsolete model of the language is taken unless --name picks one. The archive is verified
before it is unpacked into DIR/<language>/, and the model is made to accept 8 kHz phone audio.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import shutil
import sys
import tempfile
import urllib.request
import zipfile
from pathlib import Path
from typing import Any

from tqdm import tqdm

from ivr.speech.errors import ModelDownloadError
from ivr.speech.models import ensure_upsample

MODEL_LIST_URL = "https://alphacephei.com/vosk/models/model-list.json"
DEFAULT_DIR = Path("var/speech-models")
TIMEOUT_S = 30


def fetch_model_list(url: str) -> list[dict[str, Any]]:
    try:
        with urllib.request.urlopen(url, timeout=TIMEOUT_S) as response:
            entries = json.load(response)
    except (OSError, ValueError) as exc:
        raise ModelDownloadError(f"cannot read the model list at {url}: {exc}") from exc
    if not isinstance(entries, list):
        raise ModelDownloadError(f"the model list at {url} is not a list of models")
    return [entry for entry in entries if isinstance(entry, dict)]


def choose_model(entries: list[dict[str, Any]], language: str, name: str | None = None) -> dict[str, Any]:
    """The entry named, or the newest small non-obsolete model of the language."""
    if name is not None:
        for entry in entries:
            if entry.get("name") == name:
                return entry
        raise ModelDownloadError(f"no model named {name!r} in the list")
    candidates = [
        entry
        for entry in entries
        if _language_matches(str(entry.get("lang", "")), language)
        and entry.get("type") == "small"
        and str(entry.get("obsolete", "false")).lower() != "true"
    ]
    if not candidates:
        available = ", ".join(sorted({str(e.get("lang")) for e in entries if e.get("lang")}))
        raise ModelDownloadError(
            f"no small model for language {language!r}; languages in the list: {available}"
        )
    # An exact code ("ru") beats a regional one ("en-us" for "en"); then the highest version.
    return max(candidates, key=lambda e: (e.get("lang") == language, _version(str(e.get("version", "")))))


def _language_matches(code: str, language: str) -> bool:
    return code == language or code.startswith(f"{language}-")


def _version(text: str) -> tuple[int, ...]:
    return tuple(int(part) for part in text.split(".") if part.isdigit())


def download(url: str, target: Path, expected_size: int | None = None) -> None:
    try:
        with urllib.request.urlopen(url, timeout=TIMEOUT_S) as response, target.open("wb") as out:
            total = int(response.headers.get("Content-Length") or expected_size or 0) or None
            with tqdm(total=total, unit="B", unit_scale=True, desc=target.name) as bar:
                while chunk := response.read(1 << 16):
                    out.write(chunk)
                    bar.update(len(chunk))
    except OSError as exc:
        raise ModelDownloadError(f"cannot download {url}: {exc}") from exc


def md5_of(path: Path) -> str:
    digest = hashlib.md5(usedforsecurity=False)
    with path.open("rb") as handle:
        while chunk := handle.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()


def unpack(archive: Path, destination: Path) -> None:
    """Unzip the model's one top folder into destination (replacing an older model there)."""
    with tempfile.TemporaryDirectory(dir=destination.parent) as tmp:
        with zipfile.ZipFile(archive) as zipped:
            for member in zipped.namelist():  # refuse paths that climb out of the folder
                if member.startswith("/") or ".." in Path(member).parts:
                    raise ModelDownloadError(f"unsafe path in the archive: {member}")
            zipped.extractall(tmp)
        roots = list(Path(tmp).iterdir())
        root = roots[0] if len(roots) == 1 and roots[0].is_dir() else Path(tmp)
        if not (root / "am").is_dir():
            raise ModelDownloadError("the archive holds no Vosk model (no am/ folder)")
        if destination.exists():
            shutil.rmtree(destination)
        shutil.move(str(root), str(destination))


def install_model(language: str, directory: Path, list_url: str, name: str | None = None) -> Path:
    entry = choose_model(fetch_model_list(list_url), language, name)
    url, expected = str(entry.get("url", "")), str(entry.get("md5", "")).lower()
    if not url or not expected:
        raise ModelDownloadError(f"the list gives no url or md5 for {entry.get('name')!r}")
    directory.mkdir(parents=True, exist_ok=True)
    archive = directory / f"{entry.get('name', language)}.zip"
    try:
        download(url, archive, entry.get("size"))
        actual = md5_of(archive)
        if actual != expected:
            raise ModelDownloadError(
                f"checksum mismatch for {archive.name}: expected md5 {expected}, got {actual}; "
                "the download was deleted, try again"
            )
        destination = directory / language
        unpack(archive, destination)
    finally:
        archive.unlink(missing_ok=True)
    ensure_upsample(destination)
    return destination


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m ivr.speech.download", description=__doc__.splitlines()[0]
    )
    parser.add_argument("language", help="language code, for example en, ru, ar, fa, ko")
    parser.add_argument(
        "--dir", type=Path, default=DEFAULT_DIR, help=f"models folder (default {DEFAULT_DIR})"
    )
    parser.add_argument("--name", help="a model name from the list instead of the newest small one")
    parser.add_argument("--list-url", default=MODEL_LIST_URL, help="where the model list is read from")
    args = parser.parse_args(argv)
    try:
        path = install_model(args.language, args.dir, args.list_url, args.name)
    except ModelDownloadError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    print(f"speech model for {args.language!r} ready at {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
