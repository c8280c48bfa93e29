/* util.c — see util.h. */
#include "util.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <openssl/evp.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static _Thread_local char errbuf[1024];

int ck_fail(const char *fmt, ...)
{
	char tmp[sizeof errbuf];
	va_list ap;
	va_start(ap, fmt);
	/* fmt may refer to errbuf itself (to prefix an earlier message). */
	vsnprintf(tmp, sizeof tmp, fmt, ap);
	va_end(ap);
	memcpy(errbuf, tmp, sizeof errbuf);
	return -1;
}

const char *ck_errmsg(void)
{
	return errbuf[0] ? errbuf : "unknown error";
}

void *ck_malloc(size_t n)
{
	void *p = malloc(n ? n : 1);
	if (!p)
		ck_fail("out of memory allocating %zu bytes", n);
	return p;
}

void *ck_calloc(size_t n, size_t size)
{
	void *p = calloc(n ? n : 1, size ? size : 1);
	if (!p)
		ck_fail("out of memory allocating %zu x %zu bytes", n, size);
	return p;
}

void *ck_realloc(void *p, size_t n)
{
	void *q = realloc(p, n ? n : 1);
	if (!q)
		ck_fail("out of memory allocating %zu bytes", n);
	return q;
}

char *ck_strdup(const char *s)
{
	size_t n = strlen(s) + 1;
	char *p = ck_malloc(n);
	if (p)
		memcpy(p, s, n);
	return p;
}

void ck_buf_put(ck_buf *b, const void *data, size_t n)
{
	if (b->failed)
		return;
	if (n > SIZE_MAX - 1 - b->len) {
		b->failed = 1;
		ck_fail("out of memory: a buffer of %zu bytes cannot grow by %zu", b->len, n);
		return;
	}
	size_t need = b->len + n + 1; /* + the NUL */
	if (need > b->cap) {
		size_t cap = b->cap ? b->cap : 256;
		while (cap < need)
			cap = cap > SIZE_MAX / 2 ? need : cap * 2;
		char *p = ck_realloc(b->p, cap);
		if (!p) {
			b->failed = 1;
			return;
		}
		b->p = p;
		b->cap = cap;
	}
	memcpy(b->p + b->len, data, n);
	b->len += n;
	b->p[b->len] = 0;
}

void ck_buf_str(ck_buf *b, const char *s) { ck_buf_put(b, s, strlen(s)); }

/* Read exactly n bytes, with read() (off < 0) or pread() from off on. */
static int read_exactly(int fd, void *buf, size_t n, int64_t off, const char *label)
{
	char *p = buf;
	while (n) {
		size_t k = n > (1u << 30) ? (1u << 30) : n;
		ssize_t r = off < 0 ? read(fd, p, k) : pread(fd, p, k, (off_t)off);
		if (r < 0) {
			if (errno == EINTR)
				continue;
			return ck_fail("%s: read error: %s", label, strerror(errno));
		}
		if (r == 0)
			return ck_fail("%s: unexpected end of file", label);
		p += r;
		n -= (size_t)r;
		if (off >= 0)
			off += r;
	}
	return 0;
}

int ck_read_full(int fd, void *buf, size_t n, const char *label)
{
	return read_exactly(fd, buf, n, -1, label);
}

int ck_pread_full(int fd, void *buf, size_t n, uint64_t off, const char *label)
{
	if (off > INT64_MAX)
		return ck_fail("%s: offset %llu out of range", label, (unsigned long long)off);
	return read_exactly(fd, buf, n, (int64_t)off, label);
}

int ck_read_fd(int fd, const char *label, size_t max_bytes, char **data, size_t *len)
{
	size_t cap = 1 << 16, n = 0;
	char *buf = ck_malloc(cap + 1);
	if (!buf)
		return -1;
	for (;;) {
		if (n == cap) {
			if (cap >= max_bytes) {
				free(buf);
				return ck_fail("%s: larger than %zu bytes", label, max_bytes);
			}
			cap *= 2;
			char *q = ck_realloc(buf, cap + 1);
			if (!q) {
				free(buf);
				return -1;
			}
			buf = q;
		}
		ssize_t r = read(fd, buf + n, cap - n);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			int e = errno;
			free(buf);
			return ck_fail("%s: read error: %s", label, strerror(e));
		}
		if (r == 0)
			break;
		n += (size_t)r;
	}
	buf[n] = 0;
	*data = buf;
	*len = n;
	return 0;
}

/* Outputs whose bytes are hashed as they are written (ck_out_hash): the
 * descriptor and its SHA-256 state. */
