-- 013: the token log's keys, listed for auditors (README "Token log").  Each server signs its
-- tree heads with a log key of its own on its HSM; every one's public key is listed here, by
-- its id (the SHA-256 of its SubjectPublicKeyInfo, as log_heads.log_key_id names it), so that
-- an auditor can check any tree head from GET URL/log/keys alone.
--
-- Written by the owner only (tsactl log key add, run on the key's server: it opens the key on
-- the token and lists the public key the token gives; tsactl log key retire), each with an
-- event.  Neither the signing process (tsa_issuer) nor the integrator (tsa_logger) may write
-- it: the list is what a tree head's signature is judged by, so whoever could order a tree
-- head must not also be able to list the key it is signed with.  The log's readers read it.
CREATE TABLE log_keys (
    key_id      text PRIMARY KEY CHECK (key_id ~ '^[0-9a-f]{64}$'),
    host        text NOT NULL CHECK (host ~ '^[A-Za-z0-9][A-Za-z0-9.-]{0,62}$'),
    algorithm   text NOT NULL CHECK (algorithm IN ('ecdsa-sha256', 'rsa-pkcs1-sha256')),
    public_key  bytea NOT NULL CHECK (length(public_key) BETWEEN 1 AND 2048),
    added_at    timestamptz NOT NULL DEFAULT now(),
    -- Tree heads signed after this are not accepted from the key (NULL: in service).
    retired_at  timestamptz,
    CHECK (key_id = encode(sha256(public_key), 'hex'))
);

GRANT SELECT ON log_keys TO tsa_log_reader;
