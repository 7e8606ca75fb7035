/*
 * conf.c - reads tsa.conf and the PIN (see conf.h), and keeps the processes that hold them
 * from dumping core.  Input: files the operator wrote, trusted but checked: unknown keys and
 * bad values are errors, never ignored; a PIN file others could read, or reached through a
 * symbolic link, is refused.
 */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include "conf.h"
#include "log.h"
#include "tsa_limits.h"

const char *
conf_path(const char *arg)
{
	const char *env;

	if (arg != NULL)
		return arg;
	if ((env = getenv("TSA_CONF")) != NULL && *env != '\0')
		return env;
	return "/etc/tsa/tsa.conf";
}

static char *
trim(char *s)
{
	char *e;

	while (isspace((unsigned char)*s))
		s++;
	e = s + strlen(s);
	while (e > s && isspace((unsigned char)e[-1]))
		*--e = '\0';
	return s;
}

static int
set_string(char **dst, const char *v)
{
	free(*dst);
	return (*dst = strdup(v)) == NULL ? -1 : 0;
}

static int
parse_long(const char *v, long min, long max, long *out)
{
	char *end;
	long n;

	errno = 0;
	n = strtol(v, &end, 10);
	if (errno != 0 || end == v || *end != '\0' || n < min || n > max)
		return -1;
	*out = n;
	return 0;
}

/*
 * fcgi_allow = ADDRESS[/BITS], ...: the web servers allowed to send FastCGI requests to a TCP
 * listen (commas or spaces between; repeated lines add to the list).
 */
static int
parse_allow(char *v, struct tsa_conf *conf, char *err, size_t errlen)
{
	char *tok, *save = NULL;

	for (tok = strtok_r(v, ", \t", &save); tok != NULL; tok = strtok_r(NULL, ", \t", &save)) {
		if (conf->n_fcgi_allow == CONF_MAX_ALLOW) {
			snprintf(err, errlen, "fcgi_allow: at most %d addresses or blocks",
			    CONF_MAX_ALLOW);
			return -1;
		}
		if (cidr_parse(tok, &conf->fcgi_allow[conf->n_fcgi_allow]) == -1) {
			snprintf(err, errlen, "fcgi_allow: '%s' is not an IPv4 or IPv6 address or "
			    "CIDR block", tok);
			return -1;
		}
		conf->n_fcgi_allow++;
	}
	if (conf->n_fcgi_allow == 0) {
		snprintf(err, errlen, "fcgi_allow: name at least one address or block");
		return -1;
	}
	return 0;
}

int
conf_host_ok(const char *s)
{
	size_t n;

	if (!isalnum((unsigned char)s[0]))
		return 0;
	for (n = 0; s[n] != '\0'; n++)
		if (!isascii((unsigned char)s[n]) || (!isalnum((unsigned char)s[n]) &&
		    s[n] != '-' && s[n] != '.'))
			return 0;
	return n <= TSA_MAX_HOST_NAME;
}

/* Without a host key, the system's host name, which must then pass conf_host_ok(). */
static int
conf_default_host(struct tsa_conf *conf, char *err, size_t errlen)
{
	char name[256];

	if (gethostname(name, sizeof(name)) == -1)
		name[0] = '\0';
	name[sizeof(name) - 1] = '\0';
	if (!conf_host_ok(name)) {
		snprintf(err, errlen, "the system host name cannot name this server (1 to %d "
		    "letters, digits, '-' and '.'): set host in tsa.conf", TSA_MAX_HOST_NAME);
		return -1;
	}
	if ((conf->host = strdup(name)) == NULL) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	return 0;
}

