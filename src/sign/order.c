/*
 * order.c - the order protocol between a worker and tsa-signer (see order.h): the encoders,
 * the strict decoders and the framing on a local stream socket.
 *
 * Input (untrusted both ways): the signer decodes what any process that reaches its socket
 * sends, the worker decodes what the signer answers.  Every field goes through one bounded
 * cursor: each length is checked against the field's buffer or bound before anything is
 * copied, strings hold no NUL, booleans are 0 or 1, enums within their range, OIDs dotted
 * decimal, and nothing may follow the last field.  Each refusal names its field.  The
 * encoders refuse the same values, so what they write always decodes to the same struct.
 *
 * Why hand-written: the format is fixed and tiny (integers, counted strings and bytes, no
 * nesting beyond the extension and unit lists), so a cursor of a few functions reads it
 * whole; a serialisation library would add a dependency for nothing, and ASN.1 would put
 * libtasn1 and its tag walking in the signer's path for no gain.
 */
#include <errno.h>
#include <stddef.h>
#include <limits.h>
#include <poll.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#include "order.h"
#include "strbuf.h"

/* The refusals' texts below quote these numbers. */
_Static_assert(TSA_MAX_OID_TEXT == 128 && TSA_MAX_IMPRINT == 64 && TSA_MAX_NONCE == 32 &&
    TSA_MAX_EXTENSIONS == 8 && TSA_MAX_XML_URI == 128 && TSA_MAX_XML_DIGEST_TEXT == 256 &&
    TSA_MAX_XML_NONCE_DIGITS == 40 && TSA_MAX_AUTHENTICODE_SIG == 1024 &&
    TSA_MAX_PEER_TEXT == 96 && TSA_MAX_BODY_CEILING == 1048576 &&
    TSA_MAX_TOKEN_FILE == 1048576 && ORDER_MAX_NAME == 64 && ORDER_MAX_IDENTITY == 1024 &&
    ORDER_MAX_TEXT == 128 && ORDER_MAX_DETAIL == 256 && ORDER_MAX_UNITS == 64,
    "order.c: a refusal's text quotes a bound that changed");
/* Every counted field fits its length prefix. */
_Static_assert(TSA_MAX_AUTHENTICODE_SIG <= UINT16_MAX && ORDER_MAX_IDENTITY <= UINT16_MAX &&
    ORDER_MAX_UNITS <= UINT16_MAX && TSA_MAX_EXTENSIONS <= UINT8_MAX &&
    ORDER_MAX_FRAME <= UINT32_MAX, "order.c: a bound exceeds its length prefix");

/* ---- decoding ------------------------------------------------------------------------- */

/* A bounded cursor over one frame body; why is set at the first fault. */
struct cur {
	const unsigned char	*p;
	size_t			 len, off;
	const char		*why;
};

static int
fault(struct cur *c, const char *why)
{
	if (c->why == NULL)
		c->why = why;
	return -1;
}

static int
get_raw(struct cur *c, const unsigned char **p, size_t n, const char *why_short)
{
	if (n > c->len - c->off)
		return fault(c, why_short);
	*p = c->p + c->off;
	c->off += n;
	return 0;
}

static int
get_uint(struct cur *c, size_t width, uint64_t *v, const char *why_short)
{
	const unsigned char *p;
	size_t i;

	if (get_raw(c, &p, width, why_short) == -1)
		return -1;
	for (*v = 0, i = 0; i < width; i++)
		*v = *v << 8 | p[i];
	return 0;
}

static int
get_u8(struct cur *c, unsigned *v, const char *why_short)
{
	uint64_t x;

	if (get_uint(c, 1, &x, why_short) == -1)
		return -1;
	*v = (unsigned)x;
	return 0;
}

static int
get_i64(struct cur *c, long long *v, const char *why_short)
{
	uint64_t x;

	if (get_uint(c, 8, &x, why_short) == -1)
		return -1;
	/* Two's complement, without relying on an implementation-defined conversion. */
	*v = x <= INT64_MAX ? (long long)x : -(long long)(UINT64_MAX - x) - 1;
	return 0;
}

