"""`offramp-contracts`: publish the contracts as JSON Schema and AsyncAPI files, or check them.

Lives here rather than in `offramp_contracts` so that the contracts stay pure: this module is
the one that touches files and FastStream.
"""

import argparse
import inspect
import json
import sys
from collections.abc import Mapping
from importlib.metadata import version
from pathlib import Path
from typing import Any, Literal

from faststream.nats import NatsBroker
from faststream.specification import AsyncAPI
from pydantic import BaseModel, create_model

from offramp_contracts import EventEnvelope, EventPayload, event_catalogue

ENVELOPE_FILE = "envelope.v1.json"
ASYNCAPI_FILE = "asyncapi.json"
SUBJECT_ROOT = "lead"


def payload_file(model: type[EventPayload]) -> str:
    return f"{model.event_type}.v{model.schema_version}.json"


def canonical(document: Mapping[str, Any]) -> str:
    """Sorted keys and a trailing newline, so a re-export is byte for byte the same file."""
    return json.dumps(document, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def payload_schema(model: type[EventPayload]) -> dict[str, Any]:
    schema = model.model_json_schema()
    schema["x-event-type"] = model.event_type
    schema["x-schema-version"] = model.schema_version
    schema["x-context"] = model.context
    return schema


def _docstring(model: type[BaseModel]) -> str | None:
    # `inspect.getdoc` would fall back to EventPayload's docstring for an undocumented event.
    own = model.__dict__.get("__doc__")
    return inspect.cleandoc(own) if own else None


def _envelope_of(model: type[EventPayload]) -> type[BaseModel]:
    """What actually travels on the subject: the envelope, with this event's payload as `data`."""
    this_type: Any = Literal[model.event_type]
    this_version: Any = Literal[model.schema_version]
    return create_model(
        f"{model.event_type}Envelope",
        __base__=EventEnvelope,
        __doc__=f"An envelope carrying {model.event_type} v{model.schema_version} as `data`.",
        event_type=(this_type, ...),
        schema_version=(this_version, ...),
        data=(model, ...),
    )


def asyncapi_document() -> dict[str, Any]:
    # Never connected: the broker is only a register of publishers for FastStream to describe.
    broker = NatsBroker()
    for event_type, model in sorted(event_catalogue().items()):
        broker.publisher(
            f"{SUBJECT_ROOT}.{{jurisdiction}}.{model.context}.{event_type}",
            schema=_envelope_of(model),
            title=event_type,
            description=_docstring(model),
        )
    specification = AsyncAPI(
        broker,
        title="Offramp events",
        version=version("offramp-contracts"),
        schema_version="3.0.0",
    ).to_specification()
    document: dict[str, Any] = specification.to_jsonable()
    # FastStream 0.7 leaves channel parameters out (the field is commented out in its model),
    # but AsyncAPI 3 requires every `{name}` in an address to be declared.
    for channel in document["channels"].values():
        channel["parameters"] = {
            "jurisdiction": {"description": "The site the event belongs to, e.g. `pontiac`."}
        }
    # FastStream assumes its own correlation header; ours is in the envelope, and the relay sets
    # no such header.
    for message in document["components"]["messages"].values():
        message["correlationId"] = {"location": "$message.payload#/correlation_id"}
    return document


def render() -> dict[str, str]:
    """Every file `export` writes, by name, with its exact content."""
    files = {ENVELOPE_FILE: canonical(EventEnvelope.model_json_schema())}
    for model in event_catalogue().values():
        files[payload_file(model)] = canonical(payload_schema(model))
    files[ASYNCAPI_FILE] = canonical(asyncapi_document())
    return dict(sorted(files.items()))


def export(directory: Path) -> list[Path]:
    """Writes the current schemas; files of older schema versions are left alone on purpose."""
    directory.mkdir(parents=True, exist_ok=True)
    written = []
    for name, text in render().items():
        path = directory / name
        path.write_bytes(text.encode())
        written.append(path)
    return written


def stale_files(directory: Path) -> list[str]:
    """Names of the files that are missing from `directory` or differ from what export writes."""
    stale = []
    for name, text in render().items():
        path = directory / name
        if not path.is_file():
            stale.append(f"{name} (missing)")
        elif path.read_bytes() != text.encode():
            stale.append(f"{name} (differs)")
    return stale


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="offramp-contracts",
        description="Export the event contracts as JSON Schema and AsyncAPI, or check an export.",
    )
    commands = parser.add_subparsers(dest="command", required=True)
    export_command = commands.add_parser("export", help="write the schema files into DIR")
    export_command.add_argument("directory", type=Path, metavar="DIR")
    check_command = commands.add_parser(
        "check", help="exit 1 when DIR's files are missing or differ from a fresh export"
    )
    check_command.add_argument("directory", type=Path, metavar="DIR")
    args = parser.parse_args(argv)

    if args.command == "export":
        for path in export(args.directory):
            sys.stdout.write(f"wrote {path}\n")
        return 0

    stale = stale_files(args.directory)
    if stale:
        sys.stderr.write(
            f"{args.directory} is not what `offramp-contracts export` would write:\n"
            + "".join(f"  {name}\n" for name in stale)
            + "A changed payload needs a new schema_version with an upcaster; then run "
            "`make contracts` and commit the files.\n"
        )
        return 1
    sys.stdout.write(f"{args.directory} is up to date\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
