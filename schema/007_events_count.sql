-- 007: repeated refusals, aggregated.  A worker writes the first refusal of a kind (service,
-- requester, kind, failure) at once, and the ones that repeat it within the next second as
-- one row with their number in count (src/fcgi/refusals.c); every other event is one row of
-- count 1.  Whatever counts events sums count: the console's refusals per minute, tsactl
-- events.  The workers' INSERT on events (003) covers the new column.
ALTER TABLE events ADD COLUMN count integer NOT NULL DEFAULT 1 CHECK (count >= 1);
