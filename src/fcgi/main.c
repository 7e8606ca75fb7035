/*
 * main.c - tsa-fcgi: the FastCGI worker.  A supervisor process opens (or inherits) the
 * listening socket and keeps N worker processes running; each worker has its own PostgreSQL
 * connection and its own connection to the host's signing process (tsa-signer), reused across
 * requests.  Workers hold no key, no PIN and no PKCS#11 module: they parse, choose the policy
 * and order the token (README "Security").
 * Input: FastCGI records from the web server (parsed by libfcgi); the params and body are
 * bounded here before the pipeline (handler.c) sees them.
 *
 * usage: tsa-fcgi [--conf FILE] [--listen unix:PATH | HOST:PORT] [--workers N]
 *        tsa-fcgi --clock-status   (the kernel's clock synchronisation, as the clock filter
 *                                   sees it; exit 0 when synchronised)
 * Without --listen (and no `listen` in tsa.conf) the socket is inherited: systemd socket
 * activation (LISTEN_FDS) or fd 0 as spawn-fcgi and web servers pass it.
 */
#include <errno.h>
#include <fcgiapp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <unistd.h>
#ifdef __SANITIZE_ADDRESS__
#include <sanitizer/lsan_interface.h>
#endif

#include "children.h"
#include "gate.h"
#include "handler.h"
#include "heartbeat.h"
#include "log.h"
#include "metrics.h"
#include "logapi.h"
#include "ops.h"
#include "params.h"
#include "asn1.h"
#include "clock.h"

static volatile sig_atomic_t stopping;
static volatile sig_atomic_t child_exited;
static volatile sig_atomic_t beat_due;
/* The supervisor's servers row (heartbeat.c): its connections are the supervisor's alone. */
static struct heartbeat hb;

static void
on_stop(int sig)
{
	(void)sig;
	stopping = 1;
}

static void
on_child(int sig)
{
	(void)sig;
	child_exited = 1;
}

static void
on_beat(int sig)
{
	(void)sig;
	beat_due = 1;
}

static void
set_handler(int sig, void (*fn)(int))
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = fn;
	sigemptyset(&sa.sa_mask);
	/* No SA_RESTART: a blocked accept() must return so that the worker can stop. */
	sigaction(sig, &sa, NULL);
}

static int
open_listener(const char *spec)
{
	const char *env = getenv("LISTEN_FDS"), *pid = getenv("LISTEN_PID");
	mode_t old;
	int fd;

	if (spec == NULL) {
		/* systemd socket activation hands the socket over as fd 3. */
		if (env != NULL && atoi(env) >= 1 && pid != NULL && atol(pid) == (long)getpid())
			return 3;
		return 0;
	}
	if (strncmp(spec, "unix:", 5) == 0) {
		spec += 5;
		unlink(spec);
		/*
		 * rw for the owner and the group only (0660), the web server's group being the
		 * socket directory's (setgid) or the socket's own (systemd's SocketGroup): the
		 * FastCGI params are trusted, so only the web server may connect.  Set by the
		 * umask around bind() (in FCGX_OpenSocket): the socket never exists wider.
		 */
		old = umask(0117);
		fd = FCGX_OpenSocket(spec, 1024);
		umask(old);
	} else
		fd = FCGX_OpenSocket(spec, 1024);
	if (fd < 0)
		log_msg(LOG_ERR, "cannot listen on %s: %s", spec, strerror(errno));
	return fd;
}

/* Fills the request from the params (params.c) and reads the body into buf (capacity cap+1). */
static void
read_request(FCGX_Request *fr, unsigned char *buf, size_t cap, struct http_request *hr)
{
	size_t want;
	int n;

	if (params_read(fr->envp, cap, hr, &want) == 0)
		return;
	n = FCGX_GetStr((char *)buf, (int)want, fr->in);
	if (n < 0)
		n = 0;
	if ((size_t)n > cap) {
		hr->body_too_large = 1;
		return;
	}
	hr->body = buf;
	hr->body_len = (size_t)n;
}

static void
write_response(FCGX_Request *fr, const struct http_response *resp)
{
	/* libfcgi's printf knows no %zu. */
	FCGX_FPrintF(fr->out, "Status: %d %s\r\nContent-Type: %s\r\nContent-Length: %lu\r\n",
	    resp->status, http_reason(resp->status), resp->content_type,
	    (unsigned long)resp->body_len);
	if (resp->status == 405)
		FCGX_FPrintF(fr->out, "Allow: %s\r\n", resp->allow != NULL ? resp->allow : "GET, POST");
	if (resp->cache_control != NULL)
		FCGX_FPrintF(fr->out, "Cache-Control: %s\r\n", resp->cache_control);
	if (resp->vary != NULL)
		FCGX_FPrintF(fr->out, "Vary: %s\r\n", resp->vary);
	FCGX_PutS("\r\n", fr->out);
	if (resp->body_len > 0)
		FCGX_PutStr((const char *)resp->body, (int)resp->body_len, fr->out);
}

