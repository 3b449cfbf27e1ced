-- The read model officers query: coarse status only, never screening answers.
CREATE TABLE referrals (
    referral_id      uuid PRIMARY KEY,
    jurisdiction     text        NOT NULL,
    officer_subject  text        NOT NULL,
    officer_agency   text        NOT NULL,
    door             text        NOT NULL,
    status           text        NOT NULL,
    received_at      timestamptz NOT NULL
);
CREATE INDEX referrals_by_officer ON referrals (jurisdiction, officer_agency, officer_subject);
