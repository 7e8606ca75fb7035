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
#include <libxml/c14n.h>
#include <libxml/parser.h>
#include <libxml/tree.h>

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

/* ---- C14N ------------------------------------------------------------------------------- */

/* Visible: target and its descendants, with their attributes and namespace nodes. */
static int
in_subtree(void *user, xmlNodePtr node, xmlNodePtr parent)
{
	xmlNodePtr target = user, n;

	n = node != NULL && node->type == XML_NAMESPACE_DECL ? parent :
	    node != NULL && node->type == XML_ATTRIBUTE_NODE ? node->parent : node;
	for (; n != NULL; n = n->parent)
		if (n == target)
			return 1;
	return 0;
}

/* Inclusive C14N 1.0 of the subtree at n, hashed with h into out (h->len bytes). 0 or -1. */
static int
c14n_digest(xmlDocPtr doc, xmlNodePtr n, const struct hash_alg *h, unsigned char *out)
{
	xmlOutputBufferPtr buf = xmlAllocOutputBuffer(NULL);
	int ret = -1;

	if (buf == NULL)
		return -1;
	if (xmlC14NExecute(doc, in_subtree, n, XML_C14N_1_0, NULL, 0, buf) >= 0 &&
	    gnutls_hash_fast(h->gnutls, xmlOutputBufferGetContent(buf),
	    xmlOutputBufferGetSize(buf), out) == 0)
		ret = 0;
	xmlOutputBufferClose(buf);
	return ret;
}

static xmlNodePtr
first_element(xmlNodePtr n, const char *name)
{
	for (; n != NULL; n = n->next)
		if (n->type == XML_ELEMENT_NODE && strcmp((const char *)n->name, name) == 0)
			return n;
	return NULL;
}

/* ---- the token -------------------------------------------------------------------------- */

