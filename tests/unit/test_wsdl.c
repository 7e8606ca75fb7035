/*
 * test_wsdl.c - unit tests of the live service description (src/proto/wsdl.c): the embedded
 * WSDL is the file of wsdl/, the documents carry the service's URL in place of their
 * placeholders and parse, and hostile Host headers and paths are refused before anything of
 * them lands in a document.  Run from the top of the tree, as tests/run-all.sh does.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <libxml/parser.h>

#include "bytes.h"
#include "wsdl.h"

static char url[TSA_MAX_URL_HOST + TSA_MAX_URL_PATH + 16];

static int
url_of(const char *https, const char *host, const char *name, const char *port,
    const char *uri, const char *script)
{
	struct wsdl_origin o = { https, host, name, port, uri, script };

	return wsdl_service_url(&o, url, sizeof(url));
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
	ck_assert_int_eq(url_of(NULL, "127.0.0.1:8080", "x", "1", "/verificationserver/timestamp?wsdl",
	    "/verificationserver/timestamp"), 0);
	ck_assert_str_eq(url, "http://127.0.0.1:8080/verificationserver/timestamp");
	ck_assert_int_eq(url_of("on", "tsa.example.org", NULL, NULL, NULL, "/tsa"), 0);
	ck_assert_str_eq(url, "https://tsa.example.org/tsa");
	ck_assert_int_eq(url_of(NULL, "[::1]:81", NULL, NULL, "/tsa", NULL), 0);
	ck_assert_str_eq(url, "http://[::1]:81/tsa");
	/* No Host: the server's name and port, a default port left out. */
	ck_assert_int_eq(url_of(NULL, NULL, "localhost", "8080", "/tsa?wsdl", NULL), 0);
	ck_assert_str_eq(url, "http://localhost:8080/tsa");
	ck_assert_int_eq(url_of("on", "", "localhost", "443", "/tsa", NULL), 0);
	ck_assert_str_eq(url, "https://localhost/tsa");
}
END_TEST

START_TEST(hostile_origins)
{
	char big[TSA_MAX_URL_HOST + 2];

	ck_assert_int_eq(url_of(NULL, "a\"><x/>", NULL, NULL, "/tsa", NULL), -1);
	ck_assert_int_eq(url_of(NULL, "a b", NULL, NULL, "/tsa", NULL), -1);
	ck_assert_int_eq(url_of(NULL, "a/b", NULL, NULL, "/tsa", NULL), -1);
	ck_assert_int_eq(url_of(NULL, "user@host", NULL, NULL, "/tsa", NULL), -1);
	ck_assert_int_eq(url_of(NULL, "h&amp;", NULL, NULL, "/tsa", NULL), -1);
	ck_assert_int_eq(url_of(NULL, NULL, NULL, NULL, "/tsa", NULL), -1);
	ck_assert_int_eq(url_of(NULL, NULL, "h", "80<", "/tsa", NULL), -1);
	ck_assert_int_eq(url_of(NULL, "h", NULL, NULL, "/a<b", NULL), -1);
	ck_assert_int_eq(url_of(NULL, "h", NULL, NULL, "/a\"b", NULL), -1);
	ck_assert_int_eq(url_of(NULL, "h", NULL, NULL, "tsa", NULL), -1);
	ck_assert_int_eq(url_of(NULL, "h", NULL, NULL, NULL, NULL), -1);
	memset(big, 'a', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	ck_assert_int_eq(url_of(NULL, big, NULL, NULL, "/tsa", NULL), -1);
	big[TSA_MAX_URL_HOST] = '\0';
	ck_assert_int_eq(url_of(NULL, big, NULL, NULL, "/tsa", NULL), 0);
	/* Path characters XML cares about are escaped where they land. */
	ck_assert_int_eq(url_of(NULL, "h", NULL, NULL, "/a&b'c", NULL), 0);
	ck_assert_str_eq(url, "http://h/a&b'c");
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

static Suite *
wsdl_suite(void)
{
	Suite *s = suite_create("wsdl");
	TCase *tc = tcase_create("wsdl");

	tcase_add_test(tc, wsdl_embedded_is_current);
	tcase_add_test(tc, queries);
	tcase_add_test(tc, urls);
	tcase_add_test(tc, hostile_origins);
	tcase_add_test(tc, documents);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	SRunner *sr = srunner_create(wsdl_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
