/*
 * gate.c - a FastCGI process's connections from accept until their request is whole (see
 * gate.h).  Input (untrusted, from whoever can connect to the socket): the FastCGI record
 * headers of a request, looked at in place (MSG_PEEK) and never consumed here: libfcgi reads
 * the request itself once it is whole.  Only the 8-byte record headers are walked (version,
 * type, content and padding lengths: FastCGI 1.0, section 3.3).
 *
 * Why poll and peek rather than a read timeout: libfcgi reads a request with blocking reads,
 * so a per-read timeout (SO_RCVTIMEO) is renewed by every byte, and a process reading one
 * connection serves nobody else meanwhile.  Here a process holds up to TSA_FCGI_PENDING
 * connections, serves whichever request is whole first, and closes each that is not whole
 * by its deadline; a single tsa-admin process stays available while one peer stalls.
 *
 * Kept connections (FCGI_KEEP_CONN, section 5.1): libfcgi leaves such a connection open once
 * its request is answered, and the worker hands it back here (gate_keep) to wait for the next
 * request among the others, so an idle kept connection never holds a process, and the web
 * server and the worker are spared a connect, an accept and a close per request.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include "gate.h"
#include "log.h"

#define FCGI_VERSION_1	1
#define FCGI_STDIN	5
#define FCGI_HEADER_LEN	8
#define NONE		((size_t)-1)

int
fcgi_request_whole(const unsigned char *p, size_t len)
{
	size_t off = 0, clen, rec;

	while (len - off >= FCGI_HEADER_LEN) {
		if (p[off] != FCGI_VERSION_1)
			return -1;
		clen = (size_t)p[off + 4] << 8 | p[off + 5];
		rec = FCGI_HEADER_LEN + clen + p[off + 6];
		if (rec > len - off)
			return 0;
		/* An empty FCGI_STDIN record ends the request's input (section 3.3). */
		if (p[off + 1] == FCGI_STDIN && clen == 0)
			return 1;
		off += rec;
	}
	return 0;
}

long
gate_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int
gate_init(struct fcgi_gate *g, int listen_fd)
{
	int fl = fcntl(listen_fd, F_GETFL);

	g->listen_fd = listen_fd;
	g->n = 0;
	g->allow = NULL;
	g->n_allow = 0;
	g->refused_log_ms = 0;
	if (fl == -1 || fcntl(listen_fd, F_SETFL, fl | O_NONBLOCK) == -1) {
		log_msg(LOG_ERR, "listening socket: %s", strerror(errno));
		return -1;
	}
	return 0;
}

size_t
gate_pending(const struct fcgi_gate *g)
{
	size_t i, n = 0;

	for (i = 0; i < g->n; i++)
		n += !g->c[i].kept;
	return n;
}

static void
drop(struct fcgi_gate *g, size_t i)
{
	close(g->c[i].fd);
	g->c[i] = g->c[--g->n];
}

void
gate_close(struct fcgi_gate *g)
{
	while (g->n > 0)
		drop(g, g->n - 1);
}

void
gate_keep(struct fcgi_gate *g, int fd)
{
	if (g->n == TSA_FCGI_PENDING) {
		close(fd);
		return;
	}
	g->c[g->n].fd = fd;
	g->c[g->n].deadline_ms = gate_now_ms() + TSA_FCGI_KEPT_IDLE * 1000L;
	g->c[g->n].reused = 1;
	g->c[g->n++].kept = 1;
}

/* The index of the kept connection idle the longest, or g->n when none is kept. */
static size_t
longest_idle(const struct fcgi_gate *g)
{
	size_t i, best = g->n;

	for (i = 0; i < g->n; i++)
		if (g->c[i].kept && (best == g->n || g->c[i].deadline_ms < g->c[best].deadline_ms))
			best = i;
	return best;
}

/*
 * Connection i's request: 1 whole (or as much as the gate looks at), 0 not yet, -1 gone (the
 * peer closed or reset it before its request was whole, or closed a kept connection).
 */
