/*
 * test_alloc_faults.c - allocation failures injected into every parser of untrusted input:
 * RFC 3161 (rfc3161_parse, libtasn1 under it), Authenticode (authenticode_parse), SOAP
 * (soap_parse_echo, libxml2 and the embedded schema under it), the FastCGI params with the
 * readers that allocate (params_read, client_identify with GnuTLS, wsdl_service_url and
 * wsdl_document) and the filter parameters (filter_validate, as config load compiles it).
 *
 * This binary interposes malloc, calloc, realloc, free and the aligned allocators (the
 * libraries allocate through them too; the real ones are found with dlsym(RTLD_NEXT), so the
 * ASan build's allocator stays underneath).  For each input of the parser's seed corpus
 * (tests/fuzz/corpus/TARGET/, read from the top of the tree as tests/run-all.sh runs it), after
 * a warm-up parse that lets the libraries make their one-time state, the parse is run with
 * the Nth allocation failing, N = 1, 2, ... until a run makes fewer than N allocations.  Each
 * run must end in a clean refusal (an error return with a client-safe text; for the params,
 * the client not identified or no document) or, if the failure was absorbed, exactly the
 * result of the run without failures; and every allocation made during the run must be freed
 * by its end (a leak names the input and N).
 */
#include <check.h>
#include <dirent.h>
#include <dlfcn.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <libtasn1.h>
#include <libxml/xmlerror.h>
#include <libxml/xmlschemas.h>

#include "authenticode.h"
#include "params.h"
#include "policy.h"
#include "rfc3161.h"
#include "soap.h"
#include "wsdl.h"

#include "testlib.h"

/* ---- the interposed allocator ----------------------------------------------------------- */

static void	*(*real_malloc)(size_t);
static void	*(*real_calloc)(size_t, size_t);
static void	*(*real_realloc)(void *, size_t);
static void	 (*real_free)(void *);
static int	 (*real_posix_memalign)(void **, size_t, size_t);
static void	*(*real_aligned_alloc)(size_t, size_t);
static void	*(*real_memalign)(size_t, size_t);

/* dlsym() may calloc before the real calloc is known: served from here, never freed. */
static unsigned char	boot[16384] __attribute__((aligned(16)));
static size_t		boot_used;
static int		resolving;

/* The window of one run: allocations counted, the fail_at-th fails, live ones tracked. */
static int		armed;
static unsigned long	calls, fail_at;
static int		injected;
static int		suspended;	/* inside asn1_create_element(): not counted */

#define TRACK_CAP	(1u << 17)	/* slots; a run may make TRACK_CAP / 2 allocations */
struct slot {
	uintptr_t	p;
	unsigned	gen;		/* valid in generation gen only */
	int		live;		/* 0: a tombstone */
};
static struct slot	track[TRACK_CAP];
static unsigned		gen = 1;
static unsigned long	inserted, live_count;
static int		track_overflow;

static void
resolve(void)
{
	if (real_free != NULL || resolving)
		return;
	resolving = 1;
	real_malloc = (void *(*)(size_t))dlsym(RTLD_NEXT, "malloc");
	real_calloc = (void *(*)(size_t, size_t))dlsym(RTLD_NEXT, "calloc");
	real_realloc = (void *(*)(void *, size_t))dlsym(RTLD_NEXT, "realloc");
	real_posix_memalign = (int (*)(void **, size_t, size_t))dlsym(RTLD_NEXT,
	    "posix_memalign");
	real_aligned_alloc = (void *(*)(size_t, size_t))dlsym(RTLD_NEXT, "aligned_alloc");
	real_memalign = (void *(*)(size_t, size_t))dlsym(RTLD_NEXT, "memalign");
	real_free = (void (*)(void *))dlsym(RTLD_NEXT, "free");
	resolving = 0;
	if (real_malloc == NULL || real_calloc == NULL || real_realloc == NULL ||
	    real_free == NULL)
		abort();
}

static size_t
hash_ptr(uintptr_t p)
{
	return (size_t)((p >> 4) * 2654435761u) & (TRACK_CAP - 1);
}

