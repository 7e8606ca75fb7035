-- 002: registered client certificates, the match rules on the client, what is archived, and
-- the configuration version every worker follows (LISTEN/NOTIFY plus a version check).

-- Client certificates registered for mutual-TLS services.  The worker recognises a client by
-- the SHA-256 fingerprint of the certificate the web server verified and passed on, or by its
-- issuer (DER Name) and serial.
CREATE TABLE clients (
    id                 serial PRIMARY KEY,
    service_id         integer NOT NULL REFERENCES services (id) ON DELETE CASCADE,
    name               text NOT NULL,
    subject            text NOT NULL,
    fingerprint_sha256 bytea NOT NULL CHECK (length(fingerprint_sha256) = 32),
    issuer_der         bytea NOT NULL,
    serial             bytea NOT NULL,
    certificate        text NOT NULL,
    created_at         timestamptz NOT NULL DEFAULT now(),
    UNIQUE (service_id, name),
    UNIQUE (service_id, fingerprint_sha256)
);

-- Match rules on the client (NULL: any): whether a certificate verified by the web server is
-- present, and which registered client it is (clients.name).
ALTER TABLE policies ADD COLUMN match_client_cert boolean;
ALTER TABLE policies ADD COLUMN match_client text;

-- The archive filter may keep the request too, or only the index row without the token.
ALTER TABLE issued_tokens ALTER COLUMN token DROP NOT NULL;
ALTER TABLE issued_tokens ADD COLUMN request bytea;
ALTER TABLE issued_tokens ALTER COLUMN request SET STORAGE EXTERNAL;

-- One row: bumped by every change to the configuration, in the changing transaction, which
-- also notifies the channel tsa_config at commit.  Workers LISTEN, and compare versions.
CREATE TABLE config_version (
    id         integer PRIMARY KEY DEFAULT 1 CHECK (id = 1),
    version    bigint NOT NULL,
    changed_at timestamptz NOT NULL DEFAULT now()
);
INSERT INTO config_version (version) VALUES (1);

CREATE FUNCTION config_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE config_version SET version = version + 1, changed_at = now();
    PERFORM pg_notify('tsa_config', '');
    RETURN NULL;
END $$;

CREATE TRIGGER signers_changed AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON signers
    FOR EACH STATEMENT EXECUTE FUNCTION config_changed();
CREATE TRIGGER services_changed AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON services
    FOR EACH STATEMENT EXECUTE FUNCTION config_changed();
CREATE TRIGGER policies_changed AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON policies
    FOR EACH STATEMENT EXECUTE FUNCTION config_changed();
CREATE TRIGGER policy_filters_changed AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE
    ON policy_filters FOR EACH STATEMENT EXECUTE FUNCTION config_changed();
CREATE TRIGGER clients_changed AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON clients
    FOR EACH STATEMENT EXECUTE FUNCTION config_changed();
