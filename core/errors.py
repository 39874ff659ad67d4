"""Error tree of the front line: raise specific errors, catch them at the boundaries."""


class FrontlineError(Exception):
    """Base of every error the front line raises on purpose."""


class DialogueUnavailable(FrontlineError):
    """Rasa could not be reached, timed out, or answered nothing where a reply was due."""


class InvalidTurn(FrontlineError):
    """A customer turn that cannot be accepted (empty, too long)."""


class TransitionRefused(FrontlineError):
    """A session or ticket is not in a state the requested change can start from."""
