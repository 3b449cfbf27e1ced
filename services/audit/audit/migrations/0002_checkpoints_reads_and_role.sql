-- Signed checkpoints, the log of who read the ledger, lookups for case histories, and the
-- database role the service's ledger sessions act as.

CREATE TABLE checkpoints (
    number     bigint PRIMARY KEY CHECK (number >= 1),
    origin     text   NOT NULL,
    tree_size  bigint NOT NULL UNIQUE CHECK (tree_size >= 1),
    root_hash  text   NOT NULL,
    chain_head text   NOT NULL,
    signed_at  text   NOT NULL,  -- the exact text that was signed
    key_id     text   NOT NULL,
    signature  text   NOT NULL,
    stored_at  timestamptz NOT NULL DEFAULT now()
);

-- Who read what of the ledger, allowed or denied: rule 11 applies to the ledger itself. Shaped
-- like RecordAccessed / AccessDenied (who, when, what, outcome) so each row can become one.
CREATE TABLE ledger_reads (
    id       bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    read_at  timestamptz NOT NULL DEFAULT now(),
    subject  text   NOT NULL,
    agency   text   NOT NULL,
    roles    text[] NOT NULL,
    action   text   NOT NULL,
    detail   jsonb  NOT NULL DEFAULT '{}'::jsonb,
    outcome  text   NOT NULL CHECK (outcome IN ('allowed', 'denied'))
);

CREATE TRIGGER checkpoints_no_update_or_delete
    BEFORE UPDATE OR DELETE ON checkpoints
    FOR EACH ROW EXECUTE FUNCTION ledger_refuse_change();
CREATE TRIGGER checkpoints_no_truncate
    BEFORE TRUNCATE ON checkpoints
    FOR EACH STATEMENT EXECUTE FUNCTION ledger_refuse_change();
CREATE TRIGGER ledger_reads_no_update_or_delete
    BEFORE UPDATE OR DELETE ON ledger_reads
    FOR EACH ROW EXECUTE FUNCTION ledger_refuse_change();
CREATE TRIGGER ledger_reads_no_truncate
    BEFORE TRUNCATE ON ledger_reads
    FOR EACH STATEMENT EXECUTE FUNCTION ledger_refuse_change();

-- A case's or referral's history without reading the whole ledger.
CREATE INDEX ledger_by_case ON ledger ((entry::jsonb #>> '{event,data,case_id}'));
CREATE INDEX ledger_by_referral ON ledger ((entry::jsonb #>> '{event,data,referral_id}'));

-- The role the service's ledger sessions act as (SET ROLE): it may add to and read the ledger,
-- its checkpoints and its read log, never change or remove them. Roles belong to the whole
-- cluster, so it is created once and only granted here; in production the service logs in as a
-- member of it and migrations run as the schema's owner.
DO $$
BEGIN
    CREATE ROLE offramp_audit_ledger NOLOGIN;
EXCEPTION
    -- Another database of the cluster created it first (or at the same moment).
    WHEN duplicate_object OR unique_violation THEN NULL;
END;
$$;

DO $$
BEGIN
    EXECUTE format('GRANT USAGE ON SCHEMA %I TO offramp_audit_ledger', current_schema());
END;
$$;

REVOKE ALL ON ledger, checkpoints, ledger_reads FROM PUBLIC;
GRANT SELECT, INSERT ON ledger, checkpoints, ledger_reads TO offramp_audit_ledger;
-- The writer parks what it cannot append, and announces each checkpoint through the event
-- store and outbox in the same transaction as the checkpoint itself.
GRANT SELECT, INSERT ON dead_letters, events, outbox TO offramp_audit_ledger;
