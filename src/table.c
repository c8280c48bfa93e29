/* table.c — see table.h. */
#include "table.h"

#include <fcntl.h>
#include <snappy-c.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "crc32c.h"
#include "util.h"

#define TRAILER 5
enum { TYPE_NONE = 0, TYPE_SNAPPY = 1 };

static uint32_t get_le32(const unsigned char *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static void put_le32(unsigned char *p, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		p[i] = (unsigned char)(v >> (8 * i));
}

size_t ck_varint32_get(const unsigned char *p, size_t avail, uint32_t *v)
{
	uint32_t r = 0;
	for (size_t i = 0; i < 5 && i < avail; i++) {
		uint32_t b = p[i];
		if (i == 4 && b > 0x0f)
			return 0; /* more than 32 bits */
		r |= (b & 0x7f) << (7 * i);
		if (!(b & 0x80)) {
			*v = r;
			return i + 1;
		}
	}
	return 0;
}

size_t ck_varint64_get(const unsigned char *p, size_t avail, uint64_t *v)
{
	uint64_t r = 0;
	for (size_t i = 0; i < 10 && i < avail; i++) {
		uint64_t b = p[i];
		if (i == 9 && b > 1)
			return 0; /* more than 64 bits */
		r |= (b & 0x7f) << (7 * i);
		if (!(b & 0x80)) {
			*v = r;
			return i + 1;
		}
	}
	return 0;
}

size_t ck_varint64_put(unsigned char *p, uint64_t v)
{
	size_t n = 0;
	while (v >= 0x80) {
		p[n++] = (unsigned char)(v | 0x80);
		v >>= 7;
	}
	p[n++] = (unsigned char)v;
	return n;
}

/* A growable byte string (keys). */
typedef struct {
	unsigned char *p;
	size_t len, cap;
} bytes;

static int bytes_reserve(bytes *b, size_t n)
{
	if (n <= b->cap && b->p)
		return 0;
	size_t cap = b->cap ? b->cap : 64;
	while (cap < n)
		cap *= 2;
	unsigned char *q = ck_realloc(b->p, cap);
	if (!q)
		return -1;
	b->p = q;
	b->cap = cap;
	return 0;
}

static int bytes_set(bytes *b, const void *p, size_t n)
{
	if (bytes_reserve(b, n) < 0)
		return -1;
	if (n)
		memcpy(b->p, p, n);
	b->len = n;
	return 0;
}

static int bytes_append(bytes *b, const void *p, size_t n)
{
	if (bytes_reserve(b, b->len + n) < 0)
		return -1;
	if (n)
		memcpy(b->p + b->len, p, n);
	b->len += n;
	return 0;
}

/* Bytewise comparison, a proper prefix sorting first. */
static int key_cmp(const unsigned char *a, size_t alen, const unsigned char *b, size_t blen)
{
	size_t n = alen < blen ? alen : blen;
	int c = n ? memcmp(a, b, n) : 0;
	if (c)
		return c;
	return alen < blen ? -1 : alen > blen;
}

/* ======================================================================
 * Reading
 * ====================================================================== */

/* Iteration over the entries of one block. */
typedef struct {
	const unsigned char *data;
	size_t end;                  /* entries occupy data[0, end) */
	const unsigned char *restarts;
	uint32_t nrestarts, next_restart;
	size_t pos;
	char what[64]; /* "index block", "data block at offset N" */
	bytes key;     /* current key; holds the previous one between calls */
	int have_key;
	unsigned char *owned; /* decompressed contents, if any */
} block_iter;

struct ck_table {
	char *path;
	unsigned char *file;
	size_t size;
	block_iter index, data;
	int in_data;  /* data iterator holds a block */
	int done;
	bytes sep;    /* index key of the current data block */
	ck_table_stats st;
};

static void block_release(block_iter *b)
{
	free(b->owned);
	b->owned = NULL;
	b->data = NULL;
}

/* Load, verify and (if needed) decompress the block with handle (off, size)
 * into b, keeping b's key buffer (keys are ordered across blocks). */
static int block_load(ck_table *t, block_iter *b, uint64_t off, uint64_t size)
{
	uint64_t end;
	block_release(b);
	if (ck_add_u64(off, size, &end) < 0 || ck_add_u64(end, TRAILER, &end) < 0 ||
	    end > t->size - CK_TABLE_FOOTER)
		return ck_fail("%s: %s: block handle (offset %llu, size %llu) lies outside the file",
			       t->path, b->what, (unsigned long long)off, (unsigned long long)size);
	const unsigned char *raw = t->file + off;
	unsigned type = raw[size];
	uint32_t stored = ck_crc32c_unmask(get_le32(raw + size + 1));
	if (ck_crc32c(0, raw, (size_t)size + 1) != stored)
		return ck_fail("%s: %s: block checksum mismatch (corrupt index file)", t->path, b->what);
	if (type > TYPE_SNAPPY)
		return ck_fail("%s: %s: unknown block compression type %u", t->path, b->what, type);
	t->st.blocks_by_type[type]++;
	const unsigned char *contents = raw;
	size_t len = (size_t)size;
	if (type == TYPE_SNAPPY) {
		size_t ulen;
		if (snappy_uncompressed_length((const char *)raw, len, &ulen) != SNAPPY_OK)
			return ck_fail("%s: %s: bad snappy data", t->path, b->what);
		/* snappy expands at most ~22x; anything more is a lie. */
		if (ulen > CK_TABLE_MAX_BLOCK || ulen / 32 > len)
			return ck_fail("%s: %s: snappy block claims %zu bytes from %zu", t->path, b->what,
				       ulen, len);
		b->owned = ck_malloc(ulen);
		if (!b->owned)
			return -1;
		size_t got = ulen;
		if (snappy_uncompress((const char *)raw, len, (char *)b->owned, &got) != SNAPPY_OK ||
		    got != ulen)
			return ck_fail("%s: %s: bad snappy data", t->path, b->what);
		contents = b->owned;
		len = ulen;
	}
	if (len < 4)
		return ck_fail("%s: %s: block too short", t->path, b->what);
	uint32_t nr = get_le32(contents + len - 4);
	if (nr > (len - 4) / 4)
		return ck_fail("%s: %s: bad restart count %u", t->path, b->what, nr);
	b->data = contents;
	b->end = len - 4 - 4 * (size_t)nr;
	b->restarts = contents + b->end;
	b->nrestarts = nr;
	b->next_restart = b->end ? 0 : nr; /* an empty block has restart 0 and no entry */
	b->pos = 0;
	uint32_t prev = 0;
	for (uint32_t i = 0; i < nr; i++) {
		uint32_t r = get_le32(b->restarts + 4 * (size_t)i);
		if (b->end == 0 ? r != 0 : (r >= b->end || (i && r <= prev)))
			return ck_fail("%s: %s: bad restart offset %u", t->path, b->what, r);
		prev = r;
	}
	if (b->end && (nr == 0 || get_le32(b->restarts) != 0))
		return ck_fail("%s: %s: first entry is not a restart point", t->path, b->what);
	return 0;
}

/* Next entry of block b: 1 = key in b->key and value in *val, 0 = end. */
static int block_next(ck_table *t, block_iter *b, const unsigned char **val, size_t *vlen)
{
	if (b->pos >= b->end) {
		if (b->next_restart != b->nrestarts)
			return ck_fail("%s: %s: restart offset not at an entry", t->path, b->what);
		return 0;
	}
	const unsigned char *p = b->data + b->pos;
	size_t avail = b->end - b->pos, used = 0, n;
	uint32_t f[3]; /* shared, unshared, value length */
	for (int i = 0; i < 3; i++) {
		if (!(n = ck_varint32_get(p + used, avail - used, &f[i])))
			return ck_fail("%s: %s: truncated entry at %zu", t->path, b->what, b->pos);
		used += n;
	}
	uint32_t shared = f[0], unshared = f[1], vl = f[2];
	if ((uint64_t)unshared + vl > avail - used)
		return ck_fail("%s: %s: entry at %zu runs past the block", t->path, b->what, b->pos);
	int at_restart = b->next_restart < b->nrestarts &&
			 get_le32(b->restarts + 4 * (size_t)b->next_restart) == b->pos;
	if (b->next_restart < b->nrestarts &&
	    get_le32(b->restarts + 4 * (size_t)b->next_restart) < b->pos)
		return ck_fail("%s: %s: restart offset not at an entry", t->path, b->what);
	if (at_restart) {
		b->next_restart++;
		if (shared)
			return ck_fail("%s: %s: restart entry at %zu shares a prefix", t->path, b->what,
				       b->pos);
	}
	if (shared > b->key.len || (!b->have_key && shared))
		return ck_fail("%s: %s: entry at %zu shares more than the previous key", t->path,
			       b->what, b->pos);
	const unsigned char *suffix = p + used;
	/* The new key equals the old one on [0, shared): compare the rest. */
	if (b->have_key && key_cmp(b->key.p + shared, b->key.len - shared, suffix, unshared) >= 0)
		return ck_fail("%s: %s: keys out of order at %zu", t->path, b->what, b->pos);
	b->key.len = shared;
	if (bytes_append(&b->key, suffix, unshared) < 0)
		return -1;
	b->have_key = 1;
	*val = suffix + unshared;
	*vlen = vl;
	b->pos += used + unshared + vl;
	return 1;
}

static int decode_handle(const unsigned char *v, size_t vlen, uint64_t *off, uint64_t *size)
{
	size_t n = ck_varint64_get(v, vlen, off);
	return n && ck_varint64_get(v + n, vlen - n, size) ? 0 : -1;
}

int ck_table_probe(const char *path)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	unsigned char m[8];
	off_t end = lseek(fd, 0, SEEK_END);
	int rc = end >= CK_TABLE_FOOTER && pread(fd, m, 8, end - 8) == 8;
	close(fd);
	if (!rc)
		return 0;
	uint64_t magic = 0;
	for (int i = 0; i < 8; i++)
		magic |= (uint64_t)m[i] << (8 * i);
	return magic == CK_TABLE_MAGIC;
}

