-- 001: the foundation: signers, services, policies with their filter chains, issued tokens,
-- events.  Applied by `tsactl migrate` inside one transaction; the schema_migrations row is
-- written by tsactl.

CREATE TABLE signers (
    id          serial PRIMARY KEY,
    name        text NOT NULL UNIQUE,
    -- PKCS#11 URI of the private key (RFC 7512); the PIN never lives here.
    pkcs11_uri  text NOT NULL,
    -- PEM: the signer's certificate, then (optionally) its chain up to and including the root.
    certificate text NOT NULL,
    chain       text NOT NULL DEFAULT '',
    -- signature scheme: 'auto' (PKCS#1 v1.5 for RSA, ECDSA for EC keys) or 'rsa-pss'.
    scheme      text NOT NULL DEFAULT 'auto' CHECK (scheme IN ('auto', 'rsa-pss')),
    -- digest used for the CMS signature itself.
    digest      text NOT NULL DEFAULT 'sha256' CHECK (digest IN ('sha256', 'sha384', 'sha512')),
    created_at  timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE services (
    id          serial PRIMARY KEY,
    -- matched against the TSA_SERVICE FastCGI param, else SCRIPT_NAME.
    name        text NOT NULL UNIQUE,
    description text NOT NULL DEFAULT '',
    created_at  timestamptz NOT NULL DEFAULT now()
);

-- A service's ordered policies; a request takes the first whose match rules fit (NULL = any).
CREATE TABLE policies (
    id               serial PRIMARY KEY,
    service_id       integer NOT NULL REFERENCES services (id) ON DELETE CASCADE,
    position         integer NOT NULL,
    name             text NOT NULL,
    match_protocol   text CHECK (match_protocol IN ('rfc3161', 'soap', 'authenticode')),
    match_req_policy text,
    policy_oid       text NOT NULL,
    signer_id        integer NOT NULL REFERENCES signers (id),
    UNIQUE (service_id, position),
    UNIQUE (service_id, name)
);

-- Each policy's ordered filter chain: a filter name from the worker's static table and its
-- parameters; both are checked when the worker loads them.
CREATE TABLE policy_filters (
    id         serial PRIMARY KEY,
    policy_id  integer NOT NULL REFERENCES policies (id) ON DELETE CASCADE,
    position   integer NOT NULL,
    filter     text NOT NULL,
    params     jsonb NOT NULL DEFAULT '{}',
    UNIQUE (policy_id, position)
);

-- Every issued token, committed before the answer leaves the worker.  The serial is the
-- final guard of uniqueness across all workers and machines.
CREATE TABLE issued_tokens (
    serial          numeric(49, 0) PRIMARY KEY CHECK (serial > 0),
    gen_time        timestamptz NOT NULL,
    -- Ids at issue time, for joins while they last: the archive does not depend on the
    -- configuration rows (a worker may still serve with a policy just replaced).
    service_id      integer,
    policy_id       integer,
    service         text NOT NULL,
    policy_oid      text NOT NULL,
    protocol        text NOT NULL CHECK (protocol IN ('rfc3161', 'soap', 'authenticode')),
    hash_alg        text NOT NULL,
    imprint         bytea NOT NULL,
    nonce           bytea,
    requester       inet,
    client_identity text,
    token           bytea NOT NULL,
    recorded_at     timestamptz NOT NULL DEFAULT now()
);
-- Tokens are signatures and random serials: compressing them costs CPU and saves nothing, and
-- a token with its chain (3 to 5 KB) stays in the row instead of a TOAST table.
ALTER TABLE issued_tokens ALTER COLUMN token SET STORAGE EXTERNAL;
ALTER TABLE issued_tokens SET (toast_tuple_target = 8160);
CREATE INDEX issued_tokens_imprint ON issued_tokens (imprint);
-- Rows arrive in time order: a BRIN index finds time ranges at almost no cost per insert.
CREATE INDEX issued_tokens_gen_time ON issued_tokens USING brin (gen_time);

-- Refusals, key and clock events, configuration problems.
CREATE TABLE events (
    id        bigserial PRIMARY KEY,
    at        timestamptz NOT NULL DEFAULT now(),
    severity  text NOT NULL CHECK (severity IN ('info', 'warning', 'error')),
    kind      text NOT NULL,
    service   text,
    requester inet,
    detail    text NOT NULL DEFAULT ''
);
CREATE INDEX events_at ON events (at);
