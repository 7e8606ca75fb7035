/*
 * gate.h - the FastCGI connections of one process (tsa-fcgi's workers, tsa-admin) from accept
 * until their request is whole: a process takes a connection's request only once params and
 * body have all arrived, so a peer that connects and stalls, or sends a byte every few
 * seconds, holds one slot of the gate and never the process; and none is held longer than
 * TSA_FCGI_REQUEST_DEADLINE from its accept (include/tsa_limits.h), whole request or not.
 * A connection the web server keeps for its next request (FastCGI's FCGI_KEEP_CONN) comes
 * back to the gate once answered and waits there, idle, costing a slot and never a process.
 */
#ifndef TSA_GATE_H
#define TSA_GATE_H

#include <stddef.h>

#include "cidr.h"
#include "tsa_limits.h"

struct gate_conn {
	int	 fd;
	long	 deadline_ms;		/* monotonic milliseconds */
	int	 kept;			/* idle between two requests of a kept connection */
	int	 reused;		/* a kept connection (its request is not its first) */
	unsigned long seq;		/* when its request began, in the gate's order */
};

struct fcgi_gate {
	int		 listen_fd;	/* non-blocking; owned by the caller */
	struct gate_conn c[TSA_FCGI_PENDING];	/* connections owned by the gate */
	size_t		 n;
	unsigned long	 seq;		/* the next request's place in line */
	unsigned char	 peek[TSA_FCGI_PEEK];
	const struct cidr *allow;	/* TCP peers accepted (none: any); set after gate_init */
	size_t		 n_allow;
	long		 refused_log_ms;	/* when a refused peer was last logged */
};

/*
 * Looks at the first len bytes a FastCGI peer sent: 1 when they hold a whole request (the
 * records up to and including the empty FCGI_STDIN record that ends it), 0 when more is to
 * come, -1 when they are not FastCGI records (libfcgi then refuses the connection).
 */
int	fcgi_request_whole(const unsigned char *p, size_t len);

/* Monotonic milliseconds. */
long	gate_now_ms(void);

/* Sets listen_fd non-blocking; the gate holds no connection yet. */
int	gate_init(struct fcgi_gate *g, int listen_fd);

/*
 * Waits up to timeout_ms, accepting new connections when `accepting`, for one whose request
 * is whole (or fills TSA_FCGI_PEEK: *whole is then 0); closes those past their deadline or
 * whose peer stopped sending.  Also returns when wake_fd (if >= 0) is readable or a signal
 * arrives.  Returns the connection (the caller owns it now; *deadline_ms is its deadline),
 * or -1 when none is ready.
 */
int	gate_next(struct fcgi_gate *g, int wake_fd, int timeout_ms, int accepting, int *whole,
	    long *deadline_ms);

/*
 * Takes back a connection whose request was answered and that the web server keeps for the
 * next one (FCGI_KEEP_CONN): idle, it is held up to TSA_FCGI_KEPT_IDLE; from the first byte
 * of its next request it is bound by the request deadline like a new connection.  A full gate
 * makes room by closing its longest-idle kept connection when a new one waits.
 */
void	gate_keep(struct fcgi_gate *g, int fd);

/* Connections the gate holds with a request begun or awaited from accept (the requests a
 * stopping process still owes an answer); idle kept connections are not counted. */
size_t	gate_pending(const struct fcgi_gate *g);

/* Closes every connection the gate holds. */
void	gate_close(struct fcgi_gate *g);

/*
 * For a request handed over before it was whole: from deadline_arm until deadline_disarm, a
 * SIGALRM at deadline_ms shuts fd down, so libfcgi's blocking read returns and the request
 * ends there.  deadline_disarm returns 1 when the deadline was reached (the request is cut
 * short: answer nothing, close it), else 0.
 */
void	deadline_arm(int fd, long deadline_ms);
int	deadline_disarm(void);

#endif