ck_table *ck_table_open(const char *path)
{
	ck_table *t = ck_calloc(1, sizeof *t);
	if (!t)
		return NULL;
	snprintf(t->index.what, sizeof t->index.what, "index block");
	t->path = ck_strdup(path);
	if (!t->path)
		goto fail;
	char *data;
	if (ck_read_file(path, CK_TABLE_MAX_FILE, &data, &t->size) < 0)
		goto fail;
	t->file = (unsigned char *)data;
	if (t->size < CK_TABLE_FOOTER) {
		ck_fail("%s: not a checkpoint index (only %zu bytes)", path, t->size);
		goto fail;
	}
	const unsigned char *f = t->file + t->size - CK_TABLE_FOOTER;
	uint64_t magic = 0;
	for (int i = 0; i < 8; i++)
		magic |= (uint64_t)f[40 + i] << (8 * i);
	if (magic != CK_TABLE_MAGIC) {
		ck_fail("%s: not a checkpoint index (bad table magic)", path);
		goto fail;
	}
	uint64_t moff, msize, ioff, isize;
	size_t n1 = ck_varint64_get(f, 40, &moff), n2 = 0, n3 = 0, n4 = 0;
	if (n1)
		n2 = ck_varint64_get(f + n1, 40 - n1, &msize);
	if (n2)
		n3 = ck_varint64_get(f + n1 + n2, 40 - n1 - n2, &ioff);
	if (n3)
		n4 = ck_varint64_get(f + n1 + n2 + n3, 40 - n1 - n2 - n3, &isize);
	if (!n4) {
		ck_fail("%s: bad table footer", path);
		goto fail;
	}
	/* The metaindex block is empty for bundles; load it to verify it. */
	block_iter meta = {0};
	snprintf(meta.what, sizeof meta.what, "metaindex block");
	int rc = block_load(t, &meta, moff, msize);
	block_release(&meta);
	if (rc < 0 || block_load(t, &t->index, ioff, isize) < 0)
		goto fail;
	return t;
fail:
	ck_table_close(t);
	return NULL;
}

