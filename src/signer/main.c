/*
 * main.c - tsa-signer: the host's signing processes, the only ones that load the PKCS#11
 * module, read the PIN and hold sessions (README "Security").  This process opens the socket
 * and supervises: it holds no key and maps no module.  It forks signer_processes signing
 * processes (serve.c; 0: one per CPU), which share the socket, each accepting connections
 * and serving their orders in rounds with one commit per round; one that dies is replaced at
 * once (after a second when it died within a second of its start), and the workers it
 * served reconnect.
 * Input: connections on a local socket only the workers' group may reach (0660).
 *
 * usage: tsa-signer [--conf FILE] [--listen PATH]
 */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#ifdef __SANITIZE_ADDRESS__
#include <sanitizer/lsan_interface.h>
#endif

#include "children.h"
#include "conf.h"
#include "log.h"
#include "signerd.h"

/* A signing process's place: its pid (0: to start) and when it may start. */
struct child {
	pid_t	pid;
	time_t	started;
	time_t	not_before;
};

static volatile sig_atomic_t stopping;

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
}

static int
open_listener(const char *path)
{
	struct sockaddr_un sa;
	mode_t old;
	int fd, rc;

	memset(&sa, 0, sizeof(sa));
	sa.sun_family = AF_UNIX;
	if (strlen(path) >= sizeof(sa.sun_path)) {
		log_msg(LOG_ERR, "%s: socket path too long", path);
		return -1;
	}
	memcpy(sa.sun_path, path, strlen(path));
	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0)) == -1)
		return -1;
	unlink(path);
	/* rw for the owner and the group (the workers') only, never wider, from bind() on. */
	old = umask(0117);
	rc = bind(fd, (struct sockaddr *)&sa, sizeof(sa));
	umask(old);
	if (rc == -1 || listen(fd, 128) == -1) {
		log_msg(LOG_ERR, "cannot listen on %s: %s", path, strerror(errno));
		close(fd);
		return -1;
	}
	return fd;
}

static void
reap(struct child *c, size_t n, struct signer_pool *pool)
{
	pid_t pid;
	size_t i;
	int status;

	while ((pid = waitpid(-1, &status, WNOHANG)) > 0) {
		for (i = 0; i < n && c[i].pid != pid; i++)
			;
		if (i < n) {
			c[i].pid = 0;
			__atomic_store_n(&pool->conns[i], 0, __ATOMIC_RELAXED);
			/* One that died at its start (no module, no database) is not restarted in
			 * a tight loop. */
			c[i].not_before = time(NULL) - c[i].started < 1 ? time(NULL) + 1 : 0;
		}
		if (WIFSIGNALED(status))
			log_msg(LOG_ERR, "signing process %d killed by signal %d", (int)pid,
			    WTERMSIG(status));
		else if (WEXITSTATUS(status) != 0)
			log_msg(LOG_ERR, "signing process %d exited with %d", (int)pid,
			    WEXITSTATUS(status));
	}
}

/* Starts the signing processes whose place is empty. */
static void
start_children(int lfd, struct child *c, size_t n, const struct tsa_conf *conf,
    struct signer_pool *pool)
{
	time_t now = time(NULL);
	size_t i;
	pid_t pid;

	for (i = 0; i < n && !stopping; i++) {
		if (c[i].pid > 0 || now < c[i].not_before)
			continue;
		if ((pid = fork()) == 0) {
			int rc;

			log_init("tsa-signer");
			rc = signer_serve(lfd, conf, pool, i);
#ifdef __SANITIZE_ADDRESS__
			__lsan_do_leak_check();
#endif
			_exit(rc);
		}
		if (pid < 0) {
			log_msg(LOG_ERR, "fork: %s", strerror(errno));
			c[i].not_before = now + 1;
			continue;
		}
		c[i].pid = pid;
		c[i].started = now;
	}
}

static void
usage(void)
{
	fprintf(stderr, "usage: tsa-signer [--conf FILE] [--listen PATH]\n");
	exit(64);
}

int
main(int argc, char **argv)
{
	static struct child children[SIGNER_MAX_PROCESSES];
	static pid_t pids[SIGNER_MAX_PROCESSES];
	const char *conf_arg = NULL, *listen_arg = NULL;
	struct tsa_conf conf;
	struct sigaction sa;
	struct signer_pool *pool;
	size_t n;
	long cpus;
	int i, lfd, rc;

	log_init("tsa-signer");
	for (i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--conf") == 0 && i + 1 < argc)
			conf_arg = argv[++i];
		else if (strcmp(argv[i], "--listen") == 0 && i + 1 < argc)
			listen_arg = argv[++i];
		else
			usage();
	}
	/* This process and its children hold the conninfo, the children the PIN and the
	 * sessions. */
	if ((rc = conf_load_daemon(conf_arg, &conf)) != 0)
		return rc;
	if ((lfd = open_listener(listen_arg != NULL ? listen_arg : conf.signer_socket)) == -1)
		return 71;
	cpus = sysconf(_SC_NPROCESSORS_ONLN);
	n = conf.signer_processes > 0 ? (size_t)conf.signer_processes :
	    cpus < 1 ? 1 : cpus > SIGNER_MAX_PROCESSES ? SIGNER_MAX_PROCESSES : (size_t)cpus;
	pool = mmap(NULL, sizeof(*pool), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (pool == MAP_FAILED) {
		log_msg(LOG_ERR, "mmap: %s", strerror(errno));
		return 71;
	}
	pool->n = n;
	memset(&sa, 0, sizeof(sa));
	sigemptyset(&sa.sa_mask);
	/* No SA_RESTART: the wait below returns on a signal, so a stop or a child's end is
	 * seen at once. */
	sa.sa_handler = on_stop;
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	sa.sa_handler = on_child;
	sigaction(SIGCHLD, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
	log_msg(LOG_INFO, "listening on %s with %zu signing processes", listen_arg != NULL ?
	    listen_arg : conf.signer_socket, n);
	while (!stopping) {
		reap(children, n, pool);
		start_children(lfd, children, n, &conf, pool);
		(void)poll(NULL, 0, 1000);
	}
	close(lfd);
	reap(children, n, pool);
	for (i = 0; i < (int)n; i++)
		pids[i] = children[i].pid;
	children_stop(pids, n, "signing processes");
	conf_free(&conf);
	return 0;
}
