/* torchsave.c — see torchsave.h. */
#include "torchsave.h"

#include <stdlib.h>
#include <string.h>

#include "crc32.h"
#include "util.h"

/* ---- pickle protocol 2 --------------------------------------------------- */

enum {
	OP_MARK = '(',
	OP_STOP = '.',
	OP_BININT = 'J',
	OP_BININT1 = 'K',
	OP_BININT2 = 'M',
	OP_BINPERSID = 'Q',
	OP_REDUCE = 'R',
	OP_BINUNICODE = 'X',
	OP_GLOBAL = 'c',
	OP_BINGET = 'h',
	OP_LONG_BINGET = 'j',
	OP_BINPUT = 'q',
	OP_LONG_BINPUT = 'r',
	OP_SETITEM = 's',
	OP_TUPLE = 't',
	OP_SETITEMS = 'u',
	OP_EMPTY_TUPLE = ')',
	OP_PROTO = 0x80,
	OP_TUPLE1 = 0x85,
	OP_TUPLE2 = 0x86,
	OP_TUPLE3 = 0x87,
	OP_NEWFALSE = 0x89,
	OP_LONG1 = 0x8a,
};

#define NO_MEMO UINT32_MAX
#define BATCHSIZE 1000 /* CPython's pickler writes SETITEMS in groups of this many */

/* A pickle being built in memory, with the memo counter. */
typedef struct {
	ck_buf out;
	uint32_t memo; /* next memo index */
} pickle;

static void pk_op(pickle *pk, unsigned char op) { ck_buf_put(&pk->out, &op, 1); }

static void pk_u32(pickle *pk, unsigned char op, uint32_t v)
{
	unsigned char b[5] = {op, (unsigned char)v, (unsigned char)(v >> 8),
			      (unsigned char)(v >> 16), (unsigned char)(v >> 24)};
	ck_buf_put(&pk->out, b, 5);
}

/* Memoize the object just built; returns its memo index. */
static uint32_t pk_put(pickle *pk)
{
	uint32_t i = pk->memo++;
	if (i < 256) {
		unsigned char b[2] = {OP_BINPUT, (unsigned char)i};
		ck_buf_put(&pk->out, b, 2);
	} else {
		pk_u32(pk, OP_LONG_BINPUT, i);
	}
	return i;
}

static void pk_get(pickle *pk, uint32_t i)
{
	if (i < 256) {
		unsigned char b[2] = {OP_BINGET, (unsigned char)i};
		ck_buf_put(&pk->out, b, 2);
	} else {
		pk_u32(pk, OP_LONG_BINGET, i);
	}
}

/* A non-negative int: BININT1/BININT2/BININT up to 2^31-1, else LONG1 with
 * the minimal two's-complement length (bit length / 8 + 1 bytes). */
static void pk_int(pickle *pk, uint64_t v)
{
	if (v < 256) {
		unsigned char b[2] = {OP_BININT1, (unsigned char)v};
		ck_buf_put(&pk->out, b, 2);
	} else if (v < 65536) {
		unsigned char b[3] = {OP_BININT2, (unsigned char)v, (unsigned char)(v >> 8)};
		ck_buf_put(&pk->out, b, 3);
	} else if (v < 0x80000000u) {
		pk_u32(pk, OP_BININT, (uint32_t)v);
	} else {
		int bits = 64 - __builtin_clzll(v);
		unsigned char b[11] = {OP_LONG1, (unsigned char)(bits / 8 + 1)};
		for (int i = 0; i < b[1]; i++)
			b[2 + i] = i < 8 ? (unsigned char)(v >> (8 * i)) : 0;
		ck_buf_put(&pk->out, b, 2 + (size_t)b[1]);
	}
}

/* A new str object, memoized (every str is). */
static uint32_t pk_str(pickle *pk, const char *s)
{
	size_t n = strlen(s);
	pk_u32(pk, OP_BINUNICODE, (uint32_t)n);
	ck_buf_put(&pk->out, s, n);
	return pk_put(pk);
}

/* A str literal that CPython reuses (one object): memoized the first time,
 * fetched from the memo after. */
static void pk_shared_str(pickle *pk, const char *s, uint32_t *slot)
{
	if (*slot == NO_MEMO)
		*slot = pk_str(pk, s);
	else
		pk_get(pk, *slot);
}

