-- 008: the signing process's least-privilege role, and the archive taken from the workers.
-- tsa-signer connects (signer_database) as a LOGIN role that is a member of tsa_issuer
-- (NOLOGIN): it reads the configuration tables its loader reads (src/store/config.c, the same
-- list as tsa_worker's in 003), records every token it signs in issued_tokens, and writes its
-- own events (keys, clock).  Nothing more: no UPDATE, DELETE or TRUNCATE, no SELECT of the
-- archive or the events, no access to the console's administrators or its CSRF key.
--
-- The workers no longer record tokens: the signer records each one before it hands it back.
-- tsa_worker keeps SELECT on the configuration and INSERT on events (003), and loses INSERT on
-- issued_tokens, so a worker cannot write an archive row for a token nobody signed.
--
-- As in 003, the role is cluster-wide and created only when missing; grants are idempotent.
DO $$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'tsa_issuer') THEN
        CREATE ROLE tsa_issuer NOLOGIN;
    END IF;
END $$;

GRANT USAGE ON SCHEMA public TO tsa_issuer;

-- The configuration, read in one snapshot (config.c), and its version.
GRANT SELECT ON signers, services, policies, policy_filters, clients, config_version
    TO tsa_issuer;

-- The archive and the audit trail: insert only.  issued_tokens.serial is drawn by the signer
-- (no sequence); events.id is a bigserial.
GRANT INSERT ON issued_tokens, events TO tsa_issuer;
GRANT USAGE ON SEQUENCE events_id_seq TO tsa_issuer;

REVOKE INSERT ON issued_tokens FROM tsa_worker;
