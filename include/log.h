/*
 * log.h - one line per event on standard error: time, program, pid, level, message.
 * The web server or systemd collects it; nothing here reaches a client.
 */
#ifndef TSA_LOG_H
#define TSA_LOG_H

#include <syslog.h>	/* LOG_ERR, LOG_WARNING, LOG_INFO, LOG_DEBUG */

void	log_init(const char *progname);
void	log_msg(int level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#endif
