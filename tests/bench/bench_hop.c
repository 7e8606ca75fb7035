/*
 * bench_hop.c - tsa-bench-hop: what one message between two processes costs this machine, in
 * CPU (README, "Tests": make bench).  A token crosses processes several times on its way
 * (client, web server, worker, signing process, and back), each crossing a write that wakes
 * a sleeping reader; on some virtual machines that wake-up costs more than the work either
 * side does with the message, and this figure says how much.
 *
 * usage: tsa-bench-hop [ROUND_TRIPS]   (default 50000, at most 10000000)
 *
 * Two processes on a Unix stream socket pair pass a 64-byte message back and forth, each
 * blocking in read(2) until the other writes, as a worker waits for its signing process.
 * Prints one line: hop_cpu_us=C hop_wall_us=W round_trips=N, where C is the CPU time of
 * both processes (user and system) per one-way message and W the elapsed time per message.
 * Exit status: 0, 1 on any failure (nothing is printed on stdout then).
 * Input: only the operator's argument.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define MSG_LEN		64
#define MAX_TRIPS	10000000L

/* Exactly len bytes from fd, or -1. */
static int
read_all(int fd, unsigned char *buf, size_t len)
{
	size_t got = 0;

	while (got < len) {
		ssize_t r = read(fd, buf + got, len - got);

		if (r == -1 && errno == EINTR)
			continue;
		if (r <= 0)
			return -1;
		got += (size_t)r;
	}
	return 0;
}

/* One message to fd; a peer gone is an error, not SIGPIPE. */
static int
send_msg(int fd, const unsigned char *buf)
{
	return send(fd, buf, MSG_LEN, MSG_NOSIGNAL) == MSG_LEN ? 0 : -1;
}

/* Each message of fd answered with itself, n times. */
static int
echo(int fd, long n)
{
	unsigned char buf[MSG_LEN];

	for (; n > 0; n--)
		if (read_all(fd, buf, sizeof(buf)) == -1 || send_msg(fd, buf) == -1)
			return -1;
	return 0;
}

static double
seconds(const struct timeval *tv)
{
	return (double)tv->tv_sec + (double)tv->tv_usec / 1e6;
}

int
main(int argc, char **argv)
{
	unsigned char buf[MSG_LEN] = { 0 };
	struct timespec t0, t1;
	struct rusage self, child;
	long n = 50000, i;
	char *end;
	int sv[2], status;
	pid_t pid;
	double wall, cpu;

	if (argc > 2 || (argc == 2 && ((n = strtol(argv[1], &end, 10)) < 1 || n > MAX_TRIPS ||
	    *end != '\0'))) {
		fprintf(stderr, "usage: tsa-bench-hop [ROUND_TRIPS]   (1 to %ld)\n", MAX_TRIPS);
		return 1;
	}
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) == -1) {
		perror("tsa-bench-hop: socketpair");
		return 1;
	}
	clock_gettime(CLOCK_MONOTONIC, &t0);
	if ((pid = fork()) == -1) {
		perror("tsa-bench-hop: fork");
		return 1;
	}
	if (pid == 0) {
		close(sv[0]);
		_exit(echo(sv[1], n) == 0 ? 0 : 1);
	}
	close(sv[1]);
	for (i = 0; i < n; i++)
		if (send_msg(sv[0], buf) == -1 || read_all(sv[0], buf, sizeof(buf)) == -1)
			break;
	close(sv[0]);
	if (waitpid(pid, &status, 0) == -1 || !WIFEXITED(status) || WEXITSTATUS(status) != 0 ||
	    i < n) {
		fprintf(stderr, "tsa-bench-hop: the exchange failed after %ld round trips\n", i);
		return 1;
	}
	clock_gettime(CLOCK_MONOTONIC, &t1);
	getrusage(RUSAGE_SELF, &self);
	getrusage(RUSAGE_CHILDREN, &child);
	wall = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
	cpu = seconds(&self.ru_utime) + seconds(&self.ru_stime) + seconds(&child.ru_utime) +
	    seconds(&child.ru_stime);
	printf("hop_cpu_us=%.2f hop_wall_us=%.2f round_trips=%ld\n", cpu / (double)n / 2 * 1e6,
	    wall / (double)n / 2 * 1e6, n);
	return 0;
}
