/*
 * main.c - tsa-log: the token log's integrator (README "Token log").  One per database: it
 * takes the leadership row (schema 011's log_leader) with a new epoch, then in every
 * transaction locks the row and checks that the epoch is still its own (advisory locks are
 * not replicated, so after a failover two integrators could each hold one; the row is).  It
 * takes the leaves the signing processes queued, in queue order, gives each its index once,
 * keeps the tree's complete subtrees (RFC 9162 hashing, src/log/merkle.c) and publishes a
 * tree head (size, root, time) in the same transaction: a head is visible only once
 * committed, with the leaves and nodes it covers.  It runs as its own user with its own
 * database role (tsa_logger: it cannot touch issued_tokens, nor change what it integrated).
 * Input: the queued leaves, which a signing process wrote; their content is not trusted
 * here, only hashed (tsactl log audit checks them against the archive).
 *
 * usage: tsa-log [--conf FILE] [--once] [--batch N]
 *   --once: integrate what is queued, publish, and exit (tests, benchmarks).
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "conf.h"
#include "log.h"
#include "logd.h"
#include "store.h"

static volatile sig_atomic_t stopping;

static void
on_stop(int sig)
{
	(void)sig;
	stopping = 1;
}

static void
usage(void)
{
	fprintf(stderr, "usage: tsa-log [--conf FILE] [--once] [--batch N]\n");
	exit(64);
}

int
main(int argc, char **argv)
{
	struct tsa_conf conf;
	struct integrator in;
	struct sigaction sa;
	const char *conf_arg = NULL;
	int i, rc, once = 0;
	long batch = LOGD_BATCH;

	log_init("tsa-log");
	for (i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--conf") == 0 && i + 1 < argc)
			conf_arg = argv[++i];
		else if (strcmp(argv[i], "--once") == 0)
			once = 1;
		else if (strcmp(argv[i], "--batch") == 0 && i + 1 < argc) {
			char *end;

			batch = strtol(argv[++i], &end, 10);
			if (*end != '\0' || batch < 1 || batch > LOGD_MAX_BATCH)
				usage();
		} else
			usage();
	}
	if ((rc = conf_load_daemon(conf_arg, &conf)) != 0)
		return rc;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_stop;
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);

	if (integrator_init(&in, conf.log_database != NULL ? conf.log_database : conf.database,
	    conf.database_timeout * 1000, conf.signer_socket, (size_t)batch) == -1) {
		conf_free(&conf);
		return 70;
	}
	rc = integrator_run(&in, once, &stopping);
	integrator_free(&in);
	conf_free(&conf);
	return rc;
}
