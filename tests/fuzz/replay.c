/*
 * replay.c - runs a fuzz target's LLVMFuzzerTestOneInput over files, for builds without
 * libFuzzer (gcc, `make check`): the seed corpus and every crash ever found are replayed as
 * regression fixtures.
 *
 * usage: replay_TARGET FILE|DIR...
 * Directories are read one level deep, entries in name order; hidden files (.keep) and
 * README files are skipped.  Each input is read whole, up to REPLAY_MAX_INPUT bytes (a larger
 * file is an error: it was never a fuzzer's input).  Prints "replay: N inputs, 0 crashes"; a crash
 * is a crash (the process dies there, under a sanitizer build with its report).
 * Exit status: 0, or 1 when an argument or a file cannot be read or no input was found.
 */
#include <dirent.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define REPLAY_MAX_INPUT	(1024 * 1024)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static unsigned long inputs;

/* Reads path (at most REPLAY_MAX_INPUT bytes) and runs the target on it. 0, or -1. */
static int
replay_file(const char *path)
{
	unsigned char *buf;
	size_t len = 0, n;
	FILE *f;
	int ret = -1;

	if ((f = fopen(path, "rb")) == NULL) {
		fprintf(stderr, "replay: %s: %s\n", path, strerror(errno));
		return -1;
	}
	if ((buf = malloc(REPLAY_MAX_INPUT + 1)) == NULL) {
		fprintf(stderr, "replay: out of memory\n");
		goto out;
	}
	while ((n = fread(buf + len, 1, REPLAY_MAX_INPUT + 1 - len, f)) > 0)
		len += n;
	if (ferror(f)) {
		fprintf(stderr, "replay: %s: read error\n", path);
		goto out;
	}
	if (len > REPLAY_MAX_INPUT) {
		fprintf(stderr, "replay: %s: larger than %d bytes\n", path, REPLAY_MAX_INPUT);
		goto out;
	}
	/* An exact-size copy, so that a read past the input's end is caught by ASan. */
	{
		unsigned char *exact = malloc(len > 0 ? len : 1);

		if (exact == NULL) {
			fprintf(stderr, "replay: out of memory\n");
			goto out;
		}
		memcpy(exact, buf, len);
		(void)LLVMFuzzerTestOneInput(exact, len);
		free(exact);
	}
	inputs++;
	ret = 0;
out:
	free(buf);
	fclose(f);
	return ret;
}

static int
skipped(const char *name)
{
	return name[0] == '.' || strncmp(name, "README", 6) == 0;
}

static int
by_name(const struct dirent **a, const struct dirent **b)
{
	return strcmp((*a)->d_name, (*b)->d_name);
}

static int
replay_dir(const char *dir)
{
	struct dirent **list;
	int n, i, ret = 0;

	if ((n = scandir(dir, &list, NULL, by_name)) == -1) {
		fprintf(stderr, "replay: %s: %s\n", dir, strerror(errno));
		return -1;
	}
	for (i = 0; i < n; i++) {
		char path[4096];
		struct stat st;

		if (!skipped(list[i]->d_name)) {
			if ((size_t)snprintf(path, sizeof(path), "%s/%s", dir, list[i]->d_name) >=
			    sizeof(path)) {
				fprintf(stderr, "replay: %s/%s: path too long\n", dir,
				    list[i]->d_name);
				ret = -1;
			} else if (stat(path, &st) == 0 && S_ISREG(st.st_mode)) {
				if (replay_file(path) == -1)
					ret = -1;
			}
		}
		free(list[i]);
	}
	free(list);
	return ret;
}

int
main(int argc, char **argv)
{
	int i, ret = 0;

	if (argc < 2) {
		fprintf(stderr, "usage: %s FILE|DIR...\n", argv[0]);
		return 1;
	}
	for (i = 1; i < argc; i++) {
		struct stat st;

		if (stat(argv[i], &st) == -1) {
			fprintf(stderr, "replay: %s: %s\n", argv[i], strerror(errno));
			ret = 1;
		} else if (S_ISDIR(st.st_mode)) {
			if (replay_dir(argv[i]) == -1)
				ret = 1;
		} else if (replay_file(argv[i]) == -1)
			ret = 1;
	}
	printf("replay: %lu inputs, 0 crashes\n", inputs);
	if (inputs == 0) {
		fprintf(stderr, "replay: no input found\n");
		ret = 1;
	}
	return ret;
}
