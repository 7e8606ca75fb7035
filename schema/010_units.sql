-- 010: units and hosts.  A unit is a row of signers: a key on one server's HSM.  Equivalent
-- servers (SI-TSA-1 and SI-TSA-2) serve the same services and policies, each signing with the
-- unit whose key is on its own HSM:
--   signers.host        the server (tsa.conf's host) whose signing process opens this key;
--                       NULL: any server (one host, or a key every server can reach);
--   signers.unit_group  units that stand for one another: a policy names one unit, and each
--                       server signs with the unit of that unit's group bound to it (its own
--                       host first, else the group's unit for any host); NULL: a group of one.
-- Adding a server's unit is data (tsactl signer add ... --host H --group G), not code.  The
-- worker's load refuses a policy that has no unit on its server (it answers systemFailure,
-- logged, an event policy-refused), never the whole configuration.
ALTER TABLE signers ADD COLUMN host text
    CHECK (host ~ '^[A-Za-z0-9][A-Za-z0-9.-]{0,62}$');
ALTER TABLE signers ADD COLUMN unit_group text
    CHECK (length(unit_group) BETWEEN 1 AND 128 AND unit_group !~ '[[:space:][:cntrl:]]'
           AND unit_group !~ '^-');
-- One unit of a group per server, and one for any server: which unit signs is never a guess.
CREATE UNIQUE INDEX signers_group_host ON signers (unit_group, host)
    WHERE unit_group IS NOT NULL AND host IS NOT NULL;
CREATE UNIQUE INDEX signers_group_any_host ON signers (unit_group)
    WHERE unit_group IS NOT NULL AND host IS NULL;

-- Which unit signed a token, on which server: the signer's name and host at issue time (the
-- archive does not depend on the configuration rows).  The issuer's INSERT on issued_tokens
-- (008) covers them; it still reads none of the archive but the serial (009).
ALTER TABLE issued_tokens ADD COLUMN signer text;
ALTER TABLE issued_tokens ADD COLUMN host text;