int
conf_load(const char *path, struct tsa_conf *conf, char *err, size_t errlen)
{
	char line[TSA_MAX_CONF_LINE];
	FILE *f;
	int lineno = 0, rc = -1;
	long n;

	memset(conf, 0, sizeof(*conf));
	conf->max_body = TSA_MAX_BODY_DEFAULT;
	conf->pkcs11_keepalive = 300;
	conf->heartbeat_interval = 5;
	conf->signer_timeout = -1;	/* set below from the database's bounds */
	conf->database_timeout = 5;
	conf->database_wait = 10;
	conf->batch_wait = 500;
	if ((f = fopen(path, "r")) == NULL) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return -1;
	}
	while (fgets(line, sizeof(line), f) != NULL) {
		char *k, *v, *eq;

		lineno++;
		if (strchr(line, '\n') == NULL && !feof(f)) {
			snprintf(err, errlen, "%s:%d: line too long", path, lineno);
			goto out;
		}
		if ((eq = strchr(line, '#')) != NULL)
			*eq = '\0';
		k = trim(line);
		if (*k == '\0')
			continue;
		if ((eq = strchr(k, '=')) == NULL) {
			snprintf(err, errlen, "%s:%d: expected key = value", path, lineno);
			goto out;
		}
		*eq = '\0';
		k = trim(k);
		v = trim(eq + 1);
		if (strcmp(k, "database") == 0) {
			if (set_string(&conf->database, v) == -1)
				goto oom;
		} else if (strcmp(k, "pkcs11_module") == 0) {
			if (set_string(&conf->pkcs11_module, v) == -1)
				goto oom;
		} else if (strcmp(k, "pkcs11_env") == 0) {
			if (strchr(v, '=') == NULL || conf->n_pkcs11_env == CONF_MAX_ENV) {
				snprintf(err, errlen, "%s:%d: pkcs11_env wants NAME=VALUE (at most %d)",
				    path, lineno, CONF_MAX_ENV);
				goto out;
			}
			if ((conf->pkcs11_env[conf->n_pkcs11_env++] = strdup(v)) == NULL)
				goto oom;
		} else if (strcmp(k, "pin_file") == 0) {
			if (set_string(&conf->pin_file, v) == -1)
				goto oom;
		} else if (strcmp(k, "pin_env") == 0) {
			if (set_string(&conf->pin_env, v) == -1)
				goto oom;
		} else if (strcmp(k, "admin_listen") == 0) {
			if (set_string(&conf->admin_listen, v) == -1)
				goto oom;
		} else if (strcmp(k, "admin_database") == 0) {
			if (set_string(&conf->admin_database, v) == -1)
				goto oom;
		} else if (strcmp(k, "signer_socket") == 0) {
			if (set_string(&conf->signer_socket, v) == -1)
				goto oom;
		} else if (strcmp(k, "signer_database") == 0) {
			if (set_string(&conf->signer_database, v) == -1)
				goto oom;
		} else if (strcmp(k, "log_database") == 0) {
			if (set_string(&conf->log_database, v) == -1)
				goto oom;
		} else if (strcmp(k, "log_key") == 0) {
			if (set_string(&conf->log_key, v) == -1)
				goto oom;
		} else if (strcmp(k, "log_user") == 0) {
			if (set_string(&conf->log_user, v) == -1)
				goto oom;
		} else if (strcmp(k, "log_reader_database") == 0) {
			if (set_string(&conf->log_reader_database, v) == -1)
				goto oom;
		} else if (strcmp(k, "signer_timeout") == 0) {
			if (parse_long(v, 100, 600000, &conf->signer_timeout) == -1) {
				snprintf(err, errlen, "%s:%d: signer_timeout must be 100 to 600000 ms",
				    path, lineno);
				goto out;
			}
		} else if (strcmp(k, "database_timeout") == 0) {
			if (parse_long(v, 1, 300, &conf->database_timeout) == -1) {
				snprintf(err, errlen, "%s:%d: database_timeout must be 1 to 300 "
				    "seconds", path, lineno);
				goto out;
			}
		} else if (strcmp(k, "database_wait") == 0) {
			if (parse_long(v, 0, 600, &conf->database_wait) == -1) {
				snprintf(err, errlen, "%s:%d: database_wait must be 0 to 600 seconds",
				    path, lineno);
				goto out;
			}
		} else if (strcmp(k, "signer_processes") == 0) {
			if (parse_long(v, 0, 64, &n) == -1) {
				snprintf(err, errlen, "%s:%d: signer_processes must be 0 (one per CPU)"
				    " to 64", path, lineno);
				goto out;
			}
			conf->signer_processes = (int)n;
		} else if (strcmp(k, "batch_wait") == 0) {
			if (parse_long(v, 0, 10000, &conf->batch_wait) == -1) {
				snprintf(err, errlen, "%s:%d: batch_wait must be 0 to 10000 "
				    "microseconds", path, lineno);
				goto out;
			}
		} else if (strcmp(k, "host") == 0) {
			if (!conf_host_ok(v)) {
				snprintf(err, errlen, "%s:%d: host must be 1 to %d letters, digits, '-'"
				    " and '.', a letter or digit first", path, lineno,
				    TSA_MAX_HOST_NAME);
				goto out;
			}
			if (set_string(&conf->host, v) == -1)
				goto oom;
		} else if (strcmp(k, "heartbeat_interval") == 0) {
			if (parse_long(v, 1, 3600, &conf->heartbeat_interval) == -1) {
				snprintf(err, errlen, "%s:%d: heartbeat_interval must be 1 to 3600 "
				    "seconds", path, lineno);
				goto out;
			}
		} else if (strcmp(k, "listen") == 0) {
			if (set_string(&conf->listen, v) == -1)
				goto oom;
		} else if (strcmp(k, "fcgi_allow") == 0) {
			if (parse_allow(v, conf, err, errlen) == -1) {
				snprintf(err + strlen(err), errlen - strlen(err), " (%s:%d)", path,
				    lineno);
				goto out;
			}
		} else if (strcmp(k, "workers") == 0) {
			if (parse_long(v, 0, 256, &n) == -1) {
				snprintf(err, errlen, "%s:%d: workers must be 0 (four per CPU) to 256",
				    path, lineno);
				goto out;
			}
			conf->workers = (int)n;
		} else if (strcmp(k, "max_body") == 0) {
			if (parse_long(v, 1024, TSA_MAX_BODY_CEILING, &n) == -1) {
				snprintf(err, errlen, "%s:%d: max_body must be 1024 to %d", path,
				    lineno, TSA_MAX_BODY_CEILING);
				goto out;
			}
			conf->max_body = (size_t)n;
		} else if (strcmp(k, "pkcs11_keepalive") == 0) {
			if (parse_long(v, 0, 86400, &conf->pkcs11_keepalive) == -1) {
				snprintf(err, errlen, "%s:%d: pkcs11_keepalive must be 0 to 86400 "
				    "seconds", path, lineno);
				goto out;
			}
		} else if (strcmp(k, "max_requests") == 0) {
			if (parse_long(v, 0, 1000000000L, &conf->max_requests) == -1) {
				snprintf(err, errlen, "%s:%d: bad max_requests", path, lineno);
				goto out;
			}
		} else {
			snprintf(err, errlen, "%s:%d: unknown key '%s'", path, lineno, k);
			goto out;
		}
	}
	if (conf->database == NULL) {
		snprintf(err, errlen, "%s: 'database' is required", path);
		goto out;
	}
	if (conf->host == NULL && conf_default_host(conf, err, errlen) == -1)
		goto out;
	/*
	 * A signing process answers an order within database_wait + 2 x database_timeout plus
	 * the signature (a configuration read, then the wait for a primary and the commit): a
	 * worker that gave up before would refuse a token the signer then records.  Default:
	 * that bound and 5 s more.
	 */
	n = (conf->database_wait + 2 * conf->database_timeout) * 1000;
	if (conf->signer_timeout == -1)
		conf->signer_timeout = n + 5000;
	else if (conf->signer_timeout <= n) {
		snprintf(err, errlen, "%s: signer_timeout (%ld ms) must exceed database_wait + 2 x "
		    "database_timeout (%ld ms), the signer's own bound", path,
		    conf->signer_timeout, n);
		goto out;
	}
	if (conf->signer_socket == NULL &&
	    set_string(&conf->signer_socket, TSA_SIGNER_SOCKET_DEFAULT) == -1)
		goto oom;
	rc = 0;
	goto out;