static int
get_bool(struct cur *c, int *v, const char *why_short, const char *why_bad)
{
	unsigned x;

	if (get_u8(c, &x, why_short) == -1)
		return -1;
	if (x > 1)
		return fault(c, why_bad);
	*v = (int)x;
	return 0;
}

/* str: u16 n, n bytes without NUL, n < size; copied NUL-terminated into dst[size]. */
static int
get_str(struct cur *c, char *dst, size_t size, const char *why_short, const char *why_long,
    const char *why_nul)
{
	const unsigned char *p;
	uint64_t n;

	if (get_uint(c, 2, &n, why_short) == -1)
		return -1;
	if (n >= size)
		return fault(c, why_long);
	if (get_raw(c, &p, n, why_short) == -1)
		return -1;
	if (memchr(p, '\0', n) != NULL)
		return fault(c, why_nul);
	memcpy(dst, p, n);
	dst[n] = '\0';
	return 0;
}

/* A counted run of bytes (width 2: bytes, 4: bigbytes) of at most max, left in place: *p is
 * NULL when it is empty. */
static int
get_ref(struct cur *c, size_t width, size_t max, const unsigned char **p, size_t *len,
    const char *why_short, const char *why_long)
{
	uint64_t n;

	if (get_uint(c, width, &n, why_short) == -1)
		return -1;
	if (n > max)
		return fault(c, why_long);
	if (get_raw(c, p, n, why_short) == -1)
		return -1;
	if (n == 0)
		*p = NULL;
	*len = n;
	return 0;
}

/* bytes copied into dst[max]. */
static int
get_bytes(struct cur *c, unsigned char *dst, size_t max, size_t *len, const char *why_short,
    const char *why_long)
{
	const unsigned char *p;

	if (get_ref(c, 2, max, &p, len, why_short, why_long) == -1)
		return -1;
	if (*len > 0)
		memcpy(dst, p, *len);
	return 0;
}

/* Dotted decimal: digits and single dots, neither first nor last. */
static int
oid_text_valid(const char *s)
{
	size_t i;

	if (s[0] == '\0' || s[0] == '.')
		return 0;
	for (i = 0; s[i] != '\0'; i++) {
		if (s[i] == '.') {
			if (s[i + 1] == '.' || s[i + 1] == '\0')
				return 0;
		} else if (s[i] < '0' || s[i] > '9')
			return 0;
	}
	return 1;
}

static int
protocol_valid(unsigned v)
{
	switch (v) {
	case TSA_PROTO_RFC3161:
	case TSA_PROTO_SOAP:
	case TSA_PROTO_AUTHENTICODE:
		return 1;
	}
	return 0;
}

static int
fail_valid(unsigned v)
{
	switch (v) {
	case TSA_FAIL_BAD_ALG:
	case TSA_FAIL_BAD_REQUEST:
	case TSA_FAIL_BAD_DATA_FORMAT:
	case TSA_FAIL_TIME_NOT_AVAILABLE:
	case TSA_FAIL_UNACCEPTED_POLICY:
	case TSA_FAIL_UNACCEPTED_EXTENSION:
	case TSA_FAIL_ADD_INFO_NOT_AVAILABLE:
	case TSA_FAIL_SYSTEM_FAILURE:
		return 1;
	}
	return 0;
}

static int
unit_state_valid(unsigned v)
{
	return v <= UNIT_REFUSED;
}

/* The texts of a str field F of the order or answer W: truncated, too long, holds a NUL. */
#define STR_WHY(w, f, bound) \
	w ": " f " truncated", w ": " f " of " bound " bytes or more", w ": " f " holds a NUL byte"
#define BYTES_WHY(w, f, bound) \
	w ": " f " truncated", w ": " f " longer than " bound " bytes"

