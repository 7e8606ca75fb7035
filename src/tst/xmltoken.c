/*
 * xmltoken.c - the XML-DSig timestamp token of the SOAP protocol, built in the exact form of
 * the real SI-TSA token (tests/unit/fixtures/soap/si-tsa-token-2021.xml):
 *
 *   dsig:Signature xmlns:dsig Id="TimeStampToken"
 *     dsig:SignedInfo: CanonicalizationMethod (inclusive C14N 1.0), SignatureMethod,
 *       Reference URI="#TimeStampInfo-<HEX>" and Reference URI="#TimeStampAuthority",
 *       no Transforms
 *     dsig:SignatureValue (base64, no line breaks)
 *     dsig:KeyInfo Id="TimeStampAuthority": KeyValue/RSAKeyValue (RSA keys), X509Data
 *     dsig:Object Id="TimeStampInfo-<HEX>": ts:TimeStampInfo xmlns:ds xmlns:ts: Policy id,
 *       Digest (echoed), SerialNumber (decimal), CreationTime (UTC, ms, Z), Accuracy, Nonce
 *
 * No whitespace between elements.  The references and the signature are computed with the
 * Signature as the document root, so the token verifies once detached from the envelope, as
 * clients verify it.  Standards: XML-DSig 1.0 (xmldsig-core), Canonical XML 1.0, RFC 4051
 * (the xmldsig-more URIs for RSA-SHA-2 and ECDSA), XML-DSig 1.1 6.4.3 (ECDSA as r || s).
 * Input: only what the codec has already validated, and the signer's own certificate.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <gnutls/crypto.h>

#include "base64.h"
#include "bytes.h"
#include "hashalg.h"
#include "signer.h"
#include "strbuf.h"
#include "xmltoken.h"

#define NS_DSIG		"http://www.w3.org/2000/09/xmldsig#"
#define NS_TS		"http://www.entrust.com/schemas/timestamp-protocol-20020207"
#define C14N_URI	"http://www.w3.org/TR/2001/REC-xml-c14n-20010315"

/* The SignatureMethod of each signature GnuTLS makes for us; RSA-PSS has none here. */
static const struct {
	gnutls_sign_algorithm_t	 sign;
	const char		*uri;
	int			 ecdsa;
} sig_methods[] = {
	{ GNUTLS_SIGN_RSA_SHA1, NS_DSIG "rsa-sha1", 0 },
	{ GNUTLS_SIGN_RSA_SHA256, "http://www.w3.org/2001/04/xmldsig-more#rsa-sha256", 0 },
	{ GNUTLS_SIGN_RSA_SHA384, "http://www.w3.org/2001/04/xmldsig-more#rsa-sha384", 0 },
	{ GNUTLS_SIGN_RSA_SHA512, "http://www.w3.org/2001/04/xmldsig-more#rsa-sha512", 0 },
	{ GNUTLS_SIGN_ECDSA_SHA1, "http://www.w3.org/2001/04/xmldsig-more#ecdsa-sha1", 1 },
	{ GNUTLS_SIGN_ECDSA_SHA256, "http://www.w3.org/2001/04/xmldsig-more#ecdsa-sha256", 1 },
	{ GNUTLS_SIGN_ECDSA_SHA384, "http://www.w3.org/2001/04/xmldsig-more#ecdsa-sha384", 1 },
	{ GNUTLS_SIGN_ECDSA_SHA512, "http://www.w3.org/2001/04/xmldsig-more#ecdsa-sha512", 1 },
	{ GNUTLS_SIGN_ECDSA_SECP256R1_SHA256,
	  "http://www.w3.org/2001/04/xmldsig-more#ecdsa-sha256", 1 },
	{ GNUTLS_SIGN_ECDSA_SECP384R1_SHA384,
	  "http://www.w3.org/2001/04/xmldsig-more#ecdsa-sha384", 1 },
	{ GNUTLS_SIGN_ECDSA_SECP521R1_SHA512,
	  "http://www.w3.org/2001/04/xmldsig-more#ecdsa-sha512", 1 },
};

int
soap_token_can_sign(int gnutls_sign_algorithm)
{
	size_t i;

	for (i = 0; i < sizeof(sig_methods) / sizeof(sig_methods[0]); i++)
		if ((int)sig_methods[i].sign == gnutls_sign_algorithm)
			return 1;
	return 0;
}

