-- Office messages, notify's own read models of who plays which part, contact addresses,
-- webhook subscriptions and the deliveries still owed to e-mail and webhook channels.

-- A message goes to a person (recipient_subject) or to an office: every member of
-- recipient_agency who holds recipient_role. The row is the notification itself; the e-mail and
-- webhook deliveries below point at it.
ALTER TABLE in_app_messages ALTER COLUMN recipient_subject DROP NOT NULL;
ALTER TABLE in_app_messages
    ADD COLUMN recipient_role text,
    ADD COLUMN audience       text,
    ADD COLUMN trigger        text,
    ADD COLUMN case_id        uuid,
    ADD COLUMN coarse_status  text,
    ADD COLUMN correlation_id uuid,
    ADD CONSTRAINT in_app_messages_person_or_office
        CHECK ((recipient_subject IS NULL) <> (recipient_role IS NULL));
CREATE INDEX in_app_messages_by_office
    ON in_app_messages (jurisdiction, recipient_agency, recipient_role, created_at DESC)
    WHERE recipient_subject IS NULL;

-- An office message is read by each member on their own.
CREATE TABLE message_reads (
    message_id     uuid        NOT NULL REFERENCES in_app_messages (message_id),
    reader_subject text        NOT NULL,
    read_at        timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (message_id, reader_subject)
);

-- Read models kept from the events notify consumes.
CREATE TABLE known_referrals (
    referral_id    uuid PRIMARY KEY,
    jurisdiction   text NOT NULL,
    officer_subject text NOT NULL,
    officer_agency text NOT NULL
);
CREATE TABLE known_cases (
    case_id              uuid PRIMARY KEY,
    jurisdiction         text NOT NULL,
    referral_id          uuid,
    policy_version       text,
    case_manager_subject text,
    case_manager_agency  text
);

-- E-mail addresses: a person registers their own; an operator sets an office's.
CREATE TABLE person_addresses (
    jurisdiction text NOT NULL,
    agency       text NOT NULL,
    subject      text NOT NULL,
    email        text NOT NULL,
    updated_at   timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (jurisdiction, agency, subject)
);
CREATE TABLE office_addresses (
    jurisdiction text NOT NULL,
    agency       text NOT NULL,
    role         text NOT NULL,
    email        text NOT NULL,
    set_by       text NOT NULL,
    updated_at   timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (jurisdiction, agency, role)
);

-- A partner system receives the notifications addressed to one agency (its people and its
-- offices). The secret signs every request (Standard Webhooks) and is shown once, at creation.
CREATE TABLE webhook_subscriptions (
    subscription_id uuid PRIMARY KEY,
    jurisdiction    text        NOT NULL,
    agency          text        NOT NULL,
    url             text        NOT NULL,
    secret          text        NOT NULL,
    description     text        NOT NULL DEFAULT '',
    created_by      text        NOT NULL,
    created_at      timestamptz NOT NULL DEFAULT now(),
    active          boolean     NOT NULL DEFAULT true
);
CREATE INDEX webhook_subscriptions_by_agency
    ON webhook_subscriptions (jurisdiction, agency) WHERE active;

-- The deliveries owed: written in the same transaction as the notification, worked by the
-- delivery loop until delivered or parked, so a restart loses none of them.
CREATE TABLE deliveries (
    delivery_id     uuid PRIMARY KEY,
    message_id      uuid        NOT NULL REFERENCES in_app_messages (message_id),
    jurisdiction    text        NOT NULL,
    channel         text        NOT NULL CHECK (channel IN ('email', 'webhook')),
    email           text,
    subscription_id uuid REFERENCES webhook_subscriptions (subscription_id),
    status          text        NOT NULL DEFAULT 'pending'
                    CHECK (status IN ('pending', 'delivered', 'parked')),
    attempts        integer     NOT NULL DEFAULT 0,
    next_attempt_at timestamptz NOT NULL DEFAULT now(),
    last_error      text,
    created_at      timestamptz NOT NULL DEFAULT now(),
    finished_at     timestamptz,
    CHECK ((channel = 'email') = (email IS NOT NULL)),
    CHECK ((channel = 'webhook') = (subscription_id IS NOT NULL))
);
CREATE INDEX deliveries_due ON deliveries (next_attempt_at) WHERE status = 'pending';
CREATE INDEX deliveries_parked ON deliveries (jurisdiction, finished_at) WHERE status = 'parked';
