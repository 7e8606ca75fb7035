/*
 * xmlverify.c - verification of XML-DSig time-stamp tokens (see xmlverify.h).  Standards:
 * XML-Signature Syntax and Processing (W3C 2008, second edition) sections 3.2 (core
 * validation), 4.1 to 4.4; Canonical XML 1.0; the TimeStampInfo of xsd/timestamp.xsd.
 *
 * Untrusted input: the token file.  It is bounded (TSA_MAX_TOKEN_FILE, by the caller),
 * parsed by libxml2 with no network and no entity substitution, refused when it has a
 * DOCTYPE, and walked by a fixed structure: an element out of place (moved, added) fails
 * the structure check even when the digests would still match.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <gnutls/gnutls.h>
#include <gnutls/abstract.h>
#include <gnutls/crypto.h>
#include <gnutls/x509.h>
#include <libxml/c14n.h>
#include <libxml/parser.h>
#include <libxml/tree.h>

#include "hashalg.h"
#include "soap.h"
#include "xmltoken.h"
#include "xmlverify.h"

#define NS_DS	"http://www.w3.org/2000/09/xmldsig#"
#define NS_TS	"http://www.entrust.com/schemas/timestamp-protocol-20020207"
#define C14N_10	"http://www.w3.org/TR/2001/REC-xml-c14n-20010315"

/* XML-DSig signature method URIs and what GnuTLS calls them. */
static const struct {
	const char		*uri;
	gnutls_sign_algorithm_t	 sign;
	int			 ecdsa;		/* SignatureValue is r || s (RFC 4050) */
} sig_methods[] = {
	{ "http://www.w3.org/2000/09/xmldsig#rsa-sha1", GNUTLS_SIGN_RSA_SHA1, 0 },
	{ "http://www.w3.org/2001/04/xmldsig-more#rsa-sha256", GNUTLS_SIGN_RSA_SHA256, 0 },
	{ "http://www.w3.org/2001/04/xmldsig-more#rsa-sha384", GNUTLS_SIGN_RSA_SHA384, 0 },
	{ "http://www.w3.org/2001/04/xmldsig-more#rsa-sha512", GNUTLS_SIGN_RSA_SHA512, 0 },
	{ "http://www.w3.org/2001/04/xmldsig-more#ecdsa-sha256", GNUTLS_SIGN_ECDSA_SHA256, 1 },
	{ "http://www.w3.org/2001/04/xmldsig-more#ecdsa-sha384", GNUTLS_SIGN_ECDSA_SHA384, 1 },
	{ "http://www.w3.org/2001/04/xmldsig-more#ecdsa-sha512", GNUTLS_SIGN_ECDSA_SHA512, 1 },
};

struct xctx {
	char		*err;
	size_t		 errlen;
	int		 failed;
};

static int
fail(struct xctx *c, const char *fmt, ...)
{
	va_list ap;

	if (!c->failed) {
		va_start(ap, fmt);
		vsnprintf(c->err, c->errlen, fmt, ap);
		va_end(ap);
		c->failed = 1;
	}
	return -1;
}

int
xml_token_sniff(const unsigned char *p, size_t len)
{
	return soap_sniff(p, len);
}

static int
is_el(const xmlNode *n, const char *ns, const char *name)
{
	return n != NULL && n->type == XML_ELEMENT_NODE && n->ns != NULL &&
	    strcmp((const char *)n->ns->href, ns) == 0 && strcmp((const char *)n->name, name) == 0;
}

/* The next element sibling from n (n itself when it is one); text other than whitespace,
 * or anything but comments, makes the structure wrong: returns NULL and sets *bad. */
static xmlNode *
next_el(xmlNode *n, int *bad)
{
	for (; n != NULL; n = n->next) {
		if (n->type == XML_ELEMENT_NODE)
			return n;
		if (n->type == XML_TEXT_NODE) {
			const xmlChar *t;

			for (t = n->content; t != NULL && *t != '\0'; t++)
				if (*t != ' ' && *t != '\t' && *t != '\n' && *t != '\r')
					*bad = 1;
		} else if (n->type != XML_COMMENT_NODE)
			*bad = 1;
	}
	return NULL;
}