oom:
	snprintf(err, errlen, "out of memory");
out:
	fclose(f);
	if (rc == -1)
		conf_free(conf);
	return rc;
}

void
conf_apply_env(const struct tsa_conf *conf)
{
	size_t i;

	for (i = 0; i < conf->n_pkcs11_env; i++) {
		char name[256];
		const char *eq = strchr(conf->pkcs11_env[i], '=');
		size_t nl = (size_t)(eq - conf->pkcs11_env[i]);

		if (nl == 0 || nl >= sizeof(name))
			continue;
		memcpy(name, conf->pkcs11_env[i], nl);
		name[nl] = '\0';
		setenv(name, eq + 1, 1);
	}
}

/*
 * The PIN file: opened without following a symbolic link, a regular file that neither group
 * nor others may use (0600 or 0400), read with read(2) straight into buf, so that no stdio
 * buffer is left holding a copy of the PIN in freed memory.
 */
static int
read_pin_file(const char *path, char *buf, size_t buflen, char *err, size_t errlen)
{
	struct stat st;
	size_t n = 0;
	ssize_t r;
	char extra;
	int fd, rc = -1;

	/* O_NONBLOCK: a FIFO in its place must not block the open; it is refused below. */
	if ((fd = open(path, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY | O_CLOEXEC)) == -1) {
		if (errno == ELOOP)
			snprintf(err, errlen, "%s: pin_file is a symbolic link: name the file "
			    "itself", path);
		else
			snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return -1;
	}
	if (fstat(fd, &st) == -1) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		goto out;
	}
	if (!S_ISREG(st.st_mode)) {
		snprintf(err, errlen, "%s: pin_file is not a regular file", path);
		goto out;
	}
	if ((st.st_mode & 077) != 0) {
		snprintf(err, errlen, "%s: pin_file has mode %04o: group or others may read it "
		    "(chmod 600 %s)", path, (unsigned)(st.st_mode & 07777), path);
		goto out;
	}
	while (n < buflen - 1) {
		if ((r = read(fd, buf + n, buflen - 1 - n)) == -1) {
			if (errno == EINTR)
				continue;
			snprintf(err, errlen, "%s: %s", path, strerror(errno));
			goto out;
		}
		if (r == 0)
			break;
		n += (size_t)r;
	}
	if (n == buflen - 1 && read(fd, &extra, 1) == 1) {
		/* Never offer a cut PIN: each wrong one walks the token towards its lockout. */
		explicit_bzero(&extra, sizeof(extra));
		snprintf(err, errlen, "%s: PIN longer than %zu bytes", path, buflen - 2);
		goto out;
	}
	buf[n] = '\0';
	while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == '\r'))
		buf[--n] = '\0';
	if (n == 0) {
		snprintf(err, errlen, "%s: empty PIN", path);
		goto out;
	}
	rc = 0;
