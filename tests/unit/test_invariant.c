/*
 * test_invariant.c - unit tests of src/util/invariant.c: a holding invariant costs nothing, a
 * broken one logs where and what, then aborts the process (the supervisor's cue to replace it).
 */
#include <check.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "invariant.h"
#include "log.h"

#include "testlib.h"

START_TEST(test_holds)
{
	int x = 1;

	TSA_INVARIANT(x == 1);
	ck_assert_int_eq(x, 1);
}
END_TEST

START_TEST(test_broken_logs_and_aborts)
{
	char buf[512];
	ssize_t n;
	size_t got = 0;
	int fds[2], status;
	pid_t pid;

	ck_assert_int_eq(pipe(fds), 0);
	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		volatile int x = 2;

		dup2(fds[1], STDERR_FILENO);
		close(fds[0]);
		log_init("test-invariant");
		TSA_INVARIANT(x == 1);
		_exit(0);	/* not reached */
	}
	close(fds[1]);
	while (got < sizeof(buf) - 1 && (n = read(fds[0], buf + got, sizeof(buf) - 1 - got)) > 0)
		got += (size_t)n;
	buf[got] = '\0';
	close(fds[0]);
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	ck_assert(WIFSIGNALED(status));
	ck_assert_int_eq(WTERMSIG(status), SIGABRT);
	ck_assert_ptr_nonnull(strstr(buf, "invariant broken at tests/unit/test_invariant.c:"));
	ck_assert_ptr_nonnull(strstr(buf, ": x == 1: the process ends"));
}
END_TEST

int
main(void)
{
	return tl_run(tl_suite("invariant", 0, test_holds, test_broken_logs_and_aborts, NULL));
}