static void
track_add(void *ptr)
{
	size_t i;

	if (!armed || ptr == NULL)
		return;
	if (inserted >= TRACK_CAP / 2) {
		track_overflow = 1;
		return;
	}
	for (i = hash_ptr((uintptr_t)ptr); track[i].gen == gen && track[i].live;
	    i = (i + 1) & (TRACK_CAP - 1))
		;
	track[i].p = (uintptr_t)ptr;
	track[i].gen = gen;
	track[i].live = 1;
	inserted++;
	live_count++;
}

static void
track_del(void *ptr)
{
	size_t i;

	if (ptr == NULL || live_count == 0)
		return;
	for (i = hash_ptr((uintptr_t)ptr); track[i].gen == gen; i = (i + 1) & (TRACK_CAP - 1))
		if (track[i].live && track[i].p == (uintptr_t)ptr) {
			track[i].live = 0;	/* a tombstone: the probe chain goes on */
			live_count--;
			return;
		}
}

/* 1 when this allocation is the one to fail. */
static int
must_fail(void)
{
	if (!armed || suspended)
		return 0;
	calls++;
	if (fail_at != 0 && calls == fail_at) {
		injected = 1;
		errno = ENOMEM;
		return 1;
	}
	return 0;
}

void *
malloc(size_t n)
{
	void *p;

	resolve();
	if (real_malloc == NULL)
		return NULL;
	if (must_fail())
		return NULL;
	p = real_malloc(n);
	track_add(p);
	return p;
}

void *
calloc(size_t n, size_t size)
{
	void *p;

	if (real_calloc == NULL && resolving) {
		size_t want = n * size;

		if (size != 0 && want / size != n)
			return NULL;
		want = (want + 15) & ~(size_t)15;
		if (want > sizeof(boot) - boot_used)
			return NULL;
		p = boot + boot_used;	/* static storage: already zero */
		boot_used += want;
		return p;
	}
	resolve();
	if (must_fail())
		return NULL;
	p = real_calloc(n, size);
	track_add(p);
	return p;
}

void *
realloc(void *old, size_t n)
{
	void *p;

	resolve();
	if (old == NULL)
		return malloc(n);
	if (n == 0) {
		free(old);
		return NULL;
	}
	if (must_fail())
		return NULL;
	if ((p = real_realloc(old, n)) != NULL) {
		track_del(old);
		track_add(p);
	}
	return p;
}

void
free(void *p)
{
	if (p == NULL)
		return;
	if ((unsigned char *)p >= boot && (unsigned char *)p < boot + sizeof(boot))
		return;
	resolve();
	track_del(p);
	real_free(p);
}

int
posix_memalign(void **out, size_t align, size_t n)
{
	int rc;

	resolve();
	if (must_fail())
		return ENOMEM;
	if ((rc = real_posix_memalign(out, align, n)) == 0)
		track_add(*out);
	return rc;
}

void *
aligned_alloc(size_t align, size_t n)
{
	void *p;

	resolve();
	if (must_fail())
		return NULL;
	p = real_aligned_alloc(align, n);
	track_add(p);
	return p;
}

void *memalign(size_t align, size_t n);

void *
memalign(size_t align, size_t n)
{
	void *p;

	resolve();
	if (must_fail())
		return NULL;
	p = real_memalign(align, n);
	track_add(p);
	return p;
}

/*
 * libtasn1 4.19 does not survive an allocation failing inside asn1_create_element() or inside
 * asn1_der_decoding2() or asn1_write_value() (a SEQUENCE OF or SET OF element being added,
 * as GnuTLS does building a DN): its structure copy
 * (_asn1_copy_structure3) uses the node _asn1_add_single_node() returns without checking it,
 * and dereferences NULL.  That is the library's bug, outside this project (GnuTLS calls the
 * same functions).  Here each of those calls counts as one allocation, failed as a whole as
 * the library fails it (ASN1_MEM_ALLOC_ERROR; the decoder deletes the structure on any error),
 * with the failures inside suspended.  Their allocations are still tracked, so a structure
 * the parser forgets to delete is a leak.
 */
