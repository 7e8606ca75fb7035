-- 011: the token log (README "Token log"): every issued token a leaf of an append-only Merkle
-- tree (RFC 9162), with signed tree heads.
--
-- log_queue: the leaves the signing processes append, in the very statement that records
-- the token (src/store/tokens.c), so a token and its leaf commit together or not at all.  The
-- issuer may only insert there.  The integrator (tsa-log, role tsa_logger) takes them in id
-- order, gives each its leaf index once (log_leaves), keeps the tree's complete subtrees
-- (log_nodes, levels 1 and up; level 0 is log_leaves.leaf_hash) and publishes tree heads
-- (log_heads).  Proofs read log_leaves, log_nodes and log_heads only (tsa_log_reader).
CREATE TABLE log_queue (
    id         bigserial PRIMARY KEY,
    serial     numeric(49, 0) NOT NULL,
    leaf       bytea NOT NULL,
    queued_at  timestamptz NOT NULL DEFAULT now()   -- the integration lag (/metrics)
);

CREATE TABLE log_leaves (
    leaf_index  bigint PRIMARY KEY CHECK (leaf_index >= 0),
    serial      numeric(49, 0) NOT NULL,
    leaf        bytea NOT NULL,
    leaf_hash   bytea NOT NULL CHECK (length(leaf_hash) = 32)
);
CREATE INDEX log_leaves_serial ON log_leaves (serial);

-- The hash of leaves [idx * 2^level, (idx + 1) * 2^level), for every complete subtree.
CREATE TABLE log_nodes (
    level  smallint NOT NULL CHECK (level BETWEEN 1 AND 63),
    idx    bigint NOT NULL CHECK (idx >= 0),
    hash   bytea NOT NULL CHECK (length(hash) = 32),
    PRIMARY KEY (level, idx)
);

-- Signed tree heads, published once committed.  signature: over tlog.h's tree head octets
-- (timestamp in ms, size, root) with the log key (log_key_id names it for auditors).
CREATE TABLE log_heads (
    tree_size   bigint PRIMARY KEY CHECK (tree_size >= 0),
    root_hash   bytea NOT NULL CHECK (length(root_hash) = 32),
    timestamp   bigint NOT NULL,
    signature   bytea,
    log_key_id  text,
    epoch       bigint NOT NULL
);

-- One integrator per database: whoever holds the row's current epoch.  Every integrator
-- transaction locks the row and checks the epoch it took (advisory locks are not replicated:
-- after a failover two integrators could each hold one).
CREATE TABLE log_leader (
    id       integer PRIMARY KEY CHECK (id = 1),
    epoch    bigint NOT NULL,
    holder   text,
    renewed  timestamptz
);
INSERT INTO log_leader (id, epoch) VALUES (1, 0);

DO $$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'tsa_logger') THEN
        CREATE ROLE tsa_logger NOLOGIN;
    END IF;
    IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'tsa_log_reader') THEN
        CREATE ROLE tsa_log_reader NOLOGIN;
    END IF;
END $$;
GRANT USAGE ON SCHEMA public TO tsa_logger, tsa_log_reader;

-- The issuer appends leaves and reads nothing of the log.
GRANT INSERT ON log_queue TO tsa_issuer;
GRANT USAGE ON SEQUENCE log_queue_id_seq TO tsa_issuer;

-- The integrator: takes the queue, appends leaves, nodes and heads, holds the leadership.
-- No UPDATE or DELETE of what it integrated; nothing of issued_tokens.
GRANT SELECT, DELETE ON log_queue TO tsa_logger;
GRANT SELECT, INSERT ON log_leaves, log_nodes, log_heads TO tsa_logger;
GRANT SELECT, UPDATE ON log_leader TO tsa_logger;

-- Proofs: read the integrated log, nothing else; of the queue, only when leaves were queued
-- (the integration lag in /metrics).
GRANT SELECT ON log_leaves, log_nodes, log_heads TO tsa_log_reader;
GRANT SELECT (queued_at) ON log_queue TO tsa_log_reader;
