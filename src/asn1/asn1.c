/*
 * asn1.c - the libtasn1 module and helpers around it (see asn1.h).
 * Untrusted input reaches tsa_asn1_decode only, which puts it through the strict DER gate
 * before libtasn1 walks it.
 */
#include <stdlib.h>
#include <string.h>

#include "asn1.h"
#include "der.h"
#include "log.h"
#include "tsa_limits.h"

extern const asn1_static_node tsa_asn1_tab[];

static asn1_node definitions;

int
tsa_oid_text_valid(const char *s)
{
	size_t n = 0;
	int dot = 1, arcs = 0;

	for (; *s != '\0'; s++, n++) {
		if (*s == '.') {
			if (dot)
				return 0;
			dot = 1;
		} else if (*s >= '0' && *s <= '9') {
			if (dot)
				arcs++;
			dot = 0;
		} else
			return 0;
	}
	return !dot && arcs >= 2 && n < TSA_MAX_OID_TEXT;
}

int
tsa_asn1_init(void)
{
	char err[ASN1_MAX_ERROR_DESCRIPTION_SIZE];

	if (definitions != NULL)
		return 0;
	if (asn1_array2tree(tsa_asn1_tab, &definitions, err) != ASN1_SUCCESS) {
		log_msg(LOG_ERR, "ASN.1 module: %s", err);
		return -1;
	}
	return 0;
}

int
tsa_asn1_new(const char *type, asn1_node *out)
{
	asn1_node n = NULL;

	if (tsa_asn1_init() == -1)
		return -1;
	if (asn1_create_element(definitions, type, &n) != ASN1_SUCCESS)
		return -1;
	*out = n;
	return 0;
}

int
tsa_asn1_decode(const char *type, const unsigned char *p, size_t len, asn1_node *out,
    const char **why)
{
	char err[ASN1_MAX_ERROR_DESCRIPTION_SIZE];
	asn1_node n = NULL;
	int used;

	if (len == 0 || len > (size_t)0x7fffffff) {
		*why = "empty or oversized DER";
		return -1;
	}
	if (der_check(p, len, why) == -1)
		return -1;
	if (tsa_asn1_new(type, &n) == -1) {
		*why = "internal: cannot create ASN.1 element";
		return -1;
	}
	used = (int)len;
	if (asn1_der_decoding2(&n, p, &used, ASN1_DECODE_FLAG_STRICT_DER, err) != ASN1_SUCCESS) {
		asn1_delete_structure(&n);
		*why = "does not match the ASN.1 definition";
		return -1;
	}
	if ((size_t)used != len) {
		asn1_delete_structure(&n);
		*why = "trailing bytes after the DER value";
		return -1;
	}
	*out = n;
	return 0;
}

int
tsa_asn1_encode(asn1_node node, const char *field, unsigned char **out, size_t *outlen)
{
	char err[ASN1_MAX_ERROR_DESCRIPTION_SIZE];
	unsigned char *buf;
	int len = 0;

	if (field == NULL)
		field = "";
	if (asn1_der_coding(node, field, NULL, &len, err) != ASN1_MEM_ERROR || len <= 0) {
		log_msg(LOG_ERR, "DER encoding of '%s': %s", field, err);
		return -1;
	}
	if ((buf = malloc((size_t)len)) == NULL)
		return -1;
	if (asn1_der_coding(node, field, buf, &len, err) != ASN1_SUCCESS) {
		log_msg(LOG_ERR, "DER encoding of '%s': %s", field, err);
		free(buf);
		return -1;
	}
	*out = buf;
	*outlen = (size_t)len;
	return 0;
}

int
tsa_asn1_encode_value(const char *type, const void *val, size_t len, unsigned char **out,
    size_t *outlen)
{
	asn1_node n = NULL;
	int rc = -1;

	if (tsa_asn1_new(type, &n) == -1)
		return -1;
	if (tsa_asn1_write(n, "", val, len) == 0)
		rc = tsa_asn1_encode(n, NULL, out, outlen);
	asn1_delete_structure(&n);
	return rc;
}

int
tsa_asn1_read_oid(asn1_node node, const char *field, char *out, size_t outlen)
{
	int len = (int)outlen, rc;

	rc = asn1_read_value(node, field, out, &len);
	if (rc == ASN1_ELEMENT_NOT_FOUND || rc == ASN1_VALUE_NOT_FOUND)
		return 1;
	if (rc != ASN1_SUCCESS || len <= 0 || (size_t)len > outlen || out[len - 1] != '\0')
		return -1;
	/* libtasn1 cuts an OID's text at 127 characters without a word: take that length as
	 * too long rather than read a different OID. */
	if (strlen(out) >= 127 || strlen(out) + 1 >= outlen)
		return -1;
	return 0;
}

int
tsa_asn1_read(asn1_node node, const char *field, unsigned char *out, size_t max,
    size_t *outlen)
{
	int len = (int)max, rc;

	rc = asn1_read_value(node, field, out, &len);
	if (rc == ASN1_ELEMENT_NOT_FOUND || rc == ASN1_VALUE_NOT_FOUND)
		return 1;
	if (rc != ASN1_SUCCESS || len < 0)
		return -1;
	*outlen = (size_t)len;
	return 0;
}

int
tsa_asn1_read_alloc(asn1_node node, const char *field, unsigned char **out, size_t *outlen)
{
	unsigned char *buf;
	int len = 0, rc;

	rc = asn1_read_value(node, field, NULL, &len);
	if (rc == ASN1_ELEMENT_NOT_FOUND || rc == ASN1_VALUE_NOT_FOUND)
		return 1;
	if (rc != ASN1_MEM_ERROR && rc != ASN1_SUCCESS)
		return -1;
	if ((buf = malloc(len > 0 ? (size_t)len : 1)) == NULL)
		return -1;
	if (asn1_read_value(node, field, buf, &len) != ASN1_SUCCESS) {
		free(buf);
		return -1;
	}
	*out = buf;
	*outlen = (size_t)len;
	return 0;
}

int
tsa_asn1_write(asn1_node node, const char *field, const void *val, size_t len)
{
	int rc = asn1_write_value(node, field, val, (int)len);

	if (rc != ASN1_SUCCESS) {
		log_msg(LOG_ERR, "ASN.1 write of '%s' failed: %s", field, asn1_strerror(rc));
		return -1;
	}
	return 0;
}

int
tsa_asn1_span(asn1_node node, const unsigned char *der, size_t derlen, const char *field,
    const unsigned char **p, size_t *len)
{
	int start, end, rc;

	start = end = 0;
	rc = asn1_der_decoding_startEnd(node, der, (int)derlen, field, &start, &end);
	/* libtasn1 answers an absent DEFAULT field with a generic error and an empty span. */
	if (rc == ASN1_ELEMENT_NOT_FOUND || (rc == ASN1_GENERIC_ERROR && end < start))
		return 1;
	if (rc != ASN1_SUCCESS || start < 0 || end < start || (size_t)end >= derlen)
		return -1;
	*p = der + start;
	*len = (size_t)(end - start + 1);
	return 0;
}