static void pk_global(pickle *pk, const char *module, const char *name, uint32_t *slot)
{
	if (*slot != NO_MEMO) {
		pk_get(pk, *slot);
		return;
	}
	pk_op(pk, OP_GLOBAL);
	ck_buf_put(&pk->out, module, strlen(module));
	ck_buf_put(&pk->out, "\n", 1);
	ck_buf_put(&pk->out, name, strlen(name));
	ck_buf_put(&pk->out, "\n", 1);
	*slot = pk_put(pk);
}

/* A fresh tuple of ints (torch.Size / stride): () is a singleton and never
 * memoized; short tuples use TUPLE1..3, longer ones MARK ... TUPLE. */
static void pk_int_tuple(pickle *pk, int n, const uint64_t *v)
{
	static const unsigned char short_op[4] = {0, OP_TUPLE1, OP_TUPLE2, OP_TUPLE3};
	if (n == 0) {
		pk_op(pk, OP_EMPTY_TUPLE);
		return;
	}
	if (n > 3)
		pk_op(pk, OP_MARK);
	for (int i = 0; i < n; i++)
		pk_int(pk, v[i]);
	pk_op(pk, n > 3 ? OP_TUPLE : short_op[n]);
	pk_put(pk);
}

/* ---- the writer ---------------------------------------------------------- */

typedef struct {
	ck_dtype dtype;
	uint64_t numel;
	long key;         /* position in first-use order, -1 until used */
	uint32_t key_str; /* memo index of its key string */
	int written;
} storage;

typedef struct {
	char *name;
	long storage;
	int ndim;
	int64_t shape[CK_MAX_DIMS];
} tensor;

/* A central directory entry. */
typedef struct {
	char *name;
	uint64_t offset, size;
	uint32_t crc;
} record;

#define STAGE_SIZE (64u << 10)

struct ts_writer {
	char *archive;
	storage *st;
	size_t nst, capst;
	tensor *t;
	size_t nt, capt;
	record *rec;
	size_t nrec, caprec;
	int fd;
	char *label;
	int begun, ended;
	uint64_t pos; /* bytes of the file produced so far */
	unsigned char *stage;
	size_t staged;
	/* the record being written */
	int in_record;
	uint64_t left;
	uint32_t crc;
	int zip64;
	long cur_storage;
};

static const char *storage_class(ck_dtype t)
{
	switch (t) {
	case CK_F64: return "DoubleStorage";
	case CK_F32: return "FloatStorage";
	case CK_F16: return "HalfStorage";
	case CK_BF16: return "BFloat16Storage";
	case CK_I64: return "LongStorage";
	case CK_I32: return "IntStorage";
	case CK_I16: return "ShortStorage";
	case CK_I8: return "CharStorage";
	case CK_U8: return "ByteStorage";
	case CK_BOOL: return "BoolStorage";
	default: return NULL;
	}
}

ts_writer *ts_writer_new(const char *archive)
{
	ts_writer *w = ck_calloc(1, sizeof *w);
	if (!w)
		return NULL;
	w->fd = -1;
	w->cur_storage = -1;
	w->archive = ck_strdup(archive);
	if (!w->archive) {
		free(w);
		return NULL;
	}
	return w;
}

void ts_writer_free(ts_writer *w)
{
	if (!w)
		return;
	for (size_t i = 0; i < w->nt; i++)
		free(w->t[i].name);
	for (size_t i = 0; i < w->nrec; i++)
		free(w->rec[i].name);
	free(w->t);
	free(w->st);
	free(w->rec);
	free(w->archive);
	free(w->label);
	free(w->stage);
	free(w);
}

/* Grow *arr (of *cap elements of size sz) to hold n + 1. */
static int grow(void *arr, size_t *cap, size_t n, size_t sz)
{
	if (n < *cap)
		return 0;
	size_t c = *cap ? 2 * *cap : 16;
	void *p = ck_realloc(*(void **)arr, c * sz);
	if (!p)
		return -1;
	*(void **)arr = p;
	*cap = c;
	return 0;
}

long ts_writer_storage(ts_writer *w, ck_dtype dtype, uint64_t numel)
{
	if (!storage_class(dtype))
		return ck_fail("dtype %s has no PyTorch storage type", ck_dtype_name(dtype));
	uint64_t nbytes;
	if (ck_mul_u64(numel, ck_dtype_size(dtype), &nbytes) < 0 || nbytes > INT64_MAX)
		return ck_fail("storage of %llu elements is too large", (unsigned long long)numel);
	if (w->begun)
		return ck_fail("torch writer: storage declared after begin");
	if (grow(&w->st, &w->capst, w->nst, sizeof *w->st) < 0)
		return -1;
	w->st[w->nst] = (storage){.dtype = dtype, .numel = numel, .key = -1, .key_str = NO_MEMO};
	return (long)w->nst++;
}

