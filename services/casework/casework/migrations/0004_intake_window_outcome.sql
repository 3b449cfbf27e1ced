-- How an arrest diversion's intake window came out, for the liaison prosecutor's list of
-- diversions (issue 17): pending, met, missed or closed_before_intake; NULL for other doors.
ALTER TABLE cases ADD COLUMN intake_window text;

UPDATE cases c SET intake_window = CASE
    WHEN EXISTS (SELECT 1 FROM events e WHERE e.stream_id = 'case-' || c.case_id
                 AND e.event_type = 'IntakeWindowMissed') THEN 'missed'
    WHEN EXISTS (SELECT 1 FROM events e WHERE e.stream_id = 'case-' || c.case_id
                 AND e.event_type = 'IntakeAssessmentCompleted') THEN 'met'
    WHEN c.phase = 'closed' THEN 'closed_before_intake'
    ELSE 'pending' END
WHERE c.door = 'arrest_diversion';

CREATE INDEX cases_diversions ON cases (jurisdiction, opened_at) WHERE door = 'arrest_diversion';
