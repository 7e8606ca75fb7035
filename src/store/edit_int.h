/*
 * edit_int.h - what the files of the configuration write path (src/store/edit*.c) share,
 * private to them: the transaction around every write, its event, the name test.  edit.c
 * defines them; the public API is edit.h.
 *
 * Ownership: edit_finish and edit_end take changed (the row written): it goes to *row once
 * committed, and is PQclear()ed otherwise.
 */
#ifndef TSA_EDIT_INT_H
#define TSA_EDIT_INT_H

#include <stddef.h>
#include <libpq-fe.h>

#include "edit.h"

/* The status of a refusal that is not bad data: what is named exists already or does not. */
#define EDIT_FAIL	1

/* BEGIN: 0, or db_query's status with err. */
int	edit_begin(PGconn *c, char *err, size_t errlen);
/*
 * Commits when status is 0, else rolls back; returns status, or the failed commit's.  check
 * set (a change to what the workers load): refused when it would leave a policy they refuse.
 */
int	edit_finish(PGconn *c, int status, int check, PGresult *changed, PGresult **row,
	    char *err, size_t errlen);
/* edit_finish with the workers' check: how a configuration write ends. */
int	edit_end(PGconn *c, int status, PGresult *changed, PGresult **row, char *err,
	    size_t errlen);
/* In the transaction: the event of the given kind, "what by who" (actor NULL: none). */
int	edit_event(PGconn *c, const char *kind, const struct edit_actor *actor,
	    const char *service, const char *what, char *err, size_t errlen);
/* 1 when s is a name: 1 to 128 printable bytes, no spaces, not starting with '-'. */
int	edit_name_ok(const char *s);

#endif
