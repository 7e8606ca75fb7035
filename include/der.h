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

#endif