typedef int (*create_fn)(asn1_node_const, const char *, asn1_node *);
typedef int (*decode_fn)(asn1_node *, const void *, int *, unsigned int, char *);
typedef int (*write_fn)(asn1_node, const char *, const void *, int);
typedef int (*coding_fn)(asn1_node_const, const char *, void *, int *, char *);
typedef int (*validate_fn)(xmlSchemaValidCtxtPtr, xmlNodePtr);
typedef xmlSchemaValidCtxtPtr (*vctxt_fn)(xmlSchemaPtr);

#define REAL(name, type) \
	static type real; \
	if (real == NULL && (real = (type)dlsym(RTLD_NEXT, name)) == NULL) \
		abort()

int
asn1_create_element(asn1_node_const definitions, const char *name, asn1_node *element)
{
	REAL("asn1_create_element", create_fn);
	int saved, rc;

	if (must_fail())
		return ASN1_MEM_ALLOC_ERROR;
	saved = suspended;
	suspended = 1;
	rc = real(definitions, name, element);
	suspended = saved;
	return rc;
}

int
asn1_der_decoding2(asn1_node *element, const void *der, int *max_len, unsigned int flags,
    char *why)
{
	REAL("asn1_der_decoding2", decode_fn);
	int saved, rc;

	if (must_fail()) {
		asn1_delete_structure(element);
		if (why != NULL)
			strcpy(why, "out of memory (injected)");
		return ASN1_MEM_ALLOC_ERROR;
	}
	saved = suspended;
	suspended = 1;
	rc = real(element, der, max_len, flags, why);
	suspended = saved;
	return rc;
}

int
asn1_write_value(asn1_node root, const char *name, const void *value, int len)
{
	REAL("asn1_write_value", write_fn);
	int saved, rc;

	if (must_fail())
		return ASN1_MEM_ALLOC_ERROR;
	saved = suspended;
	suspended = 1;
	rc = real(root, name, value, len);
	suspended = saved;
	return rc;
}

int
asn1_der_coding(asn1_node_const root, const char *name, void *out, int *len, char *why)
{
	REAL("asn1_der_coding", coding_fn);
	int saved, rc;

	if (must_fail())
		return ASN1_MEM_ALLOC_ERROR;
	saved = suspended;
	suspended = 1;
	rc = real(root, name, out, len, why);
	suspended = saved;
	return rc;
}

/*
 * libxml2 2.9.14's schema validator does not survive every allocation failing inside it
 * either: xmlSchemaNewValidCtxt() returns a context whose item list it could not allocate,
 * and xmlSchemaValidateOneElement() dereferences NULL.  Each is one allocation as well,
 * failed as a whole: NULL, and the internal-error return -1.
 */
xmlSchemaValidCtxtPtr
xmlSchemaNewValidCtxt(xmlSchemaPtr schema)
{
	REAL("xmlSchemaNewValidCtxt", vctxt_fn);
	xmlSchemaValidCtxtPtr vc;
	int saved;

	if (must_fail())
		return NULL;
	saved = suspended;
	suspended = 1;
	vc = real(schema);
	suspended = saved;
	return vc;
}

int
xmlSchemaValidateOneElement(xmlSchemaValidCtxtPtr vc, xmlNodePtr elem)
{
	REAL("xmlSchemaValidateOneElement", validate_fn);
	int saved, rc;

	if (must_fail())
		return -1;
	saved = suspended;
	suspended = 1;
	rc = real(vc, elem);
	suspended = saved;
	return rc;
}

int
asn1_der_decoding(asn1_node *element, const void *der, int len, char *why)
{
	int max = len;

	return asn1_der_decoding2(element, der, &max, 0, why);
}

/* Opens a run's window; fail_at 0 fails nothing. */
static void
arm(unsigned long n)
{
	gen++;
	inserted = live_count = 0;
	track_overflow = 0;
	calls = 0;
	injected = 0;
	fail_at = n;
	armed = 1;
}

/* Closes the window: the allocations it made. */
static unsigned long
disarm(void)
{
	armed = 0;
	return calls;
}

/* ---- the runs ----------------------------------------------------------------------------- */

