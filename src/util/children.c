/*
 * children.c - ending a supervisor's children (see children.h).
 */
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include "children.h"
#include "log.h"

void
children_stop(const pid_t *pids, size_t n, const char *what)
{
	size_t i, alive = 0;
	int t;

	for (i = 0; i < n; i++)
		if (pids[i] > 0 && kill(pids[i], SIGTERM) == 0)
			alive++;
	for (t = 0; alive > 0 && t < CHILDREN_STOP_SECONDS * 10; t++) {
		while (alive > 0 && waitpid(-1, NULL, WNOHANG) > 0)
			alive--;
		if (alive > 0)
			usleep(100000);
	}
	if (alive == 0)
		return;
	log_msg(LOG_WARNING, "%zu %s did not stop in %d s: killing them", alive, what,
	    CHILDREN_STOP_SECONDS);
	for (i = 0; i < n; i++)
		if (pids[i] > 0)
			kill(pids[i], SIGKILL);
	while (waitpid(-1, NULL, 0) > 0)
		;
}
