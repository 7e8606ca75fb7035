/*
 * token.c - the RFC 3161 token of a job (see token.h): the TSTInfo with what the policy's
 * chain chose, signed in CMS SignedData version 3 with the ESS signing certificate attribute.
 */
#include <stdlib.h>

#include "asn1.h"
#include "token.h"

int
rfc3161_token(const struct token_job *job, unsigned char **out, size_t *outlen)
{
	const struct tsa_opts *o = job->opts;
	const struct signer *s = job->signer;
	struct tst_params tp = {
		.policy_oid = job->policy_oid, .req = job->req,
		.serial = job->serial, .serial_len = job->serial_len,
		.gen_time = job->gen_time, .digits = o->digits,
		.acc_seconds = o->acc_seconds, .acc_millis = o->acc_millis,
		.acc_micros = o->acc_micros, .ordering = o->ordering,
		.tsa_name = o->tsa_name == 1 ? s->subject_dn.data :
		    o->tsa_name == 2 ? o->tsa_name_der : NULL,
		.tsa_name_len = o->tsa_name == 1 ? s->subject_dn.len : o->tsa_name_len,
		.qualified = o->qualified,
	};
	struct cms_params cp = {
		.signer = s, .content_type = OID_CT_TSTINFO,
		.ess_version = o->ess_version, .ess_hash = o->ess_hash,
		.ess_issuer_serial = o->ess_issuer_serial,
		.certs = job->req->cert_req ? o->certs : CMS_CERTS_NONE,
		.signing_time = o->signing_time ? &job->gen_time : NULL,
		.digest = o->sig_digest,
	};
	unsigned char *tst = NULL;
	size_t tst_len;
	int rc;

	if (tstinfo_encode(&tp, &tst, &tst_len) == -1)
		return -1;
	cp.content = tst;
	cp.content_len = tst_len;
	rc = cms_sign(&cp, out, outlen);
	free(tst);
	return rc;
}