/* The TimeStampInfo and KeyInfo text, and the skeleton around them. NULL on failure. */
static char *
skeleton(const struct token_job *job, const struct tsa_echo *echo, const char *sig_uri,
    const struct hash_alg *ref_hash, const char *hexserial)
{
	const struct signer *s = job->signer;
	const struct tsa_opts *o = job->opts;
	struct sbuf b = { NULL, 0, 0, 0 };
	char serial[64], when[40], num[32];
	struct tm tm;

	if (bytes_to_decimal(job->serial, job->serial_len, serial, sizeof(serial)) == -1 ||
	    gmtime_r(&job->gen_time.tv_sec, &tm) == NULL)
		return NULL;
	snprintf(when, sizeof(when), "%04d-%02d-%02dT%02d:%02d:%02d.%03ldZ", tm.tm_year + 1900,
	    tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
	    job->gen_time.tv_nsec / 1000000);

	sb_str(&b, "<dsig:Signature xmlns:dsig=\"" NS_DSIG "\" Id=\"TimeStampToken\">"
	    "<dsig:SignedInfo><dsig:CanonicalizationMethod Algorithm=\"" C14N_URI "\"/>"
	    "<dsig:SignatureMethod Algorithm=\"");
	sb_str(&b, sig_uri);
	sb_str(&b, "\"/><dsig:Reference URI=\"#TimeStampInfo-");
	sb_str(&b, hexserial);
	sb_str(&b, "\"><dsig:DigestMethod Algorithm=\"");
	sb_str(&b, ref_hash->xmldsig_uri);
	sb_str(&b, "\"/><dsig:DigestValue></dsig:DigestValue></dsig:Reference>"
	    "<dsig:Reference URI=\"#TimeStampAuthority\"><dsig:DigestMethod Algorithm=\"");
	sb_str(&b, ref_hash->xmldsig_uri);
	sb_str(&b, "\"/><dsig:DigestValue></dsig:DigestValue></dsig:Reference>"
	    "</dsig:SignedInfo><dsig:SignatureValue></dsig:SignatureValue>"
	    "<dsig:KeyInfo Id=\"TimeStampAuthority\">");
	if (s->pk == GNUTLS_PK_RSA) {
		gnutls_datum_t m = { NULL, 0 }, e = { NULL, 0 };

		if (gnutls_x509_crt_get_pk_rsa_raw(s->cert, &m, &e) < 0) {
			b.failed = 1;
		} else {
			sb_str(&b, "<dsig:KeyValue><dsig:RSAKeyValue><dsig:Modulus>");
			sb_own(&b, crypto_binary(&m));
			sb_str(&b, "</dsig:Modulus><dsig:Exponent>");
			sb_own(&b, crypto_binary(&e));
			sb_str(&b, "</dsig:Exponent></dsig:RSAKeyValue></dsig:KeyValue>");
		}
		gnutls_free(m.data);
		gnutls_free(e.data);
	}
	sb_str(&b, "<dsig:X509Data><dsig:X509Certificate>");
	sb_own(&b, xml_b64_encode(s->cert_der.data, s->cert_der.len));
	sb_str(&b, "</dsig:X509Certificate></dsig:X509Data></dsig:KeyInfo>"
	    "<dsig:Object Id=\"TimeStampInfo-");
	sb_str(&b, hexserial);
	sb_str(&b, "\"><ts:TimeStampInfo xmlns:ds=\"" NS_DSIG "\" xmlns:ts=\"" NS_TS "\">"
	    "<ts:Policy id=\"urn:oid:");
	sb_esc(&b, job->policy_oid);
	sb_str(&b, "\"/><ts:Digest><ds:DigestMethod Algorithm=\"");
	sb_esc(&b, echo->digest_method);
	sb_str(&b, "\"/><ds:DigestValue>");
	sb_esc(&b, echo->digest_value);
	sb_str(&b, "</ds:DigestValue></ts:Digest><ts:SerialNumber>");
	sb_str(&b, serial);
	sb_str(&b, "</ts:SerialNumber><ts:CreationTime>");
	sb_str(&b, when);
	sb_str(&b, "</ts:CreationTime>");
	if (o != NULL && (o->acc_seconds || o->acc_millis || o->acc_micros)) {
		sb_str(&b, "<ts:Accuracy");
		if (o->acc_seconds) {
			snprintf(num, sizeof(num), " seconds=\"%u\"", o->acc_seconds);
			sb_str(&b, num);
		}
		if (o->acc_millis) {
			snprintf(num, sizeof(num), " milliseconds=\"%u\"", o->acc_millis);
			sb_str(&b, num);
		}
		if (o->acc_micros) {
			snprintf(num, sizeof(num), " microseconds=\"%u\"", o->acc_micros);
			sb_str(&b, num);
		}
		sb_str(&b, "/>");
	}
	if (echo->has_nonce) {
		sb_str(&b, "<ts:Nonce>");
		sb_esc(&b, echo->nonce);
		sb_str(&b, "</ts:Nonce>");
	}
	sb_str(&b, "</ts:TimeStampInfo></dsig:Object></dsig:Signature>");
	if (b.failed) {
		free(b.p);
		return NULL;
	}
	return b.p;
}

/* The signature value as XML-DSig wants it: PKCS#1 as is, ECDSA as r || s (each padded to
 * the curve's size).  Returns malloc'd base64, or NULL. */
static char *
signature_b64(const struct signer *s, const gnutls_datum_t *sig, int ecdsa)
{
	gnutls_datum_t r = { NULL, 0 }, sv = { NULL, 0 }, x = { NULL, 0 }, y = { NULL, 0 };
	gnutls_ecc_curve_t curve;
	unsigned char raw[2 * 66];
	size_t size, rs, ss;
	char *out = NULL;

	if (!ecdsa)
		return xml_b64_encode(sig->data, sig->size);
	if (gnutls_x509_crt_get_pk_ecc_raw(s->cert, &curve, &x, &y) < 0)
		goto out;
	size = (size_t)gnutls_ecc_curve_get_size(curve);
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
	gnutls_free(x.data);
	gnutls_free(y.data);
	gnutls_free(r.data);
	gnutls_free(sv.data);
	return out;
}

