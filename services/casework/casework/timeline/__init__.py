"""The CaseTimeline workflow and the activities it acts through."""
