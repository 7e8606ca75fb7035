/*
 * pgbound.c - libpq without unbounded waits (see pgbound.h).  libpq's blocking calls
 * (PQconnectdb, PQexec, PQgetResult on a busy connection) wait as long as the server takes,
 * and a server that is isolated (packets dropped) or a primary whose commit waits for a
 * synchronous standby that never answers takes for ever.  Here every connect runs through
 * PQconnectStartParams/PQconnectPoll and every statement through PQsend*, PQflush,
 * PQconsumeInput and poll(2), each against a deadline on the monotonic clock.
 *
 * Multi-host conninfo: libpq's own walk over the hosts ignores connect_timeout once
 * PQconnectPoll drives it, so one silent host would hold the whole attempt; each host is
 * therefore tried here as a connection of its own (the same keywords, one host), in order,
 * each within its share of what is left.  target_session_attrs=read-write then refuses a
 * standby per host, and the next one is tried, as libpq would.
 *
 * Input: what the server sends, through libpq; notices are logged cleaned by log.c.
 */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <libpq-events.h>

#include "log.h"
#include "pgbound.h"

/* What this module keeps for a connection, as libpq instance data. */
struct pgb_state {
	long		 timeout_ms;
	int		 broken;
	unsigned	 warnings;
	char		 last_warning[256];
};

long long
pgb_now_ms(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (long long)t.tv_sec * 1000 + t.tv_nsec / 1000000;
}

static int
on_event(PGEventId id, void *info, void *pass)
{
	(void)pass;
	if (id == PGEVT_CONNDESTROY) {
		PGconn *c = ((PGEventConnDestroy *)info)->conn;

		free(PQinstanceData(c, on_event));
	}
	return 1;
}

static struct pgb_state *
state(const PGconn *c)
{
	return c != NULL ? PQinstanceData(c, on_event) : NULL;
}

/*
 * Every notice is logged; a WARNING is also counted, so that the token recorder can tell a
 * commit whose wait for the synchronous standby was cancelled ("canceling wait for
 * synchronous replication ... The transaction has already committed locally, but might not
 * have been replicated"), which libpq reports as success, from a clean one.
 */
static void
on_notice(void *arg, const PGresult *r)
{
	struct pgb_state *st = arg;
	const char *sev = PQresultErrorField(r, PG_DIAG_SEVERITY_NONLOCALIZED);
	const char *msg = PQresultErrorField(r, PG_DIAG_MESSAGE_PRIMARY);
	const char *detail = PQresultErrorField(r, PG_DIAG_MESSAGE_DETAIL);
	int warning;

	if (sev == NULL)
		sev = PQresultErrorField(r, PG_DIAG_SEVERITY);
	warning = sev != NULL && strcmp(sev, "WARNING") == 0;
	log_msg(warning ? LOG_WARNING : LOG_INFO, "database %s: %s%s%s",
	    sev != NULL ? sev : "notice", msg != NULL ? msg : "", detail != NULL ? " " : "",
	    detail != NULL ? detail : "");
	if (warning && st != NULL) {
		st->warnings++;
		snprintf(st->last_warning, sizeof(st->last_warning), "%s", msg != NULL ? msg : "");
	}
}

/* Element i of a comma-separated libpq list (host, hostaddr, port) into buf; a list of one
 * element serves every host (libpq's rule for port). */
static void
list_item(const char *list, size_t i, char *buf, size_t len)
{
	const char *p = list, *e;
	size_t k;

	buf[0] = '\0';
	if (list == NULL)
		return;
	if (strchr(list, ',') == NULL)
		i = 0;
	for (k = 0; k < i && p != NULL; k++)
		if ((p = strchr(p, ',')) != NULL)
			p++;
	if (p == NULL)
		return;
	e = strchr(p, ',');
	k = e != NULL ? (size_t)(e - p) : strlen(p);
	if (k >= len)
		k = len - 1;
	memcpy(buf, p, k);
	buf[k] = '\0';
}

static size_t
list_count(const char *list)
{
	size_t n = 1;

	if (list == NULL || *list == '\0')
		return 1;
	for (; *list != '\0'; list++)
		n += *list == ',';
	return n;
}

/* One connection attempt with the keywords given, finished before deadline.  The
 * connection, or NULL with why. */
