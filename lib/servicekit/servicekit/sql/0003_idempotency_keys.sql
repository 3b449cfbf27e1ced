-- The answers to state-changing requests sent with an Idempotency-Key (servicekit.idempotency).
-- A row exists only once its answer is known: the claim is inserted in a transaction that stays
-- open while the request runs, so a request that died left nothing behind and may be retried.
-- `owner` is the caller as the token names them: jurisdiction, agency, subject and roles, so a
-- key is never replayed to anyone the first request's checks did not pass.
CREATE TABLE idempotency_keys (
    owner text NOT NULL,
    idempotency_key text NOT NULL,
    fingerprint text NOT NULL,
    status integer NOT NULL,
    headers jsonb NOT NULL,
    body bytea NOT NULL,
    answered_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (owner, idempotency_key)
);