/*
 * A parser under test: runs on (p, len), frees what it made, and describes its result in out
 * (compared with the run without failures).  Returns 0 when the input was accepted, -1 when
 * refused (with a client-safe text, or the caller fails the test).
 */
typedef int (*parser_fn)(const unsigned char *p, size_t len, unsigned char *out,
    size_t outlen, int *refusal_ok);

struct tally {
	unsigned long	inputs, runs, injected, refused, absorbed;
};

#define RESULT_MAX	4096

/*
 * The fault loop over one input: a warm-up, the run without failures, then every N.  Fails
 * the test on a leak, an unclean refusal or a changed success.
 */
static void
fault_loop(const char *name, parser_fn fn, const unsigned char *p, size_t len,
    struct tally *t)
{
	static unsigned char base[RESULT_MAX], got[RESULT_MAX];
	unsigned long n, made;
	int base_rc, rc, ok;

	(void)fn(p, len, base, sizeof(base), &ok);	/* warm-up: one-time library state */
	memset(base, 0, sizeof(base));
	arm(0);
	base_rc = fn(p, len, base, sizeof(base), &ok);
	made = disarm();
	ck_assert_msg(!track_overflow, "%s: more than %u allocations", name, TRACK_CAP / 2);
	ck_assert_msg(live_count == 0, "%s: %lu allocations leaked without a failure", name,
	    live_count);
	ck_assert_msg(base_rc == 0 || ok, "%s: refused without a client-safe text", name);
	t->inputs++;
	for (n = 1; n <= made + 1; n++) {
		memset(got, 0, sizeof(got));
		arm(n);
		rc = fn(p, len, got, sizeof(got), &ok);
		(void)disarm();
		t->runs++;
		ck_assert_msg(live_count == 0, "%s: allocation %lu failing leaks %lu allocations",
		    name, n, live_count);
		if (!injected) {
			/* This run made fewer than n allocations: the same as the base run. */
			ck_assert_msg(rc == base_rc && memcmp(got, base, sizeof(got)) == 0,
			    "%s: a run without a failure differs", name);
			break;
		}
		t->injected++;
		if (rc == -1) {
			ck_assert_msg(ok, "%s: allocation %lu failing: refused without a "
			    "client-safe text", name, n);
			t->refused++;
		} else {
			ck_assert_msg(rc == base_rc && memcmp(got, base, sizeof(got)) == 0,
			    "%s: allocation %lu failing: accepted, but not as without failures",
			    name, n);
			t->absorbed++;
		}
	}
}

/* Reads every file of dir (one level, hidden and README skipped) and runs the loop on it. */
static void
corpus_loop(const char *target, parser_fn fn)
{
	char dir[256], path[512];
	struct dirent **list;
	struct tally t;
	int n, i;

	memset(&t, 0, sizeof(t));
	snprintf(dir, sizeof(dir), "tests/fuzz/corpus/%s", target);
	n = scandir(dir, &list, NULL, alphasort);
	ck_assert_msg(n > 0, "%s: no seed corpus (run from the top of the tree)", dir);
	for (i = 0; i < n; i++) {
		static unsigned char buf[65536];
		FILE *f;
		size_t len;

		if (list[i]->d_name[0] == '.' || strncmp(list[i]->d_name, "README", 6) == 0) {
			free(list[i]);
			continue;
		}
		snprintf(path, sizeof(path), "%s/%s", dir, list[i]->d_name);
		free(list[i]);
		if ((f = fopen(path, "rb")) == NULL)
			continue;	/* a directory */
		len = fread(buf, 1, sizeof(buf), f);
		fclose(f);
		{
			/* An exact-size copy, so that ASan sees a read past the end. */
			unsigned char *copy = malloc(len > 0 ? len : 1);

			ck_assert_ptr_nonnull(copy);
			memcpy(copy, buf, len);
			fault_loop(path, fn, copy, len, &t);
			free(copy);
		}
	}
	free(list);
	printf("alloc faults %s: %lu inputs, %lu runs, %lu with an allocation failing: "
	    "%lu refused, %lu absorbed; no leak\n", target, t.inputs, t.runs, t.injected,
	    t.refused, t.absorbed);
	ck_assert_uint_gt(t.injected, 0);
}