static PGconn *
connect_one(const char *const *kw, const char *const *val, long long deadline, char *why,
    size_t len)
{
	PostgresPollingStatusType ps = PGRES_POLLING_WRITING;
	PGconn *c = PQconnectStartParams(kw, val, 0);

	if (c == NULL) {
		snprintf(why, len, "out of memory");
		return NULL;
	}
	while (PQstatus(c) != CONNECTION_BAD && ps != PGRES_POLLING_OK &&
	    ps != PGRES_POLLING_FAILED) {
		struct pollfd pf = { PQsocket(c), ps == PGRES_POLLING_READING ? POLLIN : POLLOUT,
		    0 };
		long long left = deadline - pgb_now_ms();
		int r;

		if (left <= 0 || (r = poll(&pf, 1, (int)left)) == 0) {
			snprintf(why, len, "timeout expired (no answer within the bound)");
			PQfinish(c);
			return NULL;
		}
		if (r == -1 && errno != EINTR) {
			snprintf(why, len, "poll: %s", strerror(errno));
			PQfinish(c);
			return NULL;
		}
		if (r > 0)
			ps = PQconnectPoll(c);
	}
	if (PQstatus(c) == CONNECTION_OK)
		return c;
	snprintf(why, len, "%s", PQerrorMessage(c));
	why[strcspn(why, "\n")] = '\0';
	PQfinish(c);
	return NULL;
}

/* Appends "host: why" to err, "; " between. */
static void
err_add(char *err, size_t errlen, const char *host, const char *why)
{
	size_t used = strlen(err);

	if (used + 1 >= errlen)
		return;
	snprintf(err + used, errlen - used, "%s%s%s%s", used > 0 ? "; " : "", host,
	    host[0] != '\0' ? ": " : "", why);
}

#define PGB_MAX_KW	64

