/*
 * output.c - tsactl's results on standard output (see admin.h): readable tables and records
 * by default, JSON with --json.  Rows come as PGresults (from the database, or built by a verb
 * with PQmakeEmptyPGresult); a column's PostgreSQL type decides its JSON form: booleans and
 * numbers bare, json/jsonb verbatim (PostgreSQL wrote them, so they are valid JSON), the rest
 * as strings, SQL NULL as null.  The JSON string escaper is RFC 8259 section 7; the text
 * output shows every value cleaned (text.h).
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "admin.h"
#include "store.h"
#include "text.h"

/* PostgreSQL type OIDs (catalog/pg_type_d.h, not installed with libpq). */
#define T_BOOL		16
#define T_INT8		20
#define T_INT2		21
#define T_INT4		23
#define T_JSON		114
#define T_FLOAT4	700
#define T_FLOAT8	701
#define T_NUMERIC	1700
#define T_JSONB		3802

void
json_str(const char *s)
{
	const unsigned char *p = (const unsigned char *)s;

	putchar('"');
	for (; *p != '\0'; p++) {
		switch (*p) {
		case '"':	fputs("\\\"", stdout); break;
		case '\\':	fputs("\\\\", stdout); break;
		case '\b':	fputs("\\b", stdout); break;
		case '\f':	fputs("\\f", stdout); break;
		case '\n':	fputs("\\n", stdout); break;
		case '\r':	fputs("\\r", stdout); break;
		case '\t':	fputs("\\t", stdout); break;
		default:
			/* RFC 8259 7: control characters must be escaped. */
			if (*p < 0x20)
				printf("\\u%04x", *p);
			else
				putchar(*p);
		}
	}
	putchar('"');
}

static void
json_cell(const PGresult *r, int row, int col)
{
	const char *v = PQgetvalue(r, row, col);

	if (PQgetisnull(r, row, col)) {
		fputs("null", stdout);
		return;
	}
	switch (PQftype(r, col)) {
	case T_BOOL:
		fputs(strcmp(v, "t") == 0 ? "true" : "false", stdout);
		break;
	case T_INT2: case T_INT4: case T_INT8: case T_NUMERIC: case T_FLOAT4: case T_FLOAT8:
		/* NaN and Infinity are no JSON numbers. */
		if (strspn(v, "-0123456789.e+") == strlen(v))
			fputs(v, stdout);
		else
			json_str(v);
		break;
	case T_JSON: case T_JSONB:
		fputs(v, stdout);
		break;
	default:
		json_str(v);
	}
}

void
json_row_open(const PGresult *r, int row)
{
	int col;

	putchar('{');
	for (col = 0; col < PQnfields(r); col++) {
		if (col > 0)
			fputs(", ", stdout);
		json_str(PQfname(r, col));
		fputs(": ", stdout);
		json_cell(r, row, col);
	}
}

/*
 * A cell as the text output shows it, cleaned (text.h): a control character in the database
 * (an event's detail, say) shows as its escape, never moves the terminal.  The result lives
 * until the next call.
 */
static const char *
text_cell(const PGresult *r, int row, int col, const char *null_text)
{
	static char shown[4096];
	const char *v = PQgetvalue(r, row, col);

	if (PQgetisnull(r, row, col))
		return null_text;
	if (PQftype(r, col) == T_BOOL)
		return strcmp(v, "t") == 0 ? "yes" : "no";
	text_clean(shown, sizeof(shown), v);
	return shown;
}

/* "name:" padded to width w, then the value. */
static void
label(const char *name, int w, const char *value)
{
	printf("%s:%*s %s\n", name, w - (int)strlen(name), "", value);
}

static void
out_records(const PGresult *r)
{
	int row, col, w = 0;

	for (col = 0; col < PQnfields(r); col++)
		if ((int)strlen(PQfname(r, col)) > w)
			w = (int)strlen(PQfname(r, col));
	for (row = 0; row < PQntuples(r); row++) {
		if (row > 0)
			putchar('\n');
		for (col = 0; col < PQnfields(r); col++)
			label(PQfname(r, col), w, text_cell(r, row, col, "-"));
	}
}

static void
out_table(const PGresult *r)
{
	int row, col, ncols = PQnfields(r), width[64];

	if (ncols > 64)
		ncols = 64;
	for (col = 0; col < ncols; col++) {
		width[col] = (int)strlen(PQfname(r, col));
		for (row = 0; row < PQntuples(r); row++) {
			int n = (int)strlen(text_cell(r, row, col, "-"));

			if (n > width[col])
				width[col] = n;
		}
	}
	for (row = -1; row < PQntuples(r); row++) {
		for (col = 0; col < ncols; col++) {
			const char *v = row < 0 ? PQfname(r, col) : text_cell(r, row, col, "-");

			if (col + 1 == ncols)
				printf("%s\n", v);
			else
				printf("%-*s  ", width[col], v);
		}
	}
}

void
out_rows(const PGresult *r, int records)
{
	int row;

	if (!cli_json) {
		if (PQntuples(r) == 0)
			printf("(none)\n");
		else if (records)
			out_records(r);
		else
			out_table(r);
		return;
	}
	putchar('[');
	for (row = 0; row < PQntuples(r); row++) {
		fputs(row > 0 ? ",\n " : "\n ", stdout);
		json_row_open(r, row);
		putchar('}');
	}
	fputs(PQntuples(r) > 0 ? "\n]\n" : "]\n", stdout);
}

void
out_row(const PGresult *r, int row, const char *null_text)
{
	int col, w = 0;

	if (cli_json) {
		json_row_open(r, row);
		fputs("}\n", stdout);
		return;
	}
	for (col = 0; col < PQnfields(r); col++)
		if ((int)strlen(PQfname(r, col)) > w)
			w = (int)strlen(PQfname(r, col));
	for (col = 0; col < PQnfields(r); col++)
		label(PQfname(r, col), w, text_cell(r, row, col, null_text));
}

void
out_done(PGconn *c, const PGresult *r, const char *fmt, ...)
{
	char version[24], err[512];
	va_list ap;
	PGresult *v;
	int numeric, rc;

	v = db_query(c, "SELECT version FROM config_version", 0, NULL, "reading the version", &rc,
	    err, sizeof(err));
	snprintf(version, sizeof(version), "%s",
	    v != NULL && PQntuples(v) == 1 ? PQgetvalue(v, 0, 0) : "?");
	PQclear(v);
	numeric = strspn(version, "0123456789") == strlen(version) && version[0] != '\0';
	if (!cli_json) {
		va_start(ap, fmt);
		vprintf(fmt, ap);
		va_end(ap);
		printf(" (configuration version %s)\n", version);
		return;
	}
	if (r != NULL && PQntuples(r) > 0) {
		json_row_open(r, 0);
		fputs(", ", stdout);
	} else
		putchar('{');
	fputs("\"config_version\": ", stdout);
	if (numeric)
		fputs(version, stdout);
	else
		fputs("null", stdout);
	fputs("}\n", stdout);
}
