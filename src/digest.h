/* digest.h — SHA-256 of files with a cache keyed by (device, inode, size,
 * mtime), so that Make's content-hash stamps do not re-read unchanged files. */
#ifndef CK_DIGEST_H
#define CK_DIGEST_H

#include <stdint.h>

typedef struct ck_digest_cache ck_digest_cache;

/* Load the cache file (a missing file is an empty cache); NULL path = no
 * cache. */
ck_digest_cache *ck_digest_cache_open(const char *path);
/* SHA-256 (64 hex chars + NUL) and size of a file, from the cache when the
 * file is unchanged. */
int ck_digest_file(ck_digest_cache *c, const char *path, char hex[65], uint64_t *size);
/* Record the SHA-256 of a file its writer computed while writing it, so
 * that nothing reads it back to hash it. */
int ck_digest_record(ck_digest_cache *c, const char *path, const char hex[65]);
/* Save the cache (atomically) if it changed, and free it. Entries hashed or
 * recorded here are merged, under a lock, into the file as it is now (other
 * processes may have saved theirs meanwhile). */
int ck_digest_cache_close(ck_digest_cache *c);

#endif