/* Expects the element children of parent to be exactly names[] in ns (NULL-terminated;
 * a name starting with '?' is optional), into out[]. */
static int
children(struct xctx *c, xmlNode *parent, const char *ns, const char *const *names,
    xmlNode **out, const char *rule)
{
	xmlNode *n;
	int bad = 0, i;

	n = next_el(parent->children, &bad);
	for (i = 0; names[i] != NULL; i++) {
		int opt = names[i][0] == '?';

		out[i] = NULL;
		if (is_el(n, ns, names[i] + opt)) {
			out[i] = n;
			n = next_el(n->next, &bad);
		} else if (!opt)
			return fail(c, "%s: %s expected in %s", rule, names[i], parent->name);
	}
	if (n != NULL || bad)
		return fail(c, "%s: unexpected content in %s", rule, parent->name);
	return 0;
}

static void
text_of(const xmlNode *n, char *out, size_t outlen)
{
	xmlChar *t = n != NULL ? xmlNodeGetContent(n) : NULL;

	snprintf(out, outlen, "%s", t != NULL ? (const char *)t : "");
	xmlFree(t);
}

static void
attr_of(xmlNode *n, const char *name, char *out, size_t outlen)
{
	xmlChar *t = n != NULL ? xmlGetNoNsProp(n, (const xmlChar *)name) : NULL;

	snprintf(out, outlen, "%s", t != NULL ? (const char *)t : "");
	xmlFree(t);
}

/* C14N visibility: the node lies in the subtree of user (namespace nodes by their element). */
static int
in_subtree(void *user, xmlNodePtr node, xmlNodePtr parent)
{
	const xmlNode *n;

	if (node == NULL)
		return 0;
	n = node->type == XML_NAMESPACE_DECL ? parent : node;
	for (; n != NULL; n = n->parent)
		if (n == (const xmlNode *)user)
			return 1;
	return 0;
}

/* Inclusive C14N 1.0 of the subtree at top, hashed with alg into out. */
static int
c14n_digest(struct xctx *c, xmlDoc *doc, xmlNode *top, gnutls_digest_algorithm_t alg,
    unsigned char *out, gnutls_datum_t *keep)
{
	xmlOutputBufferPtr buf = xmlAllocOutputBuffer(NULL);
	int rc = -1;

	if (buf == NULL)
		return fail(c, "out of memory");
	if (xmlC14NExecute(doc, in_subtree, top, XML_C14N_1_0, NULL, 0, buf) < 0) {
		fail(c, "C14N of %s failed", top->name);
		goto out;
	}
	if (out != NULL && gnutls_hash_fast(alg, xmlOutputBufferGetContent(buf),
	    xmlOutputBufferGetSize(buf), out) != 0) {
		fail(c, "digest failed");
		goto out;
	}
	if (keep != NULL) {
		keep->size = (unsigned)xmlOutputBufferGetSize(buf);
		if ((keep->data = gnutls_malloc(keep->size + 1)) == NULL) {
			fail(c, "out of memory");
			goto out;
		}
		memcpy(keep->data, xmlOutputBufferGetContent(buf), keep->size);
	}
	rc = 0;
out:
	xmlOutputBufferClose(buf);
	return rc;
}

static const struct hash_alg *
digest_by_uri(const char *uri)
{
	const struct hash_alg *t;
	size_t i, n;

	t = hash_table(&n);
	for (i = 0; i < n; i++)
		if (t[i].xmldsig_uri != NULL && strcmp(t[i].xmldsig_uri, uri) == 0)
			return &t[i];
	return NULL;
}

/* XML-DSig 3.2.1: the Reference's digest over the C14N of the element it names, which must
 * be a child of this Signature with that Id (refs to anything else are refused). */