/* ---- base64 ------------------------------------------------------------------------------ */

/* XML-DSig base64 (xmldsig-core 6.2.1): no line breaks when made, XML white space (XML 1.0
 * 2.3 S) passed over when read. */
char *
xml_b64_encode(const unsigned char *p, size_t len)
{
	return base64_encode(p, len, 0, NULL);
}

int
xml_b64_decode(const char *text, unsigned char *out, size_t max, size_t *outlen)
{
	return base64_decode((const unsigned char *)text, strlen(text), " \t\r\n", out, max,
	    outlen);
}

/* ---- text ------------------------------------------------------------------------------- */

/* Upper-case hex of the big-endian integer p, without leading zeros ("0" for zero). */
static void
upper_hex(const unsigned char *p, size_t len, char *out, size_t outlen)
{
	static const char hx[] = "0123456789ABCDEF";
	size_t i, o = 0;
	int started = 0;

	for (i = 0; i < len && o + 3 < outlen; i++) {
		if (started || p[i] >> 4) {
			out[o++] = hx[p[i] >> 4];
			started = 1;
		}
		if (started || (p[i] & 15)) {
			out[o++] = hx[p[i] & 15];
			started = 1;
		}
	}
	if (o == 0)
		out[o++] = '0';
	out[o] = '\0';
}

/* CryptoBinary (XML-DSig 4.0.1): big-endian, no leading zero octets. */
static char *
crypto_binary(const gnutls_datum_t *d)
{
	size_t skip = 0;

	while (skip + 1 < d->size && d->data[skip] == 0)
		skip++;
	return xml_b64_encode(d->data + skip, d->size - skip);
}

/* ---- the text, in both forms ----------------------------------------------------------- */

/*
 * Why the canonical form is written here and not computed by libxml2: the token is our own
 * text of a fixed shape, so its Canonical XML 1.0 form is known while it is written.  Building
 * the text, parsing it back, canonicalising three subtrees and dumping the tree with libxml2
 * made the XML work beside the signature cost about 105 us per P-256 token on the bench's
 * machine; written directly, about 65 (a loop over soap_token()).  Each element is written
 * in one of two forms, which differ in two points only (Canonical XML 1.0, section 2.3): the
 * canonical one (C14N), over which the digests and the signature are computed, writes an
 * empty element as a start-end tag pair and gives the apex of a subtree the dsig namespace it
 * inherits; the token's form writes <x/>, as the SI-TSA token does.  Attributes are written
 * in canonical order and every value with canonical escaping in both, so a parser reading the
 * token and canonicalising it gets the C14N form back byte for byte.  tests/unit/test_soap.c
 * checks the tokens with libxml2's C14N (xmlverify.c) and with xmlsec1, texts that need
 * escaping included.
 */
enum form { FORM_TOKEN, FORM_C14N };

/* s escaped as C14N writes text (attr 0: & < > CR) or attribute values (attr 1: & < " TAB LF
 * CR); NULL fails the buffer. */
static void
c14n_escape(struct sbuf *b, const char *s, int attr)
{
	size_t n;

	if (s == NULL) {
		b->failed = 1;
		return;
	}
	for (;; s++) {
		n = strcspn(s, attr ? "&<\"\t\n\r" : "&<>\r");
		sb_add(b, s, n);
		s += n;
		switch (*s) {
		case '\0':	return;
		case '&':	sb_str(b, "&amp;"); break;
		case '<':	sb_str(b, "&lt;"); break;
		case '>':	sb_str(b, "&gt;"); break;
		case '"':	sb_str(b, "&quot;"); break;
		case '\t':	sb_str(b, "&#x9;"); break;
		case '\n':	sb_str(b, "&#xA;"); break;
		default:	sb_str(b, "&#xD;"); break;
		}
	}
}

/* A start tag's name, or the apex of a canonical subtree with the namespace it inherits. */
static void
start(struct sbuf *b, enum form f, const char *name, int apex)
{
	sb_str(b, "<");
	sb_str(b, name);
	if (apex && f == FORM_C14N)
		sb_str(b, " xmlns:dsig=\"" NS_DSIG "\"");
}

