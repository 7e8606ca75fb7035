/*
 * main.c - tsa-signer: the host's signing process, the only one that loads the PKCS#11
 * module, reads the PIN and holds sessions (README "Security").  This process only listens:
 * it holds no key and maps no module, and forks one child per connection (serve.c), which
 * opens the keys and answers that connection's orders until it closes.  A child that dies is
 * replaced when its worker reconnects; a worker that floods or stalls holds only its own
 * child.  Peers are bounded: SIGNER_MAX_PER_PEER connections per process, SIGNER_MAX_CHILDREN
 * in all.
 * Input: connections on a local socket only the workers' group may reach (0660).
 *
 * usage: tsa-signer [--conf FILE] [--listen PATH]
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>
#ifdef __SANITIZE_ADDRESS__
#include <sanitizer/lsan_interface.h>
#endif

#include "children.h"
#include "conf.h"
#include "log.h"
#include "signerd.h"

struct child {
	pid_t	pid;
	pid_t	peer;
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
	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) == -1)
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

static size_t
count_peer(const struct child *c, size_t n, pid_t peer)
{
	size_t i, k = 0;

	for (i = 0; i < n; i++)
		k += c[i].pid > 0 && c[i].peer == peer;
	return k;
}

static void
reap(struct child *c, size_t n)
{
	pid_t pid;
	size_t i;
	int status;

	while ((pid = waitpid(-1, &status, WNOHANG)) > 0) {
		for (i = 0; i < n && c[i].pid != pid; i++)
			;
		if (i < n)
			c[i].pid = 0;
		if (WIFSIGNALED(status))
			log_msg(LOG_ERR, "signing process %d killed by signal %d", (int)pid,
			    WTERMSIG(status));
		else if (WEXITSTATUS(status) != 0)
			log_msg(LOG_ERR, "signing process %d exited with %d", (int)pid,
			    WEXITSTATUS(status));
	}
}

/* Accepts one connection and hands it to a child of its own. */
static void
accept_one(int lfd, struct child *c, size_t n, const struct tsa_conf *conf)
{
	struct ucred cred;
	socklen_t clen = sizeof(cred);
	size_t i;
	pid_t pid;
	int fd;

	if ((fd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC)) == -1) {
		if (errno != EINTR && errno != EAGAIN)
			log_msg(LOG_ERR, "accept: %s", strerror(errno));
		return;
	}
	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &clen) == -1) {
		close(fd);
		return;
	}
	for (i = 0; i < n && c[i].pid > 0; i++)
		;
	if (i == n || count_peer(c, n, cred.pid) >= SIGNER_MAX_PER_PEER) {
		log_msg(LOG_WARNING, "connection from pid %d uid %d refused: %s", (int)cred.pid,
		    (int)cred.uid, i == n ? "too many connections" :
		    "too many connections from that process");
		close(fd);
		return;
	}
	if ((pid = fork()) == 0) {
		int rc;

		close(lfd);
		log_init("tsa-signer");
		rc = signer_serve(fd, cred.pid, conf);
#ifdef __SANITIZE_ADDRESS__
		__lsan_do_leak_check();
#endif
		_exit(rc);
	}
	if (pid < 0)
		log_msg(LOG_ERR, "fork: %s", strerror(errno));
	else {
		c[i].pid = pid;
		c[i].peer = cred.pid;
	}
	close(fd);
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
	static struct child children[SIGNER_MAX_CHILDREN];
	static pid_t pids[SIGNER_MAX_CHILDREN];
	const char *conf_arg = NULL, *listen_arg = NULL;
	struct tsa_conf conf;
	struct sigaction sa;
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
	memset(&sa, 0, sizeof(sa));
	sigemptyset(&sa.sa_mask);
	/* No SA_RESTART: accept() returns on a signal, so a stop or a child's end is seen. */
	sa.sa_handler = on_stop;
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	sa.sa_handler = on_child;
	sigaction(SIGCHLD, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
	log_msg(LOG_INFO, "listening on %s", listen_arg != NULL ? listen_arg :
	    conf.signer_socket);
	while (!stopping) {
		reap(children, SIGNER_MAX_CHILDREN);
		accept_one(lfd, children, SIGNER_MAX_CHILDREN, &conf);
	}
	close(lfd);
	reap(children, SIGNER_MAX_CHILDREN);
	for (i = 0; i < SIGNER_MAX_CHILDREN; i++)
		pids[i] = children[i].pid;
	children_stop(pids, SIGNER_MAX_CHILDREN, "signing processes");
	conf_free(&conf);
	return 0;
}