int ts_writer_tensor(ts_writer *w, const char *name, long sid, int ndim, const int64_t *shape)
{
	uint64_t numel;
	if (w->begun)
		return ck_fail("torch writer: tensor %s declared after begin", name);
	if (sid < 0 || (size_t)sid >= w->nst)
		return ck_fail("tensor %s: no such storage", name);
	if (ndim < 0 || ndim > CK_MAX_DIMS || ck_shape_numel(ndim, shape, &numel) < 0 ||
	    numel != w->st[sid].numel)
		return ck_fail("tensor %s: shape does not match its storage", name);
	if (grow(&w->t, &w->capt, w->nt, sizeof *w->t) < 0)
		return -1;
	tensor *t = &w->t[w->nt];
	memset(t, 0, sizeof *t);
	t->name = ck_strdup(name);
	if (!t->name)
		return -1;
	t->storage = sid;
	t->ndim = ndim;
	if (ndim)
		memcpy(t->shape, shape, (size_t)ndim * sizeof *shape);
	w->nt++;
	return 0;
}

/* ---- output -------------------------------------------------------------- */

static int flush_stage(ts_writer *w)
{
	if (w->staged && ck_write_full(w->fd, w->stage, w->staged, w->label) < 0)
		return -1;
	w->staged = 0;
	return 0;
}

static int out(ts_writer *w, const void *buf, size_t n)
{
	w->pos += n;
	if (n >= STAGE_SIZE / 2) {
		if (flush_stage(w) < 0)
			return -1;
		return ck_write_full(w->fd, buf, n, w->label);
	}
	if (w->staged + n > STAGE_SIZE && flush_stage(w) < 0)
		return -1;
	memcpy(w->stage + w->staged, buf, n);
	w->staged += n;
	return 0;
}

/* Store v in little-endian order in 1..8 bytes. */
static unsigned char *le(unsigned char *p, uint64_t v, int bytes)
{
	for (int i = 0; i < bytes; i++)
		p[i] = (unsigned char)(v >> (8 * i));
	return p + bytes;
}

#define U32_MAX 0xffffffffu
#define ALIGN 64
/* Names are UTF-8; the sizes and CRC follow the data in a descriptor, except
 * for empty records, which miniz writes without one. */
#define FLAGS_UTF8 0x0800
#define FLAGS_DESCRIPTOR 0x0008
#define FLAGS(size) (FLAGS_UTF8 | ((size) ? FLAGS_DESCRIPTOR : 0))

/* Local header of a record of size bytes at the current position. */
static int record_begin(ts_writer *w, const char *name, uint64_t size)
{
	if (grow(&w->rec, &w->caprec, w->nrec, sizeof *w->rec) < 0)
		return -1;
	size_t alen = strlen(w->archive), nlen = strlen(name);
	char *full = ck_malloc(alen + 1 + nlen + 1);
	if (!full)
		return -1;
	memcpy(full, w->archive, alen);
	full[alen] = '/';
	memcpy(full + alen + 1, name, nlen + 1);
	size_t flen = alen + 1 + nlen;
	if (flen > 0xffff) {
		free(full);
		return ck_fail("%s: record name %s too long", w->label, name);
	}
	record *r = &w->rec[w->nrec++];
	*r = (record){.name = full, .offset = w->pos, .size = size};

	unsigned char h[30 + 20 + 8 + 4 + ALIGN], *p = h;
	int big_size = size >= U32_MAX, big_off = w->pos >= U32_MAX;
	size_t z64 = big_size || big_off ? 4 + (big_size ? 16 : 0) + (big_off ? 8 : 0) : 0;
	uint64_t data_at = w->pos + 30 + flen + z64 + 4;
	size_t pad = (size_t)((ALIGN - data_at % ALIGN) % ALIGN);
	p = le(p, 0x04034b50, 4);
	p = le(p, 0, 2);     /* version needed (as PyTorch's miniz writes it) */
	p = le(p, FLAGS(size), 2);
	p = le(p, 0, 2);     /* stored */
	p = le(p, 0, 4);     /* time, date */
	p = le(p, 0, 4);     /* crc, sizes: in the data descriptor (or 0) */
	p = le(p, 0, 8);
	p = le(p, flen, 2);
	p = le(p, z64 + 4 + pad, 2);
	if (out(w, h, (size_t)(p - h)) < 0 || out(w, full, flen) < 0)
		return -1;
	p = h;
	if (z64) {
		/* as miniz writes it: the compressed size is not known yet (0) */
		p = le(p, 0x0001, 2);
		p = le(p, z64 - 4, 2);
		if (big_size) {
			p = le(p, size, 8);
			p = le(p, 0, 8);
		}
		if (big_off)
			p = le(p, r->offset, 8);
	}
	*p++ = 'F';
	*p++ = 'B';
	p = le(p, pad, 2);
	memset(p, 'Z', pad);
	p += pad;
	if (out(w, h, (size_t)(p - h)) < 0)
		return -1;
	w->in_record = 1;
	w->left = size;
	w->crc = 0;
	w->zip64 = z64 != 0;
	return 0;
}