static int
decode_sign(struct cur *c, struct order *o)
{
	struct tsa_request *r = &o->req;
	const unsigned char *sig;
	unsigned u;
	size_t i;

	if (get_i64(c, &o->config_version, "order: config_version truncated") == -1 ||
	    get_i64(c, &o->service_id, "order: service_id truncated") == -1 ||
	    get_i64(c, &o->policy_id, "order: policy_id truncated") == -1 ||
	    get_u8(c, &u, "order: protocol truncated") == -1)
		return -1;
	if (!protocol_valid(u))
		return fault(c, "order: protocol unknown");
	r->protocol = (enum tsa_protocol)u;

	if (get_str(c, r->hash_oid, sizeof(r->hash_oid),
	    STR_WHY("order", "hash_oid", "128")) == -1)
		return -1;
	if (!oid_text_valid(r->hash_oid))
		return fault(c, "order: hash_oid is not a dotted decimal OID");
	r->hash = hash_by_oid(r->hash_oid);
	if (get_bool(c, &r->hash_null_params, "order: hash_null_params truncated",
	    "order: hash_null_params is not 0 or 1") == -1)
		return -1;
	if (get_bytes(c, r->imprint, sizeof(r->imprint), &r->imprint_len,
	    BYTES_WHY("order", "imprint", "64")) == -1)
		return -1;
	if (r->imprint_len == 0)
		return fault(c, "order: imprint empty");

	if (get_bool(c, &r->has_nonce, "order: has_nonce truncated",
	    "order: has_nonce is not 0 or 1") == -1 ||
	    get_bytes(c, r->nonce, sizeof(r->nonce), &r->nonce_len,
	    BYTES_WHY("order", "nonce", "32")) == -1)
		return -1;
	if (r->has_nonce != (r->nonce_len > 0))
		return fault(c, "order: nonce present without has_nonce, or has_nonce without it");

	if (get_bool(c, &r->has_req_policy, "order: has_req_policy truncated",
	    "order: has_req_policy is not 0 or 1") == -1 ||
	    get_str(c, r->req_policy, sizeof(r->req_policy),
	    STR_WHY("order", "req_policy", "128")) == -1)
		return -1;
	if (r->has_req_policy ? !oid_text_valid(r->req_policy) : r->req_policy[0] != '\0')
		return fault(c, r->has_req_policy ?
		    "order: req_policy is not a dotted decimal OID" :
		    "order: req_policy present without has_req_policy");

	if (get_bool(c, &r->cert_req, "order: cert_req truncated",
	    "order: cert_req is not 0 or 1") == -1 ||
	    get_u8(c, &u, "order: n_ext truncated") == -1)
		return -1;
	if (u > TSA_MAX_EXTENSIONS)
		return fault(c, "order: more than 8 extensions");
	r->n_ext = u;
	for (i = 0; i < r->n_ext; i++) {
		if (get_str(c, r->ext[i].oid, sizeof(r->ext[i].oid),
		    STR_WHY("order", "extension oid", "128")) == -1)
			return -1;
		if (!oid_text_valid(r->ext[i].oid))
			return fault(c, "order: extension oid is not a dotted decimal OID");
		if (get_bool(c, &r->ext[i].critical, "order: extension critical truncated",
		    "order: extension critical is not 0 or 1") == -1)
			return -1;
	}

	if (get_str(c, r->echo.digest_method, sizeof(r->echo.digest_method),
	    STR_WHY("order", "echo.digest_method", "128")) == -1 ||
	    get_str(c, r->echo.digest_value, sizeof(r->echo.digest_value),
	    STR_WHY("order", "echo.digest_value", "256")) == -1 ||
	    get_bool(c, &r->echo.has_nonce, "order: echo.has_nonce truncated",
	    "order: echo.has_nonce is not 0 or 1") == -1 ||
	    get_str(c, r->echo.nonce, sizeof(r->echo.nonce),
	    STR_WHY("order", "echo.nonce", "41")) == -1)
		return -1;
	if (r->echo.has_nonce != (r->echo.nonce[0] != '\0'))
		return fault(c,
		    "order: echo.nonce present without echo.has_nonce, or echo.has_nonce without it");

	if (get_ref(c, 2, TSA_MAX_AUTHENTICODE_SIG, &sig, &r->signature_len,
	    BYTES_WHY("order", "signature", "1024")) == -1)
		return -1;
	/* Never freed: it points into the frame (order.h). */
	r->signature = (unsigned char *)(uintptr_t)sig;

	if (get_str(c, o->requester, sizeof(o->requester),
	    STR_WHY("order", "requester", "96")) == -1 ||
	    get_str(c, o->client_identity, sizeof(o->client_identity),
	    STR_WHY("order", "client_identity", "1024")) == -1 ||
	    get_ref(c, 4, TSA_MAX_BODY_CEILING, &o->request, &o->request_len,
	    BYTES_WHY("order", "request", "1048576")) == -1)
		return -1;
	return 0;
}

