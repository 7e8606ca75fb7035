/*
 * test_wsdl.c - unit tests of the live service description (src/proto/wsdl.c): the embedded
 * WSDL is the file of wsdl/, the documents carry the service's URL in place of their
 * placeholders and parse; the URL comes from the configured url or the web server's name,
 * port and location, never the client's Host header; hostile names, ports, paths and
 * configured urls are refused before anything of them lands in a document.  Run from the top
 * of the tree, as tests/run-all.sh does.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <libxml/parser.h>

#include "bytes.h"
#include "wsdl.h"

#include "testlib.h"

static char url[TSA_MAX_URL + 1];

static int
url_of(const char *https, const char *name, const char *port, const char *script)
{
	struct wsdl_origin o = { https, name, port, script, NULL };

	return wsdl_service_url(&o, url, sizeof(url));
}

static int
url_ok(const char *u)
{
	char err[256];

	return wsdl_url_check(u, err, sizeof(err)) == 0;
}

START_TEST(wsdl_embedded_is_current)
{
	unsigned char *data;
	size_t len;

	ck_assert_int_eq(file_read("wsdl/timestamp.wsdl", 1 << 20, &data, &len), 0);
	ck_assert_uint_eq(strlen(wsdl_text()), len);
	ck_assert_mem_eq(wsdl_text(), data, len);
	free(data);
}
END_TEST

START_TEST(queries)
{
	ck_assert_int_eq(wsdl_query("wsdl"), WSDL_DOC_WSDL);
	ck_assert_int_eq(wsdl_query("WSDL"), WSDL_DOC_WSDL);
	ck_assert_int_eq(wsdl_query("xsd"), WSDL_DOC_XSD);
	ck_assert_int_eq(wsdl_query("xsd=xmldsig"), WSDL_DOC_XSD_DSIG);
	ck_assert_int_eq(wsdl_query(NULL), WSDL_DOC_NONE);
	ck_assert_int_eq(wsdl_query(""), WSDL_DOC_NONE);
	ck_assert_int_eq(wsdl_query("wsdl&x"), WSDL_DOC_NONE);
	ck_assert_int_eq(wsdl_query("xsd=other"), WSDL_DOC_NONE);
}
END_TEST

START_TEST(urls)
{
	ck_assert_int_eq(url_of(NULL, "127.0.0.1", "8080", "/verificationserver/timestamp"), 0);
	ck_assert_str_eq(url, "http://127.0.0.1:8080/verificationserver/timestamp");
	ck_assert_int_eq(url_of("on", "tsa.example.org", "443", "/tsa"), 0);
	ck_assert_str_eq(url, "https://tsa.example.org/tsa");
	ck_assert_int_eq(url_of(NULL, "[::1]", "81", "/tsa"), 0);
	ck_assert_str_eq(url, "http://[::1]:81/tsa");
	/* A default port is left out; so is an absent one. */
	ck_assert_int_eq(url_of(NULL, "localhost", "80", "/tsa"), 0);
	ck_assert_str_eq(url, "http://localhost/tsa");
	ck_assert_int_eq(url_of("on", "localhost", NULL, "/"), 0);
	ck_assert_str_eq(url, "https://localhost/");
	ck_assert_int_eq(url_of("on", "localhost", "80", "/tsa"), 0);
	ck_assert_str_eq(url, "https://localhost:80/tsa");
}
END_TEST

