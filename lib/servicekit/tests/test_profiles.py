"""Site profiles: the shipped ones load and differ; a bad one is refused with the file, the field
and the fix, before a service starts."""

from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

import pytest

from offramp_contracts.profile import DrugQuantityLimit
from servicekit.profiles import ProfileError, UnknownProfile, load_profiles

SHIPPED = Path(__file__).resolve().parents[3] / "deploy" / "profiles"
PILOT = (SHIPPED / "pontiac.toml").read_text()


def drug_limit(jurisdiction: str) -> Decimal:
    profile = load_profiles(SHIPPED).in_force(jurisdiction, date(2027, 1, 1))
    (rule,) = [r for r in profile.rules if isinstance(r, DrugQuantityLimit)]
    return rule.limit_grams


def test_the_pilot_and_the_county_profiles_load_and_differ_where_policy_differs() -> None:
    book = load_profiles(SHIPPED)
    pilot = book.in_force("pontiac", date(2027, 1, 1))
    county = book.in_force("oakland-county", date(2027, 1, 1))

    assert pilot.doors != county.doors
    assert "community" in county.doors and "community" not in pilot.doors
    assert drug_limit("pontiac") == 3 and drug_limit("oakland-county") == 6
    assert pilot.intake_window == timedelta(days=14)
    assert county.intake_window == timedelta(days=30)
    assert pilot.capacity != county.capacity
    assert pilot.prosecutor_approves == {"arrest_diversion"}
    assert county.prosecutor_approves == frozenset()


def write(directory: Path, name: str, text: str) -> Path:
    directory.mkdir(exist_ok=True)
    path = directory / name
    path.write_text(text)
    return path


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (
            ('intake_window = "P14D"', 'intake_window = "P45D"'),
            "intake_window of 45 days is longer than this profile's legal cap of 30 days "
            "(caps.intake_window); shorten intake_window or correct the cap",
        ),
        (
            ("limit_grams = 3", "limit_grams = 5"),
            "limit of 5 g is above this profile's legal cap of 3 g (caps.drug_quantity_grams)",
        ),
        (
            ('rule = "exploits_minors"', 'rule = "exploit_minors"'),
            "rules[2]: unknown rule 'exploit_minors'. Fix: name one of the known rules: "
            "drug_quantity, prior_violent_felony, exploits_minors",
        ),
        (
            ('inactivity_period = "P60D"', 'inactivity_period = "sixty days"'),
            "inactivity_period: Input should be a valid timedelta, invalid digit in duration. "
            'Fix: write a duration as ISO 8601 (e.g. "P14D" or "PT30S") or a number of seconds',
        ),
        (
            ('progress_report_interval = "P30D"', "progress_report_interval = -5"),
            "progress_report_interval: Input should be greater than 0 seconds",
        ),
        (("capacity = 40\n", ""), "capacity: Field required. Fix: add it"),
        (
            ("capacity = 40\n", "capacity = 40\ncapcity = 4\n"),
            "capcity: Extra inputs are not permitted. Fix: remove it, or correct its spelling",
        ),
        (
            ("limit_grams = 3", "limit_gram = 3"),
            "rules[0].limit_grams: Field required. Fix: add it",
        ),
        (
            ('prosecutor_approves = ["arrest_diversion"]', 'prosecutor_approves = ["community"]'),
            "prosecutor_approves names doors the site has not opened (community)",
        ),
        (
            ("capacity = 40", "capacity = "),
            "not valid TOML (Invalid value (at line 11, column 12))",
        ),
        (
            ('[[rules]]\nrule = "confidential_informant"\n\n', ""),
            "the confidential_informant rule is missing for arrest_diversion, social_contact "
            "referrals: LEAD is never an informant programme, so no site may drop it",
        ),
        (
            (
                'rule = "confidential_informant"',
                'rule = "confidential_informant"\ndoors = ["arrest_diversion"]',
            ),
            "the confidential_informant rule is missing for social_contact referrals",
        ),
        (
            ('[[rules]]\nrule = "exploits_minors"\n\n', ""),
            "the exploits_minors rule is missing for arrest_diversion, social_contact referrals",
        ),
        (
            ('[[rules]]\nrule = "under_18"\n\n', ""),
            "the under_18 rule is missing for arrest_diversion, social_contact referrals: this "
            "profile's legal caps forbid diverting a person under 18 (caps.adults_only)",
        ),
    ],
    ids=[
        "window over its cap",
        "drug limit over its cap",
        "unknown rule",
        "malformed duration",
        "negative duration",
        "missing field",
        "misspelt field",
        "rule without its limit",
        "approval on a closed door",
        "broken TOML",
        "informant rule dropped",
        "informant rule on one door only",
        "minors rule dropped",
        "minors made eligible against the law",
    ],
)
def test_a_bad_profile_is_refused_naming_the_file_the_field_and_the_fix(
    tmp_path: Path, change: tuple[str, str], expected: str
) -> None:
    old, new = change
    assert old in PILOT, "the test's edit no longer matches the shipped pilot profile"
    path = write(tmp_path / "profiles", "pontiac.toml", PILOT.replace(old, new))

    with pytest.raises(ProfileError) as refused:
        load_profiles(path.parent)

    assert str(path) in str(refused.value)
    assert expected in str(refused.value)