int
order_decode(const unsigned char *body, size_t len, struct order *o, const char **why)
{
	struct cur c = { body, len, 0, NULL };
	unsigned version, type;

	memset(o, 0, sizeof(*o));
	if (get_u8(&c, &version, "order: empty") == -1)
		goto bad;
	if (version != ORDER_VERSION) {
		fault(&c, "order: version is not 1");
		goto bad;
	}
	if (get_u8(&c, &type, "order: type truncated") == -1)
		goto bad;
	switch (type) {
	case ORDER_SIGN:
		o->type = ORDER_SIGN;
		if (decode_sign(&c, o) == -1)
			goto bad;
		break;
	case ORDER_STATUS:
		o->type = ORDER_STATUS;
		if (get_bool(&c, &o->test_sign, "order: test_sign truncated",
		    "order: test_sign is not 0 or 1") == -1)
			goto bad;
		break;
	case ORDER_TREE_HEAD: {
		const unsigned char *root;

		o->type = ORDER_TREE_HEAD;
		if (get_uint(&c, 8, &o->tree_size, "order: tree_size truncated") == -1 ||
		    get_raw(&c, &root, ORDER_ROOT_LEN, "order: root hash truncated") == -1)
			goto bad;
		if (o->tree_size > INT64_MAX) {
			fault(&c, "order: tree_size above 2^63 - 1");
			goto bad;
		}
		memcpy(o->root, root, ORDER_ROOT_LEN);
		break;
	}
	default:
		fault(&c, "order: type unknown");
		goto bad;
	}
	if (c.off != c.len) {
		fault(&c, "order: bytes after the last field");
		goto bad;
	}
	return 0;
bad:
	*why = c.why;
	return -1;
}

static int
decode_units(struct cur *c, struct signer_answer *a)
{
	uint64_t n;
	unsigned state;
	size_t i;

	if (get_uint(c, 2, &n, "answer: unit count truncated") == -1)
		return -1;
	if (n > ORDER_MAX_UNITS)
		return fault(c, "answer: more than 64 units");
	a->n_units = (size_t)n;
	for (i = 0; i < a->n_units; i++) {
		struct unit_status *u = &a->units[i];

		if (get_i64(c, &u->id, "answer: unit id truncated") == -1 ||
		    get_str(c, u->name, sizeof(u->name),
		    STR_WHY("answer", "unit name", "64")) == -1 ||
		    get_u8(c, &state, "answer: unit state truncated") == -1)
			return -1;
		if (!unit_state_valid(state))
			return fault(c, "answer: unit state unknown");
		u->state = (enum unit_state)state;
		if (get_str(c, u->reason, sizeof(u->reason),
		    STR_WHY("answer", "unit reason", "256")) == -1)
			return -1;
	}
	return 0;
}

