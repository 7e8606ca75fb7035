/*
 * asn1.h - the project's libtasn1 module (src/asn1/tsa.asn) and the few helpers every codec
 * uses around it.  Type names are written "TSA.TimeStampReq"; field names as libtasn1 paths
 * ("messageImprint.hashedMessage", "signerInfos.?1.signature").
 *
 * Ownership: nodes from tsa_asn1_new/decode are freed with asn1_delete_structure(&node);
 * buffers from tsa_asn1_encode/read_alloc are the caller's, freed with free().
 */
#ifndef TSA_ASN1_H
#define TSA_ASN1_H

#include <stddef.h>
#include <libtasn1.h>

/* Well-known OIDs (dotted text, as libtasn1 reads and writes them). */
#define OID_CT_DATA		"1.2.840.113549.1.7.1"
#define OID_CT_SIGNED_DATA	"1.2.840.113549.1.7.2"
#define OID_CT_TSTINFO		"1.2.840.113549.1.9.16.1.4"
#define OID_AA_CONTENT_TYPE	"1.2.840.113549.1.9.3"
#define OID_AA_MESSAGE_DIGEST	"1.2.840.113549.1.9.4"
#define OID_AA_SIGNING_TIME	"1.2.840.113549.1.9.5"
#define OID_AA_SIGNING_CERT	"1.2.840.113549.1.9.16.2.12"
#define OID_AA_SIGNING_CERT_V2	"1.2.840.113549.1.9.16.2.47"
#define OID_RSA_ENCRYPTION	"1.2.840.113549.1.1.1"
#define OID_RSASSA_PSS		"1.2.840.113549.1.1.10"
#define OID_MGF1		"1.2.840.113549.1.1.8"
#define OID_KP_TIMESTAMPING	"1.3.6.1.5.5.7.3.8"
#define OID_PE_QC_STATEMENTS	"1.3.6.1.5.5.7.1.3"

/* 1 when s is an OID in dotted form (two arcs or more) that fits TSA_MAX_OID_TEXT. */
int	tsa_oid_text_valid(const char *s);
/* Builds the module's tree once per process. Returns 0, or -1 (a build defect). */
int	tsa_asn1_init(void);
/* An empty structure of the given type. Returns 0 or -1. */
int	tsa_asn1_new(const char *type, asn1_node *out);
/*
 * Decodes untrusted bytes as the given type: strict DER first (der_check), then libtasn1 with
 * ASN1_DECODE_FLAG_STRICT_DER, every byte consumed.  Returns 0, or -1 with *why set to a
 * static message.
 */
int	tsa_asn1_decode(const char *type, const unsigned char *p, size_t len, asn1_node *out,
	    const char **why);
/* DER of node (or of its field when field is not NULL/""), malloc'd. Returns 0 or -1. */
int	tsa_asn1_encode(asn1_node node, const char *field, unsigned char **out, size_t *outlen);
/* DER of a single value of a simple type ("TSA.ObjectIdentifier", "TSA.OctetString"...). */
int	tsa_asn1_encode_value(const char *type, const void *val, size_t len, unsigned char **out,
	    size_t *outlen);
/* Dotted OID text of field. Returns 0, 1 when absent, -1 on error or when out is too small. */
int	tsa_asn1_read_oid(asn1_node node, const char *field, char *out, size_t outlen);
/* Raw value of field (OCTET STRING, INTEGER, ANY...). 0, 1 when absent, -1 (too long, error). */
int	tsa_asn1_read(asn1_node node, const char *field, unsigned char *out, size_t max,
	    size_t *outlen);
/* The same, into a malloc'd buffer of the needed size. 0, 1 when absent, -1. */
int	tsa_asn1_read_alloc(asn1_node node, const char *field, unsigned char **out,
	    size_t *outlen);
/* Writes field; len 0 means a NUL-terminated string value (as libtasn1 takes it). 0 or -1. */
int	tsa_asn1_write(asn1_node node, const char *field, const void *val, size_t len);
/* Exact bytes (header included) of field inside the DER that node was decoded from.
 * 0, 1 when absent, -1. */
int	tsa_asn1_span(asn1_node node, const unsigned char *der, size_t derlen, const char *field,
	    const unsigned char **p, size_t *len);

#endif