/*
 * Waits for the web server's next whole request while following configuration changes (an
 * idle worker reloads on a notification within the second, so the last good configuration is
 * always the one it keeps) and writing the aggregated refusals when they are due.  Connections are accepted and held by the gate (gate.c) until
 * their request is whole, so a peer that stalls never holds the worker; libfcgi then reads
 * the request from the connection we hand it (FCGX_Request.ipcFd, with keepConnection set so
 * that FCGX_Accept_r does not close it first), and a connection the web server keeps comes
 * back to the gate after its answer.  A worker that is stopping, or draining before
 * it recycles itself, accepts nothing more but still serves the requests the gate holds.
 * Returns the connection, or -1 when the worker is to end.
 */
static int
wait_connection(struct fcgi_gate *g, struct worker *w, int draining, int *whole,
    long *deadline_ms)
{
	long due = worker_tick(w);
	int fd;

	while ((!stopping && !draining) || gate_pending(g) > 0) {
		/* Awake by the time aggregated refusals are due (refusals.h), else each second. */
		fd = gate_next(g, w->db.conn != NULL ? PQsocket(w->db.conn) : -1,
		    due >= 0 && due < 1000 ? (int)due + 1 : 1000, !stopping && !draining, whole,
		    deadline_ms);
		/*
		 * Before every request: a notification may have been read from the socket with an
		 * earlier statement's results, where poll no longer shows it.  A request waiting
		 * is served with the configuration held rather than behind an attempt to reconnect
		 * (bounded by database_timeout, but a wait all the same).
		 */
		if (fd < 0 || w->db.conn != NULL || w->cf.config == NULL)
			(void)worker_refresh(w);
		due = worker_tick(w);
		if (fd >= 0)
			return fd;
	}
	return -1;
}

static int
worker_main(int listen_fd, const struct tsa_conf *conf)
{
	static struct fcgi_gate gate;
	struct worker w;
	FCGX_Request fr;
	unsigned char *buf;
	char err[512];
	long served = 0;
	int draining = 0;
	sigset_t none, term;

	set_handler(SIGTERM, on_stop);
	set_handler(SIGINT, on_stop);
	set_handler(SIGCHLD, SIG_DFL);
	signal(SIGPIPE, SIG_IGN);
	/* The supervisor forks with these signals blocked: a worker must receive them. */
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	sigemptyset(&term);
	sigaddset(&term, SIGTERM);
	sigaddset(&term, SIGINT);
	if (tsa_asn1_init() == -1)
		return 70;
	if (worker_init(&w, conf, err, sizeof(err)) == -1) {
		log_msg(LOG_ERR, "%s", err);
		return 70;
	}
	if ((buf = malloc(conf->max_body + 1)) == NULL)
		return 70;
	FCGX_InitRequest(&fr, listen_fd, FCGI_FAIL_ACCEPT_ON_INTR);
	if (gate_init(&gate, listen_fd) == -1)
		return 70;
	gate.allow = conf->fcgi_allow;
	gate.n_allow = conf->n_fcgi_allow;
	for (;;) {
		struct http_request hr;
		struct http_response resp;
		const char *ops;
		long deadline;
		int whole, fd = wait_connection(&gate, &w, draining, &whole, &deadline);

		if (fd < 0)
			break;
		/*
		 * From the whole request to the answer SIGTERM waits: the request in flight is
		 * read, signed, recorded and answered first; then the loop sees `stopping`.  A
		 * request larger than the gate looks at (TSA_FCGI_PEEK) is read under the deadline
		 * timer: a peer that stops sending is cut off TSA_FCGI_REQUEST_DEADLINE after its
		 * accept, and the supervisor's 10 s, not the signal, bound the rest.
		 */
		sigprocmask(SIG_BLOCK, &term, NULL);
		if (!whole)
			deadline_arm(fd, deadline);
		fr.ipcFd = fd;
		fr.keepConnection = 1;
		if (FCGX_Accept_r(&fr) < 0) {
			if (!whole)
				(void)deadline_disarm();
			sigprocmask(SIG_UNBLOCK, &term, NULL);
			continue;	/* not a FastCGI request: libfcgi closed it */
		}
		read_request(&fr, buf, conf->max_body, &hr);
		if (!whole && deadline_disarm()) {
			log_msg(LOG_WARNING, "closed a FastCGI connection whose request was not "
			    "whole within %d s", TSA_FCGI_REQUEST_DEADLINE);
			FCGX_Free(&fr, 1);
			sigprocmask(SIG_UNBLOCK, &term, NULL);
			continue;
		}
		if ((ops = FCGX_GetParam("TSA_OPS", fr.envp)) != NULL &&
		    strncmp(ops, "log-", 4) == 0)
			logapi_handle(&w, ops + 4, hr.method, hr.query, &resp);
		else if (ops != NULL && *ops != '\0')
			ops_handle(&w, ops, hr.method, &resp);
		else
			worker_handle(&w, &hr, &resp);
		write_response(&fr, &resp);
		free(resp.body);
		FCGX_Finish_r(&fr);
		sigprocmask(SIG_UNBLOCK, &term, NULL);
		if (!draining && conf->max_requests > 0 && ++served >= conf->max_requests) {
			log_msg(LOG_INFO, "recycling after %ld requests", served);
			draining = 1;
		}
		/* Still open: the web server keeps it for its next request (FCGI_KEEP_CONN). */
		if (fr.ipcFd >= 0) {
			if (stopping || draining)
				close(fr.ipcFd);
			else
				gate_keep(&gate, fr.ipcFd);
			fr.ipcFd = -1;
		}
	}
	gate_close(&gate);
	FCGX_Free(&fr, 1);
	free(buf);
	worker_free(&w);
	return 0;
}