static void
attr(struct sbuf *b, const char *name, const char *prefix, const char *value)
{
	sb_str(b, " ");
	sb_str(b, name);
	sb_str(b, "=\"");
	sb_str(b, prefix);
	c14n_escape(b, value, 1);
	sb_str(b, "\"");
}

/* The end of an element with no content, after its attributes. */
static void
end_empty(struct sbuf *b, enum form f, const char *name)
{
	if (f == FORM_TOKEN) {
		sb_str(b, "/>");
		return;
	}
	sb_str(b, "></");
	sb_str(b, name);
	sb_str(b, ">");
}

static void
text_element(struct sbuf *b, const char *name, const char *text)
{
	sb_str(b, "<");
	sb_str(b, name);
	sb_str(b, ">");
	c14n_escape(b, text, 0);
	sb_str(b, "</");
	sb_str(b, name);
	sb_str(b, ">");
}

static void
algorithm(struct sbuf *b, enum form f, const char *name, const char *uri)
{
	start(b, f, name, 0);
	attr(b, "Algorithm", "", uri);
	end_empty(b, f, name);
}

/* What the token says, apart from the digests and the signature computed over it. */
struct token_text {
	const char		*sig_uri, *hexserial;
	const struct hash_alg	*ref_hash;
	char			*modulus, *exponent;	/* RSA keys; NULL otherwise */
	char			*cert;			/* base64 */
	char			 serial[64], when[40];
	const char		*policy_oid;
	const struct tsa_opts	*opts;
	const struct tsa_echo	*echo;
};

static void
reference(struct sbuf *b, enum form f, const struct token_text *t, const char *uri_prefix,
    const char *uri, const char *digest)
{
	start(b, f, "dsig:Reference", 0);
	attr(b, "URI", uri_prefix, uri);
	sb_str(b, ">");
	algorithm(b, f, "dsig:DigestMethod", t->ref_hash->xmldsig_uri);
	text_element(b, "dsig:DigestValue", digest);
	sb_str(b, "</dsig:Reference>");
}

static void
signed_info(struct sbuf *b, enum form f, const struct token_text *t, const char *digest_object,
    const char *digest_keyinfo)
{
	start(b, f, "dsig:SignedInfo", 1);
	sb_str(b, ">");
	algorithm(b, f, "dsig:CanonicalizationMethod", C14N_URI);
	algorithm(b, f, "dsig:SignatureMethod", t->sig_uri);
	reference(b, f, t, "#TimeStampInfo-", t->hexserial, digest_object);
	reference(b, f, t, "", "#TimeStampAuthority", digest_keyinfo);
	sb_str(b, "</dsig:SignedInfo>");
}

static void
key_info(struct sbuf *b, enum form f, const struct token_text *t)
{
	start(b, f, "dsig:KeyInfo", 1);
	attr(b, "Id", "", "TimeStampAuthority");
	sb_str(b, ">");
	if (t->modulus != NULL) {
		sb_str(b, "<dsig:KeyValue><dsig:RSAKeyValue>");
		text_element(b, "dsig:Modulus", t->modulus);
		text_element(b, "dsig:Exponent", t->exponent);
		sb_str(b, "</dsig:RSAKeyValue></dsig:KeyValue>");
	}
	sb_str(b, "<dsig:X509Data>");
	text_element(b, "dsig:X509Certificate", t->cert);
	sb_str(b, "</dsig:X509Data></dsig:KeyInfo>");
}

static void
object(struct sbuf *b, enum form f, const struct token_text *t)
{
	const struct tsa_opts *o = t->opts;
	char num[16];

	start(b, f, "dsig:Object", 1);
	attr(b, "Id", "TimeStampInfo-", t->hexserial);
	sb_str(b, "><ts:TimeStampInfo xmlns:ds=\"" NS_DSIG "\" xmlns:ts=\"" NS_TS "\">");
	start(b, f, "ts:Policy", 0);
	attr(b, "id", "urn:oid:", t->policy_oid);
	end_empty(b, f, "ts:Policy");
	sb_str(b, "<ts:Digest>");
	algorithm(b, f, "ds:DigestMethod", t->echo->digest_method);
	text_element(b, "ds:DigestValue", t->echo->digest_value);
	sb_str(b, "</ts:Digest>");
	text_element(b, "ts:SerialNumber", t->serial);
	text_element(b, "ts:CreationTime", t->when);
	/* Unqualified attributes in canonical order: by name. */
	if (o != NULL && (o->acc_seconds || o->acc_millis || o->acc_micros)) {
		start(b, f, "ts:Accuracy", 0);
		if (o->acc_micros) {
			snprintf(num, sizeof(num), "%u", o->acc_micros);
			attr(b, "microseconds", "", num);
		}
		if (o->acc_millis) {
			snprintf(num, sizeof(num), "%u", o->acc_millis);
			attr(b, "milliseconds", "", num);
		}
		if (o->acc_seconds) {
			snprintf(num, sizeof(num), "%u", o->acc_seconds);
			attr(b, "seconds", "", num);
		}
		end_empty(b, f, "ts:Accuracy");
	}
	if (t->echo->has_nonce)
		text_element(b, "ts:Nonce", t->echo->nonce);
	sb_str(b, "</ts:TimeStampInfo></dsig:Object>");
}

