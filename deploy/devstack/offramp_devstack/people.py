"""The people of the README's worked example, one per role, at the Pontiac pilot: who
`make token ROLE=...` and `make demo` act as (a colleague's console signs in the same people)."""

from dataclasses import dataclass
from pathlib import Path

JURISDICTION = "pontiac"


@dataclass(frozen=True)
class Person:
    sub: str
    role: str
    agency: str


PEOPLE: dict[str, Person] = {
    person.role: person
    for person in (
        Person("officer-17", "officer", "pontiac-pd"),
        Person("ada-1", "prosecutor", "oakland-prosecutor"),
        Person("cm-1", "case_manager", "pontiac-case-management"),
        Person("sup-1", "supervisor", "pontiac-case-management"),
        Person("pd-1", "public_defender", "oakland-public-defender"),
        Person("auditor-1", "auditor", "county-audit"),
        Person("analyst-1", "analyst", "county-analysis"),
        Person("it-1", "operator", "county-it"),
    )
}


def token_for(role: str, key_path: Path, *, ttl_seconds: int = 8 * 3600) -> str:
    """A token from the local issuer for the README's person holding `role`."""
    from servicekit.auth import LocalIssuer

    if role not in PEOPLE:
        raise KeyError(f"no such role {role!r}; one of {', '.join(sorted(PEOPLE))}")
    person = PEOPLE[role]
    issuer = LocalIssuer(key_path, issuer="offramp-local", audience="offramp")
    return issuer.issue(
        subject=person.sub,
        roles=[person.role],
        agency=person.agency,
        jurisdiction=JURISDICTION,
        ttl_seconds=ttl_seconds,
    )
