/*
 * link.c - the connection to the host's signing process (see link.h).
 * Input: the signer's answers, decoded strictly (order.c) like anything read from a socket.
 */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "link.h"

void
signer_link_init(struct signer_link *l, const char *path, int timeout_ms)
{
	l->path = path;
	l->timeout_ms = timeout_ms;
	l->fd = -1;
}

void
signer_link_close(struct signer_link *l)
{
	if (l->fd >= 0)
		close(l->fd);
	l->fd = -1;
}

int
signer_link_connect(struct signer_link *l)
{
	struct sockaddr_un sa;
	int fd;

	if (l->fd >= 0)
		return 0;
	memset(&sa, 0, sizeof(sa));
	sa.sun_family = AF_UNIX;
	if (l->path == NULL || strlen(l->path) >= sizeof(sa.sun_path)) {
		errno = ENAMETOOLONG;
		return -1;
	}
	memcpy(sa.sun_path, l->path, strlen(l->path));
	/* Non-blocking: a full backlog is EAGAIN at once, never a wait (frame I/O polls). */
	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0)) == -1)
		return -1;
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == -1) {
		int e = errno;

		close(fd);
		errno = e;
		return -1;
	}
	l->fd = fd;
	return 0;
}

/* Whether a kept connection was closed by the signer: nothing comes unasked, so anything
 * readable before an order is its end. */
static int
link_closed(int fd)
{
	struct pollfd p = { fd, POLLIN, 0 };

	return poll(&p, 1, 0) != 0;
}

int
signer_link_ask(struct signer_link *l, const struct order *o, struct signer_answer *a,
    unsigned char **frame, char *why, size_t whylen)
{
	unsigned char *body = NULL;
	const char *bad;
	size_t len, alen;
	int rc;

	*frame = NULL;
	if (l->fd >= 0 && link_closed(l->fd))
		signer_link_close(l);
	if (signer_link_connect(l) == -1) {
		snprintf(why, whylen, "signer unreachable at %s: %s", l->path, strerror(errno));
		return -1;
	}
	if (order_encode(o, &body, &len) == -1) {
		snprintf(why, whylen, "order not encodable (a field past its bound)");
		return -1;
	}
	rc = frame_write(l->fd, body, len, l->timeout_ms);
	free(body);
	if (rc == -1) {
		snprintf(why, whylen, "order not sent to the signer: %s", strerror(errno));
		signer_link_close(l);
		return -1;
	}
	rc = frame_read(l->fd, frame, &alen, ORDER_MAX_FRAME, l->timeout_ms, l->timeout_ms);
	if (rc != 0) {
		snprintf(why, whylen, "no answer from the signer: %s", rc == 1 ?
		    "it closed the connection" : strerror(errno));
		signer_link_close(l);
		return -1;
	}
	if (answer_decode(*frame, alen, a, &bad) == -1) {
		snprintf(why, whylen, "the signer's answer refused: %s", bad);
		signer_link_close(l);
		return -1;
	}
	return 0;
}