def test_a_profile_whose_law_allows_minors_may_go_without_the_under_18_rule(
    tmp_path: Path,
) -> None:
    youth = PILOT.replace('[[rules]]\nrule = "under_18"\n\n', "").replace(
        "[caps]\n", "[caps]\nadults_only = false\n"
    )
    write(tmp_path, "pontiac.toml", youth)
    profile = load_profiles(tmp_path).in_force("pontiac", date(2027, 1, 1))
    assert "under_18" not in {rule.rule for rule in profile.rules}


def test_one_bad_profile_refuses_the_whole_directory(tmp_path: Path) -> None:
    write(tmp_path, "good.toml", PILOT)
    write(
        tmp_path, "bad.toml", PILOT.replace('version = "2026.1"', 'version = "2026.2"\nbogus = 1')
    )
    with pytest.raises(ProfileError, match=r"bad\.toml"):
        load_profiles(tmp_path)


def test_two_files_with_the_same_version_of_a_jurisdiction_are_refused(tmp_path: Path) -> None:
    write(tmp_path, "a.toml", PILOT)
    write(tmp_path, "b.toml", PILOT)
    with pytest.raises(
        ProfileError, match=r"b.toml: version: pontiac version '2026.1' is also defined in .*a.toml"
    ):
        load_profiles(tmp_path)


def test_an_empty_directory_says_where_profiles_are_expected(tmp_path: Path) -> None:
    with pytest.raises(ProfileError, match=r"no site profiles .* OFFRAMP_PROFILES_DIR"):
        load_profiles(tmp_path)


def test_the_version_in_force_is_the_latest_that_has_taken_effect(tmp_path: Path) -> None:
    write(tmp_path, "v1.toml", PILOT)
    write(
        tmp_path,
        "v2.toml",
        PILOT.replace('version = "2026.1"', 'version = "2027.1"').replace(
            "effective_from = 2026-01-01", "effective_from = 2027-01-01"
        ),
    )
    book = load_profiles(tmp_path)

    assert book.in_force("pontiac", date(2026, 12, 31)).version == "2026.1"
    assert book.in_force("pontiac", date(2027, 1, 1)).version == "2027.1"
    assert book.version("pontiac", "2026.1").effective_from == date(2026, 1, 1)
    with pytest.raises(UnknownProfile, match="no site profile for 'pontiac' is in force on 2025"):
        book.in_force("pontiac", date(2025, 6, 1))
    with pytest.raises(UnknownProfile, match="keep every version"):
        book.version("pontiac", "2019.1")
