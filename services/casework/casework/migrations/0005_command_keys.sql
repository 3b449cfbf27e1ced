-- Case commands sent with an Idempotency-Key, claimed in the command's own transaction
-- (servicekit.idempotency's window: the command committed, the middleware's claim did not). A
-- retry that gets past the middleware finds its row here and is answered as the first attempt
-- was: the case as it stood after the events between `version_before` and `version_after`.
-- `owner` is servicekit.idempotency.owner_of(caller), as the middleware names keys.
CREATE TABLE command_keys (
    owner            text        NOT NULL,
    idempotency_key  text        NOT NULL,
    fingerprint      text        NOT NULL,
    case_id          uuid        NOT NULL REFERENCES cases (case_id),
    version_before   integer     NOT NULL,
    version_after    integer     NOT NULL,
    claimed_at       timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (owner, idempotency_key)
);
