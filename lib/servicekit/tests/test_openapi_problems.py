"""A service's OpenAPI document says how its errors look: every operation documents its 4xx
answers as RFC 9457 problems, so clients (and schemathesis) can check them."""

from typing import Annotated

from fastapi import Depends
from pydantic import BaseModel

from servicekit.auth import Principal
from servicekit.http import create_service_app, require_role
from servicekit.problems import PROBLEM_JSON
from servicekit.runtime import ServiceRuntime
from servicekit.settings import ServiceSettings


class Note(BaseModel):
    text: str


def test_every_operation_documents_its_errors_as_problems_and_nothing_else() -> None:
    app = create_service_app(
        title="t", description="d", runtime=ServiceRuntime(ServiceSettings(), [])
    )

    @app.post("/notes/{note_id}", status_code=201)
    async def add_note(
        note_id: int, note: Note, who: Annotated[Principal, Depends(require_role("officer"))]
    ) -> None:
        return None

    document = app.openapi()
    operations = [op for methods in document["paths"].values() for op in methods.values()]
    # /healthz, /readyz, /metrics, /asyncapi.json, /event-keys, the dead letters' three,
    # /notes/{note_id}
    assert len(operations) == 9
    for operation in operations:
        responses = operation["responses"]
        # FastAPI's own 422 (a JSON `detail` list) is not what the services send.
        assert "422" not in responses
        assert list(responses["4XX"]["content"]) == [PROBLEM_JSON]
        schema = responses["4XX"]["content"][PROBLEM_JSON]["schema"]
        assert set(schema["required"]) >= {"type", "title", "status", "detail"}
        assert schema["additionalProperties"] is True
