"""Who may call what: every HTTP operation of every service, and the roles that pass its gate.

The matrix test walks this table against the running services, and fails when a service has an
operation the table does not name (or the table names one that is gone): a new endpoint is not
finished until someone has decided here who may call it.
"""

from dataclasses import dataclass, field
from typing import Any

from servicekit.auth import ROLES as KNOWN_ROLES

ROLES: tuple[str, ...] = tuple(sorted(KNOWN_ROLES))
LAW_ENFORCEMENT = frozenset({"officer", "prosecutor"})
CASE_STAFF = frozenset({"case_manager", "supervisor"})
EVERY_ROLE = frozenset(ROLES)

# Where each role works at the Pontiac pilot (a supervisor supervises officers in intake and
# case managers in casework). The officer is the one who refers, the prosecutor the liaison.
HOME_AGENCY: dict[str, str] = {
    "officer": "pontiac-pd",
    "case_manager": "pontiac-case-management",
    "supervisor": "pontiac-case-management",
    "prosecutor": "oakland-prosecutor",
    "public_defender": "oakland-public-defender",
    "auditor": "county-audit",
    "analyst": "county-analysis",
    "operator": "county-it",
}
SUPERVISOR_IN_INTAKE = "pontiac-pd"


def home_agency(service: str, role: str) -> str:
    return (
        SUPERVISOR_IN_INTAKE if (service, role) == ("intake", "supervisor") else HOME_AGENCY[role]
    )


@dataclass(frozen=True)
class Operation:
    """`roles` pass the gate (None: no token needed at all). `query` makes a GET answer 200;
    a GET `may_be_absent` answers 404 when the caller has none (an address never registered)."""

    roles: frozenset[str] | None
    query: dict[str, Any] = field(default_factory=dict)
    may_be_absent: bool = False


PUBLIC = Operation(None)


def only(*roles: str | frozenset[str], **query: Any) -> Operation:
    names: set[str] = set()
    for role in roles:
        names |= {role} if isinstance(role, str) else role
    return Operation(frozenset(names), query)


# What every service serves for operators: its dead letters (servicekit.operations_http) and
# its Prometheus metrics (counts and route templates, nothing about anyone: scraped without a
# token, the network keeps it to the county's monitoring).
OPERATOR_PATHS: dict[tuple[str, str], Operation] = {
    ("GET", "/metrics"): PUBLIC,
    ("GET", "/asyncapi.json"): PUBLIC,
    ("GET", "/dead-letters"): only("operator"),
    ("POST", "/dead-letters/{dead_letter_id}/replay"): only("operator"),
    ("POST", "/dead-letters/{dead_letter_id}/discard"): only("operator"),
}

