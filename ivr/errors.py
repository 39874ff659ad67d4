"""Errors of the voice channel; caught at the datagram boundary, never crash the endpoint."""

from __future__ import annotations


class IvrError(Exception):
    """Base of the voice channel's errors."""


class SipParseError(IvrError):
    """A datagram that is not a SIP message we can answer (garbage, missing headers, bad lengths)."""


class SdpError(IvrError):
    """An SDP body we cannot read."""


class NoCommonCodec(IvrError):
    """The offer has no PCMU or PCMA: the call is refused with 488."""
