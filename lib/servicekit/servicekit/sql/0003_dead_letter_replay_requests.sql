-- A command on the server asks the running service to replay a dead letter (it holds the
-- consumer's handler, the command does not): the row waits as 'replay_requested' until a
-- replica of the service replays it, or puts it back to 'parked' with the new error.
ALTER TABLE dead_letters DROP CONSTRAINT dead_letters_status_check;
ALTER TABLE dead_letters ADD CONSTRAINT dead_letters_status_check
    CHECK (status IN ('parked', 'replay_requested', 'replayed', 'discarded'));
CREATE INDEX dead_letters_replay_requested ON dead_letters (consumer)
    WHERE status = 'replay_requested';