void ck_table_close(ck_table *t)
{
	if (!t)
		return;
	block_release(&t->index);
	block_release(&t->data);
	free(t->index.key.p);
	free(t->data.key.p);
	free(t->sep.p);
	free(t->file);
	free(t->path);
	free(t);
}

int ck_table_next(ck_table *t, ck_table_kv *kv)
{
	while (!t->done) {
		const unsigned char *v;
		size_t vlen;
		if (t->in_data) {
			int r = block_next(t, &t->data, &v, &vlen);
			if (r < 0)
				return -1;
			if (r > 0) {
				if (key_cmp(t->data.key.p, t->data.key.len, t->sep.p, t->sep.len) > 0)
					return ck_fail("%s: %s: key beyond its index entry", t->path,
						       t->data.what);
				kv->key = t->data.key.p;
				kv->klen = t->data.key.len;
				kv->val = v;
				kv->vlen = vlen;
				return 1;
			}
			t->in_data = 0;
			block_release(&t->data);
		}
		int r = block_next(t, &t->index, &v, &vlen);
		if (r < 0)
			return -1;
		if (r == 0) {
			t->done = 1;
			break;
		}
		uint64_t off, size;
		if (decode_handle(v, vlen, &off, &size) < 0)
			return ck_fail("%s: index block: bad block handle", t->path);
		if (bytes_set(&t->sep, t->index.key.p, t->index.key.len) < 0)
			return -1;
		snprintf(t->data.what, sizeof t->data.what, "data block at offset %llu",
			 (unsigned long long)off);
		if (block_load(t, &t->data, off, size) < 0)
			return -1;
		t->st.data_blocks++;
		t->in_data = 1;
	}
	return 0;
}

