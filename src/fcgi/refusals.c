/*
 * refusals.c - repeated refusals aggregated per worker (see refusals.h).  Input: the keys
 * the handler builds from its own verdict and the web server's params; the peer's text only
 * travels in the detail, never in a key.  A linear table: 64 keys compared per refusal cost
 * far less than the request that was refused.
 */
#include <stdio.h>
#include <string.h>

#include "refusals.h"

void
refusals_init(struct refusal_table *t, refusal_emit emit, void *arg)
{
	memset(t, 0, sizeof(*t));
	t->emit = emit;
	t->arg = arg;
}

static int
same(const struct refusal *a, const struct refusal *b)
{
	return a->fail == b->fail &&
	    ((a->kind == NULL && b->kind == NULL) ||
	    (a->kind != NULL && b->kind != NULL && strcmp(a->kind, b->kind) == 0)) &&
	    strcmp(a->severity, b->severity) == 0 && strcmp(a->failure, b->failure) == 0 &&
	    strcmp(a->service, b->service) == 0 && strcmp(a->requester, b->requester) == 0;
}

static struct refusal_slot *
find(struct refusal_table *t, const struct refusal *r)
{
	int i;

	for (i = 0; i < t->n; i++)
		if (same(&t->slot[i].key, r))
			return &t->slot[i];
	return NULL;
}

/* Milliseconds from a to b (b later). */
static long
ms_between(const struct timespec *a, const struct timespec *b)
{
	return (long)(b->tv_sec - a->tv_sec) * 1000 + (b->tv_nsec - a->tv_nsec) / 1000000;
}

static void
emit_pending(struct refusal_table *t, struct refusal_slot *s)
{
	if (s->pending > 0) {
		t->emit(t->arg, &s->key, s->text, s->detail, s->pending);
		s->pending = 0;
	}
}

void
refusals_note(struct refusal_table *t, const struct refusal *r, const char *text,
    const char *detail, const struct timespec *now)
{
	struct refusal_slot *s;
	struct refusal shared;

	text = text != NULL ? text : "";
	detail = detail != NULL ? detail : "";
	if ((s = find(t, r)) == NULL && r->requester[0] != '\0' &&
	    t->n >= TSA_REFUSAL_SLOTS - TSA_REFUSAL_SHARED_SLOTS) {
		/* The table holds as many requesters as it may: counted without this one's. */
		shared = *r;
		shared.requester[0] = '\0';
		r = &shared;
		s = find(t, r);
	}
	if (s != NULL) {
		if (s->pending++ == 0) {
			snprintf(s->text, sizeof(s->text), "%s", text);
			snprintf(s->detail, sizeof(s->detail), "%s", detail);
		}
		return;
	}
	if (t->n == TSA_REFUSAL_SLOTS)
		refusals_flush(t);
	s = &t->slot[t->n++];
	memset(s, 0, sizeof(*s));
	s->key = *r;
	s->since = *now;
	t->emit(t->arg, r, text, detail, 1);
}

long
refusals_tick(struct refusal_table *t, const struct timespec *now)
{
	long next = -1, left;
	int i = 0;

	while (i < t->n) {
		struct refusal_slot *s = &t->slot[i];

		left = TSA_REFUSAL_INTERVAL_MS - ms_between(&s->since, now);
		if (left <= 0 && s->pending == 0) {
			/* Quiet for an interval: forgotten (the last slot moves here). */
			*s = t->slot[--t->n];
			continue;
		}
		if (left <= 0) {
			emit_pending(t, s);
			s->since = *now;
			left = TSA_REFUSAL_INTERVAL_MS;
		}
		if (s->pending > 0 && (next == -1 || left < next))
			next = left;
		i++;
	}
	return next;
}

void
refusals_flush(struct refusal_table *t)
{
	int i;

	for (i = 0; i < t->n; i++)
		emit_pending(t, &t->slot[i]);
	t->n = 0;
}
