/*
 * der.h - a strict DER (X.690 section 10 and 11) gate for untrusted bytes, run before libtasn1
 * sees them.  libtasn1's ASN1_DECODE_FLAG_STRICT_DER refuses indefinite lengths, but accepts
 * non-minimal lengths and integers, BOOLEANs other than 00/FF, constructed string forms and
 * unused BIT STRING bits; each of those lets two encodings mean one value, which a signature
 * verifier may see differently.  This walker refuses them all, bounded in depth and length.
 */
#ifndef TSA_DER_H
#define TSA_DER_H

#include <stddef.h>

/*
 * Checks that p[0..len) is exactly one DER TLV, strictly encoded at every depth.
 * Returns 0, or -1 with *why set to a static message naming the X.690 rule broken.
 */
int	der_check(const unsigned char *p, size_t len, const char **why);

/* Length of the first TLV in p (header and contents), or 0 if p does not start with one. */
size_t	der_tlv_len(const unsigned char *p, size_t len);

/*
 * A DER writer for what the TSA builds itself from known parts (cms.c): values are appended
 * in order and a constructed value is closed once its contents are written.  Errors stick:
 * after the first failure (no memory, a malformed OID, a SET of too many elements, more than
 * TSA_MAX_TOKEN_FILE bytes) every call does nothing and der_out_finish returns -1.
 * Ownership: der_out_finish hands the buffer to the caller (free()), or frees it on failure.
 */
struct der_out {
	unsigned char	*p;
	size_t		 len;
	size_t		 cap;
	int		 failed;
};

void	der_out_init(struct der_out *o);
/* Bytes that are already DER (a certificate, a Name, a cached value). */
void	der_out_raw(struct der_out *o, const void *p, size_t len);
/* One primitive value: tag (one identifier octet), length, contents. */
void	der_out_tlv(struct der_out *o, unsigned char tag, const void *p, size_t len);
/* INTEGER from big-endian two's complement bytes, redundant leading octets dropped (as
 * libtasn1 writes it; X.690 8.3.2). */
void	der_out_integer(struct der_out *o, const unsigned char *p, size_t len);
/* OBJECT IDENTIFIER from dotted text (X.690 8.19). */
void	der_out_oid(struct der_out *o, const char *dotted);
/* The mark of a constructed value whose contents follow. */
size_t	der_out_open(const struct der_out *o);
/* Wraps what was written since mark in tag and its length. */
void	der_out_close(struct der_out *o, size_t mark, unsigned char tag);
/* The same for a SET OF: its elements put in DER order first (X.690 11.6). */
void	der_out_close_set(struct der_out *o, size_t mark, unsigned char tag);
/* The DER written, malloc'd, in *out. 0, or -1 (then nothing is handed over). */
int	der_out_finish(struct der_out *o, unsigned char **out, size_t *outlen);
/* Releases what o holds (after a failure, or when the result is not wanted). */
void	der_out_free(struct der_out *o);

#endif