static int record_data(ts_writer *w, const void *buf, size_t n)
{
	if (!w->in_record || n > w->left)
		return ck_fail("%s: more data than the record %s declares", w->label,
			       w->in_record ? w->rec[w->nrec - 1].name : "(none)");
	w->crc = ck_crc32(w->crc, buf, n);
	w->left -= n;
	return out(w, buf, n);
}

static int record_end(ts_writer *w)
{
	record *r = &w->rec[w->nrec - 1];
	if (w->left)
		return ck_fail("%s: record %s is %llu bytes short", w->label, r->name,
			       (unsigned long long)w->left);
	r->crc = w->crc;
	w->in_record = 0;
	if (r->size == 0)
		return 0;
	unsigned char d[24], *p = d;
	p = le(p, 0x08074b50, 4);
	p = le(p, r->crc, 4);
	int sz = w->zip64 ? 8 : 4;
	p = le(p, r->size, sz);
	p = le(p, r->size, sz);
	return out(w, d, (size_t)(p - d));
}

static int small_record(ts_writer *w, const char *name, const void *data, size_t n)
{
	if (record_begin(w, name, n) < 0 || record_data(w, data, n) < 0)
		return -1;
	return record_end(w);
}

/* ---- data.pkl ------------------------------------------------------------ */

/* The OrderedDict of tensors, as CPython 3 pickles what torch 1.13's
 * torch.save hands it. Assigns the storage keys. */
static int build_pickle(ts_writer *w, pickle *pk)
{
	uint32_t od = NO_MEMO, rebuild = NO_MEMO, s_storage = NO_MEMO, s_cpu = NO_MEMO;
	uint32_t cls[CK_DTYPE_COUNT];
	for (int i = 0; i < CK_DTYPE_COUNT; i++)
		cls[i] = NO_MEMO;
	long next_key = 0;
	char keybuf[32];

	ck_buf_put(&pk->out, (unsigned char[]){OP_PROTO, 2}, 2);
	pk_global(pk, "collections", "OrderedDict", &od);
	pk_op(pk, OP_EMPTY_TUPLE);
	pk_op(pk, OP_REDUCE);
	pk_put(pk);
	/* items: MARK ... SETITEMS per 1000; a last group of one is SETITEM */
	for (size_t i = 0; i < w->nt; i++) {
		size_t in_group = i % BATCHSIZE;
		size_t group_len = w->nt - (i - in_group) < BATCHSIZE ? w->nt - (i - in_group) : BATCHSIZE;
		if (in_group == 0 && group_len > 1)
			pk_op(pk, OP_MARK);

		const tensor *t = &w->t[i];
		storage *s = &w->st[t->storage];
		pk_str(pk, t->name);
		pk_global(pk, "torch._utils", "_rebuild_tensor_v2", &rebuild);
		pk_op(pk, OP_MARK);
		/* the storage: persistent id ('storage', class, key, 'cpu', numel) */
		pk_op(pk, OP_MARK);
		pk_shared_str(pk, "storage", &s_storage);
		pk_global(pk, "torch", storage_class(s->dtype), &cls[s->dtype]);
		if (s->key < 0) {
			s->key = next_key++;
			snprintf(keybuf, sizeof keybuf, "%ld", s->key);
			s->key_str = pk_str(pk, keybuf);
		} else {
			pk_get(pk, s->key_str);
		}
		pk_shared_str(pk, "cpu", &s_cpu);
		pk_int(pk, s->numel);
		pk_op(pk, OP_TUPLE);
		pk_put(pk);
		pk_op(pk, OP_BINPERSID);
		pk_int(pk, 0); /* storage_offset */
		uint64_t size[CK_MAX_DIMS], stride[CK_MAX_DIMS];
		uint64_t step = 1;
		for (int d = t->ndim - 1; d >= 0; d--) {
			size[d] = (uint64_t)t->shape[d];
			stride[d] = step; /* contiguous; a 0 dimension counts as 1 */
			step *= t->shape[d] ? (uint64_t)t->shape[d] : 1;
		}
		pk_int_tuple(pk, t->ndim, size);
		pk_int_tuple(pk, t->ndim, stride);
		pk_op(pk, OP_NEWFALSE); /* requires_grad */
		pk_get(pk, od);         /* backward_hooks = OrderedDict() */
		pk_op(pk, OP_EMPTY_TUPLE);
		pk_op(pk, OP_REDUCE);
		pk_put(pk);
		pk_op(pk, OP_TUPLE);
		pk_put(pk);
		pk_op(pk, OP_REDUCE);
		pk_put(pk);

		if (in_group == group_len - 1)
			pk_op(pk, group_len > 1 ? OP_SETITEMS : OP_SETITEM);
	}
	pk_op(pk, OP_STOP);
	if (pk->out.failed)
		return ck_fail("%s: out of memory building data.pkl", w->label);
	for (size_t i = 0; i < w->nst; i++)
		if (w->st[i].key < 0)
			return ck_fail("%s: storage %zu is not used by any tensor", w->label, i);
	return 0;
}

