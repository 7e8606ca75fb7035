/*
 * version.h - the build's version (git describe at build time, else "unknown"), as the
 * servers table and /metrics report it.
 */
#ifndef TSA_VERSION_H
#define TSA_VERSION_H

extern const char tsa_version[];

#endif
