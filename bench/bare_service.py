"""The memory baseline: the smallest service on Offramp's stack. FastAPI under uvicorn, an
asyncpg pool and a NATS connection, and one endpoint that inserts the posted JSON; no settings,
auth, validation, event store, outbox, consumers or workers.

    OFFRAMP_DATABASE_URL=... OFFRAMP_NATS_URL=... OFFRAMP_HTTP_PORT=... python -m bench.bare_service
"""

import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any
from uuid import uuid4

import asyncpg
import nats
import uvicorn
from fastapi import FastAPI, Request


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    pool = await asyncpg.create_pool(os.environ["OFFRAMP_DATABASE_URL"], min_size=1, max_size=10)
    # As the bus's admin user: the bare baseline has no service identity of its own.
    seed = Path(os.environ["OFFRAMP_NATS_CREDENTIALS_DIR"]) / "admin.nk"
    bus = await nats.connect(os.environ["OFFRAMP_NATS_URL"], nkeys_seed=str(seed))
    await pool.execute(
        "CREATE TABLE IF NOT EXISTS bare_referrals (id uuid PRIMARY KEY, body jsonb NOT NULL)"
    )
    app.state.pool = pool
    try:
        yield
    finally:
        await bus.close()
        await pool.close()


app = FastAPI(lifespan=lifespan)


@app.get("/readyz")
async def ready() -> dict[str, str]:
    return {"status": "ok"}


@app.post("/referrals", status_code=201)
async def refer(request: Request) -> dict[str, Any]:
    referral = uuid4()
    await request.app.state.pool.execute(
        "INSERT INTO bare_referrals (id, body) VALUES ($1, $2::jsonb)",
        referral,
        (await request.body()).decode(),
    )
    return {"referral_id": str(referral)}


if __name__ == "__main__":
    uvicorn.run(app, host="127.0.0.1", port=int(os.environ["OFFRAMP_HTTP_PORT"]), log_config=None)