out:
	if (rc == -1)
		explicit_bzero(buf, buflen);
	close(fd);
	return rc;
}

int
conf_read_pin(const struct tsa_conf *conf, char *buf, size_t buflen, char *err, size_t errlen)
{
	if (conf->pin_env != NULL) {
		const char *v = getenv(conf->pin_env);

		if (v == NULL || strlen(v) >= buflen) {
			snprintf(err, errlen, "PIN variable %s unset or too long", conf->pin_env);
			return -1;
		}
		memcpy(buf, v, strlen(v) + 1);
		return 0;
	}
	if (conf->pin_file == NULL) {
		snprintf(err, errlen, "neither pin_file nor pin_env is configured");
		return -1;
	}
	return read_pin_file(conf->pin_file, buf, buflen, err, errlen);
}

int
conf_protect_process(char *err, size_t errlen)
{
	static const struct rlimit none = { 0, 0 };

	if (setrlimit(RLIMIT_CORE, &none) == -1) {
		snprintf(err, errlen, "cannot disable core dumps (RLIMIT_CORE): %s",
		    strerror(errno));
		return -1;
	}
	/*
	 * Kept in sanitizer builds too: LeakSanitizer ptraces the process it checks, and its
	 * stop-the-world makes a non-dumpable process dumpable for the time of the check and
	 * restores the flag (compiler-rt, sanitizer_stoptheworld_linux_libcdep.cpp), so the
	 * sanitizer pass runs this same hardening (`make check SANITIZE=1` passes with it).
	 */
	if (prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) == -1) {
		snprintf(err, errlen, "cannot make the process non-dumpable: %s", strerror(errno));
		return -1;
	}
	return 0;
}

void
conf_free(struct tsa_conf *conf)
{
	size_t i;

	if (conf == NULL)
		return;
	free(conf->database);
	free(conf->pkcs11_module);
	for (i = 0; i < conf->n_pkcs11_env; i++)
		free(conf->pkcs11_env[i]);
	free(conf->pin_file);
	free(conf->pin_env);
	free(conf->listen);
	free(conf->admin_listen);
	free(conf->admin_database);
	free(conf->signer_socket);
	free(conf->signer_database);
	free(conf->host);
	free(conf->log_database);
	free(conf->log_reader_database);
	free(conf->log_key);
	free(conf->log_user);
	memset(conf, 0, sizeof(*conf));
}

int
conf_load_daemon(const char *arg, struct tsa_conf *conf)
{
	char err[512];

	if (conf_protect_process(err, sizeof(err)) == -1) {
		log_msg(LOG_ERR, "%s", err);
		return 71;
	}
	if (conf_load(conf_path(arg), conf, err, sizeof(err)) == -1) {
		log_msg(LOG_ERR, "%s", err);
		return 78;
	}
	return 0;
}