int
answer_decode(const unsigned char *body, size_t len, struct signer_answer *a, const char **why)
{
	struct cur c = { body, len, 0, NULL };
	unsigned version, type, fail;

	/* All but the units (22 KB, filled up to n_units): an answer is decoded per token. */
	memset(a, 0, offsetof(struct signer_answer, units));
	if (get_u8(&c, &version, "answer: empty") == -1)
		goto bad;
	if (version != ORDER_VERSION) {
		fault(&c, "answer: version is not 1");
		goto bad;
	}
	if (get_u8(&c, &type, "answer: type truncated") == -1)
		goto bad;
	switch (type) {
	case ANSWER_GRANTED:
		a->type = ANSWER_GRANTED;
		if (get_str(&c, a->signer, sizeof(a->signer),
		    STR_WHY("answer", "signer", "64")) == -1 ||
		    get_ref(&c, 4, TSA_MAX_TOKEN_FILE, &a->token, &a->token_len,
		    BYTES_WHY("answer", "token", "1048576")) == -1)
			goto bad;
		if (a->token_len == 0) {
			fault(&c, "answer: token empty");
			goto bad;
		}
		break;
	case ANSWER_REFUSED:
		a->type = ANSWER_REFUSED;
		if (get_u8(&c, &fail, "answer: fail truncated") == -1)
			goto bad;
		if (!fail_valid(fail)) {
			fault(&c, "answer: fail is no PKIFailureInfo bit the TSA uses");
			goto bad;
		}
		a->fail = (enum tsa_fail)fail;
		if (get_bool(&c, &a->sign_failed, "answer: sign_failed truncated",
		    "answer: sign_failed is not 0 or 1") == -1 ||
		    get_str(&c, a->signer, sizeof(a->signer),
		    STR_WHY("answer", "signer", "64")) == -1 ||
		    get_str(&c, a->text, sizeof(a->text),
		    STR_WHY("answer", "text", "128")) == -1 ||
		    get_str(&c, a->detail, sizeof(a->detail),
		    STR_WHY("answer", "detail", "256")) == -1)
			goto bad;
		break;
	case ANSWER_STATUS:
		a->type = ANSWER_STATUS;
		if (decode_units(&c, a) == -1)
			goto bad;
		break;
	case ANSWER_TREE_HEAD:
		a->type = ANSWER_TREE_HEAD;
		if (get_uint(&c, 8, &a->timestamp, "answer: timestamp truncated") == -1 ||
		    get_str(&c, a->key_id, sizeof(a->key_id),
		    STR_WHY("answer", "key_id", "65")) == -1 ||
		    get_ref(&c, 2, ORDER_MAX_SIGNATURE, &a->signature, &a->signature_len,
		    BYTES_WHY("answer", "signature", "1024")) == -1)
			goto bad;
		if (a->signature_len == 0) {
			fault(&c, "answer: signature empty");
			goto bad;
		}
		break;
	default:
		fault(&c, "answer: type unknown");
		goto bad;
	}
	if (c.off != c.len) {
		fault(&c, "answer: bytes after the last field");
		goto bad;
	}
	return 0;
bad:
	*why = c.why;
	return -1;
}

/* ---- encoding ------------------------------------------------------------------------- */

/* The frame body grows in an sbuf; a value out of bounds fails it like an allocation. */

static void
put_uint(struct sbuf *b, size_t width, uint64_t v)
{
	unsigned char p[8];
	size_t i;

	for (i = 0; i < width; i++)
		p[i] = (unsigned char)(v >> (8 * (width - 1 - i)));
	sb_add(b, (const char *)p, width);
}

static void
put_bool(struct sbuf *b, int v)
{
	if (v != 0 && v != 1)
		b->failed = 1;
	put_uint(b, 1, (uint64_t)v);
}

static void
put_i64(struct sbuf *b, long long v)
{
	put_uint(b, 8, (uint64_t)v);
}

/* s must be NUL-terminated within its buffer of size bytes. */
static void
put_str(struct sbuf *b, const char *s, size_t size)
{
	size_t n = strnlen(s, size);

	if (n == size) {
		b->failed = 1;
		return;
	}
	put_uint(b, 2, n);
	sb_add(b, s, n);
}

static void
put_counted(struct sbuf *b, size_t width, const unsigned char *p, size_t n, size_t max)
{
	if (n > max || (n > 0 && p == NULL)) {
		b->failed = 1;
		return;
	}
	put_uint(b, width, n);
	if (n > 0)
		sb_add(b, (const char *)p, n);
}

static void
put_oid(struct sbuf *b, const char *s, size_t size)
{
	if (strnlen(s, size) == size || !oid_text_valid(s)) {
		b->failed = 1;
		return;
	}
	put_str(b, s, size);
}

