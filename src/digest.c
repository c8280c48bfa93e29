/* digest.c — see digest.h. Cache file: one line per file,
 * "SHA256 SIZE DEV INO MTIME_S MTIME_NS PATH", PATH absolute. */
#include "digest.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "util.h"

typedef struct {
	char hex[65];
	uint64_t size, dev, ino;
	int64_t sec, nsec;
	char *path;
	int changed; /* hashed or recorded by this process */
} entry;

struct ck_digest_cache {
	char *file;
	entry *e;
	size_t n, cap;
	int dirty;
};

static int add(ck_digest_cache *c, const entry *e)
{
	if (c->n == c->cap) {
		size_t cap = c->cap ? 2 * c->cap : 16;
		entry *ne = ck_realloc(c->e, cap * sizeof *ne);
		if (!ne)
			return -1;
		c->e = ne;
		c->cap = cap;
	}
	c->e[c->n] = *e;
	c->e[c->n].path = ck_strdup(e->path);
	if (!c->e[c->n].path)
		return -1;
	c->n++;
	return 0;
}

/* Read the entries of the cache file into c (a missing or unreadable file
 * adds nothing). */
static int load(ck_digest_cache *c, const char *path)
{
	char *text;
	size_t len;
	if (ck_read_file(path, 64u << 20, &text, &len) < 0)
		return 0; /* no cache yet, or unreadable: start empty */
	char *save = NULL;
	int rc = 0;
	for (char *line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		entry e = {0};
		int off = 0;
		if (sscanf(line, "%64s %" SCNu64 " %" SCNu64 " %" SCNu64 " %" SCNd64 " %" SCNd64 " %n",
			   e.hex, &e.size, &e.dev, &e.ino, &e.sec, &e.nsec, &off) != 6 ||
		    strlen(e.hex) != 64 || line[off] != '/')
			continue; /* a damaged line only costs a re-hash */
		e.path = line + off;
		if ((rc = add(c, &e)) < 0)
			break;
	}
	free(text);
	return rc;
}

ck_digest_cache *ck_digest_cache_open(const char *path)
{
	ck_digest_cache *c = ck_calloc(1, sizeof *c);
	if (!c || !path)
		return c;
	c->file = ck_strdup(path);
	if (!c->file || load(c, path) < 0) {
		ck_digest_cache_close(c);
		return NULL;
	}
	return c;
}

/* The entry for absolute path abs, or NULL. */
static entry *find(ck_digest_cache *c, const char *abs)
{
	for (size_t i = 0; i < c->n; i++)
		if (strcmp(c->e[i].path, abs) == 0)
			return &c->e[i];
	return NULL;
}

/* Set the entry of now.path (adding it if new) to now. */
static int put(ck_digest_cache *c, const entry *now)
{
	entry *e = find(c, now->path);
	if (!e)
		return add(c, now);
	char *p = e->path;
	*e = *now;
	e->path = p;
	return 0;
}

int ck_digest_file(ck_digest_cache *c, const char *path, char hex[65], uint64_t *size)
{
	struct stat st;
	char abs[PATH_MAX];
	if (stat(path, &st) < 0)
		return ck_fail("%s: %s", path, strerror(errno));
	if (!S_ISREG(st.st_mode))
		return ck_fail("%s: not a regular file", path);
	if (size)
		*size = (uint64_t)st.st_size;
	if (!c->file || !realpath(path, abs) || strchr(abs, '\n'))
		return ck_sha256_file(path, hex);
	entry now = {.size = (uint64_t)st.st_size, .dev = (uint64_t)st.st_dev,
		     .ino = (uint64_t)st.st_ino, .sec = st.st_mtim.tv_sec,
		     .nsec = st.st_mtim.tv_nsec, .path = abs, .changed = 1};
	entry *e = find(c, abs);
	if (e && e->size == now.size && e->dev == now.dev && e->ino == now.ino &&
	    e->sec == now.sec && e->nsec == now.nsec) {
		memcpy(hex, e->hex, 65);
		return 0;
	}
	if (ck_sha256_file(path, hex) < 0)
		return -1;
	memcpy(now.hex, hex, 65);
	c->dirty = 1;
	return put(c, &now);
}

int ck_digest_record(ck_digest_cache *c, const char *path, const char hex[65])
{
	struct stat st;
	char abs[PATH_MAX];
	if (!c->file)
		return 0;
	if (stat(path, &st) < 0)
		return ck_fail("%s: %s", path, strerror(errno));
	if (!S_ISREG(st.st_mode) || !realpath(path, abs) || strchr(abs, '\n'))
		return 0; /* never looked up either */
	entry now = {.size = (uint64_t)st.st_size, .dev = (uint64_t)st.st_dev,
		     .ino = (uint64_t)st.st_ino, .sec = st.st_mtim.tv_sec,
		     .nsec = st.st_mtim.tv_nsec, .path = abs, .changed = 1};
	memcpy(now.hex, hex, 65);
	c->dirty = 1;
	return put(c, &now);
}

static int cmp_entry(const void *a, const void *b)
{
	return strcmp(((const entry *)a)->path, ((const entry *)b)->path);
}

int ck_digest_cache_close(ck_digest_cache *c)
{
	int rc = 0;
	if (!c)
		return 0;
	if (c->file && c->dirty) {
		/* Other processes (make -j) may have saved the cache since it was
		 * loaded: under a lock, merge what this one learnt into the file's
		 * current entries, so that no hash is lost. */
		char lockpath[PATH_MAX];
		snprintf(lockpath, sizeof lockpath, "%s.lock", c->file);
		int lk = open(lockpath, O_RDWR | O_CREAT | O_CLOEXEC, 0666);
		if (lk >= 0)
			while (flock(lk, LOCK_EX) < 0 && errno == EINTR)
				;
		ck_digest_cache *disk = ck_calloc(1, sizeof *disk);
		if (!disk || load(disk, c->file) < 0)
			rc = -1;
		for (size_t i = 0; rc == 0 && i < c->n; i++)
			if (c->e[i].changed)
				rc = put(disk, &c->e[i]);
		if (rc == 0) {
			for (size_t i = 0; i < c->n; i++)
				free(c->e[i].path);
			free(c->e);
			c->e = disk->e;
			c->n = disk->n;
			disk->e = NULL;
			disk->n = 0;
		}
		ck_digest_cache_close(disk);
		qsort(c->e, c->n, sizeof *c->e, cmp_entry);
		ck_out *o = rc == 0 ? ck_out_open(c->file) : NULL;
		FILE *f = o ? fdopen(dup(ck_out_fd(o)), "w") : NULL;
		if (!f) {
			rc = o ? ck_fail("%s: %s", c->file, strerror(errno)) : -1;
		} else {
			for (size_t i = 0; i < c->n; i++) {
				const entry *e = &c->e[i];
				fprintf(f, "%s %" PRIu64 " %" PRIu64 " %" PRIu64 " %" PRId64 " %" PRId64 " %s\n",
					e->hex, e->size, e->dev, e->ino, e->sec, e->nsec, e->path);
			}
			if (fclose(f) != 0)
				rc = ck_fail("%s: write error", c->file);
		}
		if (o) {
			if (rc == 0)
				rc = ck_out_commit(o);
			else
				ck_out_abort(o);
		}
		if (lk >= 0)
			close(lk);
	}
	for (size_t i = 0; i < c->n; i++)
		free(c->e[i].path);
	free(c->e);
	free(c->file);
	free(c);
	return rc;
}
