"""Refusals, typed where the rule is, answered as RFC 9457 problems in one place (ADR 0011).

A domain names why it refuses with a subclass of `Refusal` that says, as class attributes, the
HTTP status, the problem's kind and its title; the message is the problem's detail, and
`extensions()` adds members (e.g. the missing elements of a form). The one exception handler
`servicekit.problems` installs turns any of them into problem+json, so no service writes its
own handlers. This module imports nothing but the standard library: a pure `domain/` may use it.

A refusal raised by code that cannot depend on servicekit (`contracts/`) is named to the app
with `servicekit.problems.translate_refusals(app, {Type: function})`, the function making the `Refusal` to answer with.
"""

from typing import Any


class Refusal(Exception):
    """Nothing was done, and the problem document says why and what to do."""

    status: int = 409
    kind: str = "refused"
    title: str = "Refused"

    @property
    def detail(self) -> str:
        return str(self)

    def extensions(self) -> dict[str, Any]:
        return {}
