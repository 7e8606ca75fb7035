/*
 * heartbeat.c - the fleet's view of this server: tsa-fcgi's supervisor keeps its row of the
 * servers table (schema 012) up to date every heartbeat_interval seconds: its host (tsa.conf),
 * the version it runs, its pid and start, and its units as its signing process reports them
 * (ORDER_STATUS, no test signature).  The supervisor holds no key and no PIN: it connects as
 * the workers' role, which may insert and update that table's rows and nothing more there.
 * Each beat is bounded (the signer's answer and the database's within HEARTBEAT_TIMEOUT_MS
 * each), so that a database or a signer that does not answer delays the supervisor's other
 * work by a bounded time and never holds it.
 * Input: the signer's status answer (decoded and bounded by order.c) and nothing from a peer.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "heartbeat.h"
#include "log.h"
#include "strbuf.h"
#include "text.h"
#include "version.h"

/*
 * The row, written whole each time: updated where its host is, else inserted (not INSERT ...
 * ON CONFLICT DO UPDATE, which would need SELECT of every column it sets: the workers' role
 * reads only host).  units arrive as lines "unit TAB state TAB reason", each value cleaned
 * (text.h: no tab or newline survives), made into the jsonb array here.
 */
static const char *SQL_BEAT =
    "WITH v AS (SELECT coalesce(jsonb_agg(jsonb_build_object("
    "   'unit', split_part(l, E'\\t', 1), 'state', split_part(l, E'\\t', 2),"
    "   'reason', split_part(l, E'\\t', 3)) ORDER BY n), '[]'::jsonb) AS units"
    "   FROM regexp_split_to_table($8, E'\\n') WITH ORDINALITY AS t(l, n) WHERE l <> ''),"
    " u AS (UPDATE servers SET version = $2, pid = $3::integer, state = $4,"
    "   started_at = to_timestamp($5::double precision), heartbeat_at = now(),"
    "   heartbeat_interval = $6::integer, signer = $7, units = (SELECT units FROM v)"
    "   WHERE host = $1 RETURNING 1)"
    " INSERT INTO servers (host, version, pid, state, started_at, heartbeat_at,"
    " heartbeat_interval, signer, units)"
    " SELECT $1, $2, $3::integer, $4, to_timestamp($5::double precision), now(),"
    " $6::integer, $7, units FROM v WHERE NOT EXISTS (SELECT 1 FROM u)";

int
heartbeat_init(struct heartbeat *hb, const struct tsa_conf *conf)
{
	memset(hb, 0, sizeof(*hb));
	hb->conf = conf;
	hb->started = time(NULL);
	signer_link_init(&hb->link, conf->signer_socket, HEARTBEAT_TIMEOUT_MS);
	/* Each beat is bounded by HEARTBEAT_TIMEOUT_MS, the connect by database_timeout; it
	 * holds no token, so the server may cancel it too, and it waits for no primary. */
	return db_init(&hb->db, conf->database, conf->database_timeout * 1000, 0,
	    DB_SERVER_TIMEOUT);
}

/* The units' lines for SQL_BEAT from the signer's status answer into b; the signer's state
 * ("answering", or why not) into signer. */
static void
units_text(struct heartbeat *hb, struct sbuf *b, char *signer, size_t len)
{
	static struct signer_answer st;
	unsigned char *frame = NULL;
	struct order o;
	char why[256], name[ORDER_MAX_NAME * 4], reason[ORDER_MAX_DETAIL * 4];
	size_t i;

	memset(&o, 0, sizeof(o));
	o.type = ORDER_STATUS;
	why[0] = '\0';
	if (signer_link_ask(&hb->link, &o, &st, &frame, why, sizeof(why)) == -1 ||
	    st.type != ANSWER_STATUS) {
		text_clean(signer, len, why[0] != '\0' ? why : "no status answer");
		free(frame);
		signer_link_close(&hb->link);
		return;
	}
	free(frame);
	snprintf(signer, len, "answering");
	for (i = 0; i < st.n_units; i++) {
		text_clean(name, sizeof(name), st.units[i].name);
		text_clean(reason, sizeof(reason), st.units[i].reason);
		sb_printf(b, "%s\t%s\t%s\n", name, unit_state_name(st.units[i].state), reason);
	}
}

void
heartbeat_beat(struct heartbeat *hb, int stopping)
{
	struct sbuf units = { NULL, 0, 0, 0 };
	unsigned char *text = NULL;
	size_t len = 0;
	char pid[24], started[24], interval[24], signer[512], why[512];
	const char *p[8];

	signer[0] = '\0';
	if (!stopping)
		units_text(hb, &units, signer, sizeof(signer));
	else
		snprintf(signer, sizeof(signer), "stopped with its server");
	/* An empty buffer holds nothing (no unit reported): no allocation to hand over. */
	if ((units.p != NULL || units.failed) && sb_done(&units, &text, &len) == -1) {
		log_msg(LOG_ERR, "heartbeat: out of memory");
		return;
	}
	snprintf(pid, sizeof(pid), "%ld", (long)getpid());
	snprintf(started, sizeof(started), "%lld", (long long)hb->started);
	snprintf(interval, sizeof(interval), "%ld", hb->conf->heartbeat_interval);
	p[0] = hb->conf->host;
	p[1] = tsa_version;
	p[2] = pid;
	p[3] = stopping ? "stopped" : "running";
	p[4] = started;
	p[5] = interval;
	p[6] = signer;
	p[7] = text != NULL ? (const char *)text : "";
	if (db_run_bounded(&hb->db, SQL_BEAT, 0, 8, p, HEARTBEAT_TIMEOUT_MS, why,
	    sizeof(why)) == -1) {
		/* Said once until it works again: a database down for an hour is one line. */
		if (!hb->failing)
			log_msg(LOG_WARNING, "heartbeat: servers row not written: %s", why);
		hb->failing = 1;
	} else {
		if (hb->failing)
			log_msg(LOG_INFO, "heartbeat: servers row written again");
		hb->failing = 0;
	}
	/* The connection LISTENs (db.c): what it was told is of no use here. */
	(void)db_config_changed(&hb->db);
	free(text);
}

void
heartbeat_forget(struct heartbeat *hb)
{
	/* Only the descriptors: PQfinish() would end the supervisor's session on the server. */
	if (hb->db.conn != NULL && PQsocket(hb->db.conn) >= 0)
		close(PQsocket(hb->db.conn));
	if (hb->link.fd >= 0)
		close(hb->link.fd);
}

void
heartbeat_free(struct heartbeat *hb)
{
	signer_link_close(&hb->link);
	db_close(&hb->db);
}
