/*
 * record_batch.c - drives the token recorder (tokens_record_batch, src/store/tokens.c)
 * against a real PostgreSQL as the signer's role, for e2e signer/group-commit: a batch that
 * commits whole, a batch where one serial exists already (only that row is not inserted, the
 * others commit), and a batch with a row the database refuses (nothing of it commits).  The
 * serials are the caller's (decimal, below 2^63), so the test can look for the rows.
 *
 * usage: tsa-test-record CONNINFO SERIAL...   (one batch of the given serials; a serial 0 is
 *        a row the table's CHECK refuses).  Prints "committed E1 E2 ..." with each row's
 *        exists flag, or "failed"; exit 0 either way, 1 on a usage error.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "log.h"
#include "store.h"

#define MAX_ROWS	16

int
main(int argc, char **argv)
{
	static const unsigned char imprint[32] = { 1 };
	static const unsigned char token[] = { 0x30, 0x00 };
	struct token_record rec[MAX_ROWS];
	unsigned char serial[MAX_ROWS][8];
	int exists[MAX_ROWS];
	struct db db;
	size_t n, i, k;
	int rc;

	if (argc < 3 || argc - 2 > MAX_ROWS) {
		fprintf(stderr, "usage: tsa-test-record CONNINFO SERIAL...\n");
		return 1;
	}
	log_init("tsa-test-record");
	n = (size_t)argc - 2;
	for (i = 0; i < n; i++) {
		unsigned long long v = strtoull(argv[i + 2], NULL, 10);

		for (k = 0; k < 8; k++)
			serial[i][k] = (unsigned char)(v >> (8 * (7 - k)));
		memset(&rec[i], 0, sizeof(rec[i]));
		rec[i].serial = serial[i];
		rec[i].serial_len = 8;
		clock_gettime(CLOCK_REALTIME, &rec[i].gen_time);
		rec[i].service = "group-commit-probe";
		rec[i].policy_oid = "1.2.3.4";
		rec[i].protocol = "rfc3161";
		rec[i].hash_alg = "sha256";
		rec[i].imprint = imprint;
		rec[i].imprint_len = sizeof(imprint);
		rec[i].token = token;
		rec[i].token_len = sizeof(token);
		rec[i].issued = token;
		rec[i].issued_len = sizeof(token);
	}
	if (db_init(&db, argv[1], 5000, 0, 0) == -1)
		return 1;
	if ((rc = tokens_record_batch(&db, rec, n, exists)) == -2)
		printf("unknown\n");
	else if (rc == -1)
		printf("failed\n");
	else {
		printf("committed");
		for (i = 0; i < n; i++)
			printf(" %d", exists[i]);
		printf("\n");
	}
	db_close(&db);
	return 0;
}
