-- The plumbing every service schema holds: its event store, outbox, inbox and dead letters.
-- Applied with search_path set to the service's own schema.

CREATE TABLE events (
    -- Allocated at insert, not at commit: `position` orders a quiescent store (replay), but a
    -- live reader tailing by position could pass a lower position that commits later. Nothing
    -- tails this table live: the outbox and JetStream carry events to other readers.
    position       bigint GENERATED ALWAYS AS IDENTITY UNIQUE,
    event_id       uuid        NOT NULL,
    stream_id      text        NOT NULL,
    stream_version integer     NOT NULL CHECK (stream_version >= 1),
    event_type     text        NOT NULL,
    schema_version integer     NOT NULL,
    envelope       jsonb       NOT NULL,
    recorded_at    timestamptz NOT NULL DEFAULT now(),
    -- Optimistic concurrency: two writers of the same version of a stream cannot both commit.
    CONSTRAINT events_stream_version_key PRIMARY KEY (stream_id, stream_version),
    CONSTRAINT events_event_id_key UNIQUE (event_id)
);

CREATE TABLE outbox (
    position  bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    event_id  uuid  NOT NULL UNIQUE,
    subject   text  NOT NULL,
    body      bytea NOT NULL,
    headers   jsonb NOT NULL DEFAULT '{}'::jsonb
);

CREATE TABLE inbox (
    consumer   text        NOT NULL,
    event_id   uuid        NOT NULL,
    handled_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (consumer, event_id)
);

CREATE TABLE dead_letters (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    consumer    text        NOT NULL,
    subject     text        NOT NULL,
    event_id    uuid,
    body        bytea       NOT NULL,
    error       text        NOT NULL,
    deliveries  integer     NOT NULL,
    parked_at   timestamptz NOT NULL DEFAULT now(),
    status      text        NOT NULL DEFAULT 'parked'
                CHECK (status IN ('parked', 'replayed', 'discarded')),
    resolved_at timestamptz
);
CREATE INDEX dead_letters_parked ON dead_letters (consumer) WHERE status = 'parked';