static void
encode_sign(struct sbuf *b, const struct order *o)
{
	const struct tsa_request *r = &o->req;
	size_t i;

	put_i64(b, o->config_version);
	put_i64(b, o->service_id);
	put_i64(b, o->policy_id);
	if (!protocol_valid((unsigned)r->protocol))
		b->failed = 1;
	put_uint(b, 1, (uint64_t)r->protocol);
	put_oid(b, r->hash_oid, sizeof(r->hash_oid));
	put_bool(b, r->hash_null_params);
	if (r->imprint_len == 0)
		b->failed = 1;
	put_counted(b, 2, r->imprint, r->imprint_len, sizeof(r->imprint));
	put_bool(b, r->has_nonce);
	if (r->has_nonce != (r->nonce_len > 0))
		b->failed = 1;
	put_counted(b, 2, r->nonce, r->nonce_len, sizeof(r->nonce));
	put_bool(b, r->has_req_policy);
	if (r->has_req_policy)
		put_oid(b, r->req_policy, sizeof(r->req_policy));
	else if (r->req_policy[0] != '\0')
		b->failed = 1;
	else
		put_str(b, r->req_policy, sizeof(r->req_policy));
	put_bool(b, r->cert_req);
	if (r->n_ext > TSA_MAX_EXTENSIONS) {
		b->failed = 1;
		return;
	}
	put_uint(b, 1, r->n_ext);
	for (i = 0; i < r->n_ext; i++) {
		put_oid(b, r->ext[i].oid, sizeof(r->ext[i].oid));
		put_bool(b, r->ext[i].critical);
	}
	put_str(b, r->echo.digest_method, sizeof(r->echo.digest_method));
	put_str(b, r->echo.digest_value, sizeof(r->echo.digest_value));
	put_bool(b, r->echo.has_nonce);
	if (r->echo.has_nonce != (r->echo.nonce[0] != '\0'))
		b->failed = 1;
	put_str(b, r->echo.nonce, sizeof(r->echo.nonce));
	put_counted(b, 2, r->signature, r->signature_len, TSA_MAX_AUTHENTICODE_SIG);
	put_str(b, o->requester, sizeof(o->requester));
	put_str(b, o->client_identity, sizeof(o->client_identity));
	put_counted(b, 4, o->request, o->request_len, TSA_MAX_BODY_CEILING);
}

/* Hands the body over, or frees it: -1 when a value was out of bounds or memory ran out. */
static int
finish(struct sbuf *b, unsigned char **out, size_t *len)
{
	unsigned char *p;
	size_t n;

	if (b->failed) {
		free(b->p);
		return -1;
	}
	if (sb_done(b, &p, &n) == -1)
		return -1;
	if (n > ORDER_MAX_FRAME) {	/* cannot happen with the bounds above */
		free(p);
		return -1;
	}
	*out = p;
	*len = n;
	return 0;
}

int
order_encode(const struct order *o, unsigned char **out, size_t *len)
{
	struct sbuf b = { NULL, 0, 0, 0 };

	put_uint(&b, 1, ORDER_VERSION);
	switch (o->type) {
	case ORDER_SIGN:
		put_uint(&b, 1, ORDER_SIGN);
		encode_sign(&b, o);
		break;
	case ORDER_STATUS:
		put_uint(&b, 1, ORDER_STATUS);
		put_bool(&b, o->test_sign);
		break;
	case ORDER_TREE_HEAD:
		put_uint(&b, 1, ORDER_TREE_HEAD);
		if (o->tree_size > INT64_MAX)
			b.failed = 1;
		put_uint(&b, 8, o->tree_size);
		sb_add(&b, (const char *)o->root, ORDER_ROOT_LEN);
		break;
	default:
		b.failed = 1;
	}
	return finish(&b, out, len);
}