PGconn *
pgb_connect(const char *conninfo, long connect_ms, long statement_ms, char *err,
    size_t errlen)
{
	static const char *const own[] = { "host", "hostaddr", "port" };
	/* Defaults that conninfo may override: a silent peer noticed by the kernel too. */
	static const struct {
		const char *kw, *val;
	} defaults[] = {
		{ "keepalives", "1" }, { "keepalives_idle", "5" },
		{ "keepalives_interval", "2" }, { "keepalives_count", "3" },
		{ "tcp_user_timeout", NULL },
	};
	const char *kw[PGB_MAX_KW], *val[PGB_MAX_KW];
	char host[256], addr[256], port[32], user_timeout[24], why[512], *perr = NULL;
	const char *hosts = NULL, *addrs = NULL, *ports = NULL;
	PQconninfoOption *opts, *o;
	long long deadline = pgb_now_ms() + connect_ms;
	size_t i, j, k, nhosts, nbase = 0;
	PGconn *c = NULL;
	struct pgb_state *st;

	err[0] = '\0';
	if ((opts = PQconninfoParse(conninfo, &perr)) == NULL) {
		snprintf(err, errlen, "bad conninfo: %s", perr != NULL ? perr : "out of memory");
		err[strcspn(err, "\n")] = '\0';
		PQfreemem(perr);
		return NULL;
	}
	snprintf(user_timeout, sizeof(user_timeout), "%ld",
	    statement_ms > 0 ? statement_ms : connect_ms);
	for (o = opts; o->keyword != NULL && nbase < PGB_MAX_KW - 12; o++) {
		int mine = 0;

		if (o->val == NULL)
			continue;
		for (j = 0; j < sizeof(own) / sizeof(own[0]); j++)
			mine |= strcmp(o->keyword, own[j]) == 0;
		if (strcmp(o->keyword, "host") == 0)
			hosts = o->val;
		else if (strcmp(o->keyword, "hostaddr") == 0)
			addrs = o->val;
		else if (strcmp(o->keyword, "port") == 0)
			ports = o->val;
		if (mine)
			continue;
		kw[nbase] = o->keyword;
		val[nbase++] = o->val;
	}
	for (j = 0; j < sizeof(defaults) / sizeof(defaults[0]); j++) {
		for (k = 0; k < nbase && strcmp(kw[k], defaults[j].kw) != 0; k++)
			;
		if (k < nbase)
			continue;	/* conninfo's own value */
		kw[nbase] = defaults[j].kw;
		val[nbase++] = defaults[j].val != NULL ? defaults[j].val : user_timeout;
	}
	nhosts = list_count(hosts != NULL && *hosts != '\0' ? hosts : addrs);
	for (i = 0; i < nhosts && c == NULL; i++) {
		long long now = pgb_now_ms(), share;
		size_t n = nbase;

		if (now >= deadline) {
			err_add(err, errlen, "", "no host tried within the bound");
			break;
		}
		/* What is left, shared by the hosts not tried yet. */
		share = (deadline - now) / (long long)(nhosts - i);
		list_item(hosts, i, host, sizeof(host));
		list_item(addrs, i, addr, sizeof(addr));
		list_item(ports, i, port, sizeof(port));
		if (hosts != NULL) {
			kw[n] = "host";
			val[n++] = host;
		}
		if (addrs != NULL) {
			kw[n] = "hostaddr";
			val[n++] = addr;
		}
		if (ports != NULL) {
			kw[n] = "port";
			val[n++] = port;
		}
		kw[n] = NULL;
		val[n] = NULL;
		if ((c = connect_one(kw, val, now + share, why, sizeof(why))) == NULL) {
			char name[300];

			snprintf(name, sizeof(name), "%s%s%s", host[0] != '\0' ? host : addr,
			    port[0] != '\0' ? ":" : "", port);
			err_add(err, errlen, nhosts > 1 || name[0] != '\0' ? name : "", why);
		}
	}
	PQconninfoFree(opts);
	if (c == NULL)
		return NULL;
	/* err now names the hosts passed over (a standby, a host down), or is empty. */
	if ((st = calloc(1, sizeof(*st))) == NULL ||
	    PQregisterEventProc(c, on_event, "pgbound", NULL) == 0 ||
	    PQsetInstanceData(c, on_event, st) == 0) {
		free(st);
		PQfinish(c);
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	st->timeout_ms = statement_ms;
	PQsetNoticeReceiver(c, on_notice, st);
	if (PQsetnonblocking(c, 1) == -1) {
		snprintf(err, errlen, "cannot make the connection non-blocking: %s",
		    PQerrorMessage(c));
		err[strcspn(err, "\n")] = '\0';
		PQfinish(c);
		return NULL;
	}
	return c;
}

/* poll(2) on c's socket for events until deadline (0: none).  1 ready, 0 timed out, -1. */
static int
await(PGconn *c, short events, long long deadline)
{
	for (;;) {
		struct pollfd pf = { PQsocket(c), events, 0 };
		long long left = deadline > 0 ? deadline - pgb_now_ms() : -1;
		int r;

		if (pf.fd < 0)
			return -1;
		if (deadline > 0 && left <= 0)
			return 0;
		r = poll(&pf, 1, left > 0x7fffffff ? 0x7fffffff : (int)left);
		if (r == -1 && errno == EINTR)
			continue;
		return r > 0 ? 1 : r;
	}
}

int
pgb_reset(PGconn *c, long connect_ms)
{
	PostgresPollingStatusType ps = PGRES_POLLING_WRITING;
	long long deadline = pgb_now_ms() + connect_ms;
	struct pgb_state *st = state(c);

	if (PQresetStart(c) == 0)
		return -1;
	while (ps != PGRES_POLLING_OK && ps != PGRES_POLLING_FAILED) {
		if (await(c, ps == PGRES_POLLING_READING ? POLLIN : POLLOUT, deadline) != 1)
			return -1;
		ps = PQresetPoll(c);
	}
	if (ps != PGRES_POLLING_OK || PQsetnonblocking(c, 1) == -1)
		return -1;
	if (st != NULL)
		st->broken = 0;
	return 0;
}

long
pgb_timeout(const PGconn *c)
{
	struct pgb_state *st = state(c);

	return st != NULL ? st->timeout_ms : 0;
}

long long
pgb_deadline(const PGconn *c)
{
	long t = pgb_timeout(c);

	return t > 0 ? pgb_now_ms() + t : 0;
}

int
pgb_broken(const PGconn *c)
{
	struct pgb_state *st = state(c);

	return st != NULL && st->broken;
}

unsigned
pgb_warnings(const PGconn *c)
{
	struct pgb_state *st = state(c);

	return st != NULL ? st->warnings : 0;
}

const char *
pgb_last_warning(const PGconn *c)
{
	struct pgb_state *st = state(c);

	return st != NULL ? st->last_warning : "";
}

static int
fail(PGconn *c, int timed_out, char *err, size_t errlen)
{
	struct pgb_state *st = state(c);

	if (st != NULL)
		st->broken = 1;
	if (timed_out)
		snprintf(err, errlen, "no answer within the bound (timeout expired)");
	else
		snprintf(err, errlen, "%s", PQerrorMessage(c));
	err[strcspn(err, "\n")] = '\0';
	return -1;
}

int
pgb_wait(PGconn *c, long long deadline, char *err, size_t errlen)
{
	int f, r;

	/* What is queued goes out first; the server may meanwhile send, which we take. */
	while ((f = PQflush(c)) == 1) {
		if ((r = await(c, POLLIN | POLLOUT, deadline)) <= 0)
			return fail(c, r == 0, err, errlen);
		if (PQconsumeInput(c) == 0)
			return fail(c, 0, err, errlen);
	}
	if (f == -1)
		return fail(c, 0, err, errlen);
	while (PQisBusy(c)) {
		if ((r = await(c, POLLIN, deadline)) <= 0)
			return fail(c, r == 0, err, errlen);
		if (PQconsumeInput(c) == 0)
			return fail(c, 0, err, errlen);
	}
	return 0;
}

int
pgb_result(PGconn *c, long long deadline, PGresult **r, char *err, size_t errlen)
{
	if (pgb_wait(c, deadline, err, errlen) == -1)
		return -1;
	*r = PQgetResult(c);
	return 0;
}

/* pgb_exec() with the results in text (result_format 0) or binary (1). */
static PGresult *
exec_as(PGconn *c, const char *sql, const char *prepared, int n, const char *const *values,
    const int *lengths, const int *formats, int result_format, long long deadline, char *err,
    size_t errlen)
{
	PGresult *r, *keep = NULL;
	int sent;

	if (pgb_broken(c)) {
		snprintf(err, errlen, "the connection timed out before");
		return NULL;
	}
	if (prepared != NULL)
		sent = PQsendQueryPrepared(c, prepared, n, values, lengths, formats,
		    result_format);
	else if (n > 0)
		sent = PQsendQueryParams(c, sql, n, NULL, values, lengths, formats, result_format);
	else
		sent = PQsendQuery(c, sql);
	if (sent == 0) {
		fail(c, 0, err, errlen);
		return NULL;
	}
	for (;;) {
		if (pgb_result(c, deadline, &r, err, errlen) == -1) {
			PQclear(keep);
			return NULL;
		}
		if (r == NULL)
			break;
		/* The first failure is the answer (a script stops there), else the last result. */
		if (keep != NULL && PQresultStatus(keep) == PGRES_FATAL_ERROR)
			PQclear(r);
		else {
			PQclear(keep);
			keep = r;
		}
	}
	if (keep == NULL)
		snprintf(err, errlen, "no result");
	return keep;
}

PGresult *
pgb_exec(PGconn *c, const char *sql, const char *prepared, int n, const char *const *values,
    const int *lengths, const int *formats, long long deadline, char *err, size_t errlen)
{
	return exec_as(c, sql, prepared, n, values, lengths, formats, 0, deadline, err, errlen);
}

PGresult *
pgb_exec_binary(PGconn *c, const char *sql, int n, const char *const *values,
    long long deadline, char *err, size_t errlen)
{
	return exec_as(c, sql, NULL, n, values, NULL, NULL, 1, deadline, err, errlen);
}

int
pgb_prepare(PGconn *c, const char *name, const char *sql, long long deadline, char *err,
    size_t errlen)
{
	PGresult *r;
	int ok;

	if (PQsendPrepare(c, name, sql, 0, NULL) == 0)
		return fail(c, 0, err, errlen);
	if (pgb_result(c, deadline, &r, err, errlen) == -1)
		return -1;
	ok = PQresultStatus(r) == PGRES_COMMAND_OK;
	if (!ok) {
		snprintf(err, errlen, "%s", PQresultErrorMessage(r));
		err[strcspn(err, "\n")] = '\0';
	}
	PQclear(r);
	/* The NULL that ends the command. */
	while (pgb_result(c, deadline, &r, err, errlen) == 0 && r != NULL)
		PQclear(r);
	return ok && !pgb_broken(c) ? 0 : -1;
}
