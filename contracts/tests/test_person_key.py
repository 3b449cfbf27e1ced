"""One person's referrals share a person key however the officer spelled the name; two people
who only share a name do not."""

from datetime import date

from offramp_contracts.identifiers import person_key

BORN = date(1990, 4, 2)


def test_case_accents_spacing_and_punctuation_do_not_make_another_person() -> None:
    assert person_key("José", "Rivera-Núñez", BORN) == person_key(" jose ", "RIVERA NUNEZ", BORN)


def test_another_date_of_birth_or_name_is_another_person() -> None:
    assert person_key("Sam", "Rivera", BORN) != person_key("Sam", "Rivera", date(1990, 4, 3))
    assert person_key("Sam", "Rivera", BORN) != person_key("Samuel", "Rivera", BORN)


def test_given_and_family_names_are_not_interchangeable() -> None:
    assert person_key("Lee", "Jordan", BORN) != person_key("Jordan", "Lee", BORN)