int
answer_encode(const struct signer_answer *a, unsigned char **out, size_t *len)
{
	struct sbuf b = { NULL, 0, 0, 0 };
	size_t i;

	put_uint(&b, 1, ORDER_VERSION);
	switch (a->type) {
	case ANSWER_GRANTED:
		put_uint(&b, 1, ANSWER_GRANTED);
		put_str(&b, a->signer, sizeof(a->signer));
		if (a->token_len == 0)
			b.failed = 1;
		put_counted(&b, 4, a->token, a->token_len, TSA_MAX_TOKEN_FILE);
		break;
	case ANSWER_REFUSED:
		put_uint(&b, 1, ANSWER_REFUSED);
		if (!fail_valid((unsigned)a->fail))
			b.failed = 1;
		put_uint(&b, 1, (uint64_t)a->fail);
		put_bool(&b, a->sign_failed);
		put_str(&b, a->signer, sizeof(a->signer));
		put_str(&b, a->text, sizeof(a->text));
		put_str(&b, a->detail, sizeof(a->detail));
		break;
	case ANSWER_STATUS:
		put_uint(&b, 1, ANSWER_STATUS);
		if (a->n_units > ORDER_MAX_UNITS) {
			b.failed = 1;
			break;
		}
		put_uint(&b, 2, a->n_units);
		for (i = 0; i < a->n_units; i++) {
			const struct unit_status *u = &a->units[i];

			put_i64(&b, u->id);
			put_str(&b, u->name, sizeof(u->name));
			if (!unit_state_valid((unsigned)u->state))
				b.failed = 1;
			put_uint(&b, 1, (uint64_t)u->state);
			put_str(&b, u->reason, sizeof(u->reason));
		}
		break;
	case ANSWER_TREE_HEAD:
		put_uint(&b, 1, ANSWER_TREE_HEAD);
		put_uint(&b, 8, a->timestamp);
		put_str(&b, a->key_id, sizeof(a->key_id));
		if (a->signature_len == 0)
			b.failed = 1;
		put_counted(&b, 2, a->signature, a->signature_len, ORDER_MAX_SIGNATURE);
		break;
	default:
		b.failed = 1;
	}
	return finish(&b, out, len);
}

const char *
unit_state_name(enum unit_state s)
{
	switch (s) {
	case UNIT_USABLE:
		return "usable";
	case UNIT_OPENING:
		return "opening";
	case UNIT_RETRYING:
		return "retrying";
	case UNIT_REFUSED:
		return "refused";
	}
	return "unknown";
}

/* ---- framing -------------------------------------------------------------------------- */

static long long
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/*
 * Waits until fd is ready for events or the deadline (a CLOCK_MONOTONIC time in ms, -1: none)
 * passes.  0 when ready (or an error or hang-up the next read or write reports), -1 with
 * errno: ETIMEDOUT, or poll's.
 */
static int
wait_fd(int fd, short events, long long deadline)
{
	struct pollfd pf;
	long long left;
	int n;

	for (;;) {
		left = -1;
		if (deadline >= 0) {
			/* Past the deadline: one look without waiting (a ready peer still counts). */
			left = deadline - now_ms();
			if (left < 0)
				left = 0;
			if (left > INT_MAX)
				left = INT_MAX;
		}
		pf.fd = fd;
		pf.events = events;
		pf.revents = 0;
		n = poll(&pf, 1, (int)left);
		if (n > 0)
			return 0;
		if (n == 0) {
			errno = ETIMEDOUT;
			return -1;
		}
		if (errno != EINTR)
			return -1;
	}
}

int
frame_write(int fd, const unsigned char *body, size_t len, int timeout_ms)
{
	unsigned char hdr[4];
	long long deadline = timeout_ms < 0 ? -1 : now_ms() + timeout_ms;
	size_t off = 0, total, n;
	const unsigned char *p;
	int is_sock = 1;
	ssize_t w;

	if (len == 0 || len > ORDER_MAX_FRAME || body == NULL) {
		errno = EINVAL;
		return -1;
	}
	hdr[0] = (unsigned char)(len >> 24);
	hdr[1] = (unsigned char)(len >> 16);
	hdr[2] = (unsigned char)(len >> 8);
	hdr[3] = (unsigned char)len;
	total = sizeof(hdr) + len;
	while (off < total) {
		if (off < sizeof(hdr)) {
			p = hdr + off;
			n = sizeof(hdr) - off;
		} else {
			p = body + (off - sizeof(hdr));
			n = total - off;
		}
		if (is_sock) {
			/* The length and the body in one call (one wake-up of the reader); never
			 * blocks, so the deadline holds; no SIGPIPE when the peer left. */
			struct iovec iov[2];
			struct msghdr m;

			memset(&m, 0, sizeof(m));
			iov[0].iov_base = (void *)(uintptr_t)p;
			iov[0].iov_len = n;
			iov[1].iov_base = (void *)(uintptr_t)body;
			iov[1].iov_len = off < sizeof(hdr) ? len : 0;
			m.msg_iov = iov;
			m.msg_iovlen = off < sizeof(hdr) ? 2 : 1;
			w = sendmsg(fd, &m, MSG_NOSIGNAL | MSG_DONTWAIT);
			if (w == -1 && errno == ENOTSOCK) {
				is_sock = 0;
				continue;
			}
		} else {
			/* A pipe or file (tests): after poll, a write of at most PIPE_BUF does not
			 * block on a pipe. */
			if (wait_fd(fd, POLLOUT, deadline) == -1)
				return -1;
			w = write(fd, p, n < PIPE_BUF ? n : PIPE_BUF);
		}
		if (w > 0) {
			off += (size_t)w;
			continue;
		}
		if (w == 0) {
			errno = EPIPE;
			return -1;
		}
		if (errno == EINTR)
			continue;
		if (errno != EAGAIN && errno != EWOULDBLOCK)
			return -1;
		if (wait_fd(fd, POLLOUT, deadline) == -1)
			return -1;
	}
	return 0;
}