static int
check_reference(struct xctx *c, xmlDoc *doc, xmlNode *ref, xmlNode *const *targets,
    size_t ntargets)
{
	static const char *const names[] = { "DigestMethod", "DigestValue", NULL };
	xmlNode *kids[2], *target = NULL;
	char uri[TSA_MAX_XML_URI + 2], alg[TSA_MAX_XML_URI + 1], value[TSA_MAX_XML_DIGEST_TEXT + 1];
	unsigned char want[TSA_MAX_IMPRINT], got[TSA_MAX_IMPRINT];
	const struct hash_alg *h;
	size_t i, want_len;

	if (children(c, ref, NS_DS, names, kids, "XML-DSig 4.3 (no Transforms)") == -1)
		return -1;
	attr_of(ref, "URI", uri, sizeof(uri));
	if (uri[0] != '#')
		return fail(c, "XML-DSig 4.3.3.2: Reference URI '%s' is not a same-document Id", uri);
	for (i = 0; i < ntargets; i++) {
		char id[TSA_MAX_XML_URI + 2];

		attr_of(targets[i], "Id", id, sizeof(id));
		if (strcmp(id, uri + 1) == 0)
			target = targets[i];
	}
	if (target == NULL)
		return fail(c, "Reference %s names no KeyInfo or Object of this Signature", uri);
	attr_of(kids[0], "Algorithm", alg, sizeof(alg));
	if ((h = digest_by_uri(alg)) == NULL)
		return fail(c, "Reference %s: unknown DigestMethod %s", uri, alg);
	text_of(kids[1], value, sizeof(value));
	if (xml_b64_decode(value, want, sizeof(want), &want_len) == -1 || want_len != h->len)
		return fail(c, "Reference %s: DigestValue is not a %s digest", uri, h->name);
	if (c14n_digest(c, doc, target, h->gnutls, got, NULL) == -1)
		return -1;
	if (memcmp(want, got, h->len) != 0)
		return fail(c, "XML-DSig 3.2.1: the digest of %s does not match its Reference", uri);
	return 0;
}

/* The TimeStampInfo in the Object, in the order of xsd/timestamp.xsd, into r. */
static int
read_info(struct xctx *c, xmlNode *object, struct xmlverify_result *r)
{
	static const char *const top[] = { "TimeStampInfo", NULL };
	static const char *const names[] = { "Policy", "Digest", "SerialNumber", "CreationTime",
	    "?Accuracy", "?Nonce", NULL };
	static const char *const dnames[] = { "DigestMethod", "DigestValue", NULL };
	xmlNode *info[1], *f[6], *d[2];

	if (children(c, object, NS_TS, top, info, "the Object holds one ts:TimeStampInfo") == -1 ||
	    children(c, info[0], NS_TS, names, f, "xsd/timestamp.xsd TimeStampInfo") == -1 ||
	    children(c, f[1], NS_DS, dnames, d, "xsd/timestamp.xsd Digest") == -1)
		return -1;
	attr_of(f[0], "id", r->policy, sizeof(r->policy));
	attr_of(d[0], "Algorithm", r->digest_method, sizeof(r->digest_method));
	text_of(d[1], r->digest_value, sizeof(r->digest_value));
	text_of(f[2], r->serial, sizeof(r->serial));
	text_of(f[3], r->creation_time, sizeof(r->creation_time));
	attr_of(f[4], "milliseconds", r->accuracy, sizeof(r->accuracy));
	text_of(f[5], r->nonce, sizeof(r->nonce));
	r->has_info = 1;
	return 0;
}

/* CreationTime (YYYY-MM-DDThh:mm:ss[.fff]Z) as seconds since the epoch, or -1. */
static time_t
creation_time(const char *s)
{
	struct tm tm;
	const char *end;

	memset(&tm, 0, sizeof(tm));
	if ((end = strptime(s, "%Y-%m-%dT%H:%M:%S", &tm)) == NULL)
		return -1;
	if (*end == '.')
		for (end++; *end >= '0' && *end <= '9'; end++)
			;
	if (strcmp(end, "Z") != 0)
		return -1;
	return timegm(&tm);
}