/* The canonical form of the subtree fn writes, hashed with the references' digest into out.
 * 0 or -1. */
static int
c14n_digest(const struct token_text *t,
    void (*fn)(struct sbuf *, enum form, const struct token_text *), unsigned char *out)
{
	struct sbuf b = { NULL, 0, 0, 0 };
	int ret;

	fn(&b, FORM_C14N, t);
	ret = !b.failed && b.p != NULL &&
	    gnutls_hash_fast(t->ref_hash->gnutls, b.p, b.len, out) == 0 ? 0 : -1;
	free(b.p);
	return ret;
}

/* The signature value as XML-DSig wants it: PKCS#1 as is, ECDSA as r || s (each padded to
 * the curve's size).  Returns malloc'd base64, or NULL. */
static char *
signature_b64(const struct signer *s, const gnutls_datum_t *sig, int ecdsa)
{
	gnutls_datum_t r = { NULL, 0 }, sv = { NULL, 0 };
	unsigned char raw[2 * 66];
	size_t size = s->ec_size, rs, ss;
	char *out = NULL;

	if (!ecdsa)
		return xml_b64_encode(sig->data, sig->size);
	if (size == 0 || size * 2 > sizeof(raw) || gnutls_decode_rs_value(sig, &r, &sv) < 0)
		goto out;
	/* INTEGER contents may carry a leading zero octet, or be shorter than the curve. */
	rs = r.size;
	ss = sv.size;
	while (rs > size && r.data[r.size - rs] == 0)
		rs--;
	while (ss > size && sv.data[sv.size - ss] == 0)
		ss--;
	if (rs > size || ss > size)
		goto out;
	memset(raw, 0, sizeof(raw));
	memcpy(raw + size - rs, r.data + r.size - rs, rs);
	memcpy(raw + 2 * size - ss, sv.data + sv.size - ss, ss);
	out = xml_b64_encode(raw, 2 * size);
out:
	gnutls_free(r.data);
	gnutls_free(sv.data);
	return out;
}

/* The parts of the text computed once per token.  0, or -1. */
static int
token_text(const struct token_job *job, const struct tsa_echo *echo, struct token_text *t)
{
	const struct signer *s = job->signer;
	struct tm tm;

	t->policy_oid = job->policy_oid;
	t->opts = job->opts;
	t->echo = echo;
	if (bytes_to_decimal(job->serial, job->serial_len, t->serial, sizeof(t->serial)) == -1 ||
	    gmtime_r(&job->gen_time.tv_sec, &tm) == NULL)
		return -1;
	snprintf(t->when, sizeof(t->when), "%04d-%02d-%02dT%02d:%02d:%02d.%03ldZ",
	    tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
	    job->gen_time.tv_nsec / 1000000);
	if (s->pk == GNUTLS_PK_RSA) {
		gnutls_datum_t m = { NULL, 0 }, e = { NULL, 0 };

		if (gnutls_x509_crt_get_pk_rsa_raw(s->cert, &m, &e) < 0)
			return -1;
		t->modulus = crypto_binary(&m);
		t->exponent = crypto_binary(&e);
		gnutls_free(m.data);
		gnutls_free(e.data);
		if (t->modulus == NULL || t->exponent == NULL)
			return -1;
	}
	return (t->cert = xml_b64_encode(s->cert_der.data, s->cert_der.len)) != NULL ? 0 : -1;
}

