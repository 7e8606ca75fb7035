-- 004_admin.sql - the web console (tsa-admin): its administrators and its CSRF key.
--
-- An administrator is a client certificate, recognised by the SHA-256 fingerprint of its DER
-- (the web server verifies the chain; the console checks the certificate is registered here).
-- Registered with `tsactl admin add NAME --cert PEMFILE`.
CREATE TABLE administrators (
    id                 serial PRIMARY KEY,
    name               text NOT NULL UNIQUE CHECK (length(name) BETWEEN 1 AND 128),
    subject            text NOT NULL,
    fingerprint_sha256 bytea NOT NULL UNIQUE CHECK (length(fingerprint_sha256) = 32),
    certificate        text NOT NULL,
    created_at         timestamptz NOT NULL DEFAULT now()
);

-- The key of the console's CSRF tokens (HMAC-SHA256), one row, shared by every console
-- process on every machine so that any of them accepts a form another one served.  Two
-- gen_random_uuid() (PostgreSQL 13, strong random: 244 bits together) hashed to 32 bytes.
CREATE TABLE admin_secret (
    id         boolean PRIMARY KEY DEFAULT true CHECK (id),
    secret     bytea NOT NULL CHECK (length(secret) = 32),
    created_at timestamptz NOT NULL DEFAULT now()
);
INSERT INTO admin_secret (secret)
    SELECT sha256(convert_to(gen_random_uuid()::text || gen_random_uuid()::text, 'UTF8'));

-- The dashboard counts refusals per minute from recent events.
CREATE INDEX events_kind_at ON events (kind, at);
