-- The ledger: one row per event, in a gapless sequence, each hashed onto the one before it.
CREATE TABLE ledger (
    seq           bigint PRIMARY KEY CHECK (seq >= 1),
    event_id      uuid        NOT NULL UNIQUE,
    subject       text        NOT NULL,
    entry         text        NOT NULL,  -- the exact RFC 8785 bytes that were hashed
    previous_hash text        NOT NULL,
    hash          text        NOT NULL,
    appended_at   timestamptz NOT NULL DEFAULT now()
);

-- Append-only for everyone, the table's owner and superusers included: UPDATE, DELETE and
-- TRUNCATE are refused by triggers, which no privilege bypasses.
CREATE FUNCTION ledger_refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'the audit ledger is append-only: % is not allowed', TG_OP
        USING ERRCODE = 'insufficient_privilege';
END;
$$;

CREATE TRIGGER ledger_no_update_or_delete
    BEFORE UPDATE OR DELETE ON ledger
    FOR EACH ROW EXECUTE FUNCTION ledger_refuse_change();

CREATE TRIGGER ledger_no_truncate
    BEFORE TRUNCATE ON ledger
    FOR EACH STATEMENT EXECUTE FUNCTION ledger_refuse_change();
