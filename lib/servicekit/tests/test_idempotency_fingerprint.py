"""What counts as the same request under one Idempotency-Key: the same method, path, query and
body, the body compared as canonical JSON (pure; the behaviour over HTTP is pinned by
tests/access/test_idempotency.py)."""

from servicekit.idempotency import fingerprint


def test_the_same_json_in_another_order_or_spacing_is_the_same_request() -> None:
    one = fingerprint("POST", "/referrals", b"", b'{"door": "social_contact", "n": 1}')
    other = fingerprint("POST", "/referrals", b"", b'{ "n":1,"door":"social_contact"}')
    assert one == other


def test_another_body_path_method_or_query_is_another_request() -> None:
    base = fingerprint("POST", "/cases/1/contacts", b"", b'{"method": "phone"}')
    assert base != fingerprint("POST", "/cases/1/contacts", b"", b'{"method": "in_person"}')
    assert base != fingerprint("POST", "/cases/2/contacts", b"", b'{"method": "phone"}')
    assert base != fingerprint("PUT", "/cases/1/contacts", b"", b'{"method": "phone"}')
    assert base != fingerprint("POST", "/cases/1/contacts", b"x=1", b'{"method": "phone"}')


def test_a_body_that_is_not_json_counts_byte_for_byte() -> None:
    assert fingerprint("POST", "/p", b"", b"not json") == fingerprint(
        "POST", "/p", b"", b"not json"
    )
    assert fingerprint("POST", "/p", b"", b"not json") != fingerprint(
        "POST", "/p", b"", b"not json "
    )
