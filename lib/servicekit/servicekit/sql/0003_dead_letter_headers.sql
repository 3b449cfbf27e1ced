-- A parked message keeps the headers it came with: the producer's key id and signature
-- (servicekit.provenance), so a replay is checked as the first delivery was.
ALTER TABLE dead_letters ADD COLUMN headers jsonb;
