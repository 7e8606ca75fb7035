/*
 * order.h - the order protocol between a worker (or tsactl) and the host's signing process
 * (tsa-signer): what a worker may ask and what the signer answers, over a local stream socket.
 *
 * The worker names only what the request carries (protocol, hash algorithm and imprint,
 * nonce, requested policy, certReq, extensions, the SOAP text to echo, Authenticode's
 * signature bytes to countersign) and what it selected (service, policy, configuration
 * version), plus what the archive row keeps about the requester.  Everything else a token
 * says (time, serial, policy options, unit) the signer decides from its own clock and its own
 * copy of the configuration.
 *
 * Wire format, fixed and small (all integers big-endian, no padding):
 *   frame    := u32 length, then length bytes of body (1 .. ORDER_MAX_FRAME)
 *   str      := u16 n, n bytes (no NUL, n below the field's buffer size)
 *   bytes    := u16 n, n bytes (n within the field's bound)
 *   bigbytes := u32 n, n bytes
 * Order body:   u8 ORDER_VERSION, u8 type, then
 *   ORDER_SIGN:   i64 config_version, i64 service_id, i64 policy_id, u8 protocol,
 *                 str hash_oid, u8 hash_null_params, bytes imprint, u8 has_nonce,
 *                 bytes nonce, u8 has_req_policy, str req_policy, u8 cert_req,
 *                 u8 n_ext, n_ext × (str oid, u8 critical),
 *                 str echo.digest_method, str echo.digest_value, u8 echo.has_nonce,
 *                 str echo.nonce, bytes signature, str requester, str client_identity,
 *                 bigbytes request (the body as received, kept when the policy archives it)
 *   ORDER_STATUS: u8 test_sign
 *   ORDER_TREE_HEAD: u64 tree_size, 32 bytes root hash (the token log's integrator only)
 * Answer body:  u8 ORDER_VERSION, u8 type, then
 *   ANSWER_GRANTED: str signer, bigbytes token
 *   ANSWER_REFUSED: u8 fail (enum tsa_fail), u8 sign_failed, str signer, str text, str detail
 *   ANSWER_STATUS:  u16 n, n × (i64 id, str name, u8 state, str reason)
 *   ANSWER_TREE_HEAD: u64 timestamp (ms, the signer's clock), str key_id (hex SHA-256 of
 *                   the log key's SubjectPublicKeyInfo), bytes signature (1..1024)
 * Booleans are 0 or 1; enums within their range; hash_oid, req_policy and an extension's
 * oid are dotted decimal; imprint and a granted token are never empty; nonce, req_policy and
 * echo.nonce are empty exactly when has_nonce, has_req_policy and echo.has_nonce are 0
 * (signature and request may be empty: NULL once decoded); nothing may follow the last
 * field.  A decoder refuses anything else with a reason: the peer is not trusted by the
 * signer, and the signer's answers are bounded the same way for the worker.
 */
#ifndef TSA_ORDER_H
#define TSA_ORDER_H

#include <stddef.h>
#include <stdint.h>

#include "request.h"

#define ORDER_VERSION		1
/* A frame holds at most one request body (TSA_MAX_BODY_CEILING) and the fixed fields. */
#define ORDER_MAX_FRAME		(TSA_MAX_BODY_CEILING + 8192)
#define ORDER_MAX_NAME		64	/* a signer's name, with its NUL */
#define ORDER_MAX_IDENTITY	1024	/* the client's registered name or TLS subject */
#define ORDER_MAX_TEXT		128	/* a refusal's text shown to the client */
#define ORDER_MAX_DETAIL	256	/* a refusal's detail for the log and events */
#define ORDER_MAX_UNITS		64
/* The text of a refusal that says: the policy named is not in the signer's configuration,
 * which is newer than the order's: the worker loads the newer one and chooses again. */
#define ORDER_TEXT_STALE	"the configuration changed: choose the policy again"

enum order_type {
	ORDER_SIGN = 1,		/* issue a token for this request under this policy */
	ORDER_STATUS = 2,	/* the state of each unit (signer) the configuration uses */
	ORDER_TREE_HEAD = 3,	/* sign the token log's tree head (tlog.h) with the log key */
};

