"""Each service documents itself offline: Swagger UI from local assets, a bearer scheme on
exactly the operations that need a token, and the AsyncAPI document of the events."""

import re

from tests.access.policy import OPERATIONS
from tests.conftest import System

SERVICES = ("intake", "casework", "notify", "audit")


async def test_swagger_ui_loads_only_from_the_service_itself(system: System) -> None:
    for service in SERVICES:
        async with system.client(service) as client:
            page = await client.get("/docs")
            assert page.status_code == 200 and "text/html" in page.headers["content-type"]
            sources = re.findall(r'(?:src|href)="([^"]+)"', page.text)
            assert sources, page.text
            for source in sources:
                assert source.startswith("/docs/assets/"), f"{service} loads {source}"
                asset = await client.get(source)
                assert asset.status_code == 200, source
                assert len(asset.content) > 0
            assert "swagger-ui-bundle.js" in page.text and "/openapi.json" in page.text


async def test_every_operation_that_takes_a_token_declares_the_bearer_scheme(
    system: System,
) -> None:
    for service in SERVICES:
        async with system.client(service) as client:
            document = (await client.get("/openapi.json")).json()
        scheme = document["components"]["securitySchemes"]["bearer"]
        assert scheme == {**scheme, "type": "http", "scheme": "bearer"}
        for path, methods in document["paths"].items():
            for method, operation in methods.items():
                decided = OPERATIONS[(service, method.upper(), path)]
                secured = operation.get("security") == [{"bearer": []}]
                assert secured == (decided.roles is not None), (service, method, path)


async def test_each_service_serves_the_asyncapi_document_of_the_events(system: System) -> None:
    for service in SERVICES:
        async with system.client(service) as client:
            answer = await client.get("/asyncapi.json")
        assert answer.status_code == 200
        document = answer.json()
        assert document["asyncapi"].startswith("3.")
        addresses = {channel["address"] for channel in document["channels"].values()}
        assert "lead.{jurisdiction}.intake.ReferralReceived" in addresses