#define MAX_HASHED 64
static struct {
	int fd;
	EVP_MD_CTX *md;
} hashed[MAX_HASHED];
static int nhashed;

/* A large hashed write is hashed by a helper thread while write() runs:
 * SHA-256 costs about as much CPU as copying the bytes into the page cache,
 * and a writer of large files (pt-pack) is otherwise the slowest stage of a
 * pipeline. One job at a time; the writer waits for it before returning, so
 * the caller's buffer is free and the hash sees the bytes in order. */
#define HASH_IN_THREAD_MIN (256u << 10)
static struct {
	pthread_mutex_t mu;
	pthread_cond_t cv;
	int started, busy, ok;
	EVP_MD_CTX *md;
	const void *buf;
	size_t n;
} hasher = {PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, 0, 0, 0, NULL, NULL, 0};

static void *hasher_main(void *arg)
{
	(void)arg;
	pthread_mutex_lock(&hasher.mu);
	for (;;) {
		while (!hasher.busy)
			pthread_cond_wait(&hasher.cv, &hasher.mu);
		pthread_mutex_unlock(&hasher.mu);
		int ok = EVP_DigestUpdate(hasher.md, hasher.buf, hasher.n) == 1;
		pthread_mutex_lock(&hasher.mu);
		hasher.ok = ok;
		hasher.busy = 0;
		pthread_cond_broadcast(&hasher.cv);
	}
	return NULL;
}

/* Start the thread once, with every signal blocked in it (the atomic-output
 * cleanup runs in the main thread). 0 if it cannot start: hash inline. */
static int hasher_ready(void)
{
	if (!hasher.started) {
		sigset_t all, old;
		pthread_t t;
		sigfillset(&all);
		pthread_sigmask(SIG_SETMASK, &all, &old);
		hasher.started = pthread_create(&t, NULL, hasher_main, NULL) == 0 ? 1 : -1;
		pthread_sigmask(SIG_SETMASK, &old, NULL);
		if (hasher.started == 1)
			pthread_detach(t);
	}
	return hasher.started == 1;
}

/* A large write into a regular file goes in pieces of at most 128 KiB.
 * Measured on the benchmark VM (Linux 6.18, ext4), 1.3 GB written after the
 * machine had been idle for a few seconds: 4 MiB writes 2.5-3.6 s, 1 MiB
 * 1.4-1.6 s, 64-128 KiB 0.5-1.0 s (cp 3.2-4.3 s). The likely cause: the page
 * cache takes a large write in large folios, made of the free 2 MiB blocks
 * that the balloon driver has handed back to the host (free page
 * reporting), and each of their pages then costs the host a fault on first
 * touch. Pipes keep large writes (small ones only add wake-ups). */
#define FILE_WRITE_PIECE (128u << 10)

static int write_all(int fd, const char *p, size_t n, const char *label)
{
	size_t piece = 1u << 30;
	struct stat st;
	if (n > FILE_WRITE_PIECE && fstat(fd, &st) == 0 && S_ISREG(st.st_mode))
		piece = FILE_WRITE_PIECE;
	while (n) {
		ssize_t w = write(fd, p, n > piece ? piece : n);
		if (w < 0) {
			if (errno == EINTR)
				continue;
			return ck_fail("%s: write error: %s", label, strerror(errno));
		}
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

int ck_write_full(int fd, const void *buf, size_t n, const char *label)
{
	EVP_MD_CTX *md = NULL;
	for (int i = 0; i < nhashed; i++)
		if (hashed[i].fd == fd)
			md = hashed[i].md;
	if (!md)
		return write_all(fd, buf, n, label);
	if (n < HASH_IN_THREAD_MIN || !hasher_ready()) {
		if (EVP_DigestUpdate(md, buf, n) != 1)
			return ck_fail("%s: cannot compute SHA-256", label);
		return write_all(fd, buf, n, label);
	}
	pthread_mutex_lock(&hasher.mu);
	hasher.md = md;
	hasher.buf = buf;
	hasher.n = n;
	hasher.busy = 1;
	pthread_cond_broadcast(&hasher.cv);
	pthread_mutex_unlock(&hasher.mu);
	int rc = write_all(fd, buf, n, label);
	pthread_mutex_lock(&hasher.mu);
	while (hasher.busy)
		pthread_cond_wait(&hasher.cv, &hasher.mu);
	int ok = hasher.ok;
	pthread_mutex_unlock(&hasher.mu);
	if (rc == 0 && !ok)
		rc = ck_fail("%s: cannot compute SHA-256", label);
	return rc;
}

int ck_read_file(const char *path, size_t max_bytes, char **data, size_t *len)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return ck_fail("%s: %s", path, strerror(errno));
	struct stat st;
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		close(fd);
		return ck_fail("%s: not a regular file", path);
	}
	if ((uint64_t)st.st_size > max_bytes) {
		close(fd);
		return ck_fail("%s: file too large (%lld bytes, limit %zu)", path,
			       (long long)st.st_size, max_bytes);
	}
	size_t n = (size_t)st.st_size;
	char *buf = ck_malloc(n + 1);
	if (!buf || ck_read_full(fd, buf, n, path) < 0) {
		free(buf);
		close(fd);
		return -1;
	}
	close(fd);
	buf[n] = 0;
	*data = buf;
	*len = n;
	return 0;
}

