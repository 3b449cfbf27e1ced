-- The case's read model grows with the case manager's work, and the roster becomes data that
-- supervisors keep instead of a list in the settings.

-- `status` now holds the coarse status (DESIGN.md rule 7), `phase` the lifecycle phase.
ALTER TABLE cases
    ADD COLUMN phase             text NOT NULL DEFAULT 'intake',
    ADD COLUMN intake_deadline   timestamptz,
    ADD COLUMN closed_at         timestamptz,
    ADD COLUMN last_contact_at   timestamptz;
UPDATE cases SET status = 'working_with_case_manager' WHERE status IN ('opened', 'assigned');

-- A supervisor's agency's case managers. Deactivating someone stops new cases going to them;
-- their open cases stay theirs until a supervisor reassigns them.
CREATE TABLE case_managers (
    jurisdiction   text        NOT NULL,
    agency         text        NOT NULL,
    subject        text        NOT NULL,
    active         boolean     NOT NULL DEFAULT true,
    changed_by     text        NOT NULL,
    changed_at     timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (jurisdiction, agency, subject)
);
