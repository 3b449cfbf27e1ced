-- Cosignatures of checkpoints by partner agencies' witnesses (C2SP tlog-cosignature,
-- cosignature/v1): one per witness and checkpoint, each checked against the witness's key
-- before it is stored. Append-only like the ledger: a witness's word is never withdrawn.
CREATE TABLE checkpoint_cosignatures (
    -- No foreign key: TRUNCATE of checkpoints must meet its trigger, not a key. Only a stored
    -- checkpoint is ever cosigned (audit.cosigning checks it first).
    checkpoint  bigint      NOT NULL,
    witness     text        NOT NULL,
    line        text        NOT NULL,
    cosigned_at timestamptz NOT NULL,
    received_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (checkpoint, witness)
);

CREATE TRIGGER checkpoint_cosignatures_no_update_or_delete
    BEFORE UPDATE OR DELETE ON checkpoint_cosignatures
    FOR EACH ROW EXECUTE FUNCTION ledger_refuse_change();
CREATE TRIGGER checkpoint_cosignatures_no_truncate
    BEFORE TRUNCATE ON checkpoint_cosignatures
    FOR EACH STATEMENT EXECUTE FUNCTION ledger_refuse_change();

REVOKE ALL ON checkpoint_cosignatures FROM PUBLIC;
GRANT SELECT, INSERT ON checkpoint_cosignatures TO offramp_audit_ledger;
