"""A published schema never changes in place: a change is a new schema version, with an upcaster
from the old one, and its own committed file under contracts/schemas."""

import json
from pathlib import Path

import pytest

from offramp_contracts import EventEnvelope, EventPayload, event_catalogue
from servicekit.contracts_cli import (
    ASYNCAPI_FILE,
    ENVELOPE_FILE,
    export,
    main,
    payload_file,
    payload_schema,
)

PUBLISHED = Path(__file__).resolve().parents[1] / "schemas"
EVENTS = [event_catalogue()[name] for name in sorted(event_catalogue())]


@pytest.mark.parametrize("model", EVENTS, ids=[model.event_type for model in EVENTS])
def test_every_event_matches_its_published_schema(model: type[EventPayload]) -> None:
    published = PUBLISHED / payload_file(model)
    assert published.is_file(), (
        f"{model.event_type} v{model.schema_version} has no published schema "
        f"({published.name}): run `make contracts` and commit contracts/schemas/"
    )
    assert payload_schema(model) == json.loads(published.read_text()), (
        f"the schema of {model.event_type} v{model.schema_version} changed after it was "
        f"published. Make the change version {model.schema_version + 1}: set "
        f"{model.event_type}.schema_version = {model.schema_version + 1}, register an upcaster "
        f"from v{model.schema_version} in offramp_contracts/upcasters.py, then run `make contracts` "
        f"({published.name} stays as it was published)"
    )


def test_the_envelope_matches_its_published_schema() -> None:
    published = json.loads((PUBLISHED / ENVELOPE_FILE).read_text())
    assert EventEnvelope.model_json_schema() == published, (
        "the envelope's schema changed after it was published: every service and the audit "
        "ledger read it, so it needs a new envelope version, not an edit in place"
    )


def test_the_published_asyncapi_document_is_up_to_date(tmp_path: Path) -> None:
    export(tmp_path)
    assert (PUBLISHED / ASYNCAPI_FILE).read_bytes() == (tmp_path / ASYNCAPI_FILE).read_bytes(), (
        "contracts/schemas/asyncapi.json is stale: run `make contracts`"
    )


def test_check_accepts_the_published_schemas(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["check", str(PUBLISHED)]) == 0


def test_check_names_an_altered_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    export(tmp_path)
    altered = tmp_path / payload_file(event_catalogue()["CaseOpened"])
    schema = json.loads(altered.read_text())
    schema["properties"]["case_id"]["format"] = "uri"
    altered.write_text(json.dumps(schema))

    assert main(["check", str(tmp_path)]) == 1
    assert f"{altered.name} (differs)" in capsys.readouterr().err


def test_check_names_a_missing_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    export(tmp_path)
    (tmp_path / ASYNCAPI_FILE).unlink()

    assert main(["check", str(tmp_path)]) == 1
    assert f"{ASYNCAPI_FILE} (missing)" in capsys.readouterr().err


def test_export_twice_writes_byte_identical_files(tmp_path: Path) -> None:
    first, second = tmp_path / "first", tmp_path / "second"
    export(first)
    export(second)
    names = sorted(path.name for path in first.iterdir())
    assert names == sorted(path.name for path in second.iterdir())
    for name in names:
        assert (first / name).read_bytes() == (second / name).read_bytes(), name
        assert (first / name).read_text().endswith("}\n"), name


def test_export_leaves_the_files_of_older_versions_alone(tmp_path: Path) -> None:
    older = tmp_path / "ReferralReceived.v0.json"
    older.write_text("{}\n")
    export(tmp_path)
    assert older.read_text() == "{}\n"


def test_a_new_version_without_its_published_file_fails_the_check(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    export(tmp_path)
    monkeypatch.setattr(event_catalogue()["CaseOpened"], "schema_version", 2)

    assert main(["check", str(tmp_path)]) == 1
    assert "CaseOpened.v2.json (missing)" in capsys.readouterr().err
