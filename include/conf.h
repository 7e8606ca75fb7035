/*
 * conf.h - the only local configuration of the worker, the signer and tsactl (tsa.conf): how
 * to reach PostgreSQL and the signer, the PKCS#11 module and where the PIN comes from (read by
 * tsa-signer only).  Everything else lives in the
 * database.  Format: `key = value` lines, `#` comments, no quoting.
 */
#ifndef TSA_CONF_H
#define TSA_CONF_H

#include <stddef.h>

#include "cidr.h"

#define CONF_MAX_ENV	8
#define CONF_MAX_ALLOW	32

struct tsa_conf {
	char	*database;		/* libpq conninfo string */
	char	*pkcs11_module;		/* path of the PKCS#11 module */
	char	*pkcs11_env[CONF_MAX_ENV];	/* NAME=VALUE set before the module loads */
	size_t	 n_pkcs11_env;
	char	*pin_file;		/* file holding the token's user PIN */
	char	*pin_env;		/* or: environment variable holding it */
	char	*listen;		/* unix:PATH or HOST:PORT */
	struct cidr fcgi_allow[CONF_MAX_ALLOW];	/* FastCGI peers tsa-fcgi accepts on TCP */
	size_t	 n_fcgi_allow;		/* 0: any peer */
	char	*admin_listen;		/* tsa-admin's socket: unix:PATH or HOST:PORT */
	char	*admin_database;	/* conninfo of tsactl and tsa-admin; NULL: database */
	char	*signer_socket;		/* tsa-signer's socket, where workers send orders */
	char	*signer_database;	/* conninfo of tsa-signer; NULL: database */
	char	*log_database;		/* conninfo of tsa-log, the integrator; NULL: database */
	char	*log_key;		/* tsa-signer: PKCS#11 URI of the token log's key */
	char	*log_user;		/* tsa-signer: the user whose connections may order
					 * tree heads (tsa-log's) */
	char	*log_reader_database;	/* conninfo that reads the token log (proofs); NULL:
					 * database */
	long	 signer_timeout;	/* ms a worker waits for the signer's answer */
	long	 database_timeout;	/* s: each connect and statement, then refused */
	long	 database_wait;		/* s: how long a token waits for a primary */
	int	 signer_processes;	/* tsa-signer's signing processes (0: one per CPU) */
	long	 batch_wait;		/* µs a round waits for busy workers' next orders */
	int	 workers;		/* worker processes (0: four per CPU, at most 32) */
	size_t	 max_body;		/* request body cap, bytes */
	long	 max_requests;		/* recycle a worker after this many (0: never) */
	long	 pkcs11_keepalive;	/* seconds idle before a keep-alive signature (0: off) */
	char	*host;			/* this server's name (default: the system host name):
					   it signs with the units bound to it (signers.host) */
	long	 heartbeat_interval;	/* seconds between tsa-fcgi's rows in servers */
};

/* Which file to read: the --conf argument, else $TSA_CONF, else /etc/tsa/tsa.conf. */
const char	*conf_path(const char *arg);
/* Reads path into *conf (zeroed first). Returns 0, or -1 with a message in err. */
int		 conf_load(const char *path, struct tsa_conf *conf, char *err, size_t errlen);
/* Sets the pkcs11_env variables in this process's environment. */
void		 conf_apply_env(const struct tsa_conf *conf);
/*
 * Reads the PIN (from pin_file or pin_env) into buf, NUL-terminated. Returns 0 or -1.  A
 * pin_file must be a regular file (not a symbolic link: O_NOFOLLOW) that group and others
 * cannot use (mode 0600 or 0400); it is read with read(2) into buf only.
 */
int		 conf_read_pin(const struct tsa_conf *conf, char *buf, size_t buflen,
		    char *err, size_t errlen);
/*
 * For a process that holds secrets (the PIN, tsa.conf's conninfo): no core file
 * (RLIMIT_CORE 0) and not dumpable (PR_SET_DUMPABLE 0: no core dump, no ptrace or
 * /proc/PID/mem by the same user).  Inherited by fork().  Returns 0, or -1 with err.
 */
int		 conf_protect_process(char *err, size_t errlen);
/*
 * How a daemon (tsa-fcgi, tsa-signer, tsa-admin) starts: conf_protect_process() before
 * anything secret is read, then tsa.conf (conf_path(arg)) into *conf; each failure logged.  0,
 * or the exit status to end with (71: cannot protect the process, 78: the configuration).
 */
int		 conf_load_daemon(const char *arg, struct tsa_conf *conf);
void		 conf_free(struct tsa_conf *conf);
/* 1 when s is a server name as tsa.conf's host and signers.host take it: 1 to
 * TSA_MAX_HOST_NAME letters, digits, '-' and '.', a letter or digit first; else 0. */
int		 conf_host_ok(const char *s);

#endif
