/*
 * log.c - tsactl log: the token log's tree heads, proofs and audit (README "Token log").
 * sth, proof and consistency read the log only (tsa.conf's log_reader_database) and verify
 * every proof they print against the tree head it is for (src/log/merkle.c); audit reads the
 * archive as well (the administration role) and recomputes the whole tree from it.
 * Untrusted input: the arguments (sizes and serials checked strictly, a kept root as 64 hex
 * digits) and what the database holds, which the audit exists to doubt.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>
#include <unistd.h>
#include <gnutls/crypto.h>

#include "admin.h"
#include "bytes.h"
#include "conf.h"
#include "logjson.h"
#include "logkeys.h"
#include "logstore.h"
#include "store.h"
#include "strbuf.h"
#include "tsa_limits.h"
#include "verify.h"
#include "xmlverify.h"

#define LOG_USAGE \
	"log sth [--size N]               the latest tree head (or the one of size N)\n" \
	"       log proof SERIAL | --token FILE [--size N]\n" \
	"                                        inclusion proof of a token, verified; FILE: an\n" \
	"                                        RFC 3161 token (DER), whose hash the leaf must be\n" \
	"       log consistency FIRST [SECOND] [--root HEX]\n" \
	"                                        consistency proof, verified; --root: the root\n" \
	"                                        of a tree head kept from before\n" \
	"       log audit                        the whole tree recomputed from the archive\n" \
	"       log keys                         the log keys listed for auditors\n" \
	"       log key add [--uri URI] [--host HOST] | retire KEY_ID\n" \
	"                                        list this server's log key (run on it), or\n" \
	"                                        retire one\n" \
	"Every tree head is checked against the listed key of its log_key_id before use.\n"

/* Audit: leaves per fetch, and problems printed before the count alone goes on. */
#define AUDIT_CHUNK	10000
#define AUDIT_MAX_SAID	20

PGconn *
cli_log_reader(void)
{
	char why[512];
	PGconn *c;

	cli_load_conf();
	if ((c = db_connect(cli_conf.log_reader_database != NULL ?
	    cli_conf.log_reader_database : cli_conf.admin_database != NULL ?
	    cli_conf.admin_database : cli_conf.database != NULL ? cli_conf.database : "",
	    cli_conf.database_timeout * 1000, 0, why, sizeof(why))) == NULL) {
		fprintf(stderr, "tsactl: database unreachable: %s\n", why);
		exit(EX_UNAVAILABLE);
	}
	return c;
}

static int
size_arg(const char *s, uint64_t *out)
{
	long v;

	if (s == NULL || !cli_int(s, 0, INT64_MAX, &v))
		return -1;
	*out = (uint64_t)v;
	return 0;
}

static void
hex(const unsigned char *p, size_t n, char *out)
{
	size_t i;

	for (i = 0; i < n; i++)
		sprintf(out + 2 * i, "%02x", p[i]);
	out[2 * n] = '\0';
}

/* The head of size (or the latest when size_s is NULL): exits when there is none. */
static void
head_or_exit(PGconn *c, const char *size_s, struct log_head *h)
{
	char err[256];
	uint64_t size = 0;
	int rc;

	if (size_s != NULL && size_arg(size_s, &size) == -1) {
		cli_err("'%s' is not a tree size", size_s);
		exit(EX_USAGE);
	}
	if ((rc = logstore_head(c, size_s == NULL, size, h, err, sizeof(err))) == -1) {
		cli_err("%s", err);
		exit(EX_UNAVAILABLE);
	}
	if (rc == 0) {
		if (size_s == NULL)
			cli_err("the log has no tree head yet");
		else
			cli_err("the log has no tree head of size %s", size_s);
		exit(1);
	}
}

/* h's signature against the listed log keys (logkeys.h): returns, or exits 1 said. */
static void
head_signed_or_exit(PGconn *c, const struct log_head *h)
{
	struct logkeys ks = { 0, NULL };
	char why[512];
	int rc;

	if ((rc = logkeys_load(c, &ks, why, sizeof(why))) == 0)
		rc = logkeys_check_head(&ks, h, why, sizeof(why));
	logkeys_free(&ks);
	if (rc == -1) {
		cli_err("%s", why);
		PQfinish(c);
		exit(1);
	}
}

static int
log_sth(int argc, char **argv)
{
	const char *size = NULL;
	const struct cli_opt opts[] = { { "--size", &size } };
	struct log_head h;
	char root[2 * MERKLE_HASH_LEN + 1], *j;
	PGconn *c;

	cli_args(LOG_USAGE, argc, argv, opts, 1, NULL, 0, 0);
	c = cli_log_reader();
	head_or_exit(c, size, &h);
	head_signed_or_exit(c, &h);
	PQfinish(c);
	if (cli_json) {
		if ((j = logjson_sth(&h)) == NULL)
			return 70;
		fputs(j, stdout);
		free(j);
		return 0;
	}
	hex(h.root, MERKLE_HASH_LEN, root);
	printf("tree_size:  %" PRIu64 "\ntimestamp:  %" PRIu64 " ms\nroot_hash:  %s\n"
	    "signature:  verified with the listed log key %s\n", h.tree_size, h.timestamp, root,
	    h.key_id);
	return 0;
}

