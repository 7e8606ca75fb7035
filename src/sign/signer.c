/*
 * signer.c - signing keys on a PKCS#11 token through GnuTLS and p11-kit, with the checks
 * RFC 3161 2.3 puts on a TSA certificate (see signer.h).
 * Input: certificates and URIs from the signers table (operator data, checked, not trusted),
 * the PIN from the file or variable tsa.conf names.
 *
 * Recovery: a signature that fails with a PKCS#11 session, device, token or login error (the
 * token dropped the session, logged the process out, or its connection went away: an HSM
 * reached through `p11-kit server` or a network HSM's client restarted) reopens the key, which
 * opens a new session and logs in again, and retries once; when the key will not reopen in the
 * same module, the PKCS#11 layer itself is reinitialised (every open key closed first, the
 * others reopened on their next use).  Keys left idle get a keep-alive signature
 * (signer_keepalive, from the worker's idle loop) so that an idle session is neither timed out
 * by the token nor found dead by the next client.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>
#include <gnutls/pkcs11.h>

#include "asn1.h"
#include "log.h"
#include "signer.h"

/*
 * The PIN stays in locked memory for the life of the process: a token that drops its session
 * (reported in the field with network HSMs; PKCS#11 v2.40 5.6, CKR_SESSION_HANDLE_INVALID) needs it again to log back in.  Its
 * buffer is a page of its own (pin_page), mlock'ed (never swapped) and MADV_DONTDUMP (never in
 * a core dump, should one be made despite conf_protect_process), the PIN read into it by
 * read(2) only (conf_read_pin); it is wiped in pkcs11_teardown() and never logged.
 */
#define PIN_MAX	256
static char *pin;
static size_t pin_page;
static int pin_set;
/* The token refused the PIN once: never offer it again (each try walks towards lockout). */
static int pin_refused;
static char module_path[4096];

/*
 * The keys open in this process, with the time of their last signature, for the keep-alive
 * and for closing them all before the PKCS#11 layer is reinitialised.  Owned by the signers:
 * an entry only points at one.
 */
struct open_entry {
	struct signer	*s;
	time_t		 last;
};
static struct open_entry *opened;
static size_t n_opened, cap_opened;

static struct open_entry *
opened_find(const struct signer *s)
{
	size_t i;

	for (i = 0; i < n_opened; i++)
		if (opened[i].s == s)
			return &opened[i];
	return NULL;
}

/* Registers s as holding an open key; an allocation failure only costs its keep-alive. */
static void
opened_add(struct signer *s)
{
	struct open_entry *e = opened_find(s), *grown;

	if (e == NULL) {
		if (n_opened == cap_opened) {
			size_t cap = cap_opened ? cap_opened * 2 : 8;

			if ((grown = reallocarray(opened, cap, sizeof(*opened))) == NULL)
				return;
			opened = grown;
			cap_opened = cap;
		}
		e = &opened[n_opened++];
		e->s = s;
	}
	e->last = time(NULL);
}

static void
opened_remove(const struct signer *s)
{
	struct open_entry *e = opened_find(s);

	if (e != NULL)
		*e = opened[--n_opened];
}

static int
pin_callback(void *userdata, int attempt, const char *token_url, const char *token_label,
    unsigned int flags, char *buf, size_t buflen)
{
	size_t n = pin_set ? strlen(pin) : 0;

	(void)userdata; (void)token_url; (void)flags;
	/* Never retry a wrong PIN: that would walk the token towards its lockout. */
	if (attempt > 0)
		pin_refused = 1;
	if (attempt > 0 || pin_refused || !pin_set || n >= buflen) {
		log_msg(LOG_ERR, "PKCS#11 login to token '%s' failed: PIN refused or missing",
		    token_label);
		return -1;
	}
	memcpy(buf, pin, n + 1);
	return 0;
}

