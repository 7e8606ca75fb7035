/*
 * invariant.c - the end of a process whose invariant broke (see invariant.h).
 */
#include <stdlib.h>

#include "invariant.h"
#include "log.h"

_Noreturn void
invariant_failed(const char *file, int line, const char *what)
{
	log_msg(LOG_ERR, "invariant broken at %s:%d: %s: the process ends", file, line, what);
	abort();
}