/*
 * The serial of the RFC 3161 token in path (a bare token: the octets the leaf's hash is of)
 * into dec, and its SHA-256.  0, or an exit status said.
 */
static int
token_file(const char *path, char *dec, size_t declen, merkle_hash th)
{
	static struct verify_result res;
	struct verify_opts o = { NULL, NULL, NULL, 0 };
	unsigned char *der;
	char err[256];
	size_t len;

	if (file_read(path, TSA_MAX_TOKEN_FILE, &der, &len) == -1) {
		cli_err("cannot read %s", path);
		return EX_NOINPUT;
	}
	/* Parsed as far as the TSTInfo: the serial is all that is needed here (tsactl verify
	 * checks the rest). */
	(void)tst_verify(der, len, &o, &res, err, sizeof(err));
	if (!res.has_tstinfo || res.is_response) {
		cli_err("%s: %s", path, res.is_response ? "a response, not a token (openssl ts"
		    " -reply -in R -token_out -out TOKEN)" : "not an RFC 3161 token");
		free(der);
		return EX_DATAERR;
	}
	snprintf(dec, declen, "%s", res.serial_dec);
	if (gnutls_hash_fast(GNUTLS_DIG_SHA256, der, len, th) < 0) {
		free(der);
		return 70;
	}
	free(der);
	return 0;
}

static int
log_proof(int argc, char **argv)
{
	const char *size = NULL, *token = NULL;
	const struct cli_opt opts[] = { { "--size", &size }, { "--token", &token } };
	unsigned char leaf[TLOG_MAX_LEAF];
	merkle_hash path[MERKLE_MAX_PROOF], lh, th;
	char *pos[1], dec[64], err[256], root[2 * MERKLE_HASH_LEN + 1], *j;
	struct tlog_leaf l;
	struct log_head h;
	uint64_t index;
	size_t leaf_len, len;
	PGconn *c;
	int rc;

	if (cli_args(LOG_USAGE, argc, argv, opts, 2, pos, 0, 1) != (token == NULL)) {
		cli_err("give the token's SERIAL or --token FILE");
		cli_usage(LOG_USAGE);
	}
	if (token != NULL && (rc = token_file(token, dec, sizeof(dec), th)) != 0)
		return rc;
	if (token == NULL && cli_serial(pos[0], dec, sizeof(dec)) == -1) {
		cli_err("'%s' is not a serial number", pos[0]);
		return EX_USAGE;
	}
	c = cli_log_reader();
	head_or_exit(c, size, &h);
	head_signed_or_exit(c, &h);
	rc = logstore_leaf_by_serial(c, dec, &index, leaf, &leaf_len, err, sizeof(err));
	if (rc != 1) {
		if (rc == 0)
			cli_err("serial %s is not in the log (not issued, or not integrated yet)",
			    dec);
		else
			cli_err("%s", err);
		PQfinish(c);
		return rc == 0 ? 1 : EX_UNAVAILABLE;
	}
	if (index >= h.tree_size) {
		cli_err("serial %s is leaf %" PRIu64 ", past the tree head of size %" PRIu64,
		    dec, index, h.tree_size);
		PQfinish(c);
		return 1;
	}
	if (logstore_inclusion(c, index, h.tree_size, path, &len, err, sizeof(err)) == -1) {
		cli_err("%s", err);
		PQfinish(c);
		return EX_UNAVAILABLE;
	}
	PQfinish(c);
	if (merkle_leaf_hash(leaf, leaf_len, lh) == -1)
		return 70;
	if (!merkle_verify_inclusion(index, h.tree_size, lh, path, len, h.root)) {
		cli_err("the inclusion proof of serial %s (leaf %" PRIu64 ") does NOT verify"
		    " against the tree head of size %" PRIu64, dec, index, h.tree_size);
		return 1;
	}
	if (token != NULL && (tlog_leaf_decode(leaf, leaf_len, &l) == -1 ||
	    memcmp(l.token_hash, th, MERKLE_HASH_LEN) != 0)) {
		cli_err("leaf %" PRIu64 " (serial %s) does NOT commit to %s: another token was"
		    " logged under its serial", index, dec, token);
		return 1;
	}
	if (cli_json) {
		if ((j = logjson_proof(dec, index, h.tree_size, leaf, leaf_len, path, len)) ==
		    NULL)
			return 70;
		fputs(j, stdout);
		free(j);
		return 0;
	}
	hex(h.root, MERKLE_HASH_LEN, root);
	printf("serial %s is leaf %" PRIu64 " of the tree of size %" PRIu64 " (root %s):"
	    " inclusion proof of %zu hashes verified%s\n", dec, index, h.tree_size, root, len,
	    token != NULL ? "; the leaf commits to the token file" : "");
	return 0;
}