/* ---- atomic output files ------------------------------------------------ */

/* Temporary paths not yet committed, for the signal and exit handlers. The
 * handler only calls unlink(), which is async-signal-safe. */
#define MAX_PENDING 1024
static char pending[MAX_PENDING][PATH_MAX];
static volatile sig_atomic_t pending_used[MAX_PENDING];
static int handlers_installed;

struct ck_out {
	int fd;
	int slot; /* index in pending[], -1 for stdout */
	char *path;
};

static void unlink_pending(void)
{
	for (int i = 0; i < MAX_PENDING; i++)
		if (pending_used[i])
			unlink(pending[i]);
}

static void on_signal(int sig)
{
	unlink_pending();
	signal(sig, SIG_DFL);
	raise(sig);
}

static void install_handlers(void)
{
	if (handlers_installed)
		return;
	handlers_installed = 1;
	atexit(unlink_pending);
	int sigs[] = {SIGINT, SIGTERM, SIGHUP, SIGPIPE};
	for (size_t i = 0; i < sizeof sigs / sizeof sigs[0]; i++) {
		struct sigaction sa;
		memset(&sa, 0, sizeof sa);
		sa.sa_handler = on_signal;
		sigemptyset(&sa.sa_mask);
		sigaction(sigs[i], &sa, NULL);
	}
}

ck_out *ck_out_open(const char *path)
{
	ck_out *o = ck_calloc(1, sizeof *o);
	if (!o)
		return NULL;
	o->slot = -1;
	if (!path || strcmp(path, "-") == 0) {
		o->fd = STDOUT_FILENO;
		o->path = ck_strdup("-");
		if (!o->path) {
			free(o);
			return NULL;
		}
		return o;
	}
	install_handlers();
	int slot = -1;
	for (int i = 0; i < MAX_PENDING; i++)
		if (!pending_used[i]) {
			slot = i;
			break;
		}
	if (slot < 0) {
		free(o);
		ck_fail("%s: too many output files open at once", path);
		return NULL;
	}
	if (snprintf(pending[slot], PATH_MAX, "%s.tmp.XXXXXX", path) >= PATH_MAX) {
		free(o);
		ck_fail("%s: path too long", path);
		return NULL;
	}
	sigset_t all, old;
	sigfillset(&all);
	sigprocmask(SIG_BLOCK, &all, &old);
	int fd = mkostemp(pending[slot], O_CLOEXEC);
	if (fd >= 0)
		pending_used[slot] = 1;
	sigprocmask(SIG_SETMASK, &old, NULL);
	if (fd < 0) {
		ck_fail("%s: cannot create output: %s", path, strerror(errno));
		free(o);
		return NULL;
	}
	/* mkstemp makes 0600; outputs are ordinary files (0666 & ~umask). */
	mode_t um = umask(0);
	umask(um);
	fchmod(fd, 0666 & ~um);
	o->fd = fd;
	o->slot = slot;
	o->path = ck_strdup(path);
	if (!o->path) {
		ck_out_abort(o);
		return NULL;
	}
	return o;
}

int ck_out_fd(const ck_out *o) { return o->fd; }
const char *ck_out_path(const ck_out *o) { return o->path; }

static void unhash(const ck_out *o);

static void release(ck_out *o)
{
	unhash(o);
	free(o->path);
	free(o);
}

int ck_out_commit(ck_out *o)
{
	int rc = 0;
	if (o->slot < 0) {
		release(o);
		return 0;
	}
	if (close(o->fd) < 0)
		rc = ck_fail("%s: write error: %s", o->path, strerror(errno));
	else if (rename(pending[o->slot], o->path) < 0)
		rc = ck_fail("%s: cannot rename into place: %s", o->path, strerror(errno));
	if (rc < 0)
		unlink(pending[o->slot]);
	pending_used[o->slot] = 0;
	release(o);
	return rc;
}

