"""The command a centre runs to check its language's menu keywords against its downloaded model."""

from __future__ import annotations

from pathlib import Path

import pytest

from ivr.speech import check
from ivr.speech.keywords import KEYWORDS_DIR


def test_every_korean_keyword_is_heard_as_its_entry(
    korean_model_dir: Path, speaker: object, capsys: pytest.CaptureFixture[str]
) -> None:
    assert check.main(["ko", "--model-dir", str(korean_model_dir)]) == 0
    out = capsys.readouterr().out
    assert "ko: 7 phrases" in out and "heard as" not in out and "vocabulary" not in out
    assert "'상담원'" in out and "operator" in out


def test_a_keyword_the_model_cannot_hear_is_named_and_fails_the_check(
    korean_model_dir: Path, speaker: object, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # A word the model was never taught, added to the operator phrases.
    text = (KEYWORDS_DIR / "ko.yml").read_text(encoding="utf-8")
    (tmp_path / "ko.yml").write_text(
        text.replace("[상담원, 사람]", "[상담원, 사람, 오퍼레이터엑스]"), "utf-8"
    )
    argv = ["ko", "--model-dir", str(korean_model_dir), "--keywords-dir", str(tmp_path)]
    assert check.main(argv) == 1
    assert "never heard): 오퍼레이터엑스" in capsys.readouterr().out


def test_a_missing_model_says_how_to_get_one(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert check.main(["ru", "--model-dir", str(tmp_path / "none")]) == 2
    assert "python -m ivr.speech.download ru" in capsys.readouterr().err