OPERATIONS: dict[tuple[str, str, str], Operation] = {
    # intake
    ("intake", "GET", "/healthz"): PUBLIC,
    ("intake", "GET", "/readyz"): PUBLIC,
    ("intake", "GET", "/event-keys"): PUBLIC,
    ("intake", "GET", "/referral-form"): only("officer", CASE_STAFF),
    # Case staff pass the gate; intake lets in only the community referrers a profile names.
    ("intake", "POST", "/referrals"): only("officer", CASE_STAFF),
    ("intake", "GET", "/referrals"): only("officer", CASE_STAFF),
    ("intake", "GET", "/referrals/{referral_id}"): only("officer", "supervisor"),
    ("intake", "POST", "/referrals/{referral_id}/withdrawal"): only("officer", "supervisor"),
    ("intake", "GET", "/reviews"): only("prosecutor"),
    ("intake", "POST", "/arrests"): only(LAW_ENFORCEMENT),
    ("intake", "POST", "/referrals/{referral_id}/review"): only("prosecutor"),
    # casework
    ("casework", "GET", "/healthz"): PUBLIC,
    ("casework", "GET", "/readyz"): PUBLIC,
    ("casework", "GET", "/event-keys"): PUBLIC,
    ("casework", "GET", "/cases"): only(CASE_STAFF),
    ("casework", "GET", "/cases/{case_id}"): only(CASE_STAFF),
    # The case's events in words: goals' wording, providers. Its own agency's staff only.
    ("casework", "GET", "/cases/{case_id}/history"): only(CASE_STAFF),
    ("casework", "GET", "/cases/{case_id}/status"): only(LAW_ENFORCEMENT),
    ("casework", "GET", "/diversions"): only("prosecutor"),
    ("casework", "POST", "/cases/{case_id}/intake-assessment"): only(CASE_STAFF),
    ("casework", "POST", "/cases/{case_id}/circumstances"): only(CASE_STAFF),
    ("casework", "POST", "/cases/{case_id}/contacts"): only(CASE_STAFF),
    ("casework", "POST", "/cases/{case_id}/goals"): only(CASE_STAFF),
    ("casework", "PATCH", "/cases/{case_id}/goals/{goal_id}"): only(CASE_STAFF),
    ("casework", "POST", "/cases/{case_id}/goals/{goal_id}/achieved"): only(CASE_STAFF),
    ("casework", "POST", "/cases/{case_id}/goals/{goal_id}/dropped"): only(CASE_STAFF),
    ("casework", "POST", "/cases/{case_id}/service-referrals"): only(CASE_STAFF),
    (
        "casework",
        "POST",
        "/cases/{case_id}/service-referrals/{service_referral_id}/outcome",
    ): only(CASE_STAFF),
    ("casework", "POST", "/cases/{case_id}/non-compliance"): only(CASE_STAFF),
    ("casework", "POST", "/cases/{case_id}/prosecutor-decision"): only("prosecutor"),
    ("casework", "POST", "/cases/{case_id}/arrests"): only(LAW_ENFORCEMENT),
    ("casework", "POST", "/cases/{case_id}/closure"): only(CASE_STAFF),
    ("casework", "PUT", "/cases/{case_id}/case-manager"): only("supervisor"),
    ("casework", "POST", "/cases/{case_id}/releases"): only(CASE_STAFF),
    ("casework", "GET", "/cases/{case_id}/releases"): only(CASE_STAFF),
    ("casework", "POST", "/cases/{case_id}/releases/{release_id}/revocation"): only(CASE_STAFF),
    # The recipient a release in force names: the seeded release names the public defender.
    ("casework", "GET", "/cases/{case_id}/disclosure"): only("public_defender"),
    ("casework", "GET", "/cases/{case_id}/disclosures"): only(CASE_STAFF),
    ("casework", "GET", "/case-managers"): only("supervisor"),
    ("casework", "PUT", "/case-managers/{subject}"): only("supervisor"),
    ("casework", "DELETE", "/case-managers/{subject}"): only("supervisor"),
    # outcomes: aggregate reports, never a person, for analysts and the auditors
    ("outcomes", "GET", "/healthz"): PUBLIC,
    ("outcomes", "GET", "/readyz"): PUBLIC,
    ("outcomes", "GET", "/event-keys"): PUBLIC,
    ("outcomes", "GET", "/reports/{report}"): only("analyst", "auditor"),
    # notify: everyone has an inbox and an address; operators run the channels
    ("notify", "GET", "/healthz"): PUBLIC,
    ("notify", "GET", "/readyz"): PUBLIC,
    ("notify", "GET", "/event-keys"): PUBLIC,
    ("notify", "GET", "/inbox"): only(EVERY_ROLE),
    ("notify", "POST", "/inbox/{message_id}/read"): only(EVERY_ROLE),
    ("notify", "GET", "/me/email"): Operation(EVERY_ROLE, may_be_absent=True),
    ("notify", "PUT", "/me/email"): only(EVERY_ROLE),
    ("notify", "DELETE", "/me/email"): only(EVERY_ROLE),
    ("notify", "PUT", "/offices/{agency}/{role}/email"): only("operator"),
    ("notify", "DELETE", "/offices/{agency}/{role}/email"): only("operator"),
    ("notify", "GET", "/offices"): only("operator"),
    ("notify", "GET", "/webhook-subscriptions"): only("operator"),
    ("notify", "POST", "/webhook-subscriptions"): only("operator"),
    ("notify", "DELETE", "/webhook-subscriptions/{subscription_id}"): only("operator"),
    ("notify", "GET", "/deliveries"): only("operator"),
    ("notify", "POST", "/deliveries/{delivery_id}/retry"): only("operator"),
    # audit: the ledger is for auditors; its public key for anyone who checks a proof
    ("audit", "GET", "/healthz"): PUBLIC,
    ("audit", "GET", "/readyz"): PUBLIC,
    ("audit", "GET", "/event-keys"): PUBLIC,
    ("audit", "GET", "/ledger/public-key"): PUBLIC,
    ("audit", "GET", "/ledger/producer-keys"): PUBLIC,
    ("audit", "GET", "/ledger/verify"): only("auditor"),
    ("audit", "GET", "/ledger/entries"): only("auditor"),
    ("audit", "GET", "/ledger/checkpoints"): only("auditor"),
    ("audit", "GET", "/ledger/checkpoints/{number}"): only("auditor"),
    ("audit", "GET", "/ledger/checkpoints/{number}/note"): only("auditor"),
    ("audit", "GET", "/ledger/checkpoints/{number}/cosignatures"): only("auditor"),
    ("audit", "POST", "/ledger/checkpoints/{number}/cosignatures"): only("auditor"),
    ("audit", "GET", "/ledger/proofs/inclusion"): only("auditor", seq=1),
    ("audit", "GET", "/ledger/proofs/consistency"): only("auditor", first=1),
    ("audit", "GET", "/ledger/export"): only("auditor", first=1, last=2),
    ("audit", "GET", "/ledger/cases/{case_id}/history"): only("auditor"),
    ("audit", "GET", "/ledger/referrals/{referral_id}/history"): only("auditor"),
    ("audit", "GET", "/ledger/cases/{case_id}/as-of"): only("auditor", at="2100-01-01T00:00:00Z"),
}


