"""SIP messages: a tolerant parser and a serialiser (RFC 3261 section 7), pure functions, no I/O.

Garbage raises SipParseError and never anything else; a request whose headers are broken but
identifiable (Via and Call-ID present) is returned with `problem` set, so it can get a 400.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from ivr.ascii_digits import ascii_int, is_ascii_digits
from ivr.errors import SipParseError

# Compact header forms (RFC 3261 section 7.3.3 and the REFER/event extensions).
COMPACT = {
    "i": "Call-ID",
    "f": "From",
    "t": "To",
    "v": "Via",
    "m": "Contact",
    "l": "Content-Length",
    "c": "Content-Type",
    "k": "Supported",
    "s": "Subject",
    "e": "Content-Encoding",
    "r": "Refer-To",
    "b": "Referred-By",
    "o": "Event",
    "u": "Allow-Events",
}
_CANONICAL = {
    name.lower(): name
    for name in (
        "Call-ID", "CSeq", "Via", "From", "To", "Contact", "Content-Length", "Content-Type",
        "Max-Forwards", "Record-Route", "Route", "Refer-To", "Referred-By", "Event",
        "Subscription-State", "User-Agent", "Server", "Allow", "Accept", "Supported",
    )
}  # fmt: skip
MANDATORY = ("Via", "From", "To", "Call-ID", "CSeq")
MAX_DATAGRAM = 65535
_TOKEN = re.compile(r"^[A-Za-z0-9.!%*_+`'~-]+$")
_STATUS_LINE = re.compile(r"^SIP/2\.0\s+(\d{3})\s*(.*)$", re.IGNORECASE)
_REQUEST_LINE = re.compile(r"^(\S+)\s+(\S+)\s+SIP/2\.0$", re.IGNORECASE)


@dataclass
class SipMessage:
    """A request (method + uri) or a response (status + reason), headers in order, raw body."""

    method: str | None = None
    uri: str | None = None
    status: int | None = None
    reason: str = ""
    headers: list[tuple[str, str]] = field(default_factory=list)
    body: bytes = b""
    # Set by the parser on a request that can be answered but not served (the 400's reason).
    problem: str | None = None

    @property
    def is_request(self) -> bool:
        return self.method is not None

    def get(self, name: str) -> str | None:
        """First value of a header (case-insensitive, compact forms resolved)."""
        wanted = canonical(name).lower()
        return next((v for n, v in self.headers if n.lower() == wanted), None)

    def get_all(self, name: str) -> list[str]:
        wanted = canonical(name).lower()
        return [v for n, v in self.headers if n.lower() == wanted]

    def set(self, name: str, value: str) -> None:
        wanted = canonical(name).lower()
        self.headers = [(n, v) for n, v in self.headers if n.lower() != wanted]
        self.headers.append((canonical(name), value))

    @property
    def call_id(self) -> str:
        return self.get("Call-ID") or ""

    @property
    def cseq(self) -> tuple[int, str]:
        return parse_cseq(self.get("CSeq") or "")

    @property
    def branch(self) -> str:
        return header_param(top_via(self) or "", "branch") or ""


def canonical(name: str) -> str:
    name = name.strip()
    full = COMPACT.get(name.lower(), name) if len(name) == 1 else name
    return _CANONICAL.get(full.lower(), full)


def parse_cseq(value: str) -> tuple[int, str]:
    parts = value.split()
    number = ascii_int(parts[0]) if len(parts) == 2 else None
    if number is None or not _TOKEN.match(parts[1]):
        raise SipParseError(f"bad CSeq {value[:40]!r}")
    return number, parts[1].upper()


def top_via(message: SipMessage) -> str | None:
    """The first Via value (a header may carry several, separated by commas)."""
    first = message.get("Via")
    return first.split(",", 1)[0].strip() if first else None


def header_param(value: str, name: str) -> str | None:
    """A ;name=value parameter of a header value, outside its <uri> part."""
    outside = value.rsplit(">", 1)[-1]
    for part in outside.split(";")[1:]:
        key, _, val = part.partition("=")
        if key.strip().lower() == name.lower():
            return val.strip().strip('"')
    return None


def name_addr_uri(value: str) -> str:
    """The URI in `"Name" <sip:x@y>;tag=1` or `sip:x@y;tag=1`."""
    if "<" in value and ">" in value:
        return value[value.index("<") + 1 : value.index(">")].strip()
    return value.split(";", 1)[0].strip()


def uri_user(uri: str) -> str:
    """The user part of a sip:/sips:/tel: URI ('' when there is none)."""
    rest = uri.split(":", 1)[1] if ":" in uri else uri
    rest = rest.split(";", 1)[0].split("?", 1)[0]
    return rest.split("@", 1)[0] if "@" in rest or uri.lower().startswith("tel:") else ""


def uri_host_port(uri: str, default_port: int = 5060) -> tuple[str, int]:
    """Host and port of a sip: URI; raises SipParseError when there is none."""
    rest = uri.split(":", 1)[1] if ":" in uri else uri
    rest = rest.split(";", 1)[0].split("?", 1)[0]
    hostport = rest.rsplit("@", 1)[-1]
    if hostport.startswith("["):  # IPv6 literal
        host, _, tail = hostport[1:].partition("]")
        port_text = tail.lstrip(":")
    else:
        host, _, port_text = hostport.partition(":")
    if not host:
        raise SipParseError(f"no host in {uri[:60]!r}")
    if not port_text:
        return host, default_port
    port = ascii_int(port_text, 5)
    if port is None or port > 65535:
        raise SipParseError(f"bad port in {uri[:60]!r}")
    return host, port


def parse(data: bytes) -> SipMessage:
    """Parse one datagram. Raises SipParseError for anything that is not a usable SIP message."""
    if len(data) > MAX_DATAGRAM:
        raise SipParseError("datagram too large")
    if not data.strip(b"\r\n \t"):
        raise SipParseError("empty datagram (keep-alive)")
    head, body = _split_head(data)
    try:
        text = head.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise SipParseError("headers are not UTF-8") from exc
    lines = text.replace("\r\n", "\n").split("\n")
    message = _start_line(lines[0].strip())
    message.headers = _header_lines(lines[1:])
    message.body = _body(message, body)
    _check(message)
    return message


def _split_head(data: bytes) -> tuple[bytes, bytes]:
    data = data.lstrip(b"\r\n")
    for separator in (b"\r\n\r\n", b"\n\n"):
        index = data.find(separator)
        if index >= 0:
            return data[:index], data[index + len(separator) :]
    return data, b""


def _start_line(line: str) -> SipMessage:
    if match := _STATUS_LINE.match(line):
        return SipMessage(status=int(match.group(1)), reason=match.group(2).strip())
    if (match := _REQUEST_LINE.match(line)) and _TOKEN.match(match.group(1)):
        return SipMessage(method=match.group(1).upper(), uri=match.group(2))
    raise SipParseError(f"not a SIP start line: {line[:60]!r}")


def _header_lines(lines: list[str]) -> list[tuple[str, str]]:
    headers: list[tuple[str, str]] = []
    for line in lines:
        if not line.strip():
            continue
        if line[0] in " \t":  # folded continuation of the previous header
            if not headers:
                raise SipParseError("continuation line before any header")
            name, value = headers[-1]
            headers[-1] = (name, f"{value} {line.strip()}")
            continue
        name, colon, value = line.partition(":")
        if not colon or not _TOKEN.match(name.strip()):
            raise SipParseError(f"bad header line {line[:60]!r}")
        headers.append((canonical(name), value.strip()))
    return headers


def _body(message: SipMessage, body: bytes) -> bytes:
    """Honour Content-Length: extra bytes are dropped, a short body is an error (RFC 3261 18.3)."""
    declared = message.get("Content-Length")
    if declared is None:
        return body
    length = ascii_int(declared.strip())
    if length is None:
        message.problem = "Bad Content-Length"
        return body
    if length > len(body):
        message.problem = "Content-Length larger than the body"
        return body
    return body[:length]


def _check(message: SipMessage) -> None:
    """Responses and requests must carry what a reply needs; a request missing less gets a 400."""
    if message.get("Via") is None or message.get("Call-ID") is None:
        raise SipParseError("no Via or Call-ID: nothing to answer to")
    missing = [name for name in MANDATORY if message.get(name) is None]
    if missing:
        if not message.is_request:
            raise SipParseError(f"response without {', '.join(missing)}")
        message.problem = message.problem or f"Missing {', '.join(missing)}"
        return
    try:
        _, method = message.cseq
    except SipParseError:
        if not message.is_request:
            raise
        message.problem = message.problem or "Bad CSeq"
        return
    if message.is_request and method != message.method and message.method != "ACK":
        message.problem = message.problem or "CSeq method does not match"
    mf = message.get("Max-Forwards")
    if message.is_request and mf is not None and not is_ascii_digits(mf.strip()):
        message.problem = message.problem or "Bad Max-Forwards"


def serialize(message: SipMessage) -> bytes:
    """Bytes on the wire; Content-Length is always written and always right."""
    if message.is_request:
        start = f"{message.method} {message.uri} SIP/2.0"
    else:
        start = f"SIP/2.0 {message.status} {message.reason}"
    lines = [start]
    lines += [f"{n}: {v}" for n, v in message.headers if n.lower() != "content-length"]
    lines.append(f"Content-Length: {len(message.body)}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode("utf-8") + message.body


REASONS = {
    100: "Trying",
    180: "Ringing",
    200: "OK",
    202: "Accepted",
    400: "Bad Request",
    403: "Forbidden",
    404: "Not Found",
    405: "Method Not Allowed",
    415: "Unsupported Media Type",
    481: "Call/Transaction Does Not Exist",
    486: "Busy Here",
    487: "Request Terminated",
    488: "Not Acceptable Here",
    500: "Server Internal Error",
    503: "Service Unavailable",
}


def response(
    request: SipMessage,
    status: int,
    reason: str | None = None,
    *,
    to_tag: str | None = None,
    headers: list[tuple[str, str]] | None = None,
    body: bytes = b"",
) -> SipMessage:
    """A response copying Via, From, To (with our tag), Call-ID and CSeq from the request."""
    to = request.get("To") or ""
    if to_tag and header_param(to, "tag") is None and status != 100:
        to = f"{to};tag={to_tag}"
    copied = [("Via", v) for v in request.get_all("Via")]
    copied += [("From", request.get("From") or ""), ("To", to)]
    copied += [("Call-ID", request.call_id), ("CSeq", request.get("CSeq") or "")]
    if 100 < status < 300:
        copied += [("Record-Route", v) for v in request.get_all("Record-Route")]
    return SipMessage(
        status=status,
        reason=reason or REASONS.get(status, ""),
        headers=copied + list(headers or []),
        body=body,
    )
