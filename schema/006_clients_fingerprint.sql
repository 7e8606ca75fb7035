-- 006_clients_fingerprint.sql - a registered client is its certificate: the worker matches
-- the SHA-256 fingerprint of the certificate the web server verified, and nothing else.
-- Issuer and serial alone were accepted too (002), so a second certificate with the same
-- issuer and serial and another key passed for the client.  Every row has its fingerprint
-- (NOT NULL since 002), so no registration is refused or has to be redone; issuer_der and
-- serial stay, for people to read.
COMMENT ON COLUMN clients.fingerprint_sha256 IS
    'SHA-256 of the certificate''s DER: how the worker recognises the client (the only match)';
COMMENT ON COLUMN clients.issuer_der IS
    'the certificate''s raw issuer Name, for people to read: not matched';
COMMENT ON COLUMN clients.serial IS
    'the certificate''s serial number, for people to read: not matched';