# --- Tokens that test the Golden Rule beyond one role (issue 14) ------------------------------

CARE_AGENCY = HOME_AGENCY["case_manager"]
POLICE_AGENCY = HOME_AGENCY["officer"]


@dataclass(frozen=True)
class Caller:
    """A token the matrix also walks: several roles at once, or a role at an agency of another
    kind than the role's name suggests. The agency is the same whichever service is called."""

    name: str
    subject: str
    roles: tuple[str, ...]
    agency: str

    @property
    def law_enforcement(self) -> bool:
        return bool(set(self.roles) & LAW_ENFORCEMENT)


MIXED_CALLERS: tuple[Caller, ...] = (
    Caller("the case manager who is also an officer", "cm-1", ("case_manager", "officer"), CARE_AGENCY),
    Caller("an officer who is also a case manager", "officer-1", ("officer", "case_manager"), POLICE_AGENCY),
    Caller("a supervisor who is also a prosecutor", "sup-1", ("supervisor", "prosecutor"), CARE_AGENCY),
    Caller("a case manager who is also an auditor", "cm-1", ("case_manager", "auditor"), CARE_AGENCY),
    Caller("a police supervisor", "sup-pd-1", ("supervisor",), POLICE_AGENCY),
    Caller("a police supervisor and officer", "sup-pd-2", ("supervisor", "officer"), POLICE_AGENCY),
    Caller("a case-management supervisor", "sup-1", ("supervisor",), CARE_AGENCY),
)  # fmt: skip


REFERRER_GATES = frozenset(
    ("intake", method, path)
    for method, path in (("POST", "/referrals"), ("GET", "/referrals"), ("GET", "/referral-form"))
)


def is_care_gate(key: tuple[str, str, str]) -> bool:
    """Casework's gates for the case's own agency: case managers and supervisors only."""
    roles = OPERATIONS[key].roles
    return key[0] == "casework" and roles is not None and roles <= CASE_STAFF


def passes_gate(key: tuple[str, str, str], caller: Caller) -> bool:
    """Whether `caller` gets past the operation's role gate (what happens after is the
    operation's own business). A care-staff gate takes staff of the site's case-management
    agency whose token holds no law-enforcement role; intake's supervisor is a police
    supervisor; the kind of agency is the site profile's word, never the role's name."""
    roles = OPERATIONS[key].roles
    assert roles is not None
    held = set(caller.roles) & roles
    if not held:
        return False
    if is_care_gate(key):
        return not caller.law_enforcement and caller.agency == CARE_AGENCY
    if key in REFERRER_GATES and "officer" not in held:
        # Case staff may be the profile's community referrers; intake judges which, but a
        # token holding a law-enforcement role never passes as case staff.
        return not caller.law_enforcement
    if key[0] == "intake" and held == {"supervisor"}:
        return caller.agency == POLICE_AGENCY
    return True


for _service in ("intake", "casework", "notify", "audit", "outcomes"):
    for (_method, _path), _operation in OPERATOR_PATHS.items():
        OPERATIONS[(_service, _method, _path)] = _operation
