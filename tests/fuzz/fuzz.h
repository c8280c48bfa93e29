/* fuzz.h — helpers shared by the libFuzzer targets in tests/fuzz/: the
 * parsers under test take paths or descriptors, so each input is handed to
 * them as a file in a private scratch directory (on tmpfs when there is one).
 * Multi-part inputs are cut at a separator line "%%%%\n", so text seeds stay
 * readable and the fuzzer can move the parts independently. */
#ifndef CK_FUZZ_H
#define CK_FUZZ_H

#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define FUZZ_SEP "%%%%\n"

/* The process's scratch directory, made on first use and removed at exit. */
static char fuzz_dir_buf[64];
/* Where targets fold the bytes they touch, so the reads are not optimised out. */
__attribute__((unused)) static volatile size_t fuzz_sink;
static inline void fuzz_cleanup(void)
{
	char cmd[96];
	snprintf(cmd, sizeof cmd, "rm -rf '%s'", fuzz_dir_buf);
	if (system(cmd) != 0)
		fprintf(stderr, "fuzz: cannot remove %s\n", fuzz_dir_buf);
}
static inline const char *fuzz_dir(void)
{
	if (!fuzz_dir_buf[0]) {
		const char *base = access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp";
		snprintf(fuzz_dir_buf, sizeof fuzz_dir_buf, "%s/ckfuzz.XXXXXX", base);
		if (!mkdtemp(fuzz_dir_buf))
			abort();
		atexit(fuzz_cleanup);
	}
	return fuzz_dir_buf;
}

/* DIR/name into buf. */
static inline const char *fuzz_path(char *buf, size_t len, const char *name)
{
	snprintf(buf, len, "%s/%s", fuzz_dir(), name);
	return buf;
}

/* Write data to DIR/name (replacing it); returns the path in buf. */
static inline const char *fuzz_file(char *buf, size_t len, const char *name, const void *data, size_t n)
{
	fuzz_path(buf, len, name);
	FILE *f = fopen(buf, "wb");
	if (!f || (n && fwrite(data, 1, n, f) != n) || fclose(f) != 0)
		abort();
	return buf;
}

/* The k-th part of data cut at FUZZ_SEP (parts past the last are empty). */
static inline void fuzz_part(const uint8_t *data, size_t size, int k, const uint8_t **p, size_t *n)
{
	const size_t sl = sizeof FUZZ_SEP - 1;
	const uint8_t *s = data, *end = data + size;
	for (;;) {
		const uint8_t *e = memmem(s, (size_t)(end - s), FUZZ_SEP, sl);
		if (k == 0) {
			*p = s;
			*n = (size_t)((e ? e : end) - s);
			return;
		}
		if (!e) {
			*p = end;
			*n = 0;
			return;
		}
		s = e + sl;
		k--;
	}
}

/* A NUL-terminated copy of a part (text parsers take C strings). */
static inline char *fuzz_strpart(const uint8_t *data, size_t size, int k, size_t *n)
{
	const uint8_t *p;
	fuzz_part(data, size, k, &p, n);
	char *s = malloc(*n + 1);
	if (!s)
		abort();
	memcpy(s, p, *n);
	s[*n] = 0;
	return s;
}

/* Readers must never produce more than this for a fuzz input (inputs are
 * kilobytes; a tensor larger than this has been allocated from a header's
 * word instead of the file's size). Reads above it are skipped, not failed:
 * the library's own checks decide, this only keeps the harness fast. */
#define FUZZ_MAX_READ (64u << 20)

#endif