int
soap_token_echo(const struct token_job *job, const struct tsa_echo *echo,
    unsigned char **out, size_t *outlen)
{
	const struct signer *s = job->signer;
	const struct hash_alg *ref_hash = job->opts->sig_digest != NULL ?
	    job->opts->sig_digest : s->digest;
	gnutls_sign_algorithm_t algo = signer_algorithm(s, ref_hash);
	struct token_text t;
	struct tsa_echo made;
	unsigned char dig[TSA_MAX_IMPRINT];
	char hexserial[2 * TSA_SERIAL_MAX + 8], *d_object = NULL, *d_keyinfo = NULL, *b = NULL;
	struct sbuf si = { NULL, 0, 0, 0 }, tok = { NULL, 0, 0, 0 };
	gnutls_datum_t sig = { NULL, 0 };
	int ecdsa = 0, ret = -1;
	size_t i;

	memset(&t, 0, sizeof(t));
	for (i = 0; i < sizeof(sig_methods) / sizeof(sig_methods[0]); i++)
		if (sig_methods[i].sign == algo) {
			t.sig_uri = sig_methods[i].uri;
			ecdsa = sig_methods[i].ecdsa;
		}
	if (t.sig_uri == NULL || ref_hash == NULL || ref_hash->xmldsig_uri == NULL ||
	    job->serial_len > TSA_SERIAL_MAX || job->req->hash == NULL ||
	    job->req->hash->xmldsig_uri == NULL)
		return -1;	/* RSA-PSS, or a digest XML-DSig names not: the policy's error */
	if (echo == NULL) {
		/* Canonical re-encoding of what the codec decoded. */
		memset(&made, 0, sizeof(made));
		snprintf(made.digest_method, sizeof(made.digest_method), "%s",
		    job->req->hash->xmldsig_uri);
		if ((b = xml_b64_encode(job->req->imprint, job->req->imprint_len)) == NULL)
			return -1;
		snprintf(made.digest_value, sizeof(made.digest_value), "%s", b);
		free(b);
		b = NULL;
		if (job->req->has_nonce) {
			made.has_nonce = 1;
			if (bytes_to_decimal(job->req->nonce, job->req->nonce_len, made.nonce,
			    sizeof(made.nonce)) == -1)
				return -1;
		}
		echo = &made;
	}
	upper_hex(job->serial, job->serial_len, hexserial, sizeof(hexserial));
	t.hexserial = hexserial;
	t.ref_hash = ref_hash;
	if (token_text(job, echo, &t) == -1)
		goto out;

	/* Reference 1: the whole dsig:Object; reference 2: the whole dsig:KeyInfo; then the
	 * signature over the canonical dsig:SignedInfo. */
	if (c14n_digest(&t, object, dig) == -1 ||
	    (d_object = xml_b64_encode(dig, ref_hash->len)) == NULL ||
	    c14n_digest(&t, key_info, dig) == -1 ||
	    (d_keyinfo = xml_b64_encode(dig, ref_hash->len)) == NULL)
		goto out;
	signed_info(&si, FORM_C14N, &t, d_object, d_keyinfo);
	if (si.failed || si.p == NULL ||
	    signer_sign_as(s, algo, (const unsigned char *)si.p, si.len, &sig) == -1 ||
	    (b = signature_b64(s, &sig, ecdsa)) == NULL)
		goto out;

	sb_str(&tok, "<dsig:Signature xmlns:dsig=\"" NS_DSIG "\" Id=\"TimeStampToken\">");
	signed_info(&tok, FORM_TOKEN, &t, d_object, d_keyinfo);
	text_element(&tok, "dsig:SignatureValue", b);
	key_info(&tok, FORM_TOKEN, &t);
	object(&tok, FORM_TOKEN, &t);
	sb_str(&tok, "</dsig:Signature>");
	ret = sb_done(&tok, out, outlen);
out:
	free(si.p);
	gnutls_free(sig.data);
	free(t.modulus);
	free(t.exponent);
	free(t.cert);
	free(d_object);
	free(d_keyinfo);
	free(b);
	return ret;
}

int
soap_token(const struct token_job *job, unsigned char **out, size_t *outlen)
{
	const struct tsa_echo *e = &job->req->echo;

	/* The text as the client sent it, when the request came from soap_parse(). */
	return soap_token_echo(job, e->digest_method[0] != '\0' ? e : NULL, out, outlen);
}
