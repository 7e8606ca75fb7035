/*
 * test_gate.c - unit tests of the FastCGI gate (src/fcgi/gate.c): the record walk that says
 * when a request is whole (FastCGI 1.0, 3.3: up to the empty FCGI_STDIN record, its padding
 * included), and a gate on a real unix socket that hands over a whole request while another
 * connection, stalled after the 8 bytes of a begin record's header, stays held.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "gate.h"

/* BEGIN_REQUEST (responder), PARAMS "A"="b", empty PARAMS, STDIN "xy" padded to 8, empty STDIN. */
static const unsigned char req[] = {
	1, 1, 0, 1, 0, 8, 0, 0,  0, 1, 0, 0, 0, 0, 0, 0,
	1, 4, 0, 1, 0, 4, 4, 0,  1, 1, 'A', 'b', 0, 0, 0, 0,
	1, 4, 0, 1, 0, 0, 0, 0,
	1, 5, 0, 1, 0, 2, 6, 0,  'x', 'y', 0, 0, 0, 0, 0, 0,
	1, 5, 0, 1, 0, 0, 0, 0,
};

START_TEST(whole_request_walk)
{
	size_t i;

	ck_assert_int_eq(fcgi_request_whole(req, sizeof(req)), 1);
	/* Every prefix is not whole yet: the last record's header is its end. */
	for (i = 0; i < sizeof(req); i++)
		ck_assert_msg(fcgi_request_whole(req, i) == 0, "a prefix of %zu bytes is whole", i);
	/* A padded empty STDIN is whole only with its padding. */
	{
		unsigned char pad[] = { 1, 5, 0, 1, 0, 0, 3, 0, 0, 0, 0 };

		ck_assert_int_eq(fcgi_request_whole(pad, 10), 0);
		ck_assert_int_eq(fcgi_request_whole(pad, 11), 1);
	}
	/* Not FastCGI 1: refused at once (libfcgi answers it). */
	{
		unsigned char v2[sizeof(req)];

		memcpy(v2, req, sizeof(req));
		v2[16] = 2;
		ck_assert_int_eq(fcgi_request_whole(v2, sizeof(v2)), -1);
		ck_assert_int_eq(fcgi_request_whole((const unsigned char *)"GET / HTTP/1.1\r\n", 16),
		    -1);
	}
	/* An empty STDIN inside another record's content is not the end. */
	{
		unsigned char in[] = { 1, 4, 0, 1, 0, 8, 0, 0, 1, 5, 0, 1, 0, 0, 0, 0 };

		ck_assert_int_eq(fcgi_request_whole(in, sizeof(in)), 0);
	}
}
END_TEST