static int
look(struct fcgi_gate *g, size_t i, short revents, int *whole)
{
	ssize_t n = recv(g->c[i].fd, g->peek, sizeof(g->peek), MSG_PEEK | MSG_DONTWAIT);
	int w;

	if (n < 0)
		return errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR ? 0 : -1;
	if (n == 0)
		return -1;
	/* A kept connection's next request has begun: from now on it is bound like a new one. */
	if (g->c[i].kept) {
		g->c[i].kept = 0;
		g->c[i].deadline_ms = gate_now_ms() + TSA_FCGI_REQUEST_DEADLINE * 1000L;
		g->c[i].seq = g->seq++;
	}
	w = fcgi_request_whole(g->peek, (size_t)n);
	if (w != 0 || (size_t)n == sizeof(g->peek)) {
		*whole = w == 1;
		return 1;
	}
	/* The peer will send nothing more: its request will never be whole. */
	if (revents & (POLLRDHUP | POLLHUP | POLLERR))
		return -1;
	return 0;
}

/* Takes connection i out of the gate for the caller. */
static int
hand_over(struct fcgi_gate *g, size_t i, long *deadline_ms)
{
	int fd = g->c[i].fd;

	*deadline_ms = g->c[i].deadline_ms;
	g->c[i] = g->c[--g->n];
	return fd;
}

/*
 * accept(), and the allow-list: a TCP peer outside it is closed at once, before a byte of it
 * is read (logged at most once a second).  libfcgi's own FCGI_WEB_SERVER_ADDRS is checked only
 * in its accept, which the gate replaces.  -1 when there was nothing to accept.
 */
static int
accept_allowed(struct fcgi_gate *g)
{
	struct sockaddr_storage ss;
	socklen_t len = sizeof(ss);
	char text[INET6_ADDRSTRLEN] = "?";
	long now;
	int fd;

	if ((fd = accept4(g->listen_fd, (struct sockaddr *)&ss, &len, SOCK_CLOEXEC)) < 0)
		return -1;
	if (g->n_allow == 0 || (ss.ss_family != AF_INET && ss.ss_family != AF_INET6) ||
	    cidr_match_sockaddr(g->allow, g->n_allow, (struct sockaddr *)&ss))
		return fd;
	close(fd);
	if ((now = gate_now_ms()) - g->refused_log_ms >= 1000) {
		g->refused_log_ms = now;
		if (ss.ss_family == AF_INET)
			inet_ntop(AF_INET, &((struct sockaddr_in *)&ss)->sin_addr, text,
			    sizeof(text));
		else
			inet_ntop(AF_INET6, &((struct sockaddr_in6 *)&ss)->sin6_addr, text,
			    sizeof(text));
		log_msg(LOG_WARNING, "refused a FastCGI connection from %s: not in fcgi_allow", text);
	}
	return -1;
}

