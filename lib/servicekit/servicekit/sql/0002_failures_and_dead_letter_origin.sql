-- A consumer's failed attempts per event: what decides when a message is parked. JetStream's
-- delivery count cannot: it also counts redeliveries after lost acks, restarts and pauses.
-- Rows go when the event is handled or parked; outages are never recorded here.
CREATE TABLE inbox_failures (
    consumer   text        NOT NULL,
    event_id   uuid        NOT NULL,
    failures   integer     NOT NULL CHECK (failures >= 1),
    last_error text        NOT NULL,
    failed_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (consumer, event_id)
);

-- Where a parked message sat in its stream. A message parked again (its ack was lost, or it
-- came back after the ack wait while it was being parked) is the same dead letter, not another.
ALTER TABLE dead_letters ADD COLUMN stream text, ADD COLUMN stream_seq bigint;
CREATE UNIQUE INDEX dead_letters_once ON dead_letters (consumer, stream, stream_seq);