static pid_t
spawn(int listen_fd, const struct tsa_conf *conf)
{
	pid_t pid = fork();

	if (pid == 0) {
		int rc;

		log_init("tsa-worker");
		heartbeat_forget(&hb);
		rc = worker_main(listen_fd, conf);
#ifdef __SANITIZE_ADDRESS__
		/* _exit() skips LSan's check at exit: a worker's leaks are reported here. */
		__lsan_do_leak_check();
#endif
		_exit(rc);
	}
	if (pid < 0)
		log_msg(LOG_ERR, "fork: %s", strerror(errno));
	return pid;
}

static int
count_alive(const pid_t *pids, int n)
{
	int i, alive = 0;

	for (i = 0; i < n; i++)
		alive += pids[i] > 0;
	return alive;
}

/* The supervisor: replaces a worker that dies (after a pause if it dies at once, so a
 * broken configuration does not spin), forwards SIGTERM and waits for in-flight requests;
 * every heartbeat_interval seconds (SIGALRM) its servers row (heartbeat.c). */
static int
supervise(int listen_fd, const struct tsa_conf *conf)
{
	struct itimerval beat;
	pid_t *pids;
	time_t *started;
	int i, n = conf->workers;
	sigset_t block, old;

	if ((pids = calloc((size_t)n, sizeof(*pids))) == NULL ||
	    (started = calloc((size_t)n, sizeof(*started))) == NULL ||
	    heartbeat_init(&hb, conf) == -1)
		return 70;
	set_handler(SIGTERM, on_stop);
	set_handler(SIGINT, on_stop);
	set_handler(SIGCHLD, on_child);
	set_handler(SIGALRM, on_beat);
	sigemptyset(&block);
	sigaddset(&block, SIGTERM);
	sigaddset(&block, SIGINT);
	sigaddset(&block, SIGCHLD);
	sigaddset(&block, SIGALRM);
	sigprocmask(SIG_BLOCK, &block, &old);
	for (i = 0; i < n; i++) {
		pids[i] = spawn(listen_fd, conf);
		started[i] = time(NULL);
	}
	log_msg(LOG_INFO, "%d workers started", n);
	metrics_workers(n, count_alive(pids, n));
	/* The first beat at once (the workers are forked: they inherit no timer), then one per
	 * interval. */
	memset(&beat, 0, sizeof(beat));
	beat.it_value.tv_sec = conf->heartbeat_interval;
	beat.it_interval.tv_sec = conf->heartbeat_interval;
	setitimer(ITIMER_REAL, &beat, NULL);
	heartbeat_beat(&hb, 0);
	while (!stopping) {
		pid_t pid;
		int status;

		sigsuspend(&old);
		if (beat_due && !stopping) {
			beat_due = 0;
			heartbeat_beat(&hb, 0);
		}
		child_exited = 0;
		while ((pid = waitpid(-1, &status, WNOHANG)) > 0) {
			for (i = 0; i < n && pids[i] != pid; i++)
				;
			if (i == n)
				continue;
			if (WIFSIGNALED(status))
				log_msg(LOG_ERR, "worker %d killed by signal %d", (int)pid,
				    WTERMSIG(status));
			else if (WEXITSTATUS(status) != 0)
				log_msg(LOG_ERR, "worker %d exited with %d", (int)pid,
				    WEXITSTATUS(status));
			pids[i] = 0;
			if (stopping)
				continue;
			/* A worker recycled after max_requests (exit 0) is replaced at once, however
			 * short its life; one that failed young, after a pause. */
			if (!(WIFEXITED(status) && WEXITSTATUS(status) == 0) &&
			    time(NULL) - started[i] < 1)
				sleep(1);
			pids[i] = spawn(listen_fd, conf);
			started[i] = time(NULL);
			metrics_worker_restarted();
		}
		metrics_workers(n, count_alive(pids, n));
	}
	log_msg(LOG_INFO, "stopping: waiting for the workers to finish their requests");
	memset(&beat, 0, sizeof(beat));
	setitimer(ITIMER_REAL, &beat, NULL);
	sigprocmask(SIG_SETMASK, &old, NULL);
	children_stop(pids, (size_t)n, "workers");
	heartbeat_beat(&hb, 1);
	heartbeat_free(&hb);
	free(pids);
	free(started);
	return 0;
}

