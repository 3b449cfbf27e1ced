"""Eligibility of a referral under the site's policy.

A placeholder policy for the walking skeleton: the only rule is that the referral came through
a door the site has opened. The site profiles and the program's real rules replace it.
"""

from collections.abc import Collection

from offramp_contracts.events.base import Door
from offramp_contracts.events.intake import Decision, RuleResult

PLACEHOLDER_POLICY_VERSION = "placeholder-1"
DEFAULT_OPEN_DOORS: frozenset[Door] = frozenset({"arrest_diversion", "social_contact"})


def evaluate(door: Door, open_doors: Collection[Door]) -> tuple[Decision, tuple[RuleResult, ...]]:
    door_open = door in open_doors
    rule = RuleResult(
        rule="door_open",
        outcome="passed" if door_open else "failed",
        reason=(
            f"the site accepts {door} referrals"
            if door_open
            else f"the site does not accept {door} referrals (open: {', '.join(sorted(open_doors))})"
        ),
    )
    return ("eligible" if door_open else "ineligible"), (rule,)