/*
 * Reads exactly n bytes into p, *got counting every byte of the frame read so far.  0; 1 at
 * end of stream (the caller tells a clean end from a cut); -1 with errno.  Before the frame's
 * first byte the wait ends at idle (-1: none); once it came, at *deadline, started then from
 * timeout_ms (-1: none).
 */
static int
read_full(int fd, unsigned char *p, size_t n, size_t *got, long long idle, int timeout_ms,
    long long *deadline)
{
	size_t off = 0;
	ssize_t r;

	while (off < n) {
		/* Read first (what is there is taken at once), wait only when nothing is: a
		 * socket is read without blocking whatever its mode; anything else after poll.
		 * An answer awaited (idle > 0) is not there yet: wait first. */
		if (*got == 0 && off == 0 && idle > 0 && wait_fd(fd, POLLIN, idle) == -1)
			return -1;
		r = recv(fd, p + off, n - off, MSG_DONTWAIT);
		if (r == -1 && errno == ENOTSOCK) {
			if (wait_fd(fd, POLLIN, *got == 0 ? idle : *deadline) == -1)
				return -1;
			r = read(fd, p + off, n - off);
		}
		if (r == 0)
			return 1;
		if (r == -1) {
			if (errno == EINTR)
				continue;
			if (errno != EAGAIN && errno != EWOULDBLOCK)
				return -1;
			if (wait_fd(fd, POLLIN, *got == 0 ? idle : *deadline) == -1)
				return -1;
			continue;
		}
		if (*got == 0)
			*deadline = timeout_ms < 0 ? -1 : now_ms() + timeout_ms;
		off += (size_t)r;
		*got += (size_t)r;
	}
	return 0;
}

int
frame_read(int fd, unsigned char **body, size_t *len, size_t max, int idle_ms, int timeout_ms)
{
	unsigned char hdr[4], *p;
	long long idle = idle_ms < 0 ? -1 : idle_ms == 0 ? 0 : now_ms() + idle_ms, deadline = -1;
	size_t got = 0, n;
	int r;

	r = read_full(fd, hdr, sizeof(hdr), &got, idle, timeout_ms, &deadline);
	if (r == 1 && got == 0)
		return 1;
	if (r == 1)
		errno = ECONNRESET;
	if (r != 0)
		return -1;
	n = (size_t)hdr[0] << 24 | (size_t)hdr[1] << 16 | (size_t)hdr[2] << 8 | hdr[3];
	if (n == 0 || n > max) {
		errno = EPROTO;
		return -1;
	}
	/* n is at most max, the caller's bound, never only what the peer says. */
	if ((p = malloc(n)) == NULL)
		return -1;
	r = read_full(fd, p, n, &got, idle, timeout_ms, &deadline);
	if (r != 0) {
		free(p);
		if (r == 1)
			errno = ECONNRESET;
		return -1;
	}
	*body = p;
	*len = n;
	return 0;
}
