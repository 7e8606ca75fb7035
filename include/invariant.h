/*
 * invariant.h - what must hold unless the code itself is wrong.  Bad input from a peer is never
 * an invariant (it gets the protocol's refusal); a broken invariant is a bug, and the process
 * cannot trust its own state any more: the failure is logged with where and what, then the
 * process aborts and its supervisor replaces it (tsa-fcgi's workers), so the request in flight
 * gets the web server's 502 and never a half-made answer.
 */
#ifndef TSA_INVARIANT_H
#define TSA_INVARIANT_H

#define TSA_INVARIANT(cond) \
	((cond) ? (void)0 : invariant_failed(__FILE__, __LINE__, #cond))

/* Logs "invariant broken at FILE:LINE: WHAT" and aborts. */
_Noreturn void	invariant_failed(const char *file, int line, const char *what);

#endif
