"""Errors of the voice channel; caught at the datagram boundary, never crash the endpoint."""

from __future__ import annotations


class IvrError(Exception):
    """Base of the voice channel's errors."""


class SipParseError(IvrError):
    """A datagram that is not a SIP message we can answer (garbage, missing headers, bad lengths)."""


class SdpError(IvrError):
    """An SDP body we cannot read."""


class OfferNotAcceptable(IvrError):
    """An SDP offer we can read but will not take: the call is refused with 488 and this Warning."""

    warning = "399"


class NoCommonCodec(OfferNotAcceptable):
    """The offer has no PCMU or PCMA."""

    warning = "305"  # incompatible media format (RFC 3261 section 20.43)


class UnusableAddress(OfferNotAcceptable):
    """The offer's c= is no IP literal (a name would need a blocking lookup) or is a multicast group."""

    warning = "301"  # incompatible network address formats
