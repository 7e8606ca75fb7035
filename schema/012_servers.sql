-- 012: the fleet.  Each tsa-fcgi supervisor keeps one row here for its server (tsa.conf's
-- host): the version it runs, its units as its signing process reports them, and a heartbeat
-- every heartbeat_interval seconds (5 by default), written with the database's clock so that
-- servers' clocks need not agree.  A server whose heartbeat is older than three intervals is
-- silent (tsactl status, the console); one stopped cleanly says so (state 'stopped').
-- Written by the supervisor only, as the workers' role: it may insert its row and update it,
-- and read nothing but the host column its update's WHERE needs (so not INSERT ... ON CONFLICT
-- DO UPDATE, which reads every column it sets); it never deletes.
-- Old rows are removed by the owner (tsactl), never by a server.
CREATE TABLE servers (
    host               text PRIMARY KEY CHECK (host ~ '^[A-Za-z0-9][A-Za-z0-9.-]{0,62}$'),
    version            text NOT NULL CHECK (length(version) BETWEEN 1 AND 64),
    pid                integer NOT NULL,
    state              text NOT NULL CHECK (state IN ('running', 'stopped')),
    started_at         timestamptz NOT NULL,
    heartbeat_at       timestamptz NOT NULL,
    heartbeat_interval integer NOT NULL CHECK (heartbeat_interval BETWEEN 1 AND 3600),
    -- the signing process as the supervisor last reached it: 'answering', or why not
    signer             text NOT NULL CHECK (length(signer) <= 512),
    -- [{"unit": NAME, "state": usable|opening|retrying|refused, "reason": TEXT}, ...]
    units              jsonb NOT NULL DEFAULT '[]' CHECK (jsonb_typeof(units) = 'array')
);

GRANT SELECT (host) ON servers TO tsa_worker;
GRANT INSERT (host, version, pid, state, started_at, heartbeat_at, heartbeat_interval, signer,
    units) ON servers TO tsa_worker;
GRANT UPDATE (version, pid, state, started_at, heartbeat_at, heartbeat_interval, signer, units)
    ON servers TO tsa_worker;