/* Apache and lighttpd split the path: SCRIPT_NAME /verificationserver, PATH_INFO /timestamp. */
START_TEST(path_info)
{
	struct wsdl_origin o = { NULL, "h", "8080", "/verificationserver", "/timestamp" };
	char big[TSA_MAX_URL_PATH + 1];

	ck_assert_int_eq(wsdl_service_url(&o, url, sizeof(url)), 0);
	ck_assert_str_eq(url, "http://h:8080/verificationserver/timestamp");
	o.path_info = "/a<b";
	ck_assert_int_eq(wsdl_service_url(&o, url, sizeof(url)), WSDL_BAD_PATH);
	memset(big, 'p', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	o.path_info = big + strlen(o.script_name) - 1;	/* one past the limit together */
	ck_assert_int_eq(wsdl_service_url(&o, url, sizeof(url)), WSDL_BAD_PATH);
	o.path_info = big + strlen(o.script_name);
	ck_assert_int_eq(wsdl_service_url(&o, url, sizeof(url)), 0);
}
END_TEST

/*
 * Issue 17 item 6: the address came from the client's Host header.  The origin has no room
 * for it any more; what the web server names is all there is.  nginx without server_name
 * passes an empty SERVER_NAME, its catch-all "_" is no host name: no URL (the worker answers
 * 500 and says to configure one), never a guess.
 */
START_TEST(server_name_only)
{
	ck_assert_int_eq(url_of(NULL, "", "8080", "/tsa"), WSDL_BAD_SERVER);
	ck_assert_int_eq(url_of(NULL, NULL, "8080", "/tsa"), WSDL_BAD_SERVER);
	ck_assert_int_eq(url_of(NULL, "_", "80", "/tsa"), WSDL_BAD_SERVER);
	ck_assert_int_eq(url_of(NULL, "attacker.example:443", "80", "/tsa"), WSDL_BAD_SERVER);
	ck_assert_int_eq(url_of(NULL, "h", "0", "/tsa"), WSDL_BAD_SERVER);
	ck_assert_int_eq(url_of(NULL, "h", "65536", "/tsa"), WSDL_BAD_SERVER);
	ck_assert_int_eq(url_of(NULL, "h", "80<", "/tsa"), WSDL_BAD_SERVER);
}
END_TEST

START_TEST(hostile_origins)
{
	char big[TSA_MAX_URL_HOST + 2];

	ck_assert_int_eq(url_of(NULL, "a\"><x/>", NULL, "/tsa"), WSDL_BAD_SERVER);
	ck_assert_int_eq(url_of(NULL, "a b", NULL, "/tsa"), WSDL_BAD_SERVER);
	ck_assert_int_eq(url_of(NULL, "a/b", NULL, "/tsa"), WSDL_BAD_SERVER);
	ck_assert_int_eq(url_of(NULL, "user@host", NULL, "/tsa"), WSDL_BAD_SERVER);
	ck_assert_int_eq(url_of(NULL, "h&amp;", NULL, "/tsa"), WSDL_BAD_SERVER);
	ck_assert_int_eq(url_of(NULL, "[::1", NULL, "/tsa"), WSDL_BAD_SERVER);
	ck_assert_int_eq(url_of(NULL, "h", NULL, "/a<b"), WSDL_BAD_PATH);
	ck_assert_int_eq(url_of(NULL, "h", NULL, "/a\"b"), WSDL_BAD_PATH);
	ck_assert_int_eq(url_of(NULL, "h", NULL, "/a?b"), WSDL_BAD_PATH);
	ck_assert_int_eq(url_of(NULL, "h", NULL, "tsa"), WSDL_BAD_PATH);
	ck_assert_int_eq(url_of(NULL, "h", NULL, NULL), WSDL_BAD_PATH);
	memset(big, 'a', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	ck_assert_int_eq(url_of(NULL, big, NULL, "/tsa"), WSDL_BAD_SERVER);
	big[TSA_MAX_URL_HOST] = '\0';
	ck_assert_int_eq(url_of(NULL, big, "65535", "/tsa"), 0);
	ck_assert_uint_eq(strlen(url), 7 + TSA_MAX_URL_HOST + 6 + 4);
	/* Path characters XML cares about are escaped where they land. */
	ck_assert_int_eq(url_of(NULL, "h", NULL, "/a&b'c"), 0);
	ck_assert_str_eq(url, "http://h/a&b'c");
}
END_TEST

/* services.url, as tsactl writes it and the worker loads it. */
START_TEST(configured_urls)
{
	char path[TSA_MAX_URL_PATH + 2], u[TSA_MAX_URL + 16];

	ck_assert(url_ok("https://tsa.example.org/tsa"));
	ck_assert(url_ok("http://tsa.example.org:8080/verificationserver/timestamp"));
	ck_assert(url_ok("https://[2001:db8::1]:8443/"));
	ck_assert(url_ok("http://10.1.2.3/tsa"));
	ck_assert(!url_ok(""));
	ck_assert(!url_ok("ftp://tsa.example.org/tsa"));
	ck_assert(!url_ok("HTTPS://tsa.example.org/tsa"));
	ck_assert(!url_ok("https://tsa.example.org"));
	ck_assert(!url_ok("https:///tsa"));
	ck_assert(!url_ok("https://tsa.example.org/tsa?wsdl"));
	ck_assert(!url_ok("https://tsa.example.org/tsa#x"));
	ck_assert(!url_ok("https://user@tsa.example.org/tsa"));
	ck_assert(!url_ok("https://tsa.example.org:/tsa"));
	ck_assert(!url_ok("https://tsa.example.org:99999/tsa"));
	ck_assert(!url_ok("https://a:1:2/tsa"));
	ck_assert(!url_ok("https://[::1/tsa"));
	ck_assert(!url_ok("https://[::1]x/tsa"));
	ck_assert(!url_ok("https://tsa.example.org/a\"><x/>"));
	ck_assert(!url_ok("https://tsa.example.org/a b"));
	memset(path, 'p', sizeof(path) - 1);
	path[0] = '/';
	path[sizeof(path) - 1] = '\0';
	snprintf(u, sizeof(u), "https://h%s", path);
	ck_assert(!url_ok(u));
	path[TSA_MAX_URL_PATH] = '\0';
	snprintf(u, sizeof(u), "https://h%s", path);
	ck_assert(url_ok(u));
}
END_TEST

static xmlDocPtr
doc_of(enum wsdl_doc which, const char *u, char **text)
{
	unsigned char *out;
	size_t len;
	xmlDocPtr d;

	ck_assert_int_eq(wsdl_document(which, u, &out, &len), 0);
	ck_assert_uint_eq(strlen((char *)out), len);
	d = xmlReadMemory((char *)out, (int)len, "doc.xml", NULL, XML_PARSE_NONET);
	ck_assert_ptr_nonnull(d);
	*text = (char *)out;
	return d;
}

START_TEST(documents)
{
	const char *u = "http://127.0.0.1:8080/a&b";
	char *t;
	xmlDocPtr d;

	d = doc_of(WSDL_DOC_WSDL, u, &t);
	ck_assert_ptr_nonnull(strstr(t, "<soap:address location=\"http://127.0.0.1:8080/a&amp;b\"/>"));
	ck_assert_ptr_nonnull(strstr(t, "schemaLocation=\"http://127.0.0.1:8080/a&amp;b?xsd\""));
	ck_assert_ptr_null(strstr(t, "location=\"https://tsa.invalid"));
	ck_assert_ptr_null(strstr(t, "\"../xsd/timestamp.xsd\""));
	xmlFreeDoc(d);
	free(t);
	d = doc_of(WSDL_DOC_XSD, u, &t);
	ck_assert_ptr_nonnull(strstr(t, "schemaLocation=\"http://127.0.0.1:8080/a&amp;b?xsd=xmldsig\""));
	xmlFreeDoc(d);
	free(t);
	d = doc_of(WSDL_DOC_XSD_DSIG, u, &t);
	ck_assert_ptr_nonnull(strstr(t, "http://www.w3.org/2000/09/xmldsig#"));
	xmlFreeDoc(d);
	free(t);
}
END_TEST

int
main(void)
{
	return tl_run(tl_suite("wsdl", 0, wsdl_embedded_is_current, queries, urls, path_info,
	    server_name_only, hostile_origins, configured_urls, documents, NULL));
}
