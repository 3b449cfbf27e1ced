-- The answers to state-changing requests sent with an Idempotency-Key (servicekit.idempotency).
-- A row exists only once its answer is known: the claim is inserted in a transaction that stays
-- open while the request runs, so a request that died left nothing behind and may be retried.
CREATE TABLE idempotency_keys (
    agency text NOT NULL,
    subject text NOT NULL,
    idempotency_key text NOT NULL,
    fingerprint text NOT NULL,
    status integer NOT NULL,
    headers jsonb NOT NULL,
    body bytea NOT NULL,
    answered_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (agency, subject, idempotency_key)
);
