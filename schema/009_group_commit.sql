-- 009: the signer records a round's tokens in one transaction (group commit), each row with
-- INSERT ... ON CONFLICT (serial) DO NOTHING, so that a serial drawn twice fails only its own
-- row (that token is signed anew with another serial) and never the whole batch.  PostgreSQL
-- requires SELECT on the conflict target for ON CONFLICT: the issuer may read the serial column
-- and nothing else of the archive (serials are printed in every token; tokens, imprints,
-- requesters and requests stay unreadable to it).
GRANT SELECT (serial) ON issued_tokens TO tsa_issuer;