/* The PIN's page: mapped, locked and kept out of core dumps before anything is read into it. */
static int
pin_buffer(char *err, size_t errlen)
{
	long ps = sysconf(_SC_PAGESIZE);

	if (pin != NULL)
		return 0;
	pin_page = ps > PIN_MAX ? (size_t)ps : PIN_MAX;
	pin = mmap(NULL, pin_page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (pin == MAP_FAILED) {
		pin = NULL;
		snprintf(err, errlen, "PIN buffer: %s", strerror(errno));
		return -1;
	}
	if (madvise(pin, pin_page, MADV_DONTDUMP) == -1) {
		snprintf(err, errlen, "PIN buffer: madvise(MADV_DONTDUMP): %s", strerror(errno));
		return -1;
	}
	/* Best effort: RLIMIT_MEMLOCK may be tiny for an unprivileged user (64 KiB is usual). */
	if (mlock(pin, pin_page) == -1)
		log_msg(LOG_WARNING, "PIN buffer: mlock: %s (it may be swapped out)",
		    strerror(errno));
	return 0;
}

int
pkcs11_setup(const struct tsa_conf *conf, char *err, size_t errlen)
{
	int rc;

	if (conf->pkcs11_module == NULL) {
		snprintf(err, errlen, "tsa.conf: pkcs11_module is not set");
		return -1;
	}
	conf_apply_env(conf);
	if (strlen(conf->pkcs11_module) >= sizeof(module_path)) {
		snprintf(err, errlen, "pkcs11_module: path too long");
		return -1;
	}
	snprintf(module_path, sizeof(module_path), "%s", conf->pkcs11_module);
	if ((rc = gnutls_pkcs11_init(GNUTLS_PKCS11_FLAG_MANUAL, NULL)) < 0 ||
	    (rc = gnutls_pkcs11_add_provider(conf->pkcs11_module, NULL)) < 0) {
		snprintf(err, errlen, "PKCS#11 module %s: %s", conf->pkcs11_module,
		    gnutls_strerror(rc));
		return -1;
	}
	if (conf_protect_process(err, errlen) == -1 || pin_buffer(err, errlen) == -1)
		return -1;
	if (conf_read_pin(conf, pin, PIN_MAX, err, errlen) == -1)
		return -1;
	pin_set = 1;
	gnutls_pkcs11_set_pin_function(pin_callback, NULL);
	return 0;
}

void
pkcs11_teardown(void)
{
	if (pin != NULL) {
		explicit_bzero(pin, pin_page);
		munmap(pin, pin_page);
		pin = NULL;
	}
	pin_set = 0;
	gnutls_pkcs11_deinit();
	free(opened);
	opened = NULL;
	n_opened = cap_opened = 0;
}

static int
blob_set(struct der_blob *b, const void *p, size_t len)
{
	if ((b->data = malloc(len > 0 ? len : 1)) == NULL)
		return -1;
	memcpy(b->data, p, len);
	b->len = len;
	return 0;
}

static int
blob_from_datum(struct der_blob *b, gnutls_datum_t *d)
{
	int rc = blob_set(b, d->data, d->size);

	gnutls_free(d->data);
	d->data = NULL;
	return rc;
}

int
signer_check_cert(gnutls_x509_crt_t cert, time_t when, char *err, size_t errlen)
{
	char oid[128];
	unsigned critical = 0, idx, count = 0;
	int timestamping = 0;
	time_t from, until;

	for (idx = 0;; idx++) {
		size_t size = sizeof(oid);
		unsigned crit = 0;
		int rc = gnutls_x509_crt_get_key_purpose_oid(cert, idx, oid, &size, &crit);

		if (rc == GNUTLS_E_REQUESTED_DATA_NOT_AVAILABLE)
			break;
		if (rc < 0) {
			snprintf(err, errlen, "unreadable extendedKeyUsage: %s",
			    gnutls_strerror(rc));
			return -1;
		}
		count++;
		critical = crit;
		if (strcmp(oid, OID_KP_TIMESTAMPING) == 0)
			timestamping = 1;
	}
	if (count != 1 || !timestamping) {
		snprintf(err, errlen, "RFC 3161 2.3: extendedKeyUsage must hold id-kp-timeStamping "
		    "only (the certificate has %u purposes%s)", count,
		    timestamping ? "" : ", none of them timeStamping");
		return -1;
	}
	if (!critical) {
		snprintf(err, errlen, "RFC 3161 2.3: extendedKeyUsage must be critical");
		return -1;
	}
	from = gnutls_x509_crt_get_activation_time(cert);
	until = gnutls_x509_crt_get_expiration_time(cert);
	if (from == (time_t)-1 || until == (time_t)-1 || when < from || when > until) {
		char w[32], f[32], u[32];
		struct tm tm;

		strftime(w, sizeof(w), "%Y-%m-%dT%H:%M:%SZ", gmtime_r(&when, &tm));
		strftime(f, sizeof(f), "%Y-%m-%dT%H:%M:%SZ", gmtime_r(&from, &tm));
		strftime(u, sizeof(u), "%Y-%m-%dT%H:%M:%SZ", gmtime_r(&until, &tm));
		snprintf(err, errlen, "certificate not valid at %s (valid from %s to %s)", w, f, u);
		return -1;
	}
	return 0;
}

/* Picks the GnuTLS signature algorithm from the key type, scheme and digest. */
static int
choose_algorithm(struct signer *s, const char *scheme, char *err, size_t errlen)
{
	gnutls_digest_algorithm_t d = s->digest->gnutls;

	s->pss = strcmp(scheme, "rsa-pss") == 0;
	switch (s->pk) {
	case GNUTLS_PK_RSA:
		if (!s->pss) {
			s->sign_algo = gnutls_pk_to_sign(GNUTLS_PK_RSA, d);
			break;
		}
		s->sign_algo = d == GNUTLS_DIG_SHA256 ? GNUTLS_SIGN_RSA_PSS_RSAE_SHA256 :
		    d == GNUTLS_DIG_SHA384 ? GNUTLS_SIGN_RSA_PSS_RSAE_SHA384 :
		    GNUTLS_SIGN_RSA_PSS_RSAE_SHA512;
		break;
	case GNUTLS_PK_ECDSA:
		if (s->pss) {
			snprintf(err, errlen, "scheme rsa-pss asked for an EC key");
			return -1;
		}
		s->sign_algo = gnutls_pk_to_sign(GNUTLS_PK_ECDSA, d);
		break;
	default:
		snprintf(err, errlen, "unsupported key type %s", gnutls_pk_get_name(s->pk));
		return -1;
	}
	if (s->sign_algo == GNUTLS_SIGN_UNKNOWN) {
		snprintf(err, errlen, "no signature algorithm for %s with %s",
		    gnutls_pk_get_name(s->pk), s->digest->name);
		return -1;
	}
	return 0;
}

static void
close_key(struct signer *s)
{
	if (s->key != NULL)
		gnutls_privkey_deinit(s->key);
	s->key = NULL;
	opened_remove(s);
}

/* One signature, no recovery: the gnutls error code. */
static int
raw_sign(const struct signer *s, gnutls_sign_algorithm_t algo, const unsigned char *data,
    size_t len, gnutls_datum_t *sig)
{
	gnutls_datum_t d = { (unsigned char *)(uintptr_t)data, (unsigned)len };

	if (s->key == NULL || algo == GNUTLS_SIGN_UNKNOWN)
		return GNUTLS_E_INVALID_REQUEST;
	return gnutls_privkey_sign_data2(s->key, algo, 0, &d, sig);
}

/* The errors after which a new session (and login) may help; never a PIN error. */
static int
session_error(int rc)
{
	switch (rc) {
	case GNUTLS_E_PKCS11_ERROR:
	case GNUTLS_E_PKCS11_SLOT_ERROR:
	case GNUTLS_E_PKCS11_DEVICE_ERROR:
	case GNUTLS_E_PKCS11_KEY_ERROR:
	case GNUTLS_E_PKCS11_SESSION_ERROR:
	case GNUTLS_E_PKCS11_TOKEN_ERROR:
	case GNUTLS_E_PKCS11_USER_ERROR:
	case GNUTLS_E_PKCS11_REQUESTED_OBJECT_NOT_AVAILBLE:
		return 1;
	default:
		return 0;
	}
}

/* Opens the key and proves it belongs to the certificate with a test signature. */
static int
open_key(struct signer *s, const char *scheme, char *err, size_t errlen)
{
	static const unsigned char probe[] = "tsa signer key check";
	gnutls_datum_t data = { (unsigned char *)(uintptr_t)probe, sizeof(probe) };
	gnutls_datum_t sig = { NULL, 0 };
	gnutls_pubkey_t pub = NULL;
	unsigned bits;
	int rc, ret = -1;

	if ((rc = gnutls_privkey_init(&s->key)) < 0 ||
	    (rc = gnutls_privkey_import_url(s->key, s->uri, 0)) < 0) {
		snprintf(err, errlen, "cannot open key %s: %s", s->uri, gnutls_strerror(rc));
		goto out;
	}
	s->pk = (gnutls_pk_algorithm_t)gnutls_privkey_get_pk_algorithm(s->key, &bits);
	if (choose_algorithm(s, scheme, err, errlen) == -1)
		goto out;
	if ((rc = gnutls_pubkey_init(&pub)) < 0 ||
	    (rc = gnutls_pubkey_import_x509(pub, s->cert, 0)) < 0) {
		snprintf(err, errlen, "certificate public key: %s", gnutls_strerror(rc));
		goto out;
	}
	if ((rc = raw_sign(s, s->sign_algo, data.data, data.size, &sig)) < 0) {
		snprintf(err, errlen, "test signature with %s failed: %s", s->uri,
		    gnutls_strerror(rc));
		goto out;
	}
	if ((rc = gnutls_pubkey_verify_data2(pub, s->sign_algo, 0, &data, &sig)) < 0) {
		snprintf(err, errlen, "the key %s does not match the certificate", s->uri);
		goto out;
	}
	opened_add(s);
	ret = 0;
out:
	gnutls_free(sig.data);
	gnutls_pubkey_deinit(pub);
	return ret;
}

/* The key is to be opened again at `at` (0: at its next use), for why. */
static void
key_retrying(struct signer *s, const char *why, time_t at)
{
	s->key_state = UNIT_RETRYING;
	snprintf(s->key_error, sizeof(s->key_error), "%.*s", (int)sizeof(s->key_error) - 1, why);
	s->key_retry_at = at;
}

/*
 * Unloads and reloads the PKCS#11 module (a module whose connection to its token is gone
 * stays broken until then), after closing every open key: the others are marked to reopen on
 * their next use.  At most once a second.  0, or -1.
 */
static void	(*at_reinit)(void *);
static void	*at_reinit_arg;

void
pkcs11_at_reinit(void (*fn)(void *arg), void *arg)
{
	at_reinit = fn;
	at_reinit_arg = arg;
}

static int
reinit_module(void)
{
	static time_t last;
	time_t now = time(NULL);
	int rc;

	if (now == last || module_path[0] == '\0')
		return -1;
	last = now;
	while (n_opened > 0) {
		struct signer *o = opened[n_opened - 1].s;

		close_key(o);
		key_retrying(o, "PKCS#11 module reinitialised: key to reopen", 0);
	}
	/* A key of the module's that signer.c does not hold: closed now, or it would outlive
	 * the module it belongs to (a crash at its next use). */
	if (at_reinit != NULL)
		at_reinit(at_reinit_arg);
	gnutls_pkcs11_deinit();
	if ((rc = gnutls_pkcs11_init(GNUTLS_PKCS11_FLAG_MANUAL, NULL)) < 0 ||
	    (rc = gnutls_pkcs11_add_provider(module_path, NULL)) < 0) {
		log_msg(LOG_ERR, "PKCS#11 module %s: reinitialisation failed: %s", module_path,
		    gnutls_strerror(rc));
		return -1;
	}
	gnutls_pkcs11_set_pin_function(pin_callback, NULL);
	log_msg(LOG_WARNING, "PKCS#11 module %s reinitialised", module_path);
	return 0;
}

/*
 * Opens s's key again: a new session, logged in again.  When that fails the module is
 * reinitialised and the key opened once more.  0, or -1 with why.
 */
static int
reopen_key(struct signer *s, char *why, size_t whylen)
{
	close_key(s);
	if (open_key(s, s->scheme, why, whylen) == 0)
		return 0;
	close_key(s);
	if (reinit_module() == -1)
		return -1;
	if (open_key(s, s->scheme, why, whylen) == 0)
		return 0;
	close_key(s);
	return -1;
}

/* After a failed signature: reopen, or leave the key retrying (signer_ensure_key). */
static int
recover(struct signer *s, int rc)
{
	char why[512];

	log_msg(LOG_WARNING, "signer %s: PKCS#11 session lost (%s): reopening the key and "
	    "logging in again", s->name, gnutls_strerror(rc));
	why[0] = '\0';
	if (reopen_key(s, why, sizeof(why)) == 0) {
		log_msg(LOG_INFO, "signer %s: key reopened, logged in again", s->name);
		return 0;
	}
	log_msg(LOG_ERR, "signer %s: key cannot be reopened: %s", s->name, why);
	key_retrying(s, why[0] ? why : "PKCS#11 session lost", time(NULL) + 1);
	return -1;
}

static int
load_chain(struct signer *s, const char *pem, int leaf, char *err, size_t errlen)
{
	gnutls_datum_t in = { (unsigned char *)(uintptr_t)pem, (unsigned)strlen(pem) };
	gnutls_x509_crt_t *certs = NULL;
	unsigned n = 0, i;
	int rc, ret = -1;

	if (in.size == 0 && !leaf)
		return 0;
	if (in.size > TSA_MAX_PEM) {
		snprintf(err, errlen, "certificate PEM larger than %d bytes", TSA_MAX_PEM);
		return -1;
	}
	rc = gnutls_x509_crt_list_import2(&certs, &n, &in, GNUTLS_X509_FMT_PEM, 0);
	if (rc < 0 || n == 0) {
		snprintf(err, errlen, "unreadable certificate PEM: %s",
		    rc < 0 ? gnutls_strerror(rc) : "empty");
		return -1;
	}
	for (i = 0; i < n; i++) {
		gnutls_datum_t d;
		struct der_blob *b;

		if (leaf && i == 0) {
			s->cert = certs[0];
			certs[0] = NULL;
			b = &s->cert_der;
		} else if (s->n_chain == TSA_MAX_CHAIN) {
			snprintf(err, errlen, "more than %d chain certificates", TSA_MAX_CHAIN);
			goto out;
		} else
			b = &s->chain_der[s->n_chain++];
		if (gnutls_x509_crt_export2(leaf && i == 0 ? s->cert : certs[i],
		    GNUTLS_X509_FMT_DER, &d) < 0 || blob_from_datum(b, &d) == -1) {
			snprintf(err, errlen, "cannot export certificate");
			goto out;
		}
	}
	ret = 0;
out:
	for (i = 0; i < n; i++)
		if (certs[i] != NULL)
			gnutls_x509_crt_deinit(certs[i]);
	gnutls_free(certs);
	return ret;
}

/* The size in bytes of the certificate's curve; 0 when it cannot be read. */
static size_t
curve_size(gnutls_x509_crt_t cert)
{
	gnutls_datum_t x = { NULL, 0 }, y = { NULL, 0 };
	gnutls_ecc_curve_t curve;
	size_t size = 0;

	if (gnutls_x509_crt_get_pk_ecc_raw(cert, &curve, &x, &y) >= 0)
		size = (size_t)gnutls_ecc_curve_get_size(curve);
	gnutls_free(x.data);
	gnutls_free(y.data);
	return size;
}

int
signer_load(struct signer *s, long id, const char *name, const char *uri, const char *cert_pem,
    const char *chain_pem, const char *scheme, const char *digest, int open, char *err,
    size_t errlen)
{
	unsigned char serial[64];
	size_t serial_len = sizeof(serial);
	gnutls_datum_t d;
	char why[512];

	memset(s, 0, sizeof(*s));
	s->id = id;
	if ((s->name = strdup(name)) == NULL || (s->uri = strdup(uri)) == NULL)
		goto fail;
	if ((s->digest = hash_by_name(digest)) == NULL) {
		snprintf(err, errlen, "signer %s: unknown digest '%s'", name, digest);
		goto fail;
	}
	if (load_chain(s, cert_pem, 1, err, errlen) == -1 ||
	    load_chain(s, chain_pem, 0, err, errlen) == -1)
		goto fail;
	if (gnutls_x509_crt_get_raw_issuer_dn(s->cert, &d) < 0 ||
	    blob_from_datum(&s->issuer_dn, &d) == -1 ||
	    gnutls_x509_crt_get_raw_dn(s->cert, &d) < 0 ||
	    blob_from_datum(&s->subject_dn, &d) == -1 ||
	    gnutls_x509_crt_get_serial(s->cert, serial, &serial_len) < 0 ||
	    blob_set(&s->serial, serial, serial_len) == -1) {
		snprintf(err, errlen, "signer %s: cannot read the certificate's names", name);
		goto fail;
	}
	snprintf(s->scheme, sizeof(s->scheme), "%s", scheme);
	why[0] = '\0';
	/* The signature algorithm follows from the certificate's key type, the scheme and the
	 * digest: known before the key opens (the policies' protocols are checked against it). */
	s->pk = (gnutls_pk_algorithm_t)gnutls_x509_crt_get_pk_algorithm(s->cert, NULL);
	if (s->pk == GNUTLS_PK_ECDSA)
		s->ec_size = curve_size(s->cert);
	if ((signer_check_cert(s->cert, time(NULL), why, sizeof(why)) == -1 ||
	    choose_algorithm(s, scheme, why, sizeof(why)) == -1) &&
	    (s->refused = strdup(why)) == NULL)
		goto fail;
	s->key_state = UNIT_OPENING;
	if (open)
		signer_open(s);
	return 0;
fail:
	if (err[0] == '\0')
		snprintf(err, errlen, "out of memory");
	signer_free(s);
	return -1;
}

void
signer_open(struct signer *s)
{
	char why[512];
	int attempt;

	if (s->refused != NULL)
		return;		/* the row is refused: no key to open */
	/* Processes starting together can find SoftHSM2's file store busy: try again. */
	for (attempt = 0; attempt < 3; attempt++) {
		why[0] = '\0';
		if (open_key(s, s->scheme, why, sizeof(why)) == 0) {
			s->key_state = UNIT_USABLE;
			s->key_error[0] = '\0';
			return;
		}
		close_key(s);
		usleep(100000u << attempt);
	}
	key_retrying(s, why, time(NULL) + 1);
}

enum unit_state
signer_state(const struct signer *s)
{
	return s->refused != NULL ? UNIT_REFUSED : s->key_state;
}

const char *
signer_why(const struct signer *s)
{
	if (s->refused != NULL)
		return s->refused;
	return s->key_state == UNIT_RETRYING ? s->key_error : NULL;
}

int
signer_adopt_key(struct signer *dst, struct signer *src)
{
	if (dst->refused != NULL || src->key == NULL || src->key_state != UNIT_USABLE ||
	    strcmp(dst->uri, src->uri) != 0 || strcmp(dst->scheme, src->scheme) != 0 ||
	    dst->digest != src->digest || dst->cert_der.len != src->cert_der.len ||
	    memcmp(dst->cert_der.data, src->cert_der.data, dst->cert_der.len) != 0)
		return 0;
	dst->key = src->key;
	dst->pk = src->pk;
	dst->sign_algo = src->sign_algo;
	dst->pss = src->pss;
	dst->key_state = UNIT_USABLE;
	src->key = NULL;
	src->key_state = UNIT_OPENING;
	if (opened_find(src) != NULL)
		opened_find(src)->s = dst;
	return 1;
}

int
signer_ensure_key(struct signer *s)
{
	char why[512];
	time_t now;

	if (s->refused != NULL)
		return -1;
	if (s->key_state == UNIT_USABLE)
		return 0;
	if (s->key_state == UNIT_OPENING) {
		signer_open(s);
		if (s->key_state == UNIT_USABLE)
			log_msg(LOG_INFO, "signer %s: key opened", s->name);
		else
			log_msg(LOG_ERR, "signer %s refused: %s", s->name, s->key_error);
		return s->key_state == UNIT_USABLE ? 0 : -1;
	}
	if ((now = time(NULL)) < s->key_retry_at)
		return -1;
	why[0] = '\0';
	if (reopen_key(s, why, sizeof(why)) == -1) {
		key_retrying(s, why[0] ? why : s->key_error, now + 1);
		log_msg(LOG_ERR, "signer %s: key still unavailable: %s", s->name, s->key_error);
		return -1;
	}
	s->key_state = UNIT_USABLE;
	s->key_error[0] = '\0';
	log_msg(LOG_INFO, "signer %s: key opened", s->name);
	return 0;
}

gnutls_sign_algorithm_t
signer_algorithm(const struct signer *s, const struct hash_alg *h)
{
	if (h == NULL || h == s->digest)
		return s->sign_algo;
	if (s->pss || (s->pk != GNUTLS_PK_RSA && s->pk != GNUTLS_PK_ECDSA))
		return GNUTLS_SIGN_UNKNOWN;
	return gnutls_pk_to_sign(s->pk, h->gnutls);
}

int
signer_sign(const struct signer *s, const unsigned char *data, size_t len, gnutls_datum_t *sig)
{
	return signer_sign_as(s, s->sign_algo, data, len, sig);
}

int
signer_sign_as(const struct signer *s, gnutls_sign_algorithm_t algo, const unsigned char *data,
    size_t len, gnutls_datum_t *sig)
{
	struct open_entry *e;
	int rc;

	if (s->key == NULL || algo == GNUTLS_SIGN_UNKNOWN)
		return -1;
	rc = raw_sign(s, algo, data, len, sig);
	/*
	 * The signers live in the worker's configuration, which is not const: only this
	 * recovery writes through the pointer (the key and its session), and only after a
	 * failure.
	 */
	if (rc < 0 && session_error(rc) && !pin_refused &&
	    recover((struct signer *)(uintptr_t)s, rc) == 0)
		rc = raw_sign(s, algo, data, len, sig);
	if (rc < 0) {
		log_msg(LOG_ERR, "signer %s: signature failed: %s", s->name, gnutls_strerror(rc));
		return -1;
	}
	if ((e = opened_find(s)) != NULL)
		e->last = time(NULL);
	return 0;
}

void
signer_keepalive(time_t now, long interval)
{
	static const unsigned char probe[] = "tsa signer keep-alive";
	struct open_entry *e;
	size_t i;

	if (interval <= 0)
		return;
	for (i = 0; i < n_opened; i++) {
		struct signer *s = opened[i].s;
		gnutls_datum_t sig = { NULL, 0 };

		if (now - opened[i].last < interval)
			continue;
		/* The signature (with its recovery) may reorder the list: one per call. */
		if (signer_sign(s, probe, sizeof(probe), &sig) == 0)
			log_msg(LOG_INFO, "signer %s: keep-alive signature", s->name);
		else
			log_msg(LOG_ERR, "signer %s: keep-alive signature failed", s->name);
		gnutls_free(sig.data);
		/* A failed one is not tried again at every poll: once an interval. */
		if ((e = opened_find(s)) != NULL)
			e->last = now;
		return;
	}
}

/* RFC 4055 3.1 RSASSA-PSS-params for SHA-2 with MGF1 of the same hash and a salt of the
 * hash's length, the parameters GnuTLS signs with.  Built by hand: a fixed 54-byte shape. */
static size_t
pss_params(const struct hash_alg *h, unsigned char *out)
{
	static const unsigned char mgf1[] = { 0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d,
	    0x01, 0x01, 0x08 };
	unsigned char alg[15] = { 0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03,
	    0x04, 0x02, 0x00, 0x05, 0x00 };
	size_t n = 0;

	alg[12] = h->gnutls == GNUTLS_DIG_SHA256 ? 1 : h->gnutls == GNUTLS_DIG_SHA384 ? 2 : 3;
	out[n++] = 0x30; out[n++] = 0x34;
	out[n++] = 0xa0; out[n++] = 0x0f;
	memcpy(out + n, alg, sizeof(alg)); n += sizeof(alg);
	out[n++] = 0xa1; out[n++] = 0x1c; out[n++] = 0x30; out[n++] = 0x1a;
	memcpy(out + n, mgf1, sizeof(mgf1)); n += sizeof(mgf1);
	memcpy(out + n, alg, sizeof(alg)); n += sizeof(alg);
	out[n++] = 0xa2; out[n++] = 0x03; out[n++] = 0x02; out[n++] = 0x01;
	out[n++] = (unsigned char)h->len;
	return n;
}

void
signer_cms_algorithm(const struct signer *s, const struct hash_alg *d, const char **oid, const unsigned char **params,
    size_t *params_len)
{
	static const unsigned char null_params[] = { 0x05, 0x00 };
	static unsigned char pss[3][64];
	static size_t pss_len[3];
	size_t i;

	*params = NULL;
	*params_len = 0;
	if (s->pk == GNUTLS_PK_ECDSA) {
		*oid = d->gnutls == GNUTLS_DIG_SHA1 ? "1.2.840.10045.4.1" :
		    d->gnutls == GNUTLS_DIG_SHA256 ? "1.2.840.10045.4.3.2" :
		    d->gnutls == GNUTLS_DIG_SHA384 ? "1.2.840.10045.4.3.3" :
		    "1.2.840.10045.4.3.4";
		return;
	}
	if (!s->pss) {
		/* rsaEncryption with NULL, as OpenSSL's TSA writes it (RFC 3370 3.2). */
		*oid = OID_RSA_ENCRYPTION;
		*params = null_params;
		*params_len = sizeof(null_params);
		return;
	}
	i = d->gnutls == GNUTLS_DIG_SHA256 ? 0 : d->gnutls == GNUTLS_DIG_SHA384 ? 1 : 2;
	if (pss_len[i] == 0)
		pss_len[i] = pss_params(d, pss[i]);
	*oid = OID_RSASSA_PSS;
	*params = pss[i];
	*params_len = pss_len[i];
}

void
signer_free(struct signer *s)
{
	size_t i;

	if (s == NULL)
		return;
	free(s->name);
	free(s->uri);
	free(s->refused);
	free(s->host);
	free(s->group);
	if (s->cert != NULL)
		gnutls_x509_crt_deinit(s->cert);
	free(s->cert_der.data);
	for (i = 0; i < s->n_chain; i++)
		free(s->chain_der[i].data);
	free(s->issuer_dn.data);
	free(s->subject_dn.data);
	free(s->serial.data);
	if (s->key != NULL)
		gnutls_privkey_deinit(s->key);
	opened_remove(s);
	memset(s, 0, sizeof(*s));
}
