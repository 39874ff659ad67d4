"""One SIP dialog on the answering side (RFC 3261 section 12): tags, route set, in-dialog requests."""

from __future__ import annotations

import ipaddress
import secrets
from dataclasses import dataclass, field

from ivr.errors import SipParseError
from ivr.sip.message import SipMessage, header_param, name_addr_uri, uri_host_port

USER_AGENT = "frontline-ivr"


def new_tag() -> str:
    return secrets.token_hex(6)


def new_branch() -> str:
    return "z9hG4bK" + secrets.token_hex(8)


def _is_ip(host: str) -> bool:
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return False
    return True


@dataclass
class Dialog:
    """Built from the INVITE we answer; the remote party is the caller (or the PBX on its behalf)."""

    call_id: str
    local_tag: str
    remote_from: str  # the INVITE's From, with the caller's tag
    local_to: str  # the INVITE's To, with our tag
    remote_target: str  # the caller's Contact URI
    route_set: list[str]
    source: tuple[str, int]  # where the INVITE came from
    local_contact: str
    local_cseq: int = field(default_factory=lambda: secrets.randbelow(10_000) + 1)
    remote_cseq: int = 0

    @classmethod
    def from_invite(cls, invite: SipMessage, source: tuple[str, int], local_contact: str) -> Dialog:
        tag = new_tag()
        to = invite.get("To") or ""
        contact = invite.get("Contact")
        target = name_addr_uri(contact) if contact else name_addr_uri(invite.get("From") or "")
        return cls(
            call_id=invite.call_id,
            local_tag=tag,
            remote_from=invite.get("From") or "",
            local_to=to if header_param(to, "tag") else f"{to};tag={tag}",
            remote_target=target,
            route_set=list(invite.get_all("Record-Route")),
            source=source,
            local_contact=local_contact,
            remote_cseq=invite.cseq[0],
        )

    @property
    def remote_tag(self) -> str | None:
        return header_param(self.remote_from, "tag")

    def matches(self, request: SipMessage) -> bool:
        """An in-dialog request from the caller carries our tag in To and theirs in From."""
        return (
            header_param(request.get("To") or "", "tag") == self.local_tag
            and header_param(request.get("From") or "", "tag") == self.remote_tag
        )

    def destination(self) -> tuple[str, int]:
        """Where in-dialog requests go: the first loose route, else the caller's Contact.

        A host name is not resolved (that would block the loop): the INVITE's source is used instead,
        which behind a PBX is the PBX itself.
        """
        uri = name_addr_uri(self.route_set[0]) if self.route_set else self.remote_target
        try:
            host, port = uri_host_port(uri)
        except SipParseError:
            return self.source
        return (host, port) if _is_ip(host) else self.source

    def request(
        self, method: str, via: str, extra: list[tuple[str, str]] | None = None, body: bytes = b""
    ) -> SipMessage:
        """An in-dialog request (BYE, REFER) with the next CSeq; `via` is our sent-by host:port."""
        self.local_cseq += 1
        branch = new_branch()
        headers = [
            ("Via", f"SIP/2.0/UDP {via};branch={branch};rport"),
            ("Max-Forwards", "70"),
            ("From", self.local_to),
            ("To", self.remote_from),
            ("Call-ID", self.call_id),
            ("CSeq", f"{self.local_cseq} {method}"),
        ]
        headers += [("Route", route) for route in self.route_set]
        headers += [("Contact", self.local_contact), ("User-Agent", USER_AGENT)]
        headers += list(extra or [])
        return SipMessage(method=method, uri=self.remote_target, headers=headers, body=body)