ck_table_stats ck_table_get_stats(const ck_table *t) { return t->st; }

/* ======================================================================
 * Writing
 * ====================================================================== */

typedef struct {
	bytes buf;
	uint32_t *restarts;
	size_t nrestarts, rcap;
	int counter, interval;
	size_t nentries;
	bytes last;
} block_builder;

struct ck_table_writer {
	int fd;
	char *label;
	ck_table_opts o;
	uint64_t offset;
	block_builder data, index;
	bytes last;
	int have_last;
	int pending; /* a flushed data block waits for its index entry */
	uint64_t pend_off, pend_size;
	bytes sep;
	char *cbuf;
	size_t ccap;
	int failed;
};

static void bb_reset(block_builder *b)
{
	b->buf.len = 0;
	b->nrestarts = 0;
	b->counter = 0;
	b->nentries = 0;
	b->last.len = 0;
}

static void bb_free(block_builder *b)
{
	free(b->buf.p);
	free(b->restarts);
	free(b->last.p);
}

static int bb_push_restart(block_builder *b, uint32_t off)
{
	if (b->nrestarts == b->rcap) {
		size_t cap = b->rcap ? 2 * b->rcap : 64;
		uint32_t *r = ck_realloc(b->restarts, cap * sizeof *r);
		if (!r)
			return -1;
		b->restarts = r;
		b->rcap = cap;
	}
	b->restarts[b->nrestarts++] = off;
	return 0;
}

static int bb_add(block_builder *b, const unsigned char *k, size_t klen, const void *v, size_t vlen)
{
	if ((uint64_t)b->buf.len + klen + vlen + 15 > UINT32_MAX)
		return ck_fail("table entry too large");
	size_t shared = 0;
	if (b->nentries == 0 || b->counter >= b->interval) {
		if (bb_push_restart(b, (uint32_t)b->buf.len) < 0)
			return -1;
		b->counter = 0;
	} else {
		size_t m = b->last.len < klen ? b->last.len : klen;
		while (shared < m && b->last.p[shared] == k[shared])
			shared++;
	}
	unsigned char hdr[15];
	size_t h = ck_varint64_put(hdr, shared);
	h += ck_varint64_put(hdr + h, klen - shared);
	h += ck_varint64_put(hdr + h, vlen);
	if (bytes_append(&b->buf, hdr, h) < 0 || bytes_append(&b->buf, k + shared, klen - shared) < 0 ||
	    bytes_append(&b->buf, v, vlen) < 0 || bytes_set(&b->last, k, klen) < 0)
		return -1;
	b->counter++;
	b->nentries++;
	return 0;
}

static size_t bb_estimate(const block_builder *b)
{
	return b->buf.len + 4 * b->nrestarts + 4;
}

/* Append the restart array; the block contents are then b->buf. */
static int bb_finish(block_builder *b)
{
	if (b->nrestarts == 0 && bb_push_restart(b, 0) < 0)
		return -1;
	unsigned char le[4];
	for (size_t i = 0; i < b->nrestarts; i++) {
		put_le32(le, b->restarts[i]);
		if (bytes_append(&b->buf, le, 4) < 0)
			return -1;
	}
	put_le32(le, (uint32_t)b->nrestarts);
	return bytes_append(&b->buf, le, 4);
}

static int write_block(ck_table_writer *w, block_builder *b, uint64_t *off, uint64_t *size)
{
	if (bb_finish(b) < 0)
		return -1;
	const char *out = (const char *)b->buf.p;
	size_t len = b->buf.len;
	unsigned char type = TYPE_NONE;
	if (w->o.snappy) {
		size_t need = snappy_max_compressed_length(len);
		if (need > w->ccap) {
			char *c = ck_realloc(w->cbuf, need);
			if (!c)
				return -1;
			w->cbuf = c;
			w->ccap = need;
		}
		size_t clen = need;
		if (snappy_compress(out, len, w->cbuf, &clen) == SNAPPY_OK && clen < len - len / 8) {
			out = w->cbuf;
			len = clen;
			type = TYPE_SNAPPY;
		}
	}
	unsigned char trailer[TRAILER];
	trailer[0] = type;
	put_le32(trailer + 1, ck_crc32c_mask(ck_crc32c(ck_crc32c(0, out, len), &type, 1)));
	if (ck_write_full(w->fd, out, len, w->label) < 0 ||
	    ck_write_full(w->fd, trailer, TRAILER, w->label) < 0)
		return -1;
	*off = w->offset;
	*size = len;
	w->offset += len + TRAILER;
	bb_reset(b);
	return 0;
}

