-- Where signing began. Entries up to `last_unsigned_seq` were appended before the services
-- signed their events (migration 0004 came with signing): verify reports them as older than
-- signing, not as forged, and names any unsigned entry after them. Recorded once, from what
-- the ledger holds when this runs: the entries before its first signed one, or every entry if
-- none is signed yet (a new ledger records 0). Nothing may change it, and there is one row.
CREATE TABLE signing_cutover (
    one               boolean PRIMARY KEY DEFAULT true CHECK (one),
    last_unsigned_seq bigint NOT NULL CHECK (last_unsigned_seq >= 0),
    recorded_at       timestamptz NOT NULL DEFAULT now()
);

INSERT INTO signing_cutover (last_unsigned_seq)
SELECT coalesce(max(seq), 0) FROM ledger
WHERE seq < coalesce((SELECT min(seq) FROM ledger WHERE signature IS NOT NULL),
                     9223372036854775807);

CREATE TRIGGER signing_cutover_no_update_or_delete
    BEFORE UPDATE OR DELETE ON signing_cutover
    FOR EACH ROW EXECUTE FUNCTION ledger_refuse_change();
CREATE TRIGGER signing_cutover_no_truncate
    BEFORE TRUNCATE ON signing_cutover
    FOR EACH STATEMENT EXECUTE FUNCTION ledger_refuse_change();

REVOKE ALL ON signing_cutover FROM PUBLIC;
GRANT SELECT ON signing_cutover TO offramp_audit_ledger;
