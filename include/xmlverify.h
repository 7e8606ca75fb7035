/*
 * xmlverify.h - the verifier of XML-DSig time-stamp tokens (the SI-TSA form that
 * src/tst/xmltoken.c issues: dsig:Signature Id="TimeStampToken" over dsig:Object
 * Id="TimeStampInfo-<hex>" and dsig:KeyInfo Id="TimeStampAuthority"), as `tsactl verify`
 * uses it for XML input.  The token may stand alone or sit in a SOAP response.
 *
 * Checked, in this order, each failure naming the rule: well-formed XML with no DOCTYPE;
 * exactly one dsig:Signature Id="TimeStampToken"; its children exactly SignedInfo,
 * SignatureValue, KeyInfo, Object (XML-DSig 4.1), SignedInfo's exactly
 * CanonicalizationMethod (inclusive C14N 1.0), SignatureMethod and the two References
 * (no Transforms), each to a child of this Signature by Id; TimeStampInfo's children in the
 * order of xsd/timestamp.xsd; every Reference's digest over the C14N of its element
 * (XML-DSig 4.3.3); SignatureValue over the C14N of SignedInfo (4.2) with the key of the
 * first KeyInfo X509Certificate; with a CA file, that certificate's chain, at CreationTime.
 *
 * Ownership: the caller owns everything; *r is cleared on entry and filled as far as
 * verification got; only a 0 return vouches for it.
 */
#ifndef TSA_XMLVERIFY_H
#define TSA_XMLVERIFY_H

#include <stddef.h>
#include <stdio.h>

#include "tsa_limits.h"

struct xmlverify_result {
	char	policy[TSA_MAX_XML_URI + 1];
	char	digest_method[TSA_MAX_XML_URI + 1];
	char	digest_value[TSA_MAX_XML_DIGEST_TEXT + 1];
	char	serial[64];
	char	creation_time[40];
	char	accuracy[32];		/* milliseconds; "" when absent */
	char	nonce[TSA_MAX_XML_NONCE_DIGITS + 1];	/* "" when absent */
	char	signature_method[TSA_MAX_XML_URI + 1];
	char	signer_subject[512];
	int	has_info;		/* the TimeStampInfo fields are set */
	int	ca_given;
	int	chain_verified;
};

/* 1 when the bytes look like XML (soap_sniff()), so the caller picks this verifier. */
int	xml_token_sniff(const unsigned char *p, size_t len);
/* 0 when the token verifies (and, with ca_file, its chain); -1 with err. */
int	xml_token_verify(const unsigned char *p, size_t len, const char *ca_file,
	    struct xmlverify_result *r, char *err, size_t errlen);
void	xml_token_print(FILE *f, const struct xmlverify_result *r);

#endif