#define ORDER_ROOT_LEN		32	/* a tree head's SHA-256 root */
#define ORDER_MAX_KEY_ID	65	/* hex SHA-256, with its NUL */
#define ORDER_MAX_SIGNATURE	1024

struct order {
	enum order_type		 type;
	/* ORDER_SIGN */
	long long		 config_version;	/* the worker's; the signer loads a newer one */
	long long		 service_id;
	long long		 policy_id;
	/* The request as parsed; req.hash is looked up from req.hash_oid by the decoder (NULL
	 * when unknown); req.signature points into the decoded frame (never freed). */
	struct tsa_request	 req;
	char			 requester[TSA_MAX_PEER_TEXT];
	char			 client_identity[ORDER_MAX_IDENTITY];
	const unsigned char	*request;		/* into the frame; NULL when empty */
	size_t			 request_len;
	/* ORDER_STATUS */
	int			 test_sign;	/* a test signature for a unit whose last failed */
	/* ORDER_TREE_HEAD */
	uint64_t		 tree_size;
	unsigned char		 root[ORDER_ROOT_LEN];
};

enum answer_type {
	ANSWER_GRANTED = 1,	/* signed and recorded: the token */
	ANSWER_REFUSED = 2,
	ANSWER_STATUS = 3,
	ANSWER_TREE_HEAD = 4,	/* the tree head signed: its time, the key, the signature */
};

/* A unit's key, as its owner (the signer) sees it. */
enum unit_state {
	UNIT_USABLE = 0,
	UNIT_OPENING = 1,	/* not tried yet */
	UNIT_RETRYING = 2,	/* the key did not open: tried again, at most once a second */
	UNIT_REFUSED = 3,	/* refused for good until its configuration changes: reason */
};

struct unit_status {
	long long		 id;
	char			 name[ORDER_MAX_NAME];
	enum unit_state		 state;
	char			 reason[ORDER_MAX_DETAIL];
};

struct signer_answer {
	enum answer_type	 type;
	char			 signer[ORDER_MAX_NAME];	/* the unit that signed, or was to */
	/* ANSWER_GRANTED: into the decoded frame. */
	const unsigned char	*token;
	size_t			 token_len;
	/* ANSWER_REFUSED */
	enum tsa_fail		 fail;
	int			 sign_failed;	/* a signature was attempted and failed */
	char			 text[ORDER_MAX_TEXT];
	char			 detail[ORDER_MAX_DETAIL];
	/* ANSWER_TREE_HEAD (signature: into the decoded frame) */
	uint64_t		 timestamp;
	char			 key_id[ORDER_MAX_KEY_ID];
	const unsigned char	*signature;
	size_t			 signature_len;
	/* ANSWER_STATUS (last: decoded only as far as n_units) */
	size_t			 n_units;
	struct unit_status	 units[ORDER_MAX_UNITS];
};

/* The body of one frame (without the length prefix), malloc'd into *out.  0, or -1 when a
 * field exceeds its bound or out of memory. */
int	order_encode(const struct order *o, unsigned char **out, size_t *len);
int	answer_encode(const struct signer_answer *a, unsigned char **out, size_t *len);

/* Decodes one frame body; pointers in the result point into body.  0, or -1 with why (a
 * static text naming the first fault). */
int	order_decode(const unsigned char *body, size_t len, struct order *o, const char **why);
int	answer_decode(const unsigned char *body, size_t len, struct signer_answer *a,
	    const char **why);

/* Writes one frame (length prefix and body) to fd, waiting at most timeout_ms in all.
 * 0, or -1 (errno: ETIMEDOUT when the peer did not take it in time). */
int	frame_write(int fd, const unsigned char *body, size_t len, int timeout_ms);
/*
 * Reads one frame from fd into *body (malloc'd, the caller's), waiting at most timeout_ms in
 * all once its first byte came (idle_ms before it: -1 waits for ever).  0 with the body; 1 at
 * a clean end of stream before a frame; -1 on error (errno: ETIMEDOUT, EPROTO for a length
 * outside 1..max, ECONNRESET for a stream cut inside a frame).
 */
int	frame_read(int fd, unsigned char **body, size_t *len, size_t max, int idle_ms,
	    int timeout_ms);

const char	*unit_state_name(enum unit_state s);

#endif
