CREATE TABLE in_app_messages (
    message_id        uuid PRIMARY KEY,
    jurisdiction      text        NOT NULL,
    recipient_subject text        NOT NULL,
    recipient_agency  text        NOT NULL,
    subject           text        NOT NULL,
    body              text        NOT NULL,
    referral_id       uuid,
    caused_by         uuid        NOT NULL,
    created_at        timestamptz NOT NULL DEFAULT now(),
    read_at           timestamptz
);
CREATE INDEX in_app_messages_by_recipient
    ON in_app_messages (jurisdiction, recipient_agency, recipient_subject, created_at DESC);
