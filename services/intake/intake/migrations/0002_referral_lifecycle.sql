-- Referrals now live past their first decision: review, waitlist, admission and withdrawal.
ALTER TABLE referrals ADD COLUMN policy_version text;
ALTER TABLE referrals ADD COLUMN updated_at timestamptz;
UPDATE referrals
   SET policy_version = 'placeholder-1',
       updated_at = received_at,
       status = CASE status WHEN 'eligible' THEN 'admitted'
                            WHEN 'needs_review' THEN 'awaiting_review'
                            ELSE status END;
ALTER TABLE referrals ALTER COLUMN policy_version SET NOT NULL;
ALTER TABLE referrals ALTER COLUMN updated_at SET NOT NULL;
CREATE INDEX referrals_by_agency ON referrals (jurisdiction, officer_agency, received_at DESC);

-- A retried submission (same officer, same Idempotency-Key) finds the referral it made.
-- The fingerprint tells a genuine retry from a different referral sent under a reused key.
CREATE TABLE submissions (
    officer_agency   text        NOT NULL,
    officer_subject  text        NOT NULL,
    idempotency_key  text        NOT NULL,
    fingerprint      text        NOT NULL,
    referral_id      uuid        NOT NULL,
    submitted_at     timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (officer_agency, officer_subject, idempotency_key)
);

-- The liaison prosecutor's queue: what they need to decide (who, what offence, which rules
-- passed, failed or are unknown and why), never the raw screening answers.
CREATE TABLE awaiting_review (
    referral_id        uuid        PRIMARY KEY,
    jurisdiction       text        NOT NULL,
    prosecutor_agency  text        NOT NULL,
    referring_agency   text        NOT NULL,
    door               text        NOT NULL,
    person             jsonb       NOT NULL,
    offence            jsonb       NOT NULL,
    rules              jsonb       NOT NULL,
    policy_version     text        NOT NULL,
    received_at        timestamptz NOT NULL
);
CREATE INDEX awaiting_review_by_office ON awaiting_review (jurisdiction, prosecutor_agency, received_at);

-- Places. A site's row is locked while places are counted and given, so two admissions at
-- once cannot both take the last place.
CREATE TABLE sites (
    jurisdiction text PRIMARY KEY
);
CREATE TABLE admissions (
    referral_id  uuid        PRIMARY KEY,
    jurisdiction text        NOT NULL,
    admitted_at  timestamptz NOT NULL,
    closed_at    timestamptz
);
CREATE INDEX admissions_open ON admissions (jurisdiction) WHERE closed_at IS NULL;
CREATE TABLE waitlist (
    referral_id  uuid        PRIMARY KEY,
    jurisdiction text        NOT NULL,
    door         text        NOT NULL,
    since        timestamptz NOT NULL
);