static int
connect_to(const char *path)
{
	struct sockaddr_un sa;
	int fd = socket(AF_UNIX, SOCK_STREAM, 0);

	memset(&sa, 0, sizeof(sa));
	sa.sun_family = AF_UNIX;
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", path);
	ck_assert_int_eq(connect(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	return fd;
}

/* A listening unix socket at DIR/s, DIR made from its mkdtemp template; its address in *sa. */
static int
listen_in(char *dir, struct sockaddr_un *sa)
{
	int lfd;

	ck_assert_ptr_nonnull(mkdtemp(dir));
	memset(sa, 0, sizeof(*sa));
	sa->sun_family = AF_UNIX;
	snprintf(sa->sun_path, sizeof(sa->sun_path), "%s/s", dir);
	lfd = socket(AF_UNIX, SOCK_STREAM, 0);
	ck_assert_int_eq(bind(lfd, (struct sockaddr *)sa, sizeof(*sa)), 0);
	ck_assert_int_eq(listen(lfd, 8), 0);
	return lfd;
}

START_TEST(gate_serves_past_a_stalled_peer)
{
	static struct fcgi_gate g;
	struct sockaddr_un sa;
	char dir[] = "/tmp/tsa-gate.XXXXXX";
	int lfd, stalled, good, fd, whole = -1, i;
	long deadline = 0, before = gate_now_ms();
	unsigned char got[sizeof(req)];

	lfd = listen_in(dir, &sa);
	ck_assert_int_eq(gate_init(&g, lfd), 0);

	stalled = connect_to(sa.sun_path);
	ck_assert_int_eq(write(stalled, req, 8), 8);
	/* The stalled connection is accepted and held, not handed over. */
	for (i = 0; i < 3; i++)
		ck_assert_int_eq(gate_next(&g, -1, 100, 1, &whole, &deadline), -1);
	ck_assert_uint_eq(gate_pending(&g), 1);

	good = connect_to(sa.sun_path);
	ck_assert_int_eq(write(good, req, sizeof(req)), (ssize_t)sizeof(req));
	for (fd = -1, i = 0; fd < 0 && i < 5; i++)
		fd = gate_next(&g, -1, 100, 1, &whole, &deadline);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(whole, 1);
	ck_assert_int_ge(deadline, before + TSA_FCGI_REQUEST_DEADLINE * 1000L);
	/* Nothing was consumed: the reader (libfcgi) gets the request from its first byte. */
	ck_assert_int_eq(read(fd, got, sizeof(got)), (ssize_t)sizeof(got));
	ck_assert_mem_eq(got, req, sizeof(req));
	ck_assert_uint_eq(gate_pending(&g), 1);

	/* A peer that gives up before its request is whole is dropped. */
	close(stalled);
	ck_assert_int_eq(gate_next(&g, -1, 100, 1, &whole, &deadline), -1);
	ck_assert_uint_eq(gate_pending(&g), 0);

	gate_close(&g);
	close(fd);
	close(good);
	close(lfd);
	unlink(sa.sun_path);
	rmdir(dir);
}
END_TEST

/*
 * A kept connection (FCGI_KEEP_CONN) handed back waits idle without counting as a request
 * owed; its next request is served before a later one; the peer closing it drops it.
 */
START_TEST(gate_kept_connections)
{
	static struct fcgi_gate g;
	struct sockaddr_un sa;
	char dir[] = "/tmp/tsa-gate.XXXXXX";
	int lfd, kept, other, fd, first, late, got_fd, whole = -1, i;
	long deadline = 0;
	unsigned char got[sizeof(req)];

	lfd = listen_in(dir, &sa);
	ck_assert_int_eq(gate_init(&g, lfd), 0);

	/* A first request, answered; the web server keeps the connection. */
	kept = connect_to(sa.sun_path);
	ck_assert_int_eq(write(kept, req, sizeof(req)), (ssize_t)sizeof(req));
	for (first = -1, i = 0; first < 0 && i < 5; i++)
		first = gate_next(&g, -1, 100, 1, &whole, &deadline);
	ck_assert_int_ge(first, 0);
	ck_assert_int_eq(read(first, got, sizeof(got)), (ssize_t)sizeof(got));
	gate_keep(&g, first);
	ck_assert_uint_eq(gate_pending(&g), 0);
	ck_assert_int_eq(gate_next(&g, -1, 50, 1, &whole, &deadline), -1);

	/* Its next request begins before a new connection's: it is served first. */
	ck_assert_int_eq(write(kept, req, sizeof(req)), (ssize_t)sizeof(req));
	ck_assert_int_eq(gate_next(&g, -1, 100, 0, &whole, &deadline), first);
	ck_assert_int_eq(whole, 1);
	other = connect_to(sa.sun_path);
	ck_assert_int_eq(write(other, req, sizeof(req)), (ssize_t)sizeof(req));
	ck_assert_int_eq(read(first, got, sizeof(got)), (ssize_t)sizeof(got));
	ck_assert_mem_eq(got, req, sizeof(req));
	gate_keep(&g, first);
	/* The new connection is accepted while the kept one's request is served... */
	ck_assert_int_eq(write(kept, req, sizeof(req)), (ssize_t)sizeof(req));
	ck_assert_int_eq(gate_next(&g, -1, 100, 1, &whole, &deadline), first);
	ck_assert_uint_eq(gate_pending(&g), 1);
	ck_assert_int_eq(read(first, got, sizeof(got)), (ssize_t)sizeof(got));
	/* ...and served next, before the kept one's following request. */
	gate_keep(&g, first);
	ck_assert_int_eq(write(kept, req, sizeof(req)), (ssize_t)sizeof(req));
	fd = gate_next(&g, -1, 100, 1, &whole, &deadline);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_ne(fd, first);
	close(fd);
	ck_assert_int_eq(gate_next(&g, -1, 100, 1, &whole, &deadline), first);
	ck_assert_int_eq(read(first, got, sizeof(got)), (ssize_t)sizeof(got));

	/* A new connection's request ready: nothing more is accepted meanwhile (the next
	 * connection stays in the shared backlog, for whichever worker is free). */
	fd = connect_to(sa.sun_path);
	ck_assert_int_eq(write(fd, req, 8), 8);
	ck_assert_int_eq(gate_next(&g, -1, 100, 1, &whole, &deadline), -1);
	ck_assert_uint_eq(gate_pending(&g), 1);
	late = connect_to(sa.sun_path);
	ck_assert_int_eq(write(late, req, sizeof(req)), (ssize_t)sizeof(req));
	ck_assert_int_eq(write(fd, req + 8, sizeof(req) - 8), (ssize_t)sizeof(req) - 8);
	got_fd = gate_next(&g, -1, 100, 1, &whole, &deadline);
	ck_assert_int_ge(got_fd, 0);
	ck_assert_uint_eq(gate_pending(&g), 0);
	close(got_fd);
	got_fd = gate_next(&g, -1, 100, 1, &whole, &deadline);
	ck_assert_int_ge(got_fd, 0);
	close(got_fd);
	close(fd);
	close(late);

	/* Kept again, then closed by the web server: dropped. */
	gate_keep(&g, first);
	close(kept);
	ck_assert_int_eq(gate_next(&g, -1, 100, 1, &whole, &deadline), -1);
	ck_assert_uint_eq(g.n, 0);

	gate_close(&g);
	close(other);
	close(lfd);
	unlink(sa.sun_path);
	rmdir(dir);
}
END_TEST

static Suite *
gate_suite(void)
{
	Suite *s = suite_create("gate");
	TCase *tc = tcase_create("gate");

	tcase_add_test(tc, whole_request_walk);
	tcase_add_test(tc, gate_kept_connections);
	tcase_add_test(tc, gate_serves_past_a_stalled_peer);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	SRunner *sr = srunner_create(gate_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
