/*
 * migrations.h - the schema migrations, numbered, embedded in tsactl at build time from
 * the schema/ SQL files (src/cli/embed-schema.sh) and applied in order by `tsactl migrate`.
 */
#ifndef TSA_MIGRATIONS_H
#define TSA_MIGRATIONS_H

#include <stddef.h>

struct migration {
	int		 version;
	const char	*name;
	const char	*sql;
};

extern const struct migration	migrations[];
extern const size_t		n_migrations;

#endif
