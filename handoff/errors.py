"""Errors of the operator side, mapped to HTTP codes at the route boundary."""

from core.errors import FrontlineError


class HandoffError(FrontlineError):
    """Base of operator-side errors."""


class TicketNotFound(HandoffError):
    pass


class TicketConflict(HandoffError):
    """Someone else claimed it first, it is closed, or the operator is at their session limit."""


class NotYourTicket(HandoffError):
    pass


# HTTP status of each error at the route boundary (registered by the app).
HTTP_STATUS: dict[type[HandoffError], int] = {
    TicketNotFound: 404,
    NotYourTicket: 403,
    TicketConflict: 409,
}
