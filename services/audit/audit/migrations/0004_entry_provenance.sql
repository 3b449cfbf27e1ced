-- Who wrote each entry: the producer whose key signed the event, the key's id and the Ed25519
-- signature over the event (servicekit.provenance). Not part of the hashed entry: the signature
-- proves itself against the event the entry holds, so `verify` names an entry whose
-- signature is missing, foreign or does not match, and nobody can UPDATE these columns anyway.
-- Entries appended before this migration have none, and `verify` says so.
ALTER TABLE ledger
    ADD COLUMN producer  text,
    ADD COLUMN key_id    text,
    ADD COLUMN signature text;
