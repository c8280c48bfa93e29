/* util.h — errors, checked arithmetic, whole-file and atomic-output helpers
 * shared by every module. Library functions never exit: they return -1 (or
 * NULL) and leave a one-line message in ck_errmsg(). */
#ifndef CK_UTIL_H
#define CK_UTIL_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#define CK_VERSION "0.1.0"

/* Record the error message for the current failure (printf-style). Always
 * returns -1 so callers can `return ck_fail(...)`. Each thread has its own. */
int ck_fail(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* The last recorded message. */
const char *ck_errmsg(void);

/* Overflow-checked size arithmetic: return 0 on success, -1 on overflow. */
static inline int ck_mul_u64(uint64_t a, uint64_t b, uint64_t *r)
{
	return __builtin_mul_overflow(a, b, r) ? -1 : 0;
}
static inline int ck_add_u64(uint64_t a, uint64_t b, uint64_t *r)
{
	return __builtin_add_overflow(a, b, r) ? -1 : 0;
}

/* Allocation that reports failure through ck_fail (never aborts). */
void *ck_malloc(size_t n);
void *ck_calloc(size_t n, size_t size);
void *ck_realloc(void *p, size_t n);
char *ck_strdup(const char *s);

/* A growable byte buffer for text or binary built in memory. An append that
 * cannot grow it (out of memory, or a size past SIZE_MAX) sets failed, with a
 * ck_fail message, and every later append does nothing, so a writer checks
 * once at the end. A caller may set failed itself to stop writing after an
 * error of its own. p is NULL until the first append, then NUL-terminated one
 * past len. The caller owns p (free(p)). Start from ck_buf b = {0}. */
typedef struct {
	char *p;
	size_t len, cap;
	int failed;
} ck_buf;
void ck_buf_put(ck_buf *b, const void *data, size_t n);
void ck_buf_str(ck_buf *b, const char *s); /* s without its NUL */

/* Read a whole (small) file into memory, refusing files over max_bytes.
 * The buffer gets a trailing NUL that is not counted in *len. */
int ck_read_file(const char *path, size_t max_bytes, char **data, size_t *len);

/* Read exactly n bytes (loops over short reads); -1 on error or early EOF. */
int ck_read_full(int fd, void *buf, size_t n, const char *label);
/* Read exactly n bytes at offset off (loops over short reads). */
int ck_pread_full(int fd, void *buf, size_t n, uint64_t off, const char *label);
/* Read a file descriptor (a pipe too) to its end, refusing more than
 * max_bytes; the buffer gets a trailing NUL not counted in *len. */
int ck_read_fd(int fd, const char *label, size_t max_bytes, char **data, size_t *len);
/* Write exactly n bytes; -1 on error (EPIPE included). */
int ck_write_full(int fd, const void *buf, size_t n, const char *label);
/* A destination of bytes in order (a stream writer's, when not a
 * descriptor): 0, or -1 with a ck_fail message. */
typedef int (*ck_put_fn)(void *ctx, const void *buf, size_t n);

/* An output file that appears at its path only when committed: data goes to
 * PATH.tmp.XXXXXX in the same directory and is renamed on commit. The
 * temporary file is removed on abort, on exit without commit, and on
 * SIGINT/SIGTERM/SIGHUP/SIGPIPE. A NULL or "-" path means stdout (nothing to
 * rename). */
typedef struct ck_out ck_out;
ck_out *ck_out_open(const char *path);
int ck_out_fd(const ck_out *o);
const char *ck_out_path(const ck_out *o); /* final path, or "-" for stdout */
int ck_out_commit(ck_out *o);             /* frees o */
void ck_out_abort(ck_out *o);             /* frees o */

/* SHA-256 of everything written to an output from now on through
 * ck_write_full (which every writer of this project uses), so that a file
 * need not be read back to hash it. ck_out_sha256 gives the hash (and stops
 * hashing); committing or aborting stops it too. */
int ck_out_hash(ck_out *o);
int ck_out_sha256(ck_out *o, char hex[65]);

/* SHA-256 of a file as 64 lowercase hex characters + NUL. */
int ck_sha256_file(const char *path, char hex[65]);

/* If fd is a pipe, make it 1 MiB (the unprivileged maximum), so that the
 * tools of a pipeline hand each other large blocks and wake each other up
 * less often. The kernel may refuse, which only costs speed. */
void ck_pipe_grow(int fd);

/* The lines of a text, one at a time: ck_line_next sets *s and *n to the
 * next line (without its '\n'), counts it in L->line and returns 1; 0 at
 * the end. With a label, a NUL byte in a line is an error: -1 with
 * "LABEL: line N: NUL byte" (a text format never holds one). */
typedef struct {
	const char *text, *label;
	size_t len, pos, line;
} ck_lines;
int ck_line_next(ck_lines *L, const char **s, size_t *n);

/* The last component of a path (what follows its last '/'). */
const char *ck_base_name(const char *path);

/* Parse a decimal unsigned integer that must fill the whole string. */
int ck_parse_u64(const char *s, uint64_t *out);

#endif