static int cmp_name(const void *a, const void *b)
{
	return strcmp((*(const tensor *const *)a)->name, (*(const tensor *const *)b)->name);
}

int ts_writer_begin(ts_writer *w, int fd, const char *label)
{
	if (w->begun)
		return ck_fail("%s: torch writer begun twice", label);
	w->begun = 1;
	w->fd = fd;
	w->label = ck_strdup(label);
	w->stage = ck_malloc(STAGE_SIZE);
	if (!w->label || !w->stage)
		return -1;
	if (w->nt > 1) {
		const tensor **byname = ck_calloc(w->nt, sizeof *byname);
		if (!byname)
			return -1;
		for (size_t i = 0; i < w->nt; i++)
			byname[i] = &w->t[i];
		qsort(byname, w->nt, sizeof *byname, cmp_name);
		for (size_t i = 1; i < w->nt; i++)
			if (strcmp(byname[i - 1]->name, byname[i]->name) == 0) {
				ck_fail("%s: tensor %s: name occurs twice", label, byname[i]->name);
				free(byname);
				return -1;
			}
		free(byname);
	}
	pickle pk = {0};
	int rc = build_pickle(w, &pk);
	if (rc == 0)
		rc = small_record(w, "data.pkl", pk.out.p, pk.out.len);
	free(pk.out.p);
	if (rc < 0 || small_record(w, "byteorder", "little", 6) < 0)
		return -1;
	return flush_stage(w);
}

int ts_writer_storage_begin(ts_writer *w, long sid)
{
	if (!w->begun || w->ended || w->in_record)
		return ck_fail("%s: storage record started out of order", w->label ? w->label : "torch writer");
	if (sid < 0 || (size_t)sid >= w->nst || w->st[sid].written)
		return ck_fail("%s: storage %ld is unknown or already written", w->label, sid);
	storage *s = &w->st[sid];
	char name[40];
	snprintf(name, sizeof name, "data/%ld", s->key);
	s->written = 1;
	uint64_t size = s->numel * ck_dtype_size(s->dtype); /* checked in ts_writer_storage */
	if (record_begin(w, name, size) < 0)
		return -1;
	if (size == 0)
		return record_end(w);
	w->cur_storage = sid;
	return 0;
}

int ts_writer_write(ts_writer *w, const void *buf, size_t n)
{
	if (w->cur_storage < 0)
		return ck_fail("%s: data outside a storage record", w->label ? w->label : "torch writer");
	if (record_data(w, buf, n) < 0)
		return -1;
	if (w->left == 0) {
		w->cur_storage = -1;
		return record_end(w);
	}
	return 0;
}

