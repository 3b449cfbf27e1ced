-- Each referral's history folded into one row, and its statuses into spans of months, kept by
-- the consumer in the transaction that keeps each fact (`adapters/folding.py`), so that a report
-- as known now is a GROUP BY over one row a referral. A report as known on an earlier date
-- folds the facts recorded by then instead (ADR 0016). Closed vocabularies and days only, as
-- in the tables they are folded from. Rows of referrals kept before this migration are folded
-- when the service starts (`folding.refold_missing`).

CREATE TABLE folds (
    referral_id          uuid        PRIMARY KEY,
    jurisdiction         text        NOT NULL,
    door                 text        NOT NULL,
    source               text        NOT NULL,
    race                 text        NOT NULL,
    ethnicity            text        NOT NULL,
    referred_on          date        NOT NULL,
    -- The referral's own recorded_at.
    recorded_at          timestamptz NOT NULL,
    decision             text,
    review               text,
    ineligible_by_policy boolean     NOT NULL,
    waitlisted_on        date,
    admitted_on          date,
    withdrawn_on         date,
    -- Rule names from the site's policy, each once (facts.value's vocabulary).
    failed_rules         text[]      NOT NULL,
    assessed_on          date,
    assessment_timing    text,
    window_missed        boolean     NOT NULL,
    first_decision       text,
    contacts             integer     NOT NULL,
    first_contact        date,
    engaged              boolean     NOT NULL,
    inactive             boolean     NOT NULL,
    closed_on            date,
    -- The first arrest reported in the case after the day of referral, and the same person's
    -- next arrest diversion (a later day) in the jurisdiction.
    first_arrest         date,
    next_diversion       date
);
CREATE INDEX folds_by_jurisdiction ON folds (jurisdiction, referred_on, referral_id);

-- The admitted's statuses: from month `since` to month `until` (months since referral that had
-- ended, 19 at most; NULL: still holding) a status held; 'not_recorded' from 0 to the first
-- status of its kind. With what a report reads of the referral, the months a closure leaves to
-- follow (19 at most), the day from which they have all elapsed, and the months of each phase
-- the span fills then.
CREATE TABLE status_spans (
    referral_id       uuid    NOT NULL,
    jurisdiction      text    NOT NULL,
    door              text    NOT NULL,
    race              text    NOT NULL,
    ethnicity         text    NOT NULL,
    referred_on       date    NOT NULL,
    kind              text    NOT NULL,
    value             text    NOT NULL CHECK (value ~ '^[a-z0-9_]{1,100}$'),
    since             integer NOT NULL,
    until             integer,
    months            integer NOT NULL,
    settled_on        date    NOT NULL,
    month_of_referral integer NOT NULL,
    months_1_to_18    integer NOT NULL
);
CREATE INDEX status_spans_of ON status_spans (referral_id);

-- What a fold reads back: a referral's facts, its cases' facts, its person's other referrals.
CREATE INDEX facts_of_referral ON facts (referral_id) WHERE referral_id IS NOT NULL;
CREATE INDEX facts_of_case ON facts (case_id) WHERE case_id IS NOT NULL;
CREATE INDEX cases_of_referral ON cases (referral_id);
CREATE INDEX referrals_of_person ON referrals (person, jurisdiction);