ck_table_writer *ck_table_writer_new(int fd, const char *label, const ck_table_opts *opts)
{
	ck_table_writer *w = ck_calloc(1, sizeof *w);
	if (!w)
		return NULL;
	w->fd = fd;
	if (opts)
		w->o = *opts;
	if (!w->o.block_size)
		w->o.block_size = 256 * 1024;
	if (w->o.restart_interval <= 0)
		w->o.restart_interval = 16;
	w->data.interval = w->o.restart_interval;
	w->index.interval = 1; /* as LevelDB: every index key whole */
	w->label = ck_strdup(label);
	if (!w->label) {
		free(w);
		return NULL;
	}
	return w;
}

/* Shortest key k with start <= k < limit (LevelDB's FindShortestSeparator). */
static int shortest_separator(bytes *out, const bytes *start, const unsigned char *limit,
			      size_t llen)
{
	if (bytes_set(out, start->p, start->len) < 0)
		return -1;
	size_t m = start->len < llen ? start->len : llen, i = 0;
	while (i < m && start->p[i] == limit[i])
		i++;
	if (i < m && start->p[i] < 0xff && start->p[i] + 1 < limit[i]) {
		out->p[i]++;
		out->len = i + 1;
	}
	return 0;
}

/* Short key >= key (LevelDB's FindShortSuccessor). */
static int short_successor(bytes *out, const bytes *key)
{
	if (bytes_set(out, key->p, key->len) < 0)
		return -1;
	for (size_t i = 0; i < out->len; i++)
		if (out->p[i] != 0xff) {
			out->p[i]++;
			out->len = i + 1;
			break;
		}
	return 0;
}

static int add_index_entry(ck_table_writer *w)
{
	unsigned char h[20];
	size_t n = ck_varint64_put(h, w->pend_off);
	n += ck_varint64_put(h + n, w->pend_size);
	w->pending = 0;
	return bb_add(&w->index, w->sep.p, w->sep.len, h, n);
}

int ck_table_writer_add(ck_table_writer *w, const void *key, size_t klen, const void *val,
			size_t vlen)
{
	const unsigned char *k = key;
	if (w->failed)
		return ck_fail("%s: table writer failed earlier", w->label);
	if (w->have_last && key_cmp(w->last.p, w->last.len, k, klen) >= 0) {
		w->failed = 1;
		return ck_fail("%s: table keys added out of order", w->label);
	}
	int rc = 0;
	if (w->pending)
		rc = shortest_separator(&w->sep, &w->last, k, klen) < 0 || add_index_entry(w) < 0 ? -1 : 0;
	if (rc == 0)
		rc = bb_add(&w->data, k, klen, val, vlen);
	if (rc == 0)
		rc = bytes_set(&w->last, k, klen);
	w->have_last = 1;
	if (rc == 0 && bb_estimate(&w->data) >= w->o.block_size) {
		rc = write_block(w, &w->data, &w->pend_off, &w->pend_size);
		w->pending = 1;
	}
	if (rc < 0)
		w->failed = 1;
	return rc;
}

int ck_table_writer_finish(ck_table_writer *w)
{
	if (w->failed)
		return ck_fail("%s: table writer failed earlier", w->label);
	w->failed = 1; /* finish runs once */
	if (w->data.nentries) {
		if (write_block(w, &w->data, &w->pend_off, &w->pend_size) < 0)
			return -1;
		w->pending = 1;
	}
	if (w->pending && (short_successor(&w->sep, &w->last) < 0 || add_index_entry(w) < 0))
		return -1;
	uint64_t moff, msize, ioff, isize;
	block_builder meta = {.interval = 1};
	int rc = write_block(w, &meta, &moff, &msize);
	bb_free(&meta);
	if (rc < 0 || write_block(w, &w->index, &ioff, &isize) < 0)
		return -1;
	unsigned char footer[CK_TABLE_FOOTER] = {0};
	size_t n = ck_varint64_put(footer, moff);
	n += ck_varint64_put(footer + n, msize);
	n += ck_varint64_put(footer + n, ioff);
	ck_varint64_put(footer + n, isize);
	for (int i = 0; i < 8; i++)
		footer[40 + i] = (unsigned char)(CK_TABLE_MAGIC >> (8 * i));
	return ck_write_full(w->fd, footer, sizeof footer, w->label);
}

void ck_table_writer_free(ck_table_writer *w)
{
	if (!w)
		return;
	bb_free(&w->data);
	bb_free(&w->index);
	free(w->last.p);
	free(w->sep.p);
	free(w->cbuf);
	free(w->label);
	free(w);
}