static int
clock_status(void)
{
	struct clock_status st;

	if (clock_read(NULL, &st) == -1) {
		fprintf(stderr, "tsa-fcgi: cannot read the kernel clock status\n");
		return 2;
	}
	printf("unsync=%d\nesterror_us=%ld\nmaxerror_us=%ld\nleap=%s\n", st.unsync,
	    st.esterror_us, st.maxerror_us, st.leap > 0 ? "insert" : st.leap < 0 ? "delete" :
	    "none");
	return st.unsync ? 1 : 0;
}

/*
 * workers = 0: four per CPU, at most 32.  A worker spends most of a token waiting, for the
 * signing process and its commit, so more workers than CPUs keep the CPUs busy, and a signing
 * round then records more tokens per commit (README, the signing process); each holds a
 * PostgreSQL connection, hence the cap.
 */
static int
default_workers(void)
{
	long n = 4 * sysconf(_SC_NPROCESSORS_ONLN);

	return n < 4 ? 4 : n > 32 ? 32 : (int)n;
}

static void
usage(void)
{
	fprintf(stderr, "usage: tsa-fcgi [--conf FILE] [--listen unix:PATH|HOST:PORT] "
	    "[--workers N]\n");
	exit(64);
}

int
main(int argc, char **argv)
{
	const char *conf_arg = NULL, *listen_arg = NULL, *spec;
	struct tsa_conf conf;
	int i, fd, workers = 0, rc;

	log_init("tsa-fcgi");
	for (i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--conf") == 0 && i + 1 < argc)
			conf_arg = argv[++i];
		else if (strcmp(argv[i], "--listen") == 0 && i + 1 < argc)
			listen_arg = argv[++i];
		else if (strcmp(argv[i], "--workers") == 0 && i + 1 < argc)
			workers = atoi(argv[++i]);
		else if (strcmp(argv[i], "--clock-status") == 0 && argc == 2)
			return clock_status();
		else
			usage();
	}
	/* The supervisor and every worker it forks hold the conninfo. */
	if ((rc = conf_load_daemon(conf_arg, &conf)) != 0)
		return rc;
	if (workers > 0 && workers <= 256)
		conf.workers = workers;
	if (conf.workers == 0)
		conf.workers = default_workers();
	if (FCGX_Init() != 0) {
		log_msg(LOG_ERR, "FastCGI library initialisation failed");
		return 70;
	}
	spec = listen_arg != NULL ? listen_arg : conf.listen;
	if ((fd = open_listener(spec)) < 0)
		return 71;
	/* The FastCGI params are trusted (TSA_SERVICE, the client's identity): say who may send. */
	if (spec != NULL && strncmp(spec, "unix:", 5) != 0 && conf.n_fcgi_allow == 0)
		log_msg(LOG_WARNING, "listening on %s with no fcgi_allow: any host that reaches "
		    "the port can send requests and choose their FastCGI params", spec);
	/* Before the first fork: every worker, and every replacement, shares the counters. */
	if (metrics_init() == -1) {
		log_msg(LOG_ERR, "metrics: cannot map the shared counters: %s", strerror(errno));
		return 71;
	}
	metrics_set_host(conf.host);
	rc = supervise(fd, &conf);
	conf_free(&conf);
	return rc;
}
