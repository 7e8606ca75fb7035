/*
 * logjson.h - the token log's JSON answers, the same from GET URL/log/... and tsactl --json
 * log (README "Token log" documents them): hashes, leaves and signatures in base64 (RFC 4648
 * section 4), sizes and indexes as JSON numbers, serials as decimal strings.
 *
 *   sth:          {"tree_size":N,"timestamp":MS,"sha256_root_hash":B64,
 *                  "tree_head_signature":B64|null,"log_key_id":TEXT|null}
 *   proof:        {"serial":"DEC","leaf_index":N,"tree_size":N,"leaf":B64,
 *                  "leaf_hash":B64,"audit_path":[B64,...]}
 *   consistency:  {"first":N,"second":N,"consistency":[B64,...]}
 *   keys:         {"keys":[{"log_key_id":HEX,"host":TEXT,"algorithm":"ecdsa-sha256"|
 *                  "rsa-pkcs1-sha256","public_key":B64 (SubjectPublicKeyInfo, DER),
 *                  "added":RFC3339,"retired":RFC3339|null},...]}
 *
 * Ownership: each returns malloc'd NUL-terminated text (NULL: out of memory); caller frees.
 */
#ifndef TSA_LOGJSON_H
#define TSA_LOGJSON_H

#include "logkeys.h"
#include "logstore.h"

char	*logjson_sth(const struct log_head *h);
char	*logjson_proof(const char *serial, uint64_t index, uint64_t size,
	    const unsigned char *leaf, size_t leaf_len, const merkle_hash *path, size_t len);
char	*logjson_consistency(uint64_t first, uint64_t second, const merkle_hash *proof,
	    size_t len);
char	*logjson_keys(const struct logkeys *ks);

#endif