/* The request, as compared between runs (the Authenticode signature by content). */
static void
describe_request(const struct tsa_request *req, unsigned char *out, size_t outlen)
{
	struct tsa_request copy = *req;
	size_t n;

	copy.signature = NULL;
	n = sizeof(copy) < outlen ? sizeof(copy) : outlen;
	memcpy(out, &copy, n);
	if (req->signature != NULL && req->signature_len <= outlen - n)
		memcpy(out + n, req->signature, req->signature_len);
}

static int
run_rfc3161(const unsigned char *p, size_t len, unsigned char *out, size_t outlen, int *ok)
{
	struct tsa_request req;
	struct tsa_refusal ref;
	int rc;

	memset(&req, 0, sizeof(req));
	memset(&ref, 0, sizeof(ref));
	rc = rfc3161_parse(p, len, &req, &ref);
	*ok = rc == 0 || ref.text != NULL;
	if (rc == 0)
		describe_request(&req, out, outlen);
	return rc == 0 ? 0 : -1;
}

static int
run_authenticode(const unsigned char *p, size_t len, unsigned char *out, size_t outlen, int *ok)
{
	struct tsa_request req;
	struct tsa_refusal ref;
	int rc;

	memset(&req, 0, sizeof(req));
	memset(&ref, 0, sizeof(ref));
	rc = authenticode_parse(p, len, &req, &ref);
	*ok = rc == 0 || (ref.text != NULL && ref.kind == TSA_REFUSAL_STATUS);
	if (rc == 0)
		describe_request(&req, out, outlen);
	authenticode_free(&req);
	return rc == 0 ? 0 : -1;
}

static int
run_soap(const unsigned char *p, size_t len, unsigned char *out, size_t outlen, int *ok)
{
	struct tsa_request req;
	struct tsa_refusal ref;
	struct tsa_echo echo;
	int rc;

	memset(&req, 0, sizeof(req));
	memset(&ref, 0, sizeof(ref));
	memset(&echo, 0, sizeof(echo));
	rc = soap_parse_echo(p, len, &req, &echo, &ref);
	/* libxml2 keeps the last error (with its strings) per thread until the next one: held,
	 * not leaked. */
	xmlResetLastError();
	*ok = rc == 0 || (ref.text != NULL && ref.kind != TSA_REFUSAL_HTTP);
	if (rc == 0) {
		describe_request(&req, out, outlen);
		if (sizeof(req) + sizeof(echo) <= outlen)
			memcpy(out + sizeof(req), &echo, sizeof(echo));
	}
	return rc == 0 ? 0 : -1;
}

/*
 * The params: NAME=VALUE entries separated by NUL bytes (the fuzz target's format).  Refused
 * (-1) when a reader that allocates gave up: the certificate not read (the client is then
 * not identified: client-auth answers 403) or the service description not built.
 */
static int
run_params(const unsigned char *p, size_t len, unsigned char *out, size_t outlen, int *ok)
{
	static char rc_name[] = "demo", svc_name[] = "tsa";
	static struct registered_client rc = { rc_name, { 0 } };
	static char strings[65536 + 1];
	char *envp[65], url[TSA_MAX_URL + 1];
	struct http_request hr;
	struct service svc;
	struct tsa_client client;
	unsigned char *doc = NULL;
	size_t n = 0, off = 0, want = 0, doclen = 0;
	enum wsdl_doc which;
	int body, refused = 0;

	if (len > sizeof(strings) - 1)
		return -1;
	memcpy(strings, p, len);
	strings[len] = '\0';
	while (off < len && n < 64) {
		envp[n++] = strings + off;
		off += strlen(strings + off) + 1;
	}
	envp[n] = NULL;
	body = params_read(envp, 65536, &hr, &want);
	memset(&svc, 0, sizeof(svc));
	svc.name = svc_name;
	svc.clients = &rc;
	svc.n_clients = 1;
	client = hr.client;
	client_identify(&svc, &client);
	if (client.tls_verify != NULL && strcmp(client.tls_verify, "SUCCESS") == 0 &&
	    client.tls_cert != NULL && client.tls_cert[0] != '\0' && !client.cert_verified)
		refused = 1;
	which = wsdl_query(hr.query);
	if (which != WSDL_DOC_NONE && wsdl_service_url(&hr.origin, url, sizeof(url)) == 0) {
		if (wsdl_document(which, url, &doc, &doclen) == -1)
			refused = 1;
		free(doc);
	}
	*ok = 1;
	if (outlen >= 3 * sizeof(int)) {
		memcpy(out, &body, sizeof(int));
		memcpy(out + sizeof(int), &client.cert_verified, sizeof(int));
		memcpy(out + 2 * sizeof(int), &refused, sizeof(int));
	}
	return refused ? -1 : 0;
}