/* The first KeyInfo X509Certificate, and the others as untrusted intermediates. */
static int
load_certs(struct xctx *c, xmlNode *keyinfo, gnutls_x509_crt_t *list, unsigned *n)
{
	xmlNode *x, *cert;
	unsigned char *der;
	gnutls_datum_t d;
	size_t len;

	*n = 0;
	for (x = keyinfo->children; x != NULL; x = x->next) {
		if (!is_el(x, NS_DS, "X509Data"))
			continue;
		for (cert = x->children; cert != NULL; cert = cert->next) {
			char *text;

			if (!is_el(cert, NS_DS, "X509Certificate"))
				continue;
			if (*n == TSA_MAX_CHAIN)
				return fail(c, "more than %d certificates in KeyInfo", TSA_MAX_CHAIN);
			text = (char *)xmlNodeGetContent(cert);
			if (text == NULL || (der = malloc(strlen(text))) == NULL) {
				xmlFree(text);
				return fail(c, "out of memory");
			}
			if (xml_b64_decode(text, der, strlen(text), &len) == -1 ||
			    gnutls_x509_crt_init(&list[*n]) != 0) {
				xmlFree(text);
				free(der);
				return fail(c, "KeyInfo: X509Certificate is not base64");
			}
			xmlFree(text);
			d.data = der;
			d.size = (unsigned)len;
			if (gnutls_x509_crt_import(list[*n], &d, GNUTLS_X509_FMT_DER) != 0) {
				gnutls_x509_crt_deinit(list[*n]);
				free(der);
				return fail(c, "KeyInfo: X509Certificate is not a certificate");
			}
			free(der);
			(*n)++;
		}
	}
	if (*n == 0)
		return fail(c, "KeyInfo holds no X509Certificate: no key to verify with");
	return 0;
}

/* XML-DSig 3.2.2: SignatureValue over the C14N of SignedInfo with the certificate's key. */
static int
check_signature(struct xctx *c, xmlDoc *doc, xmlNode *signed_info, xmlNode *value,
    const char *method, gnutls_x509_crt_t crt)
{
	gnutls_pubkey_t pub = NULL;
	gnutls_datum_t data = { NULL, 0 }, sig = { NULL, 0 }, r, s;
	unsigned char raw[1024];
	size_t raw_len, i;
	char *text;
	int rc = -1, ret;

	for (i = 0; i < sizeof(sig_methods) / sizeof(sig_methods[0]); i++)
		if (strcmp(sig_methods[i].uri, method) == 0)
			break;
	if (i == sizeof(sig_methods) / sizeof(sig_methods[0]))
		return fail(c, "unknown SignatureMethod %s", method);
	text = (char *)xmlNodeGetContent(value);
	if (text == NULL || xml_b64_decode(text, raw, sizeof(raw), &raw_len) == -1) {
		xmlFree(text);
		return fail(c, "SignatureValue is not base64 (or longer than %zu bytes)",
		    sizeof(raw));
	}
	xmlFree(text);
	if (c14n_digest(c, doc, signed_info, GNUTLS_DIG_UNKNOWN, NULL, &data) == -1)
		return -1;
	if (sig_methods[i].ecdsa) {
		if (raw_len == 0 || raw_len % 2 != 0) {
			fail(c, "RFC 4050: an ECDSA SignatureValue is r || s of equal lengths");
			goto out;
		}
		r.data = raw;
		r.size = (unsigned)(raw_len / 2);
		s.data = raw + raw_len / 2;
		s.size = r.size;
		if (gnutls_encode_rs_value(&sig, &r, &s) != 0) {
			fail(c, "out of memory");
			goto out;
		}
	} else {
		sig.data = gnutls_malloc(raw_len);
		if (sig.data == NULL) {
			fail(c, "out of memory");
			goto out;
		}
		memcpy(sig.data, raw, raw_len);
		sig.size = (unsigned)raw_len;
	}
	if (gnutls_pubkey_init(&pub) != 0 || gnutls_pubkey_import_x509(pub, crt, 0) != 0) {
		fail(c, "the certificate's key cannot be read");
		goto out;
	}
	ret = gnutls_pubkey_verify_data2(pub, sig_methods[i].sign,
	    GNUTLS_VERIFY_ALLOW_SIGN_WITH_SHA1, &data, &sig);
	if (ret < 0) {
		fail(c, "XML-DSig 3.2.2: SignatureValue does not verify over SignedInfo (%s)",
		    gnutls_strerror(ret));
		goto out;
	}
	rc = 0;
out:
	gnutls_pubkey_deinit(pub);
	gnutls_free(data.data);
	gnutls_free(sig.data);
	return rc;
}

