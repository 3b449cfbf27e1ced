-- The person key of each referral (intake.domain.person): a new arrest reported by a name and a
-- date of birth is matched to a current participant by it (issue 17, ADR 0013).
ALTER TABLE referrals ADD COLUMN person_key text;

-- Referrals received before this migration: the same normalisation as person_key() for the
-- names as their ReferralReceived stored them (lower case, single spaces; ASCII names give
-- the same key, and NFKC forms only differ for names Postgres' lower() treats alike).
UPDATE referrals r SET person_key = encode(sha256(convert_to(
           lower(regexp_replace(btrim(e.envelope->'data'->'person'->>'family_name'), '\s+', ' ', 'g'))
           || '|' ||
           lower(regexp_replace(btrim(e.envelope->'data'->'person'->>'given_name'), '\s+', ' ', 'g'))
           || '|' || (e.envelope->'data'->'person'->>'date_of_birth'),
           'UTF8')), 'hex')
  FROM events e
 WHERE e.stream_id = 'referral-' || r.referral_id AND e.event_type = 'ReferralReceived';

CREATE INDEX referrals_by_person ON referrals (jurisdiction, person_key);