static int
log_consistency(int argc, char **argv)
{
	const char *root_s = NULL;
	const struct cli_opt opts[] = { { "--root", &root_s } };
	merkle_hash proof[MERKLE_MAX_PROOF], root1;
	char *pos[2] = { NULL, NULL }, err[256], h1[2 * MERKLE_HASH_LEN + 1];
	char h2[2 * MERKLE_HASH_LEN + 1], *j;
	struct log_head first, second;
	uint64_t m;
	size_t len, n;
	PGconn *c;
	int rc;

	cli_args(LOG_USAGE, argc, argv, opts, 1, pos, 1, 2);
	if (size_arg(pos[0], &m) == -1 || m == 0) {
		cli_err("'%s' is not a tree size above 0", pos[0]);
		return EX_USAGE;
	}
	if (root_s != NULL && (strlen(root_s) != 2 * MERKLE_HASH_LEN ||
	    hex_decode(root_s, root1, sizeof(root1), &n) == -1 || n != MERKLE_HASH_LEN)) {
		cli_err("--root wants the 64 hex digits of a SHA-256 root hash");
		return EX_USAGE;
	}
	c = cli_log_reader();
	head_or_exit(c, pos[1], &second);
	head_signed_or_exit(c, &second);
	if (m > second.tree_size) {
		cli_err("the first tree (size %" PRIu64 ") is larger than the second (%" PRIu64
		    "): the log was truncated, or the size is wrong", m, second.tree_size);
		PQfinish(c);
		return 1;
	}
	if ((rc = logstore_head(c, 0, m, &first, err, sizeof(err))) == -1) {
		cli_err("%s", err);
		PQfinish(c);
		return EX_UNAVAILABLE;
	}
	if (root_s == NULL) {
		if (rc == 0) {
			cli_err("the log has no tree head of size %" PRIu64 " (give its root"
			    " with --root)", m);
			PQfinish(c);
			return 1;
		}
		memcpy(root1, first.root, MERKLE_HASH_LEN);
		head_signed_or_exit(c, &first);
	}
	hex(root1, MERKLE_HASH_LEN, h1);
	if (rc == 1 && root_s != NULL && memcmp(first.root, root1, MERKLE_HASH_LEN) != 0) {
		hex(first.root, MERKLE_HASH_LEN, h2);
		printf("INCONSISTENT: the log's tree head of size %" PRIu64 " now has root %s,"
		    " not the kept %s: the log's history was rewritten\n", m, h2, h1);
		PQfinish(c);
		return 1;
	}
	if (logstore_consistency(c, m, second.tree_size, proof, &len, err, sizeof(err)) ==
	    -1) {
		cli_err("%s", err);
		PQfinish(c);
		return EX_UNAVAILABLE;
	}
	PQfinish(c);
	hex(second.root, MERKLE_HASH_LEN, h2);
	if (!merkle_verify_consistency(m, second.tree_size, root1, second.root, proof, len)) {
		printf("INCONSISTENT: the tree of size %" PRIu64 " (root %s) does not extend the"
		    " tree of size %" PRIu64 " (root %s): the log's history was rewritten\n",
		    second.tree_size, h2, m, h1);
		return 1;
	}
	if (cli_json) {
		if ((j = logjson_consistency(m, second.tree_size, proof, len)) == NULL)
			return 70;
		fputs(j, stdout);
		free(j);
		return 0;
	}
	printf("consistent: the tree of size %" PRIu64 " (root %s) extends the tree of size %"
	    PRIu64 " (root %s); proof of %zu hashes verified\n", second.tree_size, h2, m, h1,
	    len);
	return 0;
}

/* ---- audit ---------------------------------------------------------------------------- */

struct audit {
	PGconn		*c;
	struct merkle_edge edge;	/* the tree recomputed from the archive */
	uint64_t	 next;		/* the leaf index expected next */
	uint64_t	 first_bad;	/* the first leaf that differs (UINT64_MAX: none) */
	uint64_t	 problems, tokens, heads_checked;
	uint64_t	 heads_signed;	/* tree heads whose signature verified */
	size_t		 n_keys;	/* log keys listed */
	uint64_t	 signatures, unchecked;	/* tokens whose signature verified / was not
						 * checked (not RFC 3161 or SOAP) */
	const char	*certs;		/* PEM file of every signer's certificate and chain */
	/* Leaves found wrong themselves, in order: a subtree over one of them is explained by
	 * it and not reported again (past AUDIT_CHUNK of them, every subtree is). */
	size_t		 n_flagged;
	uint64_t	 flagged[AUDIT_CHUNK];
	/* Complete subtrees recomputed in the current chunk, to compare with log_nodes. */
	size_t		 n_nodes, cap_nodes;
	struct { unsigned level; uint64_t idx; merkle_hash h; } *nodes;
};

