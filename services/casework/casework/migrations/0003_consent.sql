-- Releases of information and the disclosures made under them (DESIGN.md rule 10): read models
-- of the ConsentGranted, ConsentRevoked and InformationDisclosed events of each case's stream,
-- written in the same transaction as those events. The stream stays the record; these answer
-- "which releases does this case have" and "what was disclosed since when" without a replay.
CREATE TABLE releases (
    release_id         uuid PRIMARY KEY,
    case_id            uuid        NOT NULL REFERENCES cases (case_id),
    jurisdiction       text        NOT NULL,
    recipient_agency   text        NOT NULL,
    recipient_role     text        NOT NULL,
    recipient_subject  text,
    expires_at         timestamptz,
    expires_on         text,
    recorded_at        timestamptz NOT NULL,
    granted            jsonb       NOT NULL,  -- the ConsentGranted payload, every element
    revoked_at         timestamptz,
    revocation         jsonb                  -- the ConsentRevoked payload
);
CREATE INDEX releases_by_case ON releases (case_id, recorded_at);
CREATE INDEX releases_by_recipient ON releases (jurisdiction, recipient_agency, recipient_role);

-- One row per disclosure: who received which categories, under which releases, when. Kept for
-- as long as the case's events are (the list of the last three years is a query, not a purge).
CREATE TABLE disclosures (
    disclosure_id      uuid PRIMARY KEY,       -- the InformationDisclosed event's id
    case_id            uuid        NOT NULL REFERENCES cases (case_id),
    jurisdiction       text        NOT NULL,
    disclosed_at       timestamptz NOT NULL,
    recipient_subject  text        NOT NULL,
    recipient_agency   text        NOT NULL,
    recipient_role     text        NOT NULL,
    information        text[]      NOT NULL,
    release_ids        uuid[]      NOT NULL,
    notice             text        NOT NULL
);
CREATE INDEX disclosures_by_case ON disclosures (case_id, disclosed_at DESC);
