/*
 * servers.c - tsactl's server verbs: the fleet (the servers table, schema 012), whose rows
 * each tsa-fcgi supervisor keeps for its own server (src/fcgi/heartbeat.c).
 *   server list     every server and unit: version, state, when last heard from, the
 *                   verdict (ok, silent after 3 missed heartbeats, stopped), each unit's state
 *                   as its own signing process reported it (tsactl status says the same)
 *   server remove   a server taken out of the fleet, once it is stopped or silent
 * Input: the operator's command line; the write goes through src/store/edit_server.c.
 */
#include <stdio.h>

#include "admin.h"
#include "edit.h"
#include "store.h"

static const char *SERVER_USAGE =
    "server list\n"
    "       tsactl server remove HOST\n";

static int
server_list(int argc, char **argv)
{
	char err[512];
	PGconn *c;
	PGresult *r;
	int rc = 0;

	cli_args(SERVER_USAGE, argc, argv, NULL, 0, NULL, 0, 0);
	c = cli_connect();
	if ((r = db_query(c, SQL_SERVERS, 0, NULL, "listing servers", &rc, err,
	    sizeof(err))) == NULL)
		cli_err("%s", err);
	else
		out_rows(r, 1);
	PQclear(r);
	PQfinish(c);
	return rc;
}

static int
server_remove(int argc, char **argv)
{
	char *pos[1], err[512];
	PGconn *c;
	PGresult *r = NULL;
	int rc;

	cli_args(SERVER_USAGE, argc, argv, NULL, 0, pos, 1, 1);
	c = cli_connect();
	if ((rc = edit_server_remove(c, pos[0], cli_actor(c), &r, err, sizeof(err))) != 0)
		cli_err("%s", err);
	else
		out_done(c, r, "server %s removed from the fleet", pos[0]);
	PQclear(r);
	PQfinish(c);
	return rc;
}

int
cmd_server(int argc, char **argv)
{
	static const struct cli_sub subs[] = {
		{ "list", server_list }, { "remove", server_remove },
	};

	return cli_dispatch(SERVER_USAGE, subs, sizeof(subs) / sizeof(subs[0]), argc, argv);
}
