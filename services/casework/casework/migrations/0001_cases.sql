-- Read model of cases, kept in the same transaction as the case's events.
CREATE TABLE cases (
    case_id              uuid PRIMARY KEY,
    referral_id          uuid        NOT NULL UNIQUE,
    jurisdiction         text        NOT NULL,
    door                 text        NOT NULL,
    referring_subject    text        NOT NULL,
    referring_agency     text        NOT NULL,
    policy_version       text        NOT NULL,
    case_manager         text,
    case_agency          text,
    status               text        NOT NULL,
    opened_at            timestamptz NOT NULL
);
CREATE INDEX cases_open_by_manager ON cases (case_agency, case_manager) WHERE status <> 'closed';
