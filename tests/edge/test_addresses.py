"""E-mail addresses are checked by a real address validator (email-validator, through pydantic's
EmailStr), not a pattern that let list separators and trailing junk through (issue 14)."""

import pytest

from tests.conftest import System

pytestmark = pytest.mark.services("notify")

REFUSED = [
    "a,b@x.yz",
    "a@b.c;d",
    "a@b.c d",
    "a b@x.yz",
    "a@@x.yz",
    "a@x..yz",
    ".a@x.yz",
    "a@-x.yz",
    "a@x.yz\r\nBcc: b@x.yz",
    "a@localhost",
    "a@x.test",
]


async def test_addresses_that_are_not_one_mailbox_are_refused(system: System) -> None:
    officer = system.token(sub="officer-1", role="officer", agency="pontiac-pd")
    operator = system.token(sub="it-1", role="operator", agency="county-it")
    async with system.client("notify", officer) as mine, system.client("notify", operator) as ops:
        for address in REFUSED:
            answer = await mine.put("/me/email", json={"email": address})
            assert answer.status_code == 422, (address, answer.text)
            office = await ops.put(
                "/offices/oakland-prosecutor/prosecutor/email", json={"email": address}
            )
            assert office.status_code == 422, (address, office.text)
        assert (await mine.get("/me/email")).status_code == 404
        kept = await mine.put("/me/email", json={"email": "officer-1@pontiac-pd.example"})
        assert kept.status_code == 200, kept.text
        assert (await mine.get("/me/email")).json() == {"email": "officer-1@pontiac-pd.example"}