int ts_writer_end(ts_writer *w)
{
	if (!w->begun || w->ended)
		return ck_fail("%s: torch writer ended out of order", w->label ? w->label : "torch writer");
	if (w->in_record)
		return ck_fail("%s: record %s is %llu bytes short", w->label, w->rec[w->nrec - 1].name,
			       (unsigned long long)w->left);
	for (size_t i = 0; i < w->nst; i++)
		if (!w->st[i].written)
			return ck_fail("%s: storage data/%ld was never written", w->label, w->st[i].key);
	if (small_record(w, "version", "3\n", 2) < 0)
		return -1;

	uint64_t cd_start = w->pos;
	for (size_t i = 0; i < w->nrec; i++) {
		const record *r = &w->rec[i];
		int big_size = r->size >= U32_MAX, big_off = r->offset >= U32_MAX;
		size_t z64 = big_size || big_off ? 4 + (big_size ? 16 : 0) + (big_off ? 8 : 0) : 0;
		size_t flen = strlen(r->name);
		unsigned char h[46], x[28], *p = h;
		p = le(p, 0x02014b50, 4);
		p = le(p, 0, 2); /* version made by */
		p = le(p, 0, 2); /* version needed */
		p = le(p, FLAGS(r->size), 2);
		p = le(p, 0, 2); /* stored */
		p = le(p, 0, 4); /* time, date */
		p = le(p, r->crc, 4);
		p = le(p, big_size ? U32_MAX : r->size, 4);
		p = le(p, big_size ? U32_MAX : r->size, 4);
		p = le(p, flen, 2);
		p = le(p, z64, 2);
		p = le(p, 0, 2); /* comment */
		p = le(p, 0, 2); /* disk */
		p = le(p, 0, 2); /* internal attributes */
		p = le(p, 0, 4); /* external attributes */
		p = le(p, big_off ? U32_MAX : r->offset, 4);
		if (out(w, h, sizeof h) < 0 || out(w, r->name, flen) < 0)
			return -1;
		if (z64) {
			p = x;
			p = le(p, 0x0001, 2);
			p = le(p, z64 - 4, 2);
			if (big_size) {
				p = le(p, r->size, 8);
				p = le(p, r->size, 8);
			}
			if (big_off)
				p = le(p, r->offset, 8);
			if (out(w, x, (size_t)(p - x)) < 0)
				return -1;
		}
	}
	uint64_t cd_size = w->pos - cd_start, z64_at = w->pos;
	unsigned char e[56 + 20 + 22], *p = e;
	p = le(p, 0x06064b50, 4); /* zip64 end of central directory */
	p = le(p, 44, 8);
	p = le(p, 0x031e, 2);
	p = le(p, 0x002d, 2);
	p = le(p, 0, 8); /* this disk, disk of the directory */
	p = le(p, w->nrec, 8);
	p = le(p, w->nrec, 8);
	p = le(p, cd_size, 8);
	p = le(p, cd_start, 8);
	p = le(p, 0x07064b50, 4); /* zip64 locator */
	p = le(p, 0, 4);
	p = le(p, z64_at, 8);
	p = le(p, 1, 4);
	p = le(p, 0x06054b50, 4); /* end of central directory */
	p = le(p, 0, 4);
	p = le(p, w->nrec < 0xffff ? w->nrec : 0xffff, 2);
	p = le(p, w->nrec < 0xffff ? w->nrec : 0xffff, 2);
	p = le(p, cd_size < U32_MAX ? cd_size : U32_MAX, 4);
	p = le(p, cd_start < U32_MAX ? cd_start : U32_MAX, 4);
	p = le(p, 0, 2);
	w->ended = 1;
	if (out(w, e, (size_t)(p - e)) < 0)
		return -1;
	return flush_stage(w);
}

char *ts_archive_name(const char *path)
{
	const char *base = path;
	for (const char *p = path; *p; p++)
		if (*p == '/' || *p == '\\')
			base = p + 1;
	size_t n = strlen(base);
	const char *dot = strrchr(base, '.');
	if (dot)
		n = (size_t)(dot - base);
	int ascii = n > 0;
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)base[i] < 0x20 || (unsigned char)base[i] >= 0x7f)
			ascii = 0;
	if (!ascii)
		return ck_strdup("archive");
	char *s = ck_malloc(n + 1);
	if (s) {
		memcpy(s, base, n);
		s[n] = 0;
	}
	return s;
}