static void
problem(struct audit *a, uint64_t leaf, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void
vproblem(struct audit *a, uint64_t leaf, int flag, const char *fmt, va_list ap)
{
	if (leaf < a->first_bad)
		a->first_bad = leaf;
	if (flag && a->n_flagged < AUDIT_CHUNK && (a->n_flagged == 0 ||
	    a->flagged[a->n_flagged - 1] < leaf))
		a->flagged[a->n_flagged++] = leaf;
	if (a->problems++ >= AUDIT_MAX_SAID)
		return;
	fputs("tsactl: audit: ", stdout);
	vprintf(fmt, ap);
	fputs("\n", stdout);
}

/* A leaf found wrong itself: it explains the subtrees over it (check_nodes). */
static void
problem(struct audit *a, uint64_t leaf, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vproblem(a, leaf, 1, fmt, ap);
	va_end(ap);
}

/*
 * A tree head that does not match, at the last leaf it covers: that leaf is not known to be
 * wrong itself, so the subtrees over it are still compared (a leaf inserted just below a
 * head's size is named by the smallest subtree that differs, not hidden by the head).
 */
static void
head_problem(struct audit *a, uint64_t leaf, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void
head_problem(struct audit *a, uint64_t leaf, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vproblem(a, leaf, 0, fmt, ap);
	va_end(ap);
}

static int
keep_node(void *ctx, unsigned level, uint64_t idx, const merkle_hash h)
{
	struct audit *a = ctx;

	if (a->n_nodes == a->cap_nodes) {
		size_t cap = a->cap_nodes ? 2 * a->cap_nodes : 2 * AUDIT_CHUNK;
		void *p = reallocarray(a->nodes, cap, sizeof(*a->nodes));

		if (p == NULL)
			return -1;
		a->nodes = p;
		a->cap_nodes = cap;
	}
	a->nodes[a->n_nodes].level = level;
	a->nodes[a->n_nodes].idx = idx;
	memcpy(a->nodes[a->n_nodes++].h, h, MERKLE_HASH_LEN);
	return 0;
}

/* Whether a leaf in [from, to) was found wrong itself. */
static int
explained(const struct audit *a, uint64_t from, uint64_t to)
{
	size_t lo = 0, hi = a->n_flagged;

	if (a->n_flagged == AUDIT_CHUNK)
		return 1;
	/* flagged is ascending: the first at or past from. */
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (a->flagged[mid] < from)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo < a->n_flagged && a->flagged[lo] < to;
}

/* The chunk's recomputed subtrees against the integrator's (log_nodes), in one query that
 * answers them in order (a NULL hash: no such node).  0 or -1. */
static int
check_nodes(struct audit *a)
{
	struct sbuf lv = { 0 }, ix = { 0 };
	unsigned char *t[2] = { NULL, NULL };
	const char *params[2];
	PGresult *r = NULL;
	size_t i, tl;
	int rc = -1, bad;

	if (a->n_nodes == 0)
		return 0;
	sb_str(&lv, "{");
	sb_str(&ix, "{");
	for (i = 0; i < a->n_nodes; i++) {
		sb_printf(&lv, "%s%u", i ? "," : "", a->nodes[i].level);
		sb_printf(&ix, "%s%" PRIu64, i ? "," : "", a->nodes[i].idx);
	}
	sb_str(&lv, "}");
	sb_str(&ix, "}");
	bad = sb_done(&lv, &t[0], &tl);
	bad |= sb_done(&ix, &t[1], &tl);
	if (bad) {
		cli_err("audit: out of memory");
		goto out;
	}
	params[0] = (const char *)t[0];
	params[1] = (const char *)t[1];
	r = PQexecParams(a->c, "SELECT n.hash FROM unnest($1::int2[], $2::int8[]) WITH ORDINALITY"
	    " u(l, i, o) LEFT JOIN log_nodes n ON n.level = u.l AND n.idx = u.i ORDER BY u.o", 2,
	    NULL, params, NULL, NULL, 1);
	if (PQresultStatus(r) != PGRES_TUPLES_OK || (size_t)PQntuples(r) != a->n_nodes) {
		cli_err("reading the log's nodes: %s", PQresultErrorMessage(r));
		goto out;
	}
	for (i = 0; i < a->n_nodes; i++) {
		uint64_t first = a->nodes[i].idx << a->nodes[i].level;
		uint64_t end = first + ((uint64_t)1 << a->nodes[i].level);

		if (explained(a, first, end))
			continue;
		if (PQgetisnull(r, (int)i, 0)) {
			problem(a, first, "the log has no node at level %u index %" PRIu64,
			    a->nodes[i].level, a->nodes[i].idx);
			break;
		}
		if (PQgetlength(r, (int)i, 0) != MERKLE_HASH_LEN ||
		    memcmp(PQgetvalue(r, (int)i, 0), a->nodes[i].h, MERKLE_HASH_LEN) != 0) {
			problem(a, first, "leaves %" PRIu64 "..%" PRIu64 ": the archive gives"
			    " another subtree than the one the log built (a leaf among them was"
			    " changed, inserted or removed)", first, end - 1);
			break;	/* one report per chunk is enough to name where it starts */
		}
	}
	rc = 0;
out:
	PQclear(r);
	free(t[0]);
	free(t[1]);
	a->n_nodes = 0;
	return rc;
}

/* Tree heads of sizes in (from, to]: each root against the recomputed tree at its size,
 * which the caller reaches by appending; here the heads are fetched. */
static PGresult *
heads_between(PGconn *c, uint64_t from, uint64_t to)
{
	char lo[24], hi[24];
	const char *params[2] = { lo, hi };

	snprintf(lo, sizeof(lo), "%" PRIu64, from);
	snprintf(hi, sizeof(hi), "%" PRIu64, to);
	return PQexecParams(c, "SELECT tree_size, root_hash FROM log_heads WHERE tree_size >"
	    " $1::int8 AND tree_size <= $2::int8 ORDER BY tree_size", 2, NULL, params, NULL,
	    NULL, 1);
}

/*
 * The archived token's own signature (with the certificates it carries, else the signers'):
 * RFC 3161 tokens by the project's verifier (verify.h), XML ones by xmlverify.h; the
 * chain is not checked here (tsactl verify does, with a CA), nor Authenticode's.
 */
static void
check_signature(struct audit *a, PGresult *r, int k, uint64_t index, const char *serial)
{
	static struct verify_result res;
	struct verify_opts o = { NULL, a->certs, NULL, 0 };
	const unsigned char *tok = (const unsigned char *)PQgetvalue(r, k, 8);
	size_t len = (size_t)PQgetlength(r, k, 8);
	const char *proto = PQgetvalue(r, k, 9);
	char err[256];
	int rc;

	if (strcmp(proto, "rfc3161") == 0)
		rc = tst_verify(tok, len, &o, &res, err, sizeof(err));
	else if (strcmp(proto, "soap") == 0) {
		static struct xmlverify_result xr;

		rc = xml_token_verify(tok, len, NULL, &xr, err, sizeof(err));
	} else {
		a->unchecked++;
		return;
	}
	if (rc == 0)
		a->signatures++;
	else
		problem(a, index, "leaf %" PRIu64 " (serial %s): the archived token does not"
		    " verify: %s", index, serial, err);
}

/* Every signer's certificate and chain into a temporary PEM file (its path into path, the
 * caller unlinks it): the certificates a token without its own is checked with.  0 or -1. */
static int
signer_certs(PGconn *c, char *path, size_t pathlen)
{
	const char *tmp = getenv("TMPDIR");
	PGresult *r;
	FILE *f;
	int fd, i;

	snprintf(path, pathlen, "%s/tsactl-audit.XXXXXX", tmp != NULL && *tmp ? tmp : "/tmp");
	if ((fd = mkstemp(path)) == -1 || (f = fdopen(fd, "w")) == NULL) {
		cli_err("audit: a temporary file: %s", strerror(errno));
		return -1;
	}
	r = PQexec(c, "SELECT certificate || E'\\n' || chain FROM signers");
	if (PQresultStatus(r) == PGRES_TUPLES_OK)
		for (i = 0; i < PQntuples(r); i++)
			fprintf(f, "%s\n", PQgetvalue(r, i, 0));
	else
		cli_err("audit: the signers: %s", PQresultErrorMessage(r));
	i = PQresultStatus(r) == PGRES_TUPLES_OK;
	PQclear(r);
	if (fclose(f) != 0 || !i) {
		unlink(path);
		return -1;
	}
	return 0;
}

/* One leaf's row: checked, and its archive leaf appended to the recomputed tree. */
static int
audit_row(struct audit *a, PGresult *r, int k)
{
	struct tlog_leaf l, arch;
	unsigned char rebuilt[TLOG_MAX_LEAF];
	merkle_hash lh, stored;
	const char *serial = PQgetvalue(r, k, 1);
	const unsigned char *leaf = (const unsigned char *)PQgetvalue(r, k, 2);
	size_t leaf_len = (size_t)PQgetlength(r, k, 2), n;
	uint64_t index;
	char dec[64];
	int ok;

	if (PQgetlength(r, k, 0) != 8 || PQgetlength(r, k, 3) != MERKLE_HASH_LEN) {
		cli_err("audit: a row of the wrong shape");
		return -1;
	}
	index = be64_get((const unsigned char *)PQgetvalue(r, k, 0));
	memcpy(stored, PQgetvalue(r, k, 3), MERKLE_HASH_LEN);
	if (index != a->next) {
		problem(a, a->next, "leaves %" PRIu64 "..%" PRIu64 " are missing from the log",
		    a->next, index - 1);
		a->next = index;
	}
	a->next++;
	if (merkle_leaf_hash(leaf, leaf_len, lh) == -1)
		return -1;
	if (memcmp(lh, stored, MERKLE_HASH_LEN) != 0)
		problem(a, index, "leaf %" PRIu64 " (serial %s): its stored hash is not its"
		    " leaf's", index, serial);
	if (leaf_len > TLOG_MAX_LEAF || tlog_leaf_decode(leaf, leaf_len, &l) == -1) {
		problem(a, index, "leaf %" PRIu64 " (serial %s): not a well-formed leaf", index,
		    serial);
		return merkle_edge_append(&a->edge, lh, keep_node, a);
	}
	if (bytes_to_decimal(l.serial, l.serial_len, dec, sizeof(dec)) == -1 ||
	    strcmp(dec, serial) != 0)
		problem(a, index, "leaf %" PRIu64 ": its serial %s is not the row's %s", index,
		    dec, serial);
	if (PQgetisnull(r, k, 4) || PQgetvalue(r, k, 4)[0] == 0) {
		problem(a, index, "leaf %" PRIu64 " (serial %s): the token is not in the"
		    " archive (deleted?)", index, serial);
		return merkle_edge_append(&a->edge, lh, keep_node, a);
	}
	a->tokens++;
	/* The leaf the archive's row gives, as the recorder made it (tokens.c). */
	memset(&arch, 0, sizeof(arch));
	memcpy(arch.serial, l.serial, l.serial_len);
	arch.serial_len = l.serial_len;
	ok = PQgetlength(r, k, 5) == 8 && PQgetlength(r, k, 6) <= TLOG_MAX_ALG_NAME &&
	    PQgetlength(r, k, 7) <= TLOG_MAX_IMPRINT;
	if (!ok) {
		problem(a, index, "leaf %" PRIu64 " (serial %s): the archive's row is out of"
		    " bounds", index, serial);
		return merkle_edge_append(&a->edge, lh, keep_node, a);
	}
	arch.gen_time_us = (int64_t)be64_get((const unsigned char *)PQgetvalue(r, k, 5));
	memcpy(arch.hash_alg, PQgetvalue(r, k, 6), (size_t)PQgetlength(r, k, 6));
	arch.imprint_len = (size_t)PQgetlength(r, k, 7);
	memcpy(arch.imprint, PQgetvalue(r, k, 7), arch.imprint_len);
	if (PQgetisnull(r, k, 8))	/* archived as an index row only: the leaf's hash */
		memcpy(arch.token_hash, l.token_hash, MERKLE_HASH_LEN);
	else if (gnutls_hash_fast(GNUTLS_DIG_SHA256, PQgetvalue(r, k, 8),
	    (size_t)PQgetlength(r, k, 8), arch.token_hash) < 0)
		return -1;
	if (arch.gen_time_us != l.gen_time_us)
		problem(a, index, "leaf %" PRIu64 " (serial %s): the archive's genTime differs"
		    " from the logged one by %lld us", index, serial,
		    (long long)(arch.gen_time_us - l.gen_time_us));
	if (strcmp(arch.hash_alg, l.hash_alg) != 0 || arch.imprint_len != l.imprint_len ||
	    memcmp(arch.imprint, l.imprint, l.imprint_len) != 0)
		problem(a, index, "leaf %" PRIu64 " (serial %s): the archive's imprint differs"
		    " from the logged one", index, serial);
	if (memcmp(arch.token_hash, l.token_hash, MERKLE_HASH_LEN) != 0)
		problem(a, index, "leaf %" PRIu64 " (serial %s): the archived token's hash"
		    " differs from the logged one", index, serial);
	if (!PQgetisnull(r, k, 8))
		check_signature(a, r, k, index, serial);
	if ((n = tlog_leaf_encode(&arch, rebuilt)) == 0) {
		problem(a, index, "leaf %" PRIu64 " (serial %s): the archive's row makes no"
		    " leaf", index, serial);
		return merkle_edge_append(&a->edge, lh, keep_node, a);
	}
	if (merkle_leaf_hash(rebuilt, n, lh) == -1)
		return -1;
	return merkle_edge_append(&a->edge, lh, keep_node, a);
}

/*
 * Every stored tree head's signature against the listed log keys (logkeys.h): a head signed
 * by a key nobody listed, after its key was retired, or whose signature does not verify, is a
 * problem named by its size (it is no leaf's).  In the audit's snapshot.  0 or -1.
 */
static int
audit_heads(struct audit *a)
{
	struct logkeys ks = { 0, NULL };
	struct log_head h;
	PGresult *r = NULL;
	char why[512];
	int k, rc = -1;

	if (logkeys_load(a->c, &ks, why, sizeof(why)) == -1) {
		cli_err("audit: %s", why);
		return -1;
	}
	a->n_keys = ks.n;
	r = PQexec(a->c, "DECLARE heads NO SCROLL CURSOR FOR SELECT tree_size, timestamp,"
	    " root_hash, signature, log_key_id FROM log_heads ORDER BY tree_size");
	for (;;) {
		if (PQresultStatus(r) != PGRES_COMMAND_OK && PQresultStatus(r) !=
		    PGRES_TUPLES_OK) {
			cli_err("audit: the tree heads: %s", PQresultErrorMessage(r));
			goto out;
		}
		PQclear(r);
		r = PQexecParams(a->c, "FETCH 10000 FROM heads", 0, NULL, NULL, NULL, NULL, 1);
		if (PQresultStatus(r) != PGRES_TUPLES_OK) {
			cli_err("audit: the tree heads: %s", PQresultErrorMessage(r));
			goto out;
		}
		if (PQntuples(r) == 0)
			break;
		for (k = 0; k < PQntuples(r); k++) {
			memset(&h, 0, sizeof(h));
			if (PQgetlength(r, k, 0) != 8 || PQgetlength(r, k, 1) != 8 ||
			    PQgetlength(r, k, 2) != MERKLE_HASH_LEN ||
			    PQgetlength(r, k, 3) > LOG_MAX_SIGNATURE ||
			    PQgetlength(r, k, 4) >= LOG_MAX_KEY_ID) {
				cli_err("audit: a tree head of the wrong shape");
				goto out;
			}
			h.tree_size = be64_get((const unsigned char *)PQgetvalue(r, k, 0));
			h.timestamp = be64_get((const unsigned char *)PQgetvalue(r, k, 1));
			memcpy(h.root, PQgetvalue(r, k, 2), MERKLE_HASH_LEN);
			if (!PQgetisnull(r, k, 3)) {
				h.signature_len = (size_t)PQgetlength(r, k, 3);
				memcpy(h.signature, PQgetvalue(r, k, 3), h.signature_len);
			}
			if (!PQgetisnull(r, k, 4))
				memcpy(h.key_id, PQgetvalue(r, k, 4),
				    (size_t)PQgetlength(r, k, 4));
			if (logkeys_check_head(&ks, &h, why, sizeof(why)) == 0) {
				a->heads_signed++;
				continue;
			}
			if (a->problems++ < AUDIT_MAX_SAID)
				printf("tsactl: audit: %s\n", why);
		}
	}
	rc = 0;
out:
	PQclear(r);
	logkeys_free(&ks);
	return rc;
}

/* The audit's outcome as an event (kind log-audit), for the console and the trail. */
static void
audit_event(PGconn *c, int ok, const char *summary)
{
	struct event_params ep;
	PGresult *r;
	char err[256];
	int rc;

	PQclear(PQexec(c, "ROLLBACK"));	/* the audit's read-only snapshot */
	event_params(&ep, ok ? "info" : "error", "log-audit", NULL, NULL, summary, 1);
	if ((r = db_query(c, SQL_INSERT_EVENT, EVENT_NPARAMS, ep.values, "recording the audit",
	    &rc, err, sizeof(err))) == NULL)
		cli_err("%s", err);
	PQclear(r);
}

static int
log_audit(int argc, char **argv)
{
	struct audit a;
	struct log_head h;
	merkle_hash root;
	char err[256], hx[2 * MERKLE_HASH_LEN + 1], certs[256] = "", summary[512];
	PGresult *r = NULL, *hr = NULL;
	int k, t, rc = EX_UNAVAILABLE;

	cli_args(LOG_USAGE, argc, argv, NULL, 0, NULL, 0, 0);
	memset(&a, 0, sizeof(a));
	a.first_bad = UINT64_MAX;
	a.c = cli_connect();
	/* One snapshot: the archive, the leaves and the heads as of one moment. */
	PQclear(PQexec(a.c, "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY"));
	if (signer_certs(a.c, certs, sizeof(certs)) == -1) {
		certs[0] = '\0';
		goto out;
	}
	a.certs = certs;
	if ((k = logstore_head(a.c, 1, 0, &h, err, sizeof(err))) != 1) {
		if (k == 0)
			cli_err("the log has no tree head yet");
		else
			cli_err("%s", err);
		goto out;
	}
	r = PQexec(a.c, "DECLARE audit NO SCROLL CURSOR FOR SELECT l.leaf_index, l.serial::text,"
	    " l.leaf, l.leaf_hash, t.serial IS NOT NULL,"
	    " (extract(epoch FROM t.gen_time) * 1000000)::int8, t.hash_alg, t.imprint, t.token,"
	    " t.protocol"
	    " FROM log_leaves l LEFT JOIN issued_tokens t ON t.serial = l.serial"
	    " ORDER BY l.leaf_index");
	if (PQresultStatus(r) != PGRES_COMMAND_OK) {
		cli_err("audit: %s", PQresultErrorMessage(r));
		goto out;
	}
	for (;;) {
		uint64_t from = a.edge.size;

		PQclear(r);
		r = PQexecParams(a.c, "FETCH 10000 FROM audit", 0, NULL, NULL, NULL, NULL, 1);
		if (PQresultStatus(r) != PGRES_TUPLES_OK) {
			cli_err("audit: %s", PQresultErrorMessage(r));
			goto out;
		}
		if (PQntuples(r) == 0)
			break;
		PQclear(hr);
		hr = heads_between(a.c, from, from + (uint64_t)PQntuples(r));
		if (PQresultStatus(hr) != PGRES_TUPLES_OK) {
			cli_err("audit: %s", PQresultErrorMessage(hr));
			goto out;
		}
		for (k = 0, t = 0; k < PQntuples(r); k++) {
			if (audit_row(&a, r, k) == -1) {
				rc = 70;
				goto out;
			}
			/* Every tree head the log kept, against the archive's tree at its size. */
			for (; t < PQntuples(hr) && be64_get((const unsigned char *)PQgetvalue(hr, t, 0)) <= a.edge.size;
			    t++) {
				if (be64_get((const unsigned char *)PQgetvalue(hr, t, 0)) < a.edge.size ||
				    PQgetlength(hr, t, 1) != MERKLE_HASH_LEN)
					continue;
				a.heads_checked++;
				if (merkle_edge_root(&a.edge, root) == -1)
					goto out;
				if (memcmp(root, PQgetvalue(hr, t, 1), MERKLE_HASH_LEN) != 0)
					head_problem(&a, a.edge.size - 1, "the tree head"
					    " of size %" PRIu64 " does not match the archive",
					    a.edge.size);
			}
		}
		if (check_nodes(&a) == -1)
			goto out;
	}
	PQclear(r);
	r = NULL;
	if (audit_heads(&a) == -1)
		goto out;
	/* Tokens in the archive that are no leaf: recorded without the log, or forged. */
	r = PQexec(a.c, "SELECT t.serial::text FROM issued_tokens t WHERE NOT EXISTS (SELECT 1"
	    " FROM log_leaves l WHERE l.serial = t.serial) AND NOT EXISTS (SELECT 1 FROM"
	    " log_queue q WHERE q.serial = t.serial) ORDER BY t.gen_time LIMIT 20");
	if (PQresultStatus(r) != PGRES_TUPLES_OK) {
		cli_err("audit: %s", PQresultErrorMessage(r));
		goto out;
	}
	for (k = 0; k < PQntuples(r); k++) {
		a.problems++;
		printf("tsactl: audit: the archive's token serial %s is in no leaf of the log"
		    " (inserted by hand?)\n", PQgetvalue(r, k, 0));
	}
	if (a.edge.size < h.tree_size)
		problem(&a, a.edge.size, "the latest tree head has %" PRIu64 " leaves, the log"
		    " only %" PRIu64 " (truncated)", h.tree_size, a.edge.size);
	hex(h.root, MERKLE_HASH_LEN, hx);
	if (a.problems == 0) {
		snprintf(summary, sizeof(summary), "audit: %" PRIu64 " leaves, %" PRIu64
		    " archived tokens (%" PRIu64 " signatures verified, %" PRIu64 " Authenticode"
		    " not checked) and %" PRIu64 " tree heads agree (%" PRIu64 " signed with"
		    " the %zu listed log keys); latest tree head: size %" PRIu64 ", root %s",
		    a.edge.size, a.tokens, a.signatures, a.unchecked, a.heads_checked,
		    a.heads_signed, a.n_keys, h.tree_size, hx);
		rc = 0;
	} else if (a.first_bad != UINT64_MAX) {
		snprintf(summary, sizeof(summary), "audit FAILED: %" PRIu64 " problems; the"
		    " first leaf that differs is %" PRIu64 " (latest tree head: size %" PRIu64
		    ", root %s)", a.problems, a.first_bad, h.tree_size, hx);
		rc = 1;
	} else {
		snprintf(summary, sizeof(summary), "audit FAILED: %" PRIu64 " problems (latest"
		    " tree head: size %" PRIu64 ", root %s)", a.problems, h.tree_size, hx);
		rc = 1;
	}
	printf("%s\n", summary);
	audit_event(a.c, rc == 0, summary);
out:
	PQclear(r);
	PQclear(hr);
	PQfinish(a.c);
	free(a.nodes);
	if (certs[0] != '\0')
		unlink(certs);
	return rc;
}

int
cmd_log(int argc, char **argv)
{
	static const struct cli_sub subs[] = {
		{ "sth", log_sth }, { "proof", log_proof },
		{ "consistency", log_consistency }, { "audit", log_audit },
		{ "keys", cli_log_keys }, { "key", cli_log_key },
	};

	return cli_dispatch(LOG_USAGE, subs, sizeof(subs) / sizeof(subs[0]), argc, argv);
}
