"""Message text as Telegram sees it: parse modes, entities and length limits.

Limits are counted in UTF-16 code units after the markup is parsed, like Telegram counts them
(an emoji outside the Basic Multilingual Plane counts twice). Markup errors are reported with
Telegram's "can't parse entities" wording, so a channel that forgets to escape customer text
(`1 < 2` in HTML, `3.5` in MarkdownV2) fails here as it would in production.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from testing.telegram.fake.errors import (
    CAPTION_TOO_LONG,
    TEXT_EMPTY,
    TEXT_TOO_LONG,
    UNSUPPORTED_PARSE_MODE,
    bad_request,
)

MAX_TEXT = 4096
MAX_CAPTION = 1024

_HTML_ENTITY_TYPES = {
    "b": "bold",
    "strong": "bold",
    "i": "italic",
    "em": "italic",
    "u": "underline",
    "ins": "underline",
    "s": "strikethrough",
    "strike": "strikethrough",
    "del": "strikethrough",
    "tg-spoiler": "spoiler",
    "span": "spoiler",
    "a": "text_link",
    "code": "code",
    "pre": "pre",
    "blockquote": "blockquote",
    "tg-emoji": "custom_emoji",
}
_NAMED_CHARACTERS = {"lt": "<", "gt": ">", "amp": "&", "quot": '"'}
_MARKDOWN_V2_RESERVED = set("_*[]()~`>#+-=|{}.!")


def utf16_len(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


@dataclass
class Rendered:
    """Plain text plus entities (offsets in UTF-16 units), what Telegram stores and returns."""

    text: str = ""
    entities: list[dict[str, Any]] = field(default_factory=list)

    @property
    def offset(self) -> int:
        return utf16_len(self.text)

    def add_entity(self, kind: str, start: int, **extra: Any) -> None:
        length = self.offset - start
        if length > 0:
            self.entities.append({"type": kind, "offset": start, "length": length, **extra})


def render(text: str, parse_mode: str | None) -> Rendered:
    """Parse `text` in `parse_mode`; raises ApiError the way Telegram does for broken markup."""
    mode = (parse_mode or "").lower()
    if mode == "":
        rendered = Rendered(text)
    elif mode == "html":
        rendered = _render_html(text)
    elif mode == "markdownv2":
        rendered = _render_markdown(text, strict=True)
    elif mode == "markdown":
        rendered = _render_markdown(text, strict=False)
    else:
        raise bad_request(UNSUPPORTED_PARSE_MODE)
    return _trimmed(rendered)


def message_text(text: str | None, parse_mode: str | None) -> Rendered:
    """A message body: non-empty after trimming, at most 4096 UTF-16 units after parsing."""
    rendered = render(text or "", parse_mode)
    if not rendered.text:
        raise bad_request(TEXT_EMPTY)
    if utf16_len(rendered.text) > MAX_TEXT:
        raise bad_request(TEXT_TOO_LONG)
    return rendered


def caption(text: str | None, parse_mode: str | None) -> Rendered | None:
    if not text:
        return None
    rendered = render(text, parse_mode)
    if utf16_len(rendered.text) > MAX_CAPTION:
        raise bad_request(CAPTION_TOO_LONG)
    return rendered


def _trimmed(rendered: Rendered) -> Rendered:
    """Telegram drops leading and trailing whitespace and shifts entities accordingly."""
    stripped = rendered.text.strip()
    if stripped == rendered.text:
        return rendered
    lead = utf16_len(rendered.text[: len(rendered.text) - len(rendered.text.lstrip())])
    end = utf16_len(stripped)
    entities = []
    for entity in rendered.entities:
        start = max(entity["offset"] - lead, 0)
        stop = min(entity["offset"] + entity["length"] - lead, end)
        if stop > start:
            entities.append({**entity, "offset": start, "length": stop - start})
    return Rendered(stripped, entities)


def _entities_error(detail: str) -> Exception:
    return bad_request(f"can't parse entities: {detail}")


def _byte_offset(text: str, index: int) -> int:
    return len(text[:index].encode("utf-8"))


# --- HTML -------------------------------------------------------------------------------------

_TAG = re.compile(r"<(/?)([a-zA-Z0-9-]*)([^>]*)>")
_ATTRIBUTE = re.compile(r"""([a-zA-Z-]+)\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s"']+))""")
_CHARACTER = re.compile(r"&(#x[0-9a-fA-F]+|#[0-9]+|[a-zA-Z]+);")


def _render_html(text: str) -> Rendered:
    out = Rendered()
    open_tags: list[tuple[str, int, dict[str, Any], int]] = []
    index = 0
    while index < len(text):
        char = text[index]
        if char == "&":
            index = _html_character(text, index, out)
        elif char == "<":
            index = _html_tag(text, index, out, open_tags)
        else:
            out.text += char
            index += 1
    if open_tags:
        raise _entities_error(f'Can\'t find end tag corresponding to start tag "{open_tags[-1][0]}"')
    out.entities.sort(key=lambda entity: (entity["offset"], -entity["length"]))
    return out


def _html_character(text: str, index: int, out: Rendered) -> int:
    match = _CHARACTER.match(text, index)
    if match is None:
        out.text += "&"
        return index + 1
    name = match.group(1)
    if name.startswith("#x"):
        out.text += chr(int(name[2:], 16))
    elif name.startswith("#"):
        out.text += chr(int(name[1:]))
    else:
        out.text += _NAMED_CHARACTERS.get(name.lower(), match.group(0))
    return match.end()