void ck_out_abort(ck_out *o)
{
	if (o->slot >= 0) {
		close(o->fd);
		unlink(pending[o->slot]);
		pending_used[o->slot] = 0;
	}
	release(o);
}

/* ---- hashing ------------------------------------------------------------ */

static int hashed_slot(const ck_out *o)
{
	for (int i = 0; i < nhashed; i++)
		if (hashed[i].fd == o->fd)
			return i;
	return -1;
}

int ck_out_hash(ck_out *o)
{
	if (hashed_slot(o) >= 0)
		return 0;
	if (nhashed == MAX_HASHED)
		return ck_fail("%s: too many hashed outputs at once", o->path);
	EVP_MD_CTX *md = EVP_MD_CTX_new();
	if (!md || EVP_DigestInit_ex(md, EVP_sha256(), NULL) != 1) {
		EVP_MD_CTX_free(md);
		return ck_fail("%s: cannot initialise SHA-256", o->path);
	}
	hashed[nhashed].fd = o->fd;
	hashed[nhashed].md = md;
	nhashed++;
	return 0;
}

static void unhash(const ck_out *o)
{
	int i = hashed_slot(o);
	if (i < 0)
		return;
	EVP_MD_CTX_free(hashed[i].md);
	hashed[i] = hashed[--nhashed];
}

int ck_out_sha256(ck_out *o, char hex[65])
{
	int i = hashed_slot(o);
	unsigned char md[32];
	if (i < 0)
		return ck_fail("%s: output is not hashed", o->path);
	if (EVP_DigestFinal_ex(hashed[i].md, md, NULL) != 1) {
		unhash(o);
		return ck_fail("%s: cannot compute SHA-256", o->path);
	}
	unhash(o);
	for (int k = 0; k < 32; k++)
		snprintf(hex + 2 * k, 3, "%02x", md[k]);
	return 0;
}

int ck_sha256_file(const char *path, char hex[65])
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return ck_fail("%s: %s", path, strerror(errno));
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	if (!ctx || EVP_DigestInit_ex(ctx, EVP_sha256(), NULL) != 1) {
		EVP_MD_CTX_free(ctx);
		close(fd);
		return ck_fail("%s: cannot initialise SHA-256", path);
	}
	enum { BUF = 1 << 20 };
	unsigned char *buf = ck_malloc(BUF);
	int rc = buf ? 0 : -1;
	while (rc == 0) {
		ssize_t r = read(fd, buf, BUF);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			rc = ck_fail("%s: read error: %s", path, strerror(errno));
		else if (r == 0)
			break;
		else
			EVP_DigestUpdate(ctx, buf, (size_t)r);
	}
	unsigned char md[32];
	if (rc == 0) {
		EVP_DigestFinal_ex(ctx, md, NULL);
		for (int i = 0; i < 32; i++)
			snprintf(hex + 2 * i, 3, "%02x", md[i]);
	}
	free(buf);
	EVP_MD_CTX_free(ctx);
	close(fd);
	return rc;
}

void ck_pipe_grow(int fd)
{
	struct stat st;
	if (fstat(fd, &st) == 0 && S_ISFIFO(st.st_mode))
		fcntl(fd, F_SETPIPE_SZ, 1 << 20);
}

int ck_line_next(ck_lines *L, const char **s, size_t *n)
{
	if (L->pos >= L->len)
		return 0;
	const char *p = L->text + L->pos;
	const char *nl = memchr(p, '\n', L->len - L->pos);
	*s = p;
	*n = nl ? (size_t)(nl - p) : L->len - L->pos;
	L->pos += *n + (nl ? 1 : 0);
	L->line++;
	if (L->label && memchr(p, 0, *n))
		return ck_fail("%s: line %zu: NUL byte", L->label, L->line);
	return 1;
}

int ck_parse_u64(const char *s, uint64_t *out)
{
	if (!s || !*s)
		return -1;
	uint64_t v = 0;
	for (const char *p = s; *p; p++) {
		if (*p < '0' || *p > '9')
			return -1;
		if (ck_mul_u64(v, 10, &v) < 0 || ck_add_u64(v, (uint64_t)(*p - '0'), &v) < 0)
			return -1;
	}
	*out = v;
	return 0;
}

const char *ck_base_name(const char *path)
{
	const char *s = strrchr(path, '/');
	return s ? s + 1 : path;
}
