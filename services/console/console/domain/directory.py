"""The embedded default's people: a small seeded directory that the development sign-in page
lists, one entry per kind of person the programme has (DESIGN.md section 1). Production signs
people in through the county's OpenID provider instead, and has no such list."""

from dataclasses import dataclass


@dataclass(frozen=True)
class Person:
    subject: str
    name: str
    role: str
    agency: str

    @property
    def key(self) -> str:
        """How the sign-in page names them, as the README does: `officer-17@pontiac-pd`."""
        return f"{self.subject}@{self.agency}"


DIRECTORY: tuple[Person, ...] = (
    Person("officer-17", "Officer Dana Reyes", "officer", "pontiac-pd"),
    Person("officer-23", "Officer Luis Ortega", "officer", "pontiac-pd"),
    Person("deputy-4", "Deputy Kim Walsh", "officer", "oakland-sheriff"),
    Person("ada-1", "Ada Brooks, liaison prosecutor", "prosecutor", "oakland-prosecutor"),
    Person("cm-1", "Chris Moreno, case manager", "case_manager", "pontiac-case-management"),
    Person("cm-2", "Jordan Lee, case manager", "case_manager", "pontiac-case-management"),
    Person("sup-1", "Sam Patel, supervisor", "supervisor", "pontiac-case-management"),
    Person("pd-1", "Pat Nguyen, public defender", "public_defender", "oakland-public-defender"),
    Person("auditor-1", "Alex Kim, county auditor", "auditor", "county-audit"),
    Person("analyst-1", "Morgan Diaz, county analyst", "analyst", "county-analysis"),
    Person("it-1", "Robin Shaw, county IT operator", "operator", "county-it"),
)


def find(key: str) -> Person | None:
    return next((p for p in DIRECTORY if p.key == key), None)