int
soap_token_echo(const struct token_job *job, const struct tsa_echo *echo,
    unsigned char **out, size_t *outlen)
{
	const struct signer *s = job->signer;
	const struct hash_alg *ref_hash = job->opts->sig_digest != NULL ?
	    job->opts->sig_digest : s->digest;
	gnutls_sign_algorithm_t algo = signer_algorithm(s, ref_hash);
	const char *sig_uri = NULL;
	struct tsa_echo made;
	unsigned char dig[TSA_MAX_IMPRINT];
	char hexserial[2 * TSA_SERIAL_MAX + 8];
	xmlNodePtr root, si, ref1, ref2, keyinfo, object, sigval;
	xmlOutputBufferPtr buf = NULL;
	xmlBufferPtr dump = NULL;
	gnutls_datum_t sig = { NULL, 0 };
	xmlDocPtr doc = NULL;
	char *text = NULL, *b = NULL;
	int ecdsa = 0, ret = -1;
	size_t i;

	for (i = 0; i < sizeof(sig_methods) / sizeof(sig_methods[0]); i++)
		if (sig_methods[i].sign == algo) {
			sig_uri = sig_methods[i].uri;
			ecdsa = sig_methods[i].ecdsa;
		}
	if (sig_uri == NULL || ref_hash == NULL || ref_hash->xmldsig_uri == NULL ||
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
	if ((text = skeleton(job, echo, sig_uri, ref_hash, hexserial)) == NULL)
		goto out;
	doc = xmlReadMemory(text, (int)strlen(text), NULL, "UTF-8",
	    XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING);
	if (doc == NULL || (root = xmlDocGetRootElement(doc)) == NULL)
		goto out;
	si = first_element(root->children, "SignedInfo");
	sigval = si != NULL ? first_element(si->next, "SignatureValue") : NULL;
	keyinfo = sigval != NULL ? first_element(sigval->next, "KeyInfo") : NULL;
	object = keyinfo != NULL ? first_element(keyinfo->next, "Object") : NULL;
	ref1 = si != NULL ? first_element(si->children, "Reference") : NULL;
	ref2 = ref1 != NULL ? first_element(ref1->next, "Reference") : NULL;
	if (object == NULL || ref2 == NULL)
		goto out;

	/* Reference 1: the whole dsig:Object; reference 2: the whole dsig:KeyInfo. */
	if (c14n_digest(doc, object, ref_hash, dig) == -1 ||
	    (b = xml_b64_encode(dig, ref_hash->len)) == NULL)
		goto out;
	xmlNodeSetContent(first_element(ref1->children, "DigestValue"), (xmlChar *)b);
	free(b);
	b = NULL;
	if (c14n_digest(doc, keyinfo, ref_hash, dig) == -1 ||
	    (b = xml_b64_encode(dig, ref_hash->len)) == NULL)
		goto out;
	xmlNodeSetContent(first_element(ref2->children, "DigestValue"), (xmlChar *)b);
	free(b);
	b = NULL;

	/* The signature over C14N(SignedInfo), xmlns:dsig inherited onto its apex. */
	if ((buf = xmlAllocOutputBuffer(NULL)) == NULL ||
	    xmlC14NExecute(doc, in_subtree, si, XML_C14N_1_0, NULL, 0, buf) < 0 ||
	    signer_sign_as(s, algo, xmlOutputBufferGetContent(buf),
	    xmlOutputBufferGetSize(buf), &sig) == -1 || (b = signature_b64(s, &sig, ecdsa)) == NULL)
		goto out;
	xmlNodeSetContent(sigval, (xmlChar *)b);

	if ((dump = xmlBufferCreate()) == NULL || xmlNodeDump(dump, doc, root, 0, 0) < 0)
		goto out;
	if ((*out = malloc((size_t)xmlBufferLength(dump))) == NULL)
		goto out;
	memcpy(*out, xmlBufferContent(dump), (size_t)xmlBufferLength(dump));
	*outlen = (size_t)xmlBufferLength(dump);
	ret = 0;
out:
	if (buf != NULL)
		xmlOutputBufferClose(buf);
	xmlBufferFree(dump);
	gnutls_free(sig.data);
	xmlFreeDoc(doc);
	free(text);
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