/* The signer's chain to ca_file, at CreationTime (the token may outlive its certificate). */
static int
check_chain(struct xctx *c, const char *ca_file, gnutls_x509_crt_t *list, unsigned n,
    time_t when)
{
	gnutls_x509_trust_list_t tl = NULL;
	unsigned status = 0;
	int rc = -1, ret;

	if (gnutls_x509_trust_list_init(&tl, 0) != 0)
		return fail(c, "out of memory");
	if ((ret = gnutls_x509_trust_list_add_trust_file(tl, ca_file, NULL, GNUTLS_X509_FMT_PEM,
	    0, 0)) <= 0) {
		fail(c, "no CA certificate in %s", ca_file);
		goto out;
	}
	ret = gnutls_x509_trust_list_verify_crt(tl, list, n,
	    GNUTLS_VERIFY_DISABLE_TIME_CHECKS | GNUTLS_VERIFY_DISABLE_TRUSTED_TIME_CHECKS |
	    GNUTLS_VERIFY_ALLOW_SIGN_WITH_SHA1, &status, NULL);
	if (ret < 0 || status != 0) {
		fail(c, "RFC 5280 6.1: the signer's chain does not verify to %s", ca_file);
		goto out;
	}
	if (when == (time_t)-1 || when < gnutls_x509_crt_get_activation_time(list[0]) ||
	    when > gnutls_x509_crt_get_expiration_time(list[0])) {
		fail(c, "the signer certificate is not valid at CreationTime");
		goto out;
	}
	rc = 0;
out:
	gnutls_x509_trust_list_deinit(tl, 1);
	return rc;
}

int
xml_token_verify(const unsigned char *p, size_t len, const char *ca_file,
    struct xmlverify_result *r, char *err, size_t errlen)
{
	static const char *const sig_names[] = { "SignedInfo", "SignatureValue", "KeyInfo",
	    "Object", NULL };
	static const char *const si_names[] = { "CanonicalizationMethod", "SignatureMethod",
	    "Reference", "Reference", NULL };
	struct xctx c = { err, errlen, 0 };
	gnutls_x509_crt_t certs[TSA_MAX_CHAIN];
	unsigned ncerts = 0, i;
	xmlDoc *doc = NULL;
	xmlNode *sig, *s[4], *si[4], *targets[2];
	char id[32], alg[TSA_MAX_XML_URI + 1];
	gnutls_datum_t dn = { NULL, 0 };
	int rc = -1;

