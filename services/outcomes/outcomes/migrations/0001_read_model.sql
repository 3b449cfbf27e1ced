-- The outcomes read model: pseudonyms and closed vocabularies only. No name, date of birth,
-- description, note or reason is ever written here (tests/test_no_identities.py checks every
-- column of every table). Each row keeps the recorded_at of the event it came from, so a report
-- "as known on" a date reads only what had been recorded by then.

CREATE TABLE referrals (
    referral_id  uuid        PRIMARY KEY,
    jurisdiction text        NOT NULL,
    -- HMAC-SHA-256 of intake's person key under OFFRAMP_OUTCOMES_PSEUDONYM_KEY, 32 hex digits.
    person       text        NOT NULL CHECK (person ~ '^[0-9a-f]{32}$'),
    door         text        NOT NULL,
    source       text        NOT NULL,
    race         text        NOT NULL,
    ethnicity    text        NOT NULL,
    referred_on  date        NOT NULL,
    recorded_at  timestamptz NOT NULL
);
CREATE INDEX referrals_by_jurisdiction ON referrals (jurisdiction, recorded_at);

CREATE TABLE cases (
    case_id      uuid        PRIMARY KEY,
    referral_id  uuid        NOT NULL,
    jurisdiction text        NOT NULL,
    recorded_at  timestamptz NOT NULL
);
CREATE INDEX cases_by_jurisdiction ON cases (jurisdiction, recorded_at);

-- Facts in the order they were recorded: `position` breaks ties between facts of one instant
-- (an event's several facts, a batch), and replay order within a stream follows it.
CREATE TABLE facts (
    position     bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    event_id     uuid        NOT NULL,
    jurisdiction text        NOT NULL,
    referral_id  uuid,
    case_id      uuid,
    kind         text        NOT NULL,
    value        text        CHECK (value IS NULL OR value ~ '^[a-z0-9_.:-]{1,100}$'),
    on_date      date        NOT NULL,
    recorded_at  timestamptz NOT NULL,
    CHECK (referral_id IS NOT NULL OR case_id IS NOT NULL)
);
CREATE INDEX facts_by_jurisdiction ON facts (jurisdiction, recorded_at);
CREATE UNIQUE INDEX facts_once ON facts (event_id, kind, coalesce(value, ''));