/* The filter parameters: the name on the first line, then key=value lines. */
static int
run_filters(const unsigned char *p, size_t len, unsigned char *out, size_t outlen, int *ok)
{
	static char text[65536 + 1];
	struct filter_param params[TSA_MAX_FILTER_PARAMS + 8];
	char *line, *next, *name, err[256];
	size_t n = 0;
	int rc;

	if (len > sizeof(text) - 1)
		return -1;
	memcpy(text, p, len);
	text[len] = '\0';
	name = text;
	next = strchr(text, '\n');
	if (next != NULL)
		*next++ = '\0';
	for (line = next; line != NULL && *line != '\0' && n < TSA_MAX_FILTER_PARAMS + 8;
	    line = next) {
		char *eq;

		if ((next = strchr(line, '\n')) != NULL)
			*next++ = '\0';
		params[n].key = line;
		if ((eq = strchr(line, '=')) != NULL) {
			*eq = '\0';
			params[n].value = eq + 1;
		} else
			params[n].value = "";
		n++;
	}
	memset(err, 0, sizeof(err));
	rc = filter_validate(name, params, n, err, sizeof(err));
	*ok = rc == 0 || err[0] != '\0';
	if (rc == 0 && outlen > 0)
		out[0] = 1;
	return rc == 0 ? 0 : -1;
}

START_TEST(faults_rfc3161)
{
	corpus_loop("rfc3161", run_rfc3161);
}
END_TEST

START_TEST(faults_authenticode)
{
	corpus_loop("authenticode", run_authenticode);
}
END_TEST

START_TEST(faults_soap)
{
	corpus_loop("soap", run_soap);
}
END_TEST

START_TEST(faults_params)
{
	corpus_loop("params", run_params);
}
END_TEST

START_TEST(faults_filters)
{
	corpus_loop("filters", run_filters);
}
END_TEST

/* The interposition itself: a failure is injected where asked, and a leak is seen. */
START_TEST(interposer_works)
{
	/* Through pointers the compiler cannot see through: it assumes the builtin malloc and
	 * free touch none of this file's counters. */
	void *(*volatile m)(size_t) = malloc;
	void (*volatile f)(void *) = free;
	void *a, *b;

	arm(2);
	a = m(16);
	b = m(16);
	(void)disarm();
	ck_assert_ptr_nonnull(a);
	ck_assert_ptr_null(b);
	ck_assert_uint_eq(*(volatile unsigned long *)&live_count, 1);
	f(a);
	ck_assert_uint_eq(*(volatile unsigned long *)&live_count, 0);
}
END_TEST

static Suite *
alloc_faults_suite(void)
{
	Suite *s = suite_create("alloc_faults");

	/* Thousands of runs each; the sanitizer build is several times slower. */
	tl_tcase(s, "parsers", 600, interposer_works, faults_rfc3161, faults_authenticode,
	    faults_soap, faults_params, faults_filters, NULL);
	return s;
}

/* libxml2 reports its own allocation failures on stderr: thousands of lines here. */
static void
quiet(void *ctx, const char *fmt, ...)
{
	(void)ctx;
	(void)fmt;
}

int
main(void)
{
	xmlSetGenericErrorFunc(NULL, quiet);
	return tl_run(alloc_faults_suite());
}