	memset(r, 0, sizeof(*r));
	r->ca_given = ca_file != NULL;
	if (len > TSA_MAX_TOKEN_FILE || len > 0x7fffffff)
		return fail(&c, "token larger than %d bytes", TSA_MAX_TOKEN_FILE);
	doc = xmlReadMemory((const char *)p, (int)len, "token.xml", NULL,
	    XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING);
	if (doc == NULL) {
		fail(&c, "not well-formed XML");
		goto out;
	}
	if (doc->intSubset != NULL || doc->extSubset != NULL) {
		fail(&c, "a DOCTYPE is not accepted");
		goto out;
	}
	/* The token alone, or in a SOAP response: the one dsig:Signature Id="TimeStampToken". */
	sig = xmlDocGetRootElement(doc);
	if (!is_el(sig, NS_DS, "Signature")) {
		xmlNode *n = sig, *found = NULL;
		int count = 0;

		/* Depth-first walk for ds:Signature elements. */
		while (n != NULL) {
			if (is_el(n, NS_DS, "Signature")) {
				found = n;
				count++;
			} else if (n->children != NULL) {
				n = n->children;
				continue;
			}
			while (n != NULL && n->next == NULL)
				n = n->parent;
			if (n != NULL)
				n = n->next;
		}
		if (count != 1) {
			fail(&c, "not one dsig:Signature in the document (%d)", count);
			goto out;
		}
		sig = found;
	}
	attr_of(sig, "Id", id, sizeof(id));
	if (strcmp(id, "TimeStampToken") != 0) {
		fail(&c, "the dsig:Signature is not Id=\"TimeStampToken\"");
		goto out;
	}
	if (children(&c, sig, NS_DS, sig_names, s, "XML-DSig 4.1 and the SI-TSA token") == -1 ||
	    children(&c, s[0], NS_DS, si_names, si, "XML-DSig 4.3 and the SI-TSA token") == -1)
		goto out;
	attr_of(si[0], "Algorithm", alg, sizeof(alg));
	if (strcmp(alg, C14N_10) != 0) {
		fail(&c, "CanonicalizationMethod %s is not inclusive C14N 1.0", alg);
		goto out;
	}
	attr_of(si[1], "Algorithm", r->signature_method, sizeof(r->signature_method));
	if (read_info(&c, s[3], r) == -1)
		goto out;
	targets[0] = s[2];
	targets[1] = s[3];
	if (check_reference(&c, doc, si[2], targets, 2) == -1 ||
	    check_reference(&c, doc, si[3], targets, 2) == -1)
		goto out;
	{
		char a[TSA_MAX_XML_URI + 2], b[TSA_MAX_XML_URI + 2];

		attr_of(si[2], "URI", a, sizeof(a));
		attr_of(si[3], "URI", b, sizeof(b));
		if (strcmp(a, b) == 0) {
			fail(&c, "the two References name the same element");
			goto out;
		}
	}
	if (load_certs(&c, s[2], certs, &ncerts) == -1)
		goto out;
	if (gnutls_x509_crt_get_dn3(certs[0], &dn, 0) == 0) {
		snprintf(r->signer_subject, sizeof(r->signer_subject), "%s", (char *)dn.data);
		gnutls_free(dn.data);
	}
	if (check_signature(&c, doc, s[0], s[1], r->signature_method, certs[0]) == -1)
		goto out;
	if (ca_file != NULL) {
		if (check_chain(&c, ca_file, certs, ncerts, creation_time(r->creation_time)) == -1)
			goto out;
		r->chain_verified = 1;
	}
	rc = 0;
out:
	for (i = 0; i < ncerts; i++)
		gnutls_x509_crt_deinit(certs[i]);
	xmlFreeDoc(doc);
	return rc;
}

void
xml_token_print(FILE *f, const struct xmlverify_result *r)
{
	fprintf(f, "format: XML-DSig time-stamp token (SOAP/XML)\n");
	if (r->has_info) {
		fprintf(f, "policy: %s\n", r->policy);
		fprintf(f, "digest method: %s\n", r->digest_method);
		fprintf(f, "digest value: %s\n", r->digest_value);
		fprintf(f, "serial: %s\n", r->serial);
		fprintf(f, "creation time: %s\n", r->creation_time);
		if (r->accuracy[0] != '\0')
			fprintf(f, "accuracy: %s ms\n", r->accuracy);
		if (r->nonce[0] != '\0')
			fprintf(f, "nonce: %s\n", r->nonce);
	}
	if (r->signature_method[0] != '\0')
		fprintf(f, "signature method: %s\n", r->signature_method);
	if (r->signer_subject[0] != '\0')
		fprintf(f, "signer: %s\n", r->signer_subject);
	fprintf(f, "chain: %s\n", r->chain_verified ? "verified" :
	    r->ca_given ? "NOT verified (failed)" : "NOT verified (no --ca given)");
}
