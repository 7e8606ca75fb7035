/*
 * verify_int.h - what the files of the RFC 3161 verifier (src/tst/verify*.c) share, private
 * to them: the verification context and the helpers every check uses.  tst_verify in
 * verify.c runs the checks in the order verify.h lists; each returns 0, or -1 with the
 * rule it found broken written by vfy_fail.
 *
 * Ownership: the context owns the decoded structures (sdn, tstn), the certificates it
 * imported (tok, ca, extra), ca_pem and signer_export, all freed by tst_verify; the DER
 * pointers are spans of the caller's buffer; signer is one of tok, extra or ca.
 */
#ifndef TSA_VERIFY_INT_H
#define TSA_VERIFY_INT_H

#include <stddef.h>
#include <time.h>
#include <gnutls/gnutls.h>
#include <gnutls/x509.h>

#include "asn1.h"
#include "hashalg.h"
#include "tsa_limits.h"
#include "verify.h"

struct vctx {
	const struct verify_opts *o;
	struct verify_result	*r;
	char			*err;
	size_t			 errlen;

	asn1_node		 sdn;		/* SignedData */
	const unsigned char	*sd;		/* its DER, inside the caller's buffer */
	size_t			 sd_len;
	asn1_node		 tstn;		/* TSTInfo */
	const unsigned char	*econtent;	/* the TSTInfo octets (eContent) */
	size_t			 econtent_len;
	const struct hash_alg	*digest;	/* SignerInfo digestAlgorithm */
	const struct hash_alg	*imprint_hash;
	unsigned char		 imprint[TSA_MAX_IMPRINT];
	size_t			 imprint_len;

	gnutls_x509_crt_t	 tok[TSA_MAX_CHAIN + 1];	/* certificates in the token */
	const unsigned char	*tok_der[TSA_MAX_CHAIN + 1];
	size_t			 tok_len[TSA_MAX_CHAIN + 1];
	size_t			 n_tok;
	gnutls_x509_crt_t	*ca;		/* the CA file */
	unsigned		 n_ca;
	gnutls_datum_t		 ca_pem;
	gnutls_x509_crt_t	*extra;		/* the --untrusted file */
	unsigned		 n_extra;

	gnutls_x509_crt_t	 signer;	/* one of the above, not owned here */
	const unsigned char	*signer_der;
	size_t			 signer_der_len;
	gnutls_datum_t		 signer_export;	/* signer_der when it came from a file */
};

/* verify.c: the shared helpers. */
/* Sets the error message; returns -1 so that callers can `return vfy_fail(...)`. */
int	vfy_fail(struct vctx *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Untrusted text into dst for display, controls escaped as \xNN; truncates. */
void	vfy_copy_text(char *dst, size_t dstlen, const unsigned char *s, size_t n);
void	vfy_format_time(time_t t, char *out, size_t outlen);
/* A non-negative INTEGER field that fits 32 bits.  0, 1 when absent, -1 when not. */
int	vfy_read_uint(asn1_node n, const char *field, unsigned long *v);
/* Two INTEGER contents compared as non-negative values: 1 when equal. */
int	vfy_same_uint(const unsigned char *a, size_t alen, const unsigned char *b, size_t blen);
/* Number of elements of a SET OF / SEQUENCE OF field, at most max.  0 or -1. */
int	vfy_count_elements(struct vctx *c, asn1_node n, const char *field, const char *what,
	    int max, int *count);
/* An AlgorithmIdentifier's parameters must be absent or NULL (RFC 5754 2).  0 or -1. */
int	vfy_params_absent_or_null(struct vctx *c, asn1_node n, const unsigned char *der,
	    size_t derlen, const char *field, const char *what);

/* verify_sd.c: ContentInfo and SignedData, the signed attributes, the signature. */
int	vfy_check_signed_data(struct vctx *c, const unsigned char *tok, size_t toklen);
/* The single value of signed attribute idx decoded as type into *out (caller deletes). */
int	vfy_attr_value(struct vctx *c, int idx, const char *type, const char *what,
	    asn1_node *out);
int	vfy_check_signed_attrs(struct vctx *c);
int	vfy_check_signature(struct vctx *c);

/* verify_tstinfo.c: the TSTInfo, into c->tstn, c->imprint and c->r. */
int	vfy_parse_tstinfo(struct vctx *c);

/* verify_ess.c: signingCertificate (version 1) or -V2 (2), signed attribute idx. */
int	vfy_check_ess(struct vctx *c, int version, int idx);

/* verify_chain.c: the certificates, the signer, its profile, its chain at genTime. */
int	vfy_load_certs(struct vctx *c);
int	vfy_find_signer(struct vctx *c);
int	vfy_check_signer_cert(struct vctx *c);
int	vfy_check_chain(struct vctx *c);

#endif
