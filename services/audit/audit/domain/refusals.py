"""Why the ledger refuses a query, typed (ADR 0011): servicekit answers each as problem+json,
with the status, kind and title named here and the message as the detail."""

from servicekit.refusals import Refusal


class NotFound(Refusal, LookupError):
    """The entry, range or checkpoint asked for does not exist."""

    status = 404
    kind = "not-found"
    title = "Not in the ledger"


class Unvouched(Refusal):
    """The stored checkpoint does not carry the ledger's valid signature, so the ledger will
    not sign it again in another format."""

    status = 409
    kind = "checkpoint-not-vouched"
    title = "The ledger does not vouch for that"


class BadRange(Refusal, ValueError):
    """The range or pair asked for cannot be proven."""

    status = 422
    kind = "unprovable-range"
    title = "Cannot prove that"


class CosignatureRefused(Refusal, ValueError):
    """A witness's cosignature line that the ledger does not store, and why."""

    status = 422
    kind = "cosignature-refused"
    title = "Cosignature not accepted"