int
gate_next(struct fcgi_gate *g, int wake_fd, int timeout_ms, int accepting, int *whole,
    long *deadline_ms)
{
	struct pollfd pf[TSA_FCGI_PENDING + 2];
	size_t i, np = 0, first, best;
	long now = gate_now_ms(), wait = timeout_ms;
	int fd, r, w, best_whole = 0;

	for (i = 0; i < g->n; ) {
		if (g->c[i].deadline_ms <= now) {
			if (!g->c[i].kept)
				log_msg(LOG_WARNING, "closed a FastCGI connection whose request was "
				    "not whole within %d s", TSA_FCGI_REQUEST_DEADLINE);
			drop(g, i);
			continue;
		}
		if (g->c[i].deadline_ms - now < wait)
			wait = g->c[i].deadline_ms - now;
		i++;
	}
	for (i = 0; i < g->n; i++)
		pf[np++] = (struct pollfd){ g->c[i].fd, POLLIN | POLLRDHUP, 0 };
	first = np;
	if (accepting && (g->n < TSA_FCGI_PENDING || longest_idle(g) < g->n))
		pf[np++] = (struct pollfd){ g->listen_fd, POLLIN, 0 };
	if (wake_fd >= 0)
		pf[np++] = (struct pollfd){ wake_fd, POLLIN, 0 };
	if (poll(pf, (nfds_t)np, (int)wait) <= 0)
		return -1;
	best = NONE;
	/*
	 * pf[i] is g->c[i] for i < first: walked from the end, a drop moves only seen ones.  Of
	 * the whole requests, the one begun first is served: with kept connections a process
	 * often holds several ready at once, and none may wait behind later ones.
	 */
	for (i = first; i-- > 0; ) {
		if (pf[i].revents == 0)
			continue;
		if ((r = look(g, i, pf[i].revents, &w)) == 1 &&
		    (best == NONE || g->c[i].seq < g->c[best].seq)) {
			best = i;
			best_whole = w;
		} else if (r == -1) {
			drop(g, i);
			if (best != NONE && best == g->n)	/* the last one, moved into i */
				best = i;
		}
	}
	/*
	 * One connection per call, and none while a new connection's request is ready: the other
	 * workers poll the same socket, and a connection this process holds is served by it
	 * alone (and fails with it), so connections are left in the shared backlog for whichever
	 * worker is free.  A request on a kept connection does not stop the accept: with kept
	 * connections a busy process may always have one ready, and a new connection must not
	 * wait in the backlog behind them.  EAGAIN: another worker took it.
	 */
	if ((best == NONE || g->c[best].reused) && first < np && pf[first].fd == g->listen_fd &&
	    (pf[first].revents & POLLIN) && (fd = accept_allowed(g)) >= 0) {
		/* Full of connections, some of them idle kept ones: the longest idle makes room
		 * (it is never the ready one, and the last one moves into its place). */
		if (g->n == TSA_FCGI_PENDING) {
			i = longest_idle(g);
			drop(g, i);
			if (best == g->n)
				best = i;
		}
		g->c[g->n].fd = fd;
		g->c[g->n].deadline_ms = gate_now_ms() + TSA_FCGI_REQUEST_DEADLINE * 1000L;
		g->c[g->n].kept = 0;
		g->c[g->n].reused = 0;
		g->c[g->n].seq = g->seq++;
		/* Most requests are whole already: no second poll for them. */
		if ((r = look(g, g->n++, 0, &w)) == 1 && best == NONE) {
			best = g->n - 1;
			best_whole = w;
		} else if (r == -1)
			drop(g, g->n - 1);
	}
	if (best == NONE)
		return -1;
	*whole = best_whole;
	return hand_over(g, best, deadline_ms);
}

/* The connection the deadline timer guards; the handler only shuts it down. */
static volatile sig_atomic_t armed_fd = -1;
static volatile sig_atomic_t deadline_hit;

static void
on_deadline(int sig)
{
	int saved = errno;

	(void)sig;
	if (armed_fd >= 0) {
		shutdown(armed_fd, SHUT_RDWR);
		deadline_hit = 1;
	}
	errno = saved;
}

void
deadline_arm(int fd, long deadline_ms)
{
	struct sigaction sa;
	struct itimerval it;
	long left = deadline_ms - gate_now_ms();

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_deadline;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGALRM, &sa, NULL);
	deadline_hit = 0;
	armed_fd = fd;
	if (left < 1)
		left = 1;
	memset(&it, 0, sizeof(it));
	it.it_value.tv_sec = left / 1000;
	it.it_value.tv_usec = (left % 1000) * 1000;
	setitimer(ITIMER_REAL, &it, NULL);
}

int
deadline_disarm(void)
{
	struct itimerval off;

	/* First forget the fd: a SIGALRM delivered late then does nothing. */
	armed_fd = -1;
	memset(&off, 0, sizeof(off));
	setitimer(ITIMER_REAL, &off, NULL);
	return deadline_hit;
}
