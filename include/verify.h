/*
 * verify.h - the project's own verifier of RFC 3161 time-stamp responses and tokens, as
 * `tsactl verify FILE --ca CAFILE [--data FILE]` uses it.  Input is untrusted DER: either a
 * TimeStampResp or a bare TimeStampToken (ContentInfo holding SignedData).
 *
 * Checked, in this order, each failure naming the rule: strict DER; the response status;
 * ContentInfo and SignedData (RFC 5652 5.1, version 3, one SignerInfo, id-ct-TSTInfo); the
 * TSTInfo (RFC 3161 2.4.2); the signer certificate; the signed attributes (contentType,
 * messageDigest); the ESS signing-certificate binding (RFC 2634 / RFC 5035); the signature;
 * the signer certificate's RFC 3161 2.3 profile and validity at genTime; the chain to the CA
 * file at genTime (RFC 5280 6.1); the time-stamped data against the imprint.
 *
 * Ownership: the caller owns opts and result; nothing is allocated for the caller.
 * Unlike other out-parameters in this project, *r is cleared on entry and filled as far as
 * verification got, so that a failure can still be shown (a rejection's status and
 * failInfo, the token's fields before a bad signature); only a 0 return vouches for it.
 */
#ifndef TSA_VERIFY_H
#define TSA_VERIFY_H

#include <stddef.h>
#include <stdio.h>
#include <time.h>

#include "tsa_limits.h"

struct verify_opts {
	const char		*ca_file;	/* PEM trust anchors; NULL: chain not checked */
	const char		*untrusted_file; /* PEM, more certificates (the signer's when
						 * the token carries none, intermediates); or NULL */
	const unsigned char	*data;		/* the time-stamped data, or NULL */
	size_t			 data_len;
};

struct verify_result {
	int		is_response;		/* 1: a TimeStampResp; 0: a bare token */
	int		status;			/* PKIStatus of a response, -1 for a token */
	char		status_text[256];	/* first PKIFreeText string, escaped */
	char		fail_info[160];		/* failInfo bit names, comma-separated */
	int		has_tstinfo;		/* the fields below up to nonce are set */
	char		serial_hex[2 * TSA_SERIAL_MAX + 3];	/* "0x" and lower-case hex */
	char		serial_dec[64];
	char		gen_time[40];		/* as encoded: YYYYMMDDhhmmss[.f]Z */
	time_t		gen_time_sec;		/* genTime, whole seconds, UTC */
	char		policy[TSA_MAX_OID_TEXT];
	char		hash_name[16];		/* imprint algorithm, hashalg.h name */
	char		imprint_hex[2 * TSA_MAX_IMPRINT + 1];
	int		has_nonce;
	char		nonce_hex[2 * TSA_MAX_NONCE + 1];
	int		has_accuracy;
	unsigned	acc_seconds, acc_millis, acc_micros;
	int		ordering;
	char		tsa_name[512];		/* TSTInfo tsa field, "" when absent */
	char		signer_subject[512];	/* RFC 4514 text of the signer certificate */
	char		sig_alg[64];		/* e.g. "RSASSA-PSS sha256 salt 32" */
	int		ess_version;		/* 1 signingCertificate, 2 ...V2, 0 not seen */
	int		chain_verified;		/* 1 verified to ca_file, 0 not checked */
	int		data_checked;		/* 1 when opts->data matched the imprint */
	int		ca_given;		/* opts named a CA file / gave data: what */
	int		data_given;		/* the summary says of the two lines above */
};

/*
 * Verifies der[0..len), a TimeStampResp or a bare token.  Returns 0 when everything checked
 * holds; -1 with err set to one line naming the rule broken (e.g. "RFC 5652 5.4:
 * messageDigest does not match the TSTInfo").  A response whose status is not granted or
 * grantedWithMods is a -1 too, with the status and failInfo in *r.
 */
int	tst_verify(const unsigned char *der, size_t len, const struct verify_opts *o,
	    struct verify_result *r, char *err, size_t errlen);
/* A readable multi-line summary of r, one "name: value" per line. */
void	tst_verify_print(FILE *f, const struct verify_result *r);

#endif
