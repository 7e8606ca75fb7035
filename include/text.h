/*
 * text.h - text bound for a log line or an event row, made safe to show: the one cleaner
 * that every sink goes through (log_msg() for the log, event_params() for the events table,
 * tsactl and the console again on display), and the quoting of a peer's text inside a
 * message.
 *
 * Cleaning keeps printable UTF-8 and writes everything else as a visible escape: C0 controls
 * and DEL as \n, \r, \t or \xHH, C1 controls and the Unicode characters that break or
 * reorder a line in a viewer (U+2028, U+2029, the bidirectional marks, embeddings,
 * overrides and isolates) as \uHHHH, and bytes that are not well-formed UTF-8 as \xHH.  So
 * no text can start a line of its own, hide what follows, or make a row PostgreSQL refuses
 * (invalid UTF-8).  Output that does not fit is cut at a character and ends in "...".
 * Cleaning clean text changes nothing.
 */
#ifndef TSA_TEXT_H
#define TSA_TEXT_H

#include <stddef.h>

/*
 * src cleaned into dst (dstlen >= 4, always NUL-terminated).  Returns the length written.
 */
size_t	text_clean(char *dst, size_t dstlen, const char *src);

/*
 * A peer's text for a message: at most maxchars characters of src, cleaned, with " and \
 * escaped, between double quotes, then "..." when src was longer or dst too short:
 * "http://x\n2026-..."...  NULL src gives "(none)".  dstlen >= 8.  Returns the length.
 */
size_t	text_quote(char *dst, size_t dstlen, const char *src, size_t maxchars);

#endif
