-- 003: the worker's least-privilege role.  tsa-fcgi connects as a LOGIN role that is a member
-- of tsa_worker (NOLOGIN), which may read the configuration tables the worker loads
-- (src/store/config.c), insert issued tokens and events (src/store/tokens.c), and nothing more:
-- no UPDATE, DELETE or TRUNCATE anywhere, no SELECT of the archive, no access to the console's
-- administrators or its CSRF key.  tsactl and tsa-admin connect as the owner (admin_database).
--
-- Roles are cluster-wide, so a second database in the same cluster finds the role already
-- there: it is created only when missing.  The grants are per database and idempotent.
DO $$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'tsa_worker') THEN
        CREATE ROLE tsa_worker NOLOGIN;
    END IF;
END $$;

-- Nothing by default: PUBLIC may create in public before PostgreSQL 15.
REVOKE CREATE ON SCHEMA public FROM PUBLIC;
GRANT USAGE ON SCHEMA public TO tsa_worker;

-- The configuration, read in one snapshot (config.c), and its version (db.c, ops.c).
GRANT SELECT ON signers, services, policies, policy_filters, clients, config_version
    TO tsa_worker;

-- The archive and the audit trail: insert only (tokens.c).  events.id is a bigserial.
GRANT INSERT ON issued_tokens, events TO tsa_worker;
GRANT USAGE ON SEQUENCE events_id_seq TO tsa_worker;