def _html_tag(
    text: str, index: int, out: Rendered, open_tags: list[tuple[str, int, dict[str, Any], int]]
) -> int:
    match = _TAG.match(text, index)
    at = _byte_offset(text, index)
    if match is None:
        raise _entities_error(f"Unclosed start tag at byte offset {at}")
    closing, name, rest = match.group(1) == "/", match.group(2).lower(), match.group(3)
    if closing:
        if not open_tags:
            raise _entities_error(f"Unexpected end tag at byte offset {at}")
        opened, start, attributes, _ = open_tags.pop()
        if name and name != opened:
            raise _entities_error(
                f'Unmatched end tag at byte offset {at}, expected "</{opened}>", found "</{name}>"'
            )
        _close_html_entity(opened, start, attributes, out)
        return match.end()
    attributes = {
        m.group(1).lower(): next(g for g in m.groups()[1:] if g is not None)
        for m in _ATTRIBUTE.finditer(rest)
    }
    if name not in _HTML_ENTITY_TYPES or (name == "span" and attributes.get("class") != "tg-spoiler"):
        raise _entities_error(f'Unsupported start tag "{name}" at byte offset {at}')
    if name == "a" and not attributes.get("href"):
        attributes["href"] = ""
    open_tags.append((name, out.offset, attributes, at))
    return match.end()


def _close_html_entity(tag: str, start: int, attributes: dict[str, Any], out: Rendered) -> None:
    kind = _HTML_ENTITY_TYPES[tag]
    if kind == "text_link":
        if attributes["href"]:
            out.add_entity(kind, start, url=attributes["href"])
    elif kind == "custom_emoji":
        out.add_entity(kind, start, custom_emoji_id=attributes.get("emoji-id", ""))
    elif kind == "blockquote" and "expandable" in attributes:
        out.add_entity("expandable_blockquote", start)
    else:
        out.add_entity(kind, start)


# --- Markdown ---------------------------------------------------------------------------------

_MARKERS_V2 = {"*": "bold", "_": "italic", "__": "underline", "~": "strikethrough", "||": "spoiler"}
_MARKERS_LEGACY = {"*": "bold", "_": "italic"}


def _render_markdown(text: str, *, strict: bool) -> Rendered:
    """MarkdownV2 (`strict`) or legacy Markdown: markers, code, pre, links and escapes."""
    out = Rendered()
    markers = _MARKERS_V2 if strict else _MARKERS_LEGACY
    open_marks: list[tuple[str, int, int]] = []
    index = 0
    while index < len(text):
        char = text[index]
        if char == "\\" and index + 1 < len(text) and (strict or text[index + 1] in "_*`["):
            out.text += text[index + 1]
            index += 2
        elif char == "`":
            index = _markdown_code(text, index, out, strict)
        elif char == "[":
            index = _markdown_link(text, index, out, strict)
        elif (marker := _marker_at(text, index, markers)) is not None:
            if open_marks and open_marks[-1][0] == marker:
                _, start, _ = open_marks.pop()
                out.add_entity(markers[marker], start)
            else:
                open_marks.append((marker, out.offset, _byte_offset(text, index)))
            index += len(marker)
        elif strict and char == ">" and (index == 0 or text[index - 1] == "\n"):
            index += 1  # a block quote line: the marker is markup, not text
        elif strict and char in _MARKDOWN_V2_RESERVED:
            raise _entities_error(
                f"Character '{char}' is reserved and must be escaped with the preceding '\\'"
            )
        else:
            out.text += char
            index += 1
    if open_marks:
        raise _entities_error(f"Can't find end of the entity starting at byte offset {open_marks[-1][2]}")
    return out


def _marker_at(text: str, index: int, markers: dict[str, str]) -> str | None:
    for marker in sorted(markers, key=len, reverse=True):
        if text.startswith(marker, index):
            return marker
    return None


def _markdown_code(text: str, index: int, out: Rendered, strict: bool) -> int:
    fence = "```" if text.startswith("```", index) else "`"
    body_start = index + len(fence)
    end = _unescaped_find(text, fence, body_start, strict)
    if end < 0:
        raise _entities_error(
            f"Can't find end of the entity starting at byte offset {_byte_offset(text, index)}"
        )
    body = text[body_start:end]
    start = out.offset
    if fence == "```":
        first_line, newline, rest = body.partition("\n")
        language = first_line.strip() if newline and first_line.strip() else None
        out.text += _unescape(rest if language else body, strict)
        out.add_entity("pre", start, **({"language": language} if language else {}))
    else:
        out.text += _unescape(body, strict)
        out.add_entity("code", start)
    return end + len(fence)


def _markdown_link(text: str, index: int, out: Rendered, strict: bool) -> int:
    close = _unescaped_find(text, "]", index + 1, strict)
    if close < 0 or not text.startswith("(", close + 1):
        if strict:
            raise _entities_error("Character '[' is reserved and must be escaped with the preceding '\\'")
        out.text += "["
        return index + 1
    url_end = _unescaped_find(text, ")", close + 2, strict)
    if url_end < 0:
        raise _entities_error(f"Can't find end of a url at byte offset {_byte_offset(text, close + 2)}")
    start = out.offset
    inner = (
        _render_markdown(text[index + 1 : close], strict=strict)
        if strict
        else Rendered(text[index + 1 : close])
    )
    for entity in inner.entities:
        out.entities.append({**entity, "offset": entity["offset"] + start})
    out.text += inner.text
    out.add_entity("text_link", start, url=_unescape(text[close + 2 : url_end], strict))
    return url_end + 1


def _unescaped_find(text: str, needle: str, start: int, strict: bool) -> int:
    index = start
    while index < len(text):
        if strict and text[index] == "\\":
            index += 2
            continue
        if text.startswith(needle, index):
            return index
        index += 1
    return -1


def _unescape(text: str, strict: bool) -> str:
    return re.sub(r"\\(.)", r"\1", text, flags=re.DOTALL) if strict else text
