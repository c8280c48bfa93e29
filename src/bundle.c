/* bundle.c — see bundle.h. */
#include "bundle.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "crc32c.h"
#include "tensor_bundle.pb-c.h"
#include "util.h"

/* ---- TF element types ---- */

static const struct {
	const char *name;
	size_t size;
	int ck; /* ck_dtype, or -1 */
} tf_types[] = {
	{"DT_INVALID", 0, -1},    {"DT_FLOAT", 4, CK_F32},    {"DT_DOUBLE", 8, CK_F64},
	{"DT_INT32", 4, CK_I32},  {"DT_UINT8", 1, CK_U8},     {"DT_INT16", 2, CK_I16},
	{"DT_INT8", 1, CK_I8},    {"DT_STRING", 0, CK_STRING}, {"DT_COMPLEX64", 8, -1},
	{"DT_INT64", 8, CK_I64},  {"DT_BOOL", 1, CK_BOOL},    {"DT_QINT8", 1, -1},
	{"DT_QUINT8", 1, -1},     {"DT_QINT32", 4, -1},       {"DT_BFLOAT16", 2, CK_BF16},
	{"DT_QINT16", 2, -1},     {"DT_QUINT16", 2, -1},      {"DT_UINT16", 2, CK_U16},
	{"DT_COMPLEX128", 16, -1}, {"DT_HALF", 2, CK_F16},    {"DT_RESOURCE", 0, -1},
	{"DT_VARIANT", 0, -1},    {"DT_UINT32", 4, CK_U32},   {"DT_UINT64", 8, CK_U64},
};
#define N_TF_TYPES ((int)(sizeof tf_types / sizeof tf_types[0]))

const char *ck_tf_dtype_name(int t, char buf[32])
{
	if (t >= 0 && t < N_TF_TYPES)
		return tf_types[t].name;
	snprintf(buf, 32, "DT_UNKNOWN_%d", t);
	return buf;
}

int ck_tf_dtype_parse(const char *name)
{
	for (int t = 1; t < N_TF_TYPES; t++)
		if (strcmp(name, tf_types[t].name) == 0)
			return t;
	return -1;
}

int ck_tf_dtype_to_ck(int t, ck_dtype *out)
{
	if (t < 0 || t >= N_TF_TYPES || tf_types[t].ck < 0)
		return -1;
	*out = (ck_dtype)tf_types[t].ck;
	return 0;
}

int ck_tf_dtype_from_ck(ck_dtype c)
{
	for (int t = 0; t < N_TF_TYPES; t++)
		if (tf_types[t].ck == (int)c)
			return t;
	return 0;
}

size_t ck_tf_dtype_size(int t)
{
	return t >= 0 && t < N_TF_TYPES ? tf_types[t].size : 0;
}

static uint32_t get_le32(const unsigned char *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static int key_cmp(const unsigned char *a, size_t alen, const unsigned char *b, size_t blen)
{
	size_t n = alen < blen ? alen : blen;
	int c = n ? memcmp(a, b, n) : 0;
	if (c)
		return c;
	return alen < blen ? -1 : alen > blen;
}

/* ---- ordered code (TF's tensorflow::strings::OrderedCode) ---- */

/* Length byte, then the value big-endian without leading zero bytes. */
static void oc_num_increasing(ck_buf *o, uint64_t v)
{
	unsigned char buf[9];
	int len = 0;
	while (v) {
		buf[8 - len++] = (unsigned char)v;
		v >>= 8;
	}
	buf[8 - len] = (unsigned char)len;
	ck_buf_put(o, buf + 8 - len, (size_t)len + 1);
}

/* Bytes with 0x00 -> 00 ff and 0xff -> ff 00, terminated by 00 01. */
static void oc_string(ck_buf *o, const char *s)
{
	static const unsigned char escff[2] = {0xff, 0x00}, sep[2] = {0, 1};
	for (const unsigned char *p = (const unsigned char *)s; *p; p++) /* names hold no NUL */
		ck_buf_put(o, *p == 0xff ? escff : p, *p == 0xff ? 2 : 1);
	ck_buf_put(o, sep, 2);
}

/* Sign bit, then as many copies of it as bytes follow the first, then a
 * delimiter bit and the two's-complement value: order-preserving. */
static void oc_signed_increasing(ck_buf *o, int64_t val)
{
	uint64_t x = val < 0 ? ~(uint64_t)val : (uint64_t)val;
	if (x < 64) {
		unsigned char c = (unsigned char)(0x80 ^ (uint64_t)val);
		ck_buf_put(o, &c, 1);
		return;
	}
	int bits = 64 - __builtin_clzll(x); /* 7..63 */
	int len = bits / 7 + 1;             /* n bytes hold 7n - 1 value bits */
	static const unsigned char hdr[11][2] = {{0, 0},	 {0x80, 0}, {0xc0, 0}, {0xe0, 0},
						{0xf0, 0},	 {0xf8, 0}, {0xfc, 0}, {0xfe, 0},
						{0xff, 0},	 {0xff, 0x80}, {0xff, 0xc0}};
	unsigned char buf[10];
	unsigned char sign = val < 0 ? 0xff : 0;
	buf[0] = buf[1] = sign;
	for (int i = 0; i < 8; i++)
		buf[2 + i] = (unsigned char)((uint64_t)val >> (56 - 8 * i));
	unsigned char *begin = buf + 10 - len;
	begin[0] ^= hdr[len][0];
	begin[1] ^= hdr[len][1];
	ck_buf_put(o, begin, (size_t)len);
}

int ck_bundle_slice_key(const char *name, int ndim, const int64_t *start, const int64_t *length,
			unsigned char **key, size_t *klen)
{
	ck_buf o = {0};
	oc_num_increasing(&o, 0);
	oc_string(&o, name);
	oc_num_increasing(&o, (uint64_t)ndim);
	for (int d = 0; d < ndim; d++) {
		oc_signed_increasing(&o, start[d]);
		oc_signed_increasing(&o, length[d]);
	}
	if (o.failed) {
		free(o.p);
		return -1;
	}
	*key = (unsigned char *)o.p;
	*klen = o.len;
	return 0;
}

/* ======================================================================
 * Reading
 * ====================================================================== */

/* Entries whose key starts with 0x00: the data of one slice. */
typedef struct {
	unsigned char *key;
	size_t klen;
	int tf_dtype, ndim;
	int64_t shape[CK_MAX_DIMS];
	int32_t shard;
	uint64_t offset, size;
	uint32_t crc32c;
} slice_data;

#define MAX_SHARDS 100000 /* 5-digit shard numbers */
#define MAX_SLICES 4096   /* per variable (coverage is checked pairwise) */
#define MAX_OPEN 64       /* shard files kept open at once */
#define IO_CHUNK (8u << 20)

struct ck_bundle {
	char *prefix, *index_path;
	int num_shards;
	ck_bundle_entry *e;
	size_t n, cap;
	slice_data *sd;
	size_t nsd, sdcap;
	ck_table_stats stats;
	int checked;
	uint64_t *shard_size;
	int *fds;
	int nopen;
};

static int grow(void **p, size_t *cap, size_t n, size_t elem)
{
	if (n < *cap)
		return 0;
	size_t c = *cap ? *cap * 2 : 64;
	void *q = ck_realloc(*p, c * elem);
	if (!q)
		return -1;
	*p = q;
	*cap = c;
	return 0;
}

static int parse_header(ck_bundle *b, const unsigned char *v, size_t vlen)
{
	Tensorflow__BundleHeaderProto *h = tensorflow__bundle_header_proto__unpack(NULL, vlen, v);
	if (!h)
		return ck_fail("%s: malformed bundle header", b->index_path);
	int rc = 0;
	if (h->endianness == TENSORFLOW__BUNDLE_HEADER_PROTO__ENDIANNESS__BIG)
		rc = ck_fail("%s: big-endian checkpoint (written on a big-endian machine): not supported",
			     b->index_path);
	else if (h->endianness != TENSORFLOW__BUNDLE_HEADER_PROTO__ENDIANNESS__LITTLE)
		rc = ck_fail("%s: unknown endianness %d in the bundle header", b->index_path,
			     (int)h->endianness);
	else if (h->num_shards < 1 || h->num_shards > MAX_SHARDS)
		rc = ck_fail("%s: bad number of data shards %d", b->index_path, (int)h->num_shards);
	else if (h->version && h->version->min_consumer > 1)
		rc = ck_fail("%s: checkpoint needs a newer reader (format version %d)", b->index_path,
			     (int)h->version->min_consumer);
	for (size_t i = 0; rc == 0 && h->version && i < h->version->n_bad_consumers; i++)
		if (h->version->bad_consumers[i] == 1)
			rc = ck_fail("%s: checkpoint excludes this reader's format version 1",
				     b->index_path);
	b->num_shards = h->num_shards;
	tensorflow__bundle_header_proto__free_unpacked(h, NULL);
	return rc;
}

/* Fields shared by tensor entries and slice-data entries. */
static int parse_common(const ck_bundle *b, const char *name, const Tensorflow__BundleEntryProto *pe,
			int *tf_dtype, int *ndim, int64_t *shape, int32_t *shard, uint64_t *offset,
			uint64_t *size)
{
	int t = (int)pe->dtype;
	if (t >= 100)
		t -= 100; /* _REF variants */
	if (t < 0)
		return ck_fail("%s: tensor %s: bad dtype %d", b->index_path, name, (int)pe->dtype);
	*tf_dtype = t;
	*ndim = 0;
	if (pe->shape) {
		if (pe->shape->unknown_rank)
			return ck_fail("%s: tensor %s: shape of unknown rank", b->index_path, name);
		if (pe->shape->n_dim > CK_MAX_DIMS)
			return ck_fail("%s: tensor %s: %zu dimensions (at most %d supported)",
				       b->index_path, name, pe->shape->n_dim, CK_MAX_DIMS);
		*ndim = (int)pe->shape->n_dim;
		for (int d = 0; d < *ndim; d++) {
			shape[d] = pe->shape->dim[d]->size;
			if (shape[d] < 0)
				return ck_fail("%s: tensor %s: negative dimension", b->index_path, name);
		}
	}
	uint64_t numel;
	if (ck_shape_numel(*ndim, shape, &numel) < 0)
		return ck_fail("%s: tensor %s: shape size overflows", b->index_path, name);
	if (pe->shard_id < 0 || pe->shard_id >= b->num_shards)
		return ck_fail("%s: tensor %s: shard %d, but the checkpoint has %d", b->index_path,
			       name, (int)pe->shard_id, b->num_shards);
	if (pe->offset < 0 || pe->size < 0)
		return ck_fail("%s: tensor %s: negative offset or size", b->index_path, name);
	*shard = pe->shard_id;
	*offset = (uint64_t)pe->offset;
	*size = (uint64_t)pe->size;
	size_t es = ck_tf_dtype_size(t);
	uint64_t want;
	if (es && pe->n_slices == 0 && ck_mul_u64(numel, es, &want) < 0)
		return ck_fail("%s: tensor %s: shape size overflows", b->index_path, name);
	if (es && pe->n_slices == 0 && want != *size)
		return ck_fail("%s: tensor %s: %llu bytes stored, but the shape needs %llu",
			       b->index_path, name, (unsigned long long)*size,
			       (unsigned long long)want);
	return 0;
}

static int parse_slice(const ck_bundle *b, const ck_bundle_entry *e,
		       const Tensorflow__TensorSliceProto *sp, ck_bundle_slice *s)
{
	if ((int)sp->n_extent != e->ndim)
		return ck_fail("%s: tensor %s: slice has %zu extents for %d dimensions", b->index_path,
			       e->name, sp->n_extent, e->ndim);
	for (int d = 0; d < e->ndim; d++) {
		const Tensorflow__TensorSliceProto__Extent *x = sp->extent[d];
		int full = x->has_length_case != TENSORFLOW__TENSOR_SLICE_PROTO__EXTENT__HAS_LENGTH_LENGTH;
		s->start[d] = x->start;
		s->length[d] = full ? -1 : x->length;
		if (full ? x->start != 0
			 : (x->start < 0 || x->length < 1 || x->length > e->shape[d] ||
			    x->start > e->shape[d] - x->length))
			return ck_fail("%s: tensor %s: slice extent %d out of range", b->index_path,
				       e->name, d);
	}
	return 0;
}

/* Keys become C strings: refuse NUL and control bytes, which would break
 * every line-based listing and message. */
static char *key_to_name(const ck_bundle *b, const ck_table_kv *kv, size_t keyno)
{
	for (size_t i = 0; i < kv->klen; i++)
		if (kv->key[i] < 0x20 || kv->key[i] == 0x7f) {
			ck_fail("%s: key #%zu: tensor name holds control byte 0x%02x", b->index_path,
				keyno, kv->key[i]);
			return NULL;
		}
	char *s = ck_malloc(kv->klen + 1);
	if (s) {
		memcpy(s, kv->key, kv->klen);
		s[kv->klen] = 0;
	}
	return s;
}

static int add_entry(ck_bundle *b, const ck_table_kv *kv, size_t keyno)
{
	Tensorflow__BundleEntryProto *pe = tensorflow__bundle_entry_proto__unpack(NULL, kv->vlen, kv->val);
	if (kv->key[0] == 0) { /* the data of a slice */
		if (!pe)
			return ck_fail("%s: key #%zu: malformed BundleEntryProto", b->index_path, keyno);
		int rc = grow((void **)&b->sd, &b->sdcap, b->nsd, sizeof *b->sd);
		slice_data *s = rc == 0 ? &b->sd[b->nsd] : NULL;
		if (rc == 0) {
			memset(s, 0, sizeof *s);
			rc = parse_common(b, "(slice data)", pe, &s->tf_dtype, &s->ndim, s->shape,
					  &s->shard, &s->offset, &s->size);
		}
		if (rc == 0 && !(s->key = ck_malloc(kv->klen)))
			rc = -1;
		if (rc == 0) {
			memcpy(s->key, kv->key, kv->klen);
			s->klen = kv->klen;
			s->crc32c = pe->crc32c;
			b->nsd++;
		}
		tensorflow__bundle_entry_proto__free_unpacked(pe, NULL);
		return rc;
	}
	char *name = key_to_name(b, kv, keyno);
	if (!name || !pe) {
		if (name)
			ck_fail("%s: tensor %s: malformed BundleEntryProto", b->index_path, name);
		free(name);
		if (pe)
			tensorflow__bundle_entry_proto__free_unpacked(pe, NULL);
		return -1;
	}
	int rc = grow((void **)&b->e, &b->cap, b->n, sizeof *b->e);
	if (rc < 0) {
		free(name);
		tensorflow__bundle_entry_proto__free_unpacked(pe, NULL);
		return -1;
	}
	ck_bundle_entry *e = &b->e[b->n++];
	memset(e, 0, sizeof *e);
	e->name = name;
	rc = parse_common(b, name, pe, &e->tf_dtype, &e->ndim, e->shape, &e->shard, &e->offset,
			  &e->size);
	e->crc32c = pe->crc32c;
	e->supported = ck_tf_dtype_to_ck(e->tf_dtype, &e->dtype) == 0;
	if (rc == 0 && pe->n_slices > MAX_SLICES)
		rc = ck_fail("%s: tensor %s: %zu slices (at most %d supported)", b->index_path, name,
			     pe->n_slices, MAX_SLICES);
	if (rc == 0 && pe->n_slices) {
		e->slices = ck_calloc(pe->n_slices, sizeof *e->slices);
		if (!e->slices)
			rc = -1;
		for (size_t k = 0; rc == 0 && k < pe->n_slices; k++) {
			rc = parse_slice(b, e, pe->slices[k], &e->slices[k]);
			e->nslices = k + 1;
		}
	}
	tensorflow__bundle_entry_proto__free_unpacked(pe, NULL);
	return rc;
}

static const slice_data *find_slice_data(const ck_bundle *b, const unsigned char *key, size_t klen)
{
	size_t lo = 0, hi = b->nsd;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int c = key_cmp(b->sd[mid].key, b->sd[mid].klen, key, klen);
		if (c == 0)
			return &b->sd[mid];
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}

static void slice_lengths(const ck_bundle_entry *e, const ck_bundle_slice *s, int64_t *len)
{
	for (int d = 0; d < e->ndim; d++)
		len[d] = s->length[d] < 0 ? e->shape[d] : s->length[d];
}

/* Find each slice's data entry and check the slices tile the tensor:
 * pairwise disjoint boxes whose volumes add up to the whole. */
static int resolve_slices(ck_bundle *b, ck_bundle_entry *e)
{
	uint64_t total = 0, numel;
	ck_shape_numel(e->ndim, e->shape, &numel);
	for (size_t k = 0; k < e->nslices; k++) {
		ck_bundle_slice *s = &e->slices[k];
		unsigned char *key;
		size_t klen;
		if (ck_bundle_slice_key(e->name, e->ndim, s->start, s->length, &key, &klen) < 0)
			return -1;
		const slice_data *d = find_slice_data(b, key, klen);
		free(key);
		if (!d)
			return ck_fail("%s: tensor %s: slice %zu has no data entry", b->index_path,
				       e->name, k);
		int64_t len[CK_MAX_DIMS];
		slice_lengths(e, s, len);
		if (d->tf_dtype != e->tf_dtype || d->ndim != e->ndim ||
		    (e->ndim && memcmp(d->shape, len, (size_t)e->ndim * sizeof *len) != 0))
			return ck_fail("%s: tensor %s: slice %zu: data entry has another dtype or shape",
				       b->index_path, e->name, k);
		s->shard = d->shard;
		s->offset = d->offset;
		s->size = d->size;
		s->crc32c = d->crc32c;
		uint64_t n;
		ck_shape_numel(e->ndim, len, &n); /* <= numel: cannot overflow */
		if (ck_add_u64(total, n, &total) < 0)
			return ck_fail("%s: tensor %s: slices overlap", b->index_path, e->name);
		for (size_t j = 0; j < k; j++) {
			const ck_bundle_slice *o = &e->slices[j];
			int64_t olen[CK_MAX_DIMS];
			slice_lengths(e, o, olen);
			int overlap = 1;
			for (int x = 0; x < e->ndim && overlap; x++)
				overlap = s->start[x] < o->start[x] + olen[x] &&
					  o->start[x] < s->start[x] + len[x];
			if (overlap && n)
				return ck_fail("%s: tensor %s: slices %zu and %zu overlap", b->index_path,
					       e->name, j, k);
		}
	}
	if (total != numel)
		return ck_fail("%s: tensor %s: slices cover %llu of %llu elements", b->index_path,
			       e->name, (unsigned long long)total, (unsigned long long)numel);
	return 0;
}

ck_bundle *ck_bundle_open(const char *prefix)
{
	ck_bundle *b = ck_calloc(1, sizeof *b);
	if (!b)
		return NULL;
	size_t plen = strlen(prefix);
	b->prefix = ck_strdup(prefix);
	b->index_path = ck_malloc(plen + 7);
	if (!b->prefix || !b->index_path) {
		ck_bundle_close(b);
		return NULL;
	}
	memcpy(b->index_path, prefix, plen);
	memcpy(b->index_path + plen, ".index", 7);
	ck_table *t = ck_table_open(b->index_path);
	if (!t) {
		ck_bundle_close(b);
		return NULL;
	}
	ck_table_kv kv;
	int r;
	size_t keyno = 0;
	while ((r = ck_table_next(t, &kv)) > 0) {
		if (keyno++ == 0) {
			if (kv.klen != 0) {
				r = ck_fail("%s: no bundle header (not a TF V2 checkpoint index)",
					    b->index_path);
				break;
			}
			if ((r = parse_header(b, kv.val, kv.vlen)) < 0)
				break;
			continue;
		}
		if ((r = add_entry(b, &kv, keyno - 1)) < 0)
			break;
	}
	if (r == 0 && keyno == 0)
		r = ck_fail("%s: empty index (no bundle header)", b->index_path);
	b->stats = ck_table_get_stats(t);
	ck_table_close(t);
	for (size_t i = 0; r == 0 && i < b->n; i++) {
		ck_bundle_entry *e = &b->e[i];
		if (e->nslices)
			r = resolve_slices(b, e);
		if (!e->supported)
			e->nbytes = e->size;
		else if (e->dtype == CK_STRING)
			e->nbytes = e->nslices ? 0 : e->size;
		else if (ck_shape_nbytes(e->dtype, e->ndim, e->shape, &e->nbytes) < 0)
			r = ck_fail("%s: tensor %s: shape size overflows", b->index_path, e->name);
	}
	if (r < 0) {
		ck_bundle_close(b);
		return NULL;
	}
	return b;
}

void ck_bundle_close(ck_bundle *b)
{
	if (!b)
		return;
	for (size_t i = 0; i < b->n; i++) {
		free(b->e[i].name);
		free(b->e[i].slices);
	}
	for (size_t i = 0; i < b->nsd; i++)
		free(b->sd[i].key);
	if (b->fds)
		for (int s = 0; s < b->num_shards; s++)
			if (b->fds[s] >= 0)
				close(b->fds[s]);
	free(b->fds);
	free(b->shard_size);
	free(b->e);
	free(b->sd);
	free(b->prefix);
	free(b->index_path);
	free(b);
}

size_t ck_bundle_count(const ck_bundle *b) { return b->n; }
const ck_bundle_entry *ck_bundle_at(const ck_bundle *b, size_t i) { return i < b->n ? &b->e[i] : NULL; }
int ck_bundle_num_shards(const ck_bundle *b) { return b->num_shards; }
const char *ck_bundle_index_path(const ck_bundle *b) { return b->index_path; }
ck_table_stats ck_bundle_index_stats(const ck_bundle *b) { return b->stats; }

int ck_bundle_data_path(const ck_bundle *b, int shard, char *buf, size_t len)
{
	int n = snprintf(buf, len, "%s.data-%05d-of-%05d", b->prefix, shard, b->num_shards);
	return n < 0 || (size_t)n >= len ? -1 : 0;
}

#define PATH_BUF 4200

static int shard_fd(ck_bundle *b, int shard)
{
	if (b->fds[shard] >= 0)
		return b->fds[shard];
	if (b->nopen >= MAX_OPEN) {
		for (int s = 0; s < b->num_shards; s++)
			if (b->fds[s] >= 0) {
				close(b->fds[s]);
				b->fds[s] = -1;
			}
		b->nopen = 0;
	}
	char path[PATH_BUF];
	if (ck_bundle_data_path(b, shard, path, sizeof path) < 0)
		return ck_fail("%s: path too long", b->prefix);
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return ck_fail("%s: cannot open data shard: %s", path, strerror(errno));
	posix_fadvise(fd, 0, 0, POSIX_FADV_SEQUENTIAL);
	b->fds[shard] = fd;
	b->nopen++;
	return fd;
}

static int check_range(const ck_bundle *b, const char *name, int shard, uint64_t off, uint64_t size)
{
	uint64_t end;
	if (ck_add_u64(off, size, &end) == 0 && end <= b->shard_size[shard])
		return 0;
	char path[PATH_BUF];
	ck_bundle_data_path(b, shard, path, sizeof path);
	return ck_fail("%s: tensor %s: data at offset %llu (%llu bytes) lies past the end of the "
		       "file (%llu bytes): truncated shard?",
		       path, name, (unsigned long long)off, (unsigned long long)size,
		       (unsigned long long)b->shard_size[shard]);
}

/* Data ranges of all entries, to check that none overlap: then no tensor
 * can claim more bytes than the data files hold (a partitioned variable
 * whose slices all point at the same bytes would otherwise multiply them). */
typedef struct {
	int32_t shard;
	uint64_t off, size;
	size_t entry;
} range;

static int cmp_range(const void *a, const void *b)
{
	const range *x = a, *y = b;
	if (x->shard != y->shard)
		return x->shard < y->shard ? -1 : 1;
	return x->off < y->off ? -1 : x->off > y->off;
}

static int check_overlaps(const ck_bundle *b)
{
	size_t n = 0;
	for (size_t i = 0; i < b->n; i++)
		n += b->e[i].nslices ? b->e[i].nslices : 1;
	range *r = ck_calloc(n, sizeof *r);
	if (!r)
		return -1;
	size_t k = 0;
	for (size_t i = 0; i < b->n; i++) {
		const ck_bundle_entry *e = &b->e[i];
		if (!e->nslices && e->size)
			r[k++] = (range){e->shard, e->offset, e->size, i};
		for (size_t j = 0; j < e->nslices; j++)
			if (e->slices[j].size)
				r[k++] = (range){e->slices[j].shard, e->slices[j].offset,
						 e->slices[j].size, i};
	}
	qsort(r, k, sizeof *r, cmp_range);
	int rc = 0;
	for (size_t j = 1; j < k && rc == 0; j++)
		if (r[j].shard == r[j - 1].shard && r[j].off < r[j - 1].off + r[j - 1].size) {
			char path[PATH_BUF];
			ck_bundle_data_path(b, r[j].shard, path, sizeof path);
			rc = ck_fail("%s: tensor %s: its data overlaps that of tensor %s", path,
				     b->e[r[j].entry].name, b->e[r[j - 1].entry].name);
		}
	free(r);
	return rc;
}

int ck_bundle_check_data(ck_bundle *b)
{
	if (b->checked)
		return 0;
	if (!b->fds) {
		b->fds = ck_malloc((size_t)b->num_shards * sizeof *b->fds);
		b->shard_size = ck_calloc((size_t)b->num_shards, sizeof *b->shard_size);
		if (!b->fds || !b->shard_size)
			return -1;
		for (int s = 0; s < b->num_shards; s++)
			b->fds[s] = -1;
	}
	for (int s = 0; s < b->num_shards; s++) {
		int fd = shard_fd(b, s);
		struct stat st;
		if (fd < 0)
			return -1;
		if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
			char path[PATH_BUF];
			ck_bundle_data_path(b, s, path, sizeof path);
			return ck_fail("%s: data shard is not a regular file", path);
		}
		b->shard_size[s] = (uint64_t)st.st_size;
	}
	for (size_t i = 0; i < b->n; i++) {
		const ck_bundle_entry *e = &b->e[i];
		if (!e->nslices && check_range(b, e->name, e->shard, e->offset, e->size) < 0)
			return -1;
		for (size_t k = 0; k < e->nslices; k++)
			if (check_range(b, e->name, e->slices[k].shard, e->slices[k].offset,
					e->slices[k].size) < 0)
				return -1;
	}
	if (check_overlaps(b) < 0)
		return -1;
	b->checked = 1;
	return 0;
}

/* Read size bytes at off of a shard into dst; *crc (if given) gets the
 * CRC-32C of them, computed chunk by chunk while the data is in cache. */
static int read_range(ck_bundle *b, const char *name, int shard, uint64_t off, uint64_t size,
		      unsigned char *dst, uint32_t *crc)
{
	int fd = shard_fd(b, shard);
	if (fd < 0)
		return -1;
	uint32_t c = 0;
	while (size) {
		size_t want = size < IO_CHUNK ? (size_t)size : IO_CHUNK;
		ssize_t r = pread(fd, dst, want, (off_t)off);
		if (r <= 0) {
			if (r < 0 && errno == EINTR)
				continue;
			char path[PATH_BUF];
			ck_bundle_data_path(b, shard, path, sizeof path);
			return ck_fail("%s: tensor %s: %s", path, name,
				       r < 0 ? strerror(errno) : "unexpected end of file (truncated?)");
		}
		if (crc)
			c = ck_crc32c(c, dst, (size_t)r);
		dst += r;
		off += (uint64_t)r;
		size -= (uint64_t)r;
	}
	if (crc)
		*crc = c;
	return 0;
}

static int crc_mismatch(const ck_bundle *b, const char *name, int shard)
{
	char path[PATH_BUF];
	ck_bundle_data_path(b, shard, path, sizeof path);
	return ck_fail("%s: tensor %s: checksum mismatch (corrupt data)", path, name);
}

/* TF's string layout: numel varint64 lengths, the masked CRC-32C of those
 * lengths (each as 4 little-endian bytes, 8 if it exceeds 32 bits), then the
 * bytes. The entry's CRC covers the lengths (same encoding), the 4-byte
 * checksum and the bytes. */
static int verify_strings(const ck_bundle *b, const ck_bundle_entry *e, const unsigned char *p)
{
	uint64_t numel, size = e->size, pos = 0, total = 0;
	uint32_t c = 0;
	ck_shape_numel(e->ndim, e->shape, &numel);
	char path[PATH_BUF];
	ck_bundle_data_path(b, e->shard, path, sizeof path);
	for (uint64_t i = 0; i < numel; i++) {
		uint64_t len;
		size_t n = ck_varint64_get(p + pos, (size_t)(size - pos), &len);
		if (!n)
			return ck_fail("%s: tensor %s: bad string length", path, e->name);
		pos += n;
		unsigned char le[8];
		for (int k = 0; k < 8; k++)
			le[k] = (unsigned char)(len >> (8 * k));
		c = ck_crc32c(c, le, len > UINT32_MAX ? 8 : 4);
		if (ck_add_u64(total, len, &total) < 0)
			return ck_fail("%s: tensor %s: bad string length", path, e->name);
	}
	if (size - pos < 4 || get_le32(p + pos) != ck_crc32c_mask(c))
		return ck_fail("%s: tensor %s: string lengths checksum mismatch (corrupt data)", path,
			       e->name);
	c = ck_crc32c(c, p + pos, 4);
	pos += 4;
	if (size - pos != total)
		return ck_fail("%s: tensor %s: string lengths add up to %llu bytes, %llu stored", path,
			       e->name, (unsigned long long)total, (unsigned long long)(size - pos));
	c = ck_crc32c(c, p + pos, (size_t)total);
	if (ck_crc32c_mask(c) != e->crc32c)
		return crc_mismatch(b, e->name, e->shard);
	return 0;
}

/* Read each slice and put it in place: straight into the tensor when the
 * slice is one contiguous run of it (partitions along the first axis),
 * else through a buffer, copying runs of the innermost dimensions. */
static int read_sliced(ck_bundle *b, const ck_bundle_entry *e, unsigned char *dst)
{
	size_t es = ck_dtype_size(e->dtype);
	uint64_t stride[CK_MAX_DIMS];
	uint64_t acc = es;
	for (int d = e->ndim - 1; d >= 0; d--) {
		stride[d] = acc; /* bytes; products of a valid shape cannot overflow */
		acc *= (uint64_t)e->shape[d];
	}
	unsigned char *tmp = NULL;
	uint64_t tmpcap = 0;
	int rc = 0;
	for (size_t k = 0; rc == 0 && k < e->nslices; k++) {
		const ck_bundle_slice *s = &e->slices[k];
		int64_t len[CK_MAX_DIMS];
		slice_lengths(e, s, len);
		/* dims [inner, ndim) are whole; a run spans dim inner-1 and them. */
		int inner = e->ndim;
		while (inner > 0 && len[inner - 1] == e->shape[inner - 1])
			inner--;
		int rd = inner > 0 ? inner - 1 : 0;
		uint64_t runs = 1, base = 0;
		for (int d = 0; d < rd; d++)
			runs *= (uint64_t)len[d];
		for (int d = 0; d < e->ndim; d++)
			base += (uint64_t)s->start[d] * stride[d];
		if (s->size == 0)
			continue;
		uint32_t crc;
		unsigned char *src = dst + base;
		if (runs > 1) {
			if (s->size > tmpcap) {
				unsigned char *t2 = ck_realloc(tmp, (size_t)s->size);
				if (!t2) {
					rc = -1;
					break;
				}
				tmp = t2;
				tmpcap = s->size;
			}
			src = tmp;
		}
		if ((rc = read_range(b, e->name, s->shard, s->offset, s->size, src, &crc)) < 0)
			break;
		if (crc != ck_crc32c_unmask(s->crc32c)) {
			rc = crc_mismatch(b, e->name, s->shard);
			break;
		}
		if (runs == 1)
			continue;
		uint64_t run = (uint64_t)len[rd] * stride[rd];
		int64_t idx[CK_MAX_DIMS] = {0};
		for (uint64_t r = 0; r < runs; r++) {
			uint64_t off = base;
			for (int d = 0; d < rd; d++)
				off += (uint64_t)idx[d] * stride[d];
			memcpy(dst + off, src + r * run, (size_t)run);
			for (int d = rd - 1; d >= 0; d--) {
				if (++idx[d] < len[d])
					break;
				idx[d] = 0;
			}
		}
	}
	free(tmp);
	return rc;
}

/* A partitioned string tensor has no one stored layout to deliver: each
 * slice is a string tensor of its own, verified as such (TF reads them). */
static int verify_sliced_strings(ck_bundle *b, const ck_bundle_entry *e)
{
	unsigned char *buf = NULL;
	uint64_t cap = 0;
	int rc = 0;
	for (size_t k = 0; rc == 0 && k < e->nslices; k++) {
		const ck_bundle_slice *s = &e->slices[k];
		ck_bundle_entry part = *e;
		slice_lengths(e, s, part.shape);
		part.nslices = 0;
		part.slices = NULL;
		part.shard = s->shard;
		part.offset = s->offset;
		part.size = s->size;
		part.crc32c = s->crc32c;
		if (!buf || s->size > cap) { /* sizes were checked against the shard files */
			unsigned char *grown = ck_realloc(buf, (size_t)s->size);
			if (!grown) {
				rc = -1;
				break;
			}
			buf = grown;
			cap = s->size;
		}
		rc = read_range(b, e->name, s->shard, s->offset, s->size, buf, NULL);
		if (rc == 0)
			rc = verify_strings(b, &part, buf);
	}
	free(buf);
	return rc;
}

int ck_bundle_read(ck_bundle *b, size_t i, void *buf, uint64_t n)
{
	if (i >= b->n)
		return ck_fail("%s: no tensor #%zu", b->index_path, i);
	const ck_bundle_entry *e = &b->e[i];
	char tn[32];
	if (!e->supported)
		return ck_fail("%s: tensor %s: TF dtype %s is not supported", b->index_path, e->name,
			       ck_tf_dtype_name(e->tf_dtype, tn));
	if (n != e->nbytes)
		return ck_fail("%s: tensor %s: read of %llu bytes, tensor has %llu", b->index_path,
			       e->name, (unsigned long long)n, (unsigned long long)e->nbytes);
	if (ck_bundle_check_data(b) < 0)
		return -1;
	if (e->nslices && e->dtype == CK_STRING)
		return verify_sliced_strings(b, e);
	if (e->nslices)
		return read_sliced(b, e, buf);
	if (e->dtype == CK_STRING)
		return read_range(b, e->name, e->shard, e->offset, e->size, buf, NULL) < 0 ? -1 :
			verify_strings(b, e, buf);
	uint32_t crc;
	if (read_range(b, e->name, e->shard, e->offset, e->size, buf, &crc) < 0)
		return -1;
	if (crc != ck_crc32c_unmask(e->crc32c))
		return crc_mismatch(b, e->name, e->shard);
	return 0;
}

int ck_bundle_map(ck_bundle *b, size_t i, const void **data, void **map, size_t *maplen)
{
	if (i >= b->n)
		return ck_fail("%s: no tensor #%zu", b->index_path, i);
	const ck_bundle_entry *e = &b->e[i];
	if (!e->supported || e->dtype == CK_STRING || e->nslices || e->size == 0 ||
	    e->size > SIZE_MAX / 2)
		return 0;
	if (ck_bundle_check_data(b) < 0)
		return -1;
	int fd = shard_fd(b, e->shard);
	if (fd < 0)
		return -1;
	uint64_t base = e->offset - e->offset % (uint64_t)sysconf(_SC_PAGESIZE);
	size_t len = (size_t)(e->offset - base + e->size);
	void *m = mmap(NULL, len, PROT_READ, MAP_SHARED | MAP_POPULATE, fd, (off_t)base);
	if (m == MAP_FAILED)
		return 0; /* reading still works */
	/* pages past the end of a file that shrank since it was checked would
	 * raise SIGBUS: let the read report it instead */
	struct stat st;
	if (fstat(fd, &st) < 0 || (uint64_t)st.st_size < e->offset + e->size) {
		munmap(m, len);
		return 0;
	}
	const unsigned char *p = (const unsigned char *)m + (e->offset - base);
	if (ck_crc32c(0, p, (size_t)e->size) != ck_crc32c_unmask(e->crc32c)) {
		munmap(m, len);
		return crc_mismatch(b, e->name, e->shard);
	}
	*data = p;
	*map = m;
	*maplen = len;
	return 1;
}

void ck_bundle_prefetch(ck_bundle *b, size_t i)
{
	if (i >= b->n || ck_bundle_check_data(b) < 0)
		return;
	const ck_bundle_entry *e = &b->e[i];
	for (size_t k = 0; k < (e->nslices ? e->nslices : 1); k++) {
		int shard = e->nslices ? e->slices[k].shard : e->shard;
		uint64_t off = e->nslices ? e->slices[k].offset : e->offset;
		uint64_t size = e->nslices ? e->slices[k].size : e->size;
		int fd = shard_fd(b, shard);
		if (fd >= 0 && size)
			posix_fadvise(fd, (off_t)off, (off_t)size, POSIX_FADV_WILLNEED);
	}
}

/* ======================================================================
 * Writing
 * ====================================================================== */

typedef struct {
	unsigned char *key;
	size_t klen;
	int tf_dtype, ndim;
	int64_t shape[CK_MAX_DIMS];
	int32_t shard;
	uint64_t offset, size;
	uint32_t crc32c; /* masked */
	size_t nslices;  /* full entry of a partitioned variable */
	int64_t (*ext)[2][CK_MAX_DIMS]; /* per slice: start[], length[] */
} w_entry;

struct ck_bundle_writer {
	char *prefix;
	ck_bundle_writer_opts o;
	uint64_t *shard_off;
	int fd, fd_shard;
	w_entry *e;
	size_t n, cap;
	int in_tensor;
	size_t cur;
	uint32_t crc;
	uint64_t expect; /* bytes the current tensor must have; UINT64_MAX = any */
	int failed, finished;
};

static int shard_path(const ck_bundle_writer *w, int shard, char *buf, size_t len)
{
	int n = snprintf(buf, len, "%s.data-%05d-of-%05d", w->prefix, shard, w->o.num_shards);
	return n < 0 || (size_t)n >= len ? ck_fail("%s: path too long", w->prefix) : 0;
}

/* A new file, replacing any old one (not truncating it in place, which
 * would also change other hard links to it). */
static int create_file(const char *path)
{
	if (unlink(path) < 0 && errno != ENOENT)
		return -1;
	return open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
}

static void remove_outputs(ck_bundle_writer *w)
{
	char path[PATH_BUF];
	for (int s = 0; s < w->o.num_shards; s++)
		if (shard_path(w, s, path, sizeof path) == 0)
			unlink(path);
	if (snprintf(path, sizeof path, "%s.index", w->prefix) < (int)sizeof path)
		unlink(path);
}

ck_bundle_writer *ck_bundle_writer_open(const char *prefix, const ck_bundle_writer_opts *o)
{
	if (o->num_shards < 1 || o->num_shards > MAX_SHARDS) {
		ck_fail("%s: bad number of shards %d", prefix, o->num_shards);
		return NULL;
	}
	ck_bundle_writer *w = ck_calloc(1, sizeof *w);
	if (!w)
		return NULL;
	w->o = *o;
	w->fd = -1;
	w->prefix = ck_strdup(prefix);
	w->shard_off = ck_calloc((size_t)o->num_shards, sizeof *w->shard_off);
	if (!w->prefix || !w->shard_off) {
		ck_bundle_writer_free(w);
		return NULL;
	}
	for (int s = 0; s < o->num_shards; s++) {
		char path[PATH_BUF];
		int fd = shard_path(w, s, path, sizeof path) < 0 ? -1 : create_file(path);
		if (fd < 0) {
			ck_fail("%s: cannot create: %s", path, strerror(errno));
			ck_bundle_writer_free(w);
			return NULL;
		}
		close(fd);
	}
	return w;
}

static int writer_fd(ck_bundle_writer *w, int shard)
{
	if (w->fd >= 0 && w->fd_shard == shard)
		return w->fd;
	if (w->fd >= 0)
		close(w->fd);
	char path[PATH_BUF];
	if (shard_path(w, shard, path, sizeof path) < 0)
		return -1;
	w->fd = open(path, O_WRONLY | O_CLOEXEC);
	if (w->fd < 0)
		return ck_fail("%s: %s", path, strerror(errno));
	if (lseek(w->fd, (off_t)w->shard_off[shard], SEEK_SET) < 0)
		return ck_fail("%s: %s", path, strerror(errno));
	w->fd_shard = shard;
	return w->fd;
}

static w_entry *new_entry(ck_bundle_writer *w, unsigned char *key, size_t klen, int tf_dtype,
			  int ndim, const int64_t *shape, int shard)
{
	if (grow((void **)&w->e, &w->cap, w->n, sizeof *w->e) < 0) {
		free(key);
		return NULL;
	}
	w_entry *e = &w->e[w->n++];
	memset(e, 0, sizeof *e);
	e->key = key;
	e->klen = klen;
	e->tf_dtype = tf_dtype;
	e->ndim = ndim;
	if (ndim)
		memcpy(e->shape, shape, (size_t)ndim * sizeof *shape);
	e->shard = shard;
	return e;
}

static int start_data(ck_bundle_writer *w, w_entry *e)
{
	uint64_t numel;
	size_t es = ck_tf_dtype_size(e->tf_dtype);
	w->expect = UINT64_MAX;
	if (ck_shape_numel(e->ndim, e->shape, &numel) < 0)
		return ck_fail("%s: bad shape", w->prefix);
	if (es && ck_mul_u64(numel, es, &w->expect) < 0)
		return ck_fail("%s: shape too large", w->prefix);
	if (writer_fd(w, e->shard) < 0)
		return -1;
	e->offset = w->shard_off[e->shard];
	w->cur = (size_t)(e - w->e);
	w->crc = 0;
	w->in_tensor = 1;
	return 0;
}

static int check_args(ck_bundle_writer *w, const char *name, int ndim, int shard)
{
	if (w->failed || w->finished || w->in_tensor)
		return ck_fail("%s: bundle writer misused or failed earlier", w->prefix);
	if (!name[0] || ndim < 0 || ndim > CK_MAX_DIMS || shard < 0 || shard >= w->o.num_shards)
		return ck_fail("%s: tensor %s: bad name, rank or shard", w->prefix, name);
	return 0;
}

int ck_bundle_writer_begin(ck_bundle_writer *w, const char *name, int tf_dtype, int ndim,
			   const int64_t *shape, int shard)
{
	if (check_args(w, name, ndim, shard) < 0)
		return -1;
	unsigned char *key = (unsigned char *)ck_strdup(name);
	w_entry *e = key ? new_entry(w, key, strlen(name), tf_dtype, ndim, shape, shard) : NULL;
	if (!e || start_data(w, e) < 0) {
		w->failed = 1;
		return -1;
	}
	return 0;
}

int ck_bundle_writer_begin_slice(ck_bundle_writer *w, const char *name, int tf_dtype, int ndim,
				 const int64_t *shape, const int64_t *start, const int64_t *length,
				 int shard)
{
	if (check_args(w, name, ndim, shard) < 0)
		return -1;
	int64_t len[CK_MAX_DIMS];
	for (int d = 0; d < ndim; d++) {
		len[d] = length[d] < 0 ? shape[d] : length[d];
		if (start[d] < 0 || start[d] + len[d] > shape[d] || (length[d] < 0 && start[d]))
			return ck_fail("%s: tensor %s: slice extent %d out of range", w->prefix, name, d);
	}
	/* The full entry: created by the first slice, extended by the others. */
	w_entry *full = NULL;
	size_t nlen = strlen(name);
	for (size_t i = 0; i < w->n && !full; i++)
		if (w->e[i].klen == nlen && memcmp(w->e[i].key, name, nlen) == 0)
			full = &w->e[i];
	if (full && (!full->nslices || full->tf_dtype != tf_dtype || full->ndim != ndim ||
		     (ndim && memcmp(full->shape, shape, (size_t)ndim * sizeof *shape))))
		return ck_fail("%s: tensor %s: slice does not match the tensor", w->prefix, name);
	if (!full) {
		unsigned char *key = (unsigned char *)ck_strdup(name);
		if (!key || !(full = new_entry(w, key, nlen, tf_dtype, ndim, shape, 0)))
			goto fail;
	}
	void *x = ck_realloc(full->ext, (full->nslices + 1) * sizeof *full->ext);
	if (!x)
		goto fail;
	full->ext = x;
	memcpy(full->ext[full->nslices][0], start, (size_t)ndim * sizeof *start);
	memcpy(full->ext[full->nslices][1], length, (size_t)ndim * sizeof *length);
	full->nslices++;
	unsigned char *key;
	size_t klen;
	if (ck_bundle_slice_key(name, ndim, start, length, &key, &klen) < 0)
		goto fail;
	w_entry *e = new_entry(w, key, klen, tf_dtype, ndim, len, shard);
	if (!e || start_data(w, e) < 0)
		goto fail;
	return 0;
fail:
	w->failed = 1;
	return -1;
}

int ck_bundle_writer_data(ck_bundle_writer *w, const void *buf, size_t n)
{
	if (!w->in_tensor || w->failed)
		return ck_fail("%s: bundle writer: data outside a tensor", w->prefix);
	w_entry *e = &w->e[w->cur];
	if (ck_write_full(w->fd, buf, n, w->prefix) < 0) {
		w->failed = 1;
		return -1;
	}
	w->crc = ck_crc32c(w->crc, buf, n);
	e->size += n;
	return 0;
}

int ck_bundle_writer_end(ck_bundle_writer *w)
{
	if (!w->in_tensor || w->failed)
		return ck_fail("%s: bundle writer: end outside a tensor", w->prefix);
	w_entry *e = &w->e[w->cur];
	w->in_tensor = 0;
	if (w->expect != UINT64_MAX && e->size != w->expect) {
		w->failed = 1;
		return ck_fail("%s: tensor has %llu bytes, its shape needs %llu", w->prefix,
			       (unsigned long long)e->size, (unsigned long long)w->expect);
	}
	e->crc32c = ck_crc32c_mask(w->crc);
	w->shard_off[e->shard] += e->size;
	return 0;
}

/* The data of the string tensor (or slice) just begun: its numel strings. */
static int put_strings(ck_bundle_writer *w, const char *const *strs, const size_t *lens)
{
	const w_entry *cur = &w->e[w->cur];
	uint64_t numel;
	ck_shape_numel(cur->ndim, cur->shape, &numel); /* checked by start_data */
	ck_buf o = {0};
	uint32_t c = 0;
	for (uint64_t i = 0; i < numel; i++) {
		unsigned char v[10], le[8];
		ck_buf_put(&o, v, ck_varint64_put(v, lens[i]));
		for (int k = 0; k < 8; k++)
			le[k] = (unsigned char)((uint64_t)lens[i] >> (8 * k));
		c = ck_crc32c(c, le, lens[i] > UINT32_MAX ? 8 : 4);
	}
	uint32_t m = ck_crc32c_mask(c);
	unsigned char mb[4] = {(unsigned char)m, (unsigned char)(m >> 8), (unsigned char)(m >> 16),
			       (unsigned char)(m >> 24)};
	ck_buf_put(&o, mb, 4);
	int rc = o.failed ? -1 : ck_bundle_writer_data(w, o.p, o.len);
	/* _data checksummed the varint bytes; TF's CRC covers the lengths as
	 * 32-bit values instead, so recompute it. */
	c = ck_crc32c(c, mb, 4);
	for (uint64_t i = 0; rc == 0 && i < numel; i++) {
		rc = ck_bundle_writer_data(w, strs[i], lens[i]);
		c = ck_crc32c(c, strs[i], lens[i]);
	}
	free(o.p);
	if (rc == 0)
		rc = ck_bundle_writer_end(w);
	if (rc == 0)
		w->e[w->cur].crc32c = ck_crc32c_mask(c);
	if (rc < 0)
		w->failed = 1;
	return rc;
}

int ck_bundle_writer_strings(ck_bundle_writer *w, const char *name, int ndim, const int64_t *shape,
			     int shard, const char *const *strs, const size_t *lens)
{
	if (ck_bundle_writer_begin(w, name, CK_TF_STRING, ndim, shape, shard) < 0)
		return -1;
	return put_strings(w, strs, lens);
}

int ck_bundle_writer_strings_slice(ck_bundle_writer *w, const char *name, int ndim,
				   const int64_t *shape, const int64_t *start, const int64_t *length,
				   int shard, const char *const *strs, const size_t *lens)
{
	if (ck_bundle_writer_begin_slice(w, name, CK_TF_STRING, ndim, shape, start, length, shard) < 0)
		return -1;
	return put_strings(w, strs, lens);
}

static int cmp_entry(const void *a, const void *b)
{
	const w_entry *x = a, *y = b;
	return key_cmp(x->key, x->klen, y->key, y->klen);
}

/* Serialize one entry (protobuf-c packs from structs pointing at locals). */
static int pack_entry(const w_entry *e, unsigned char **out, size_t *len)
{
	Tensorflow__BundleEntryProto pe = TENSORFLOW__BUNDLE_ENTRY_PROTO__INIT;
	Tensorflow__TensorShapeProto shape = TENSORFLOW__TENSOR_SHAPE_PROTO__INIT;
	Tensorflow__TensorShapeProto__Dim dims[CK_MAX_DIMS], *dimp[CK_MAX_DIMS];
	for (int d = 0; d < e->ndim; d++) {
		tensorflow__tensor_shape_proto__dim__init(&dims[d]);
		dims[d].size = e->shape[d];
		dimp[d] = &dims[d];
	}
	shape.n_dim = (size_t)e->ndim;
	shape.dim = dimp;
	pe.dtype = (Tensorflow__DataType)e->tf_dtype;
	pe.shape = &shape;
	pe.shard_id = e->shard;
	pe.offset = (int64_t)e->offset;
	pe.size = (int64_t)e->size;
	pe.crc32c = e->crc32c;
	Tensorflow__TensorSliceProto *sl = NULL, **slp = NULL;
	Tensorflow__TensorSliceProto__Extent *ex = NULL, **exp = NULL;
	int rc = 0;
	if (e->nslices) {
		size_t nx = e->nslices * (size_t)(e->ndim ? e->ndim : 1);
		sl = ck_calloc(e->nslices, sizeof *sl);
		slp = ck_calloc(e->nslices, sizeof *slp);
		ex = ck_calloc(nx, sizeof *ex);
		exp = ck_calloc(nx, sizeof *exp);
		if (!sl || !slp || !ex || !exp)
			rc = -1;
		for (size_t k = 0; rc == 0 && k < e->nslices; k++) {
			tensorflow__tensor_slice_proto__init(&sl[k]);
			for (int d = 0; d < e->ndim; d++) {
				size_t j = k * (size_t)e->ndim + (size_t)d;
				tensorflow__tensor_slice_proto__extent__init(&ex[j]);
				if (e->ext[k][1][d] >= 0) {
					ex[j].start = e->ext[k][0][d];
					ex[j].has_length_case =
						TENSORFLOW__TENSOR_SLICE_PROTO__EXTENT__HAS_LENGTH_LENGTH;
					ex[j].length = e->ext[k][1][d];
				}
				exp[j] = &ex[j];
			}
			sl[k].n_extent = (size_t)e->ndim;
			sl[k].extent = exp + k * (size_t)e->ndim;
			slp[k] = &sl[k];
		}
		pe.n_slices = e->nslices;
		pe.slices = slp;
	}
	if (rc == 0) {
		*len = tensorflow__bundle_entry_proto__get_packed_size(&pe);
		*out = ck_malloc(*len);
		if (*out)
			tensorflow__bundle_entry_proto__pack(&pe, *out);
		else
			rc = -1;
	}
	free(sl);
	free(slp);
	free(ex);
	free(exp);
	return rc;
}

static int write_index(ck_bundle_writer *w)
{
	qsort(w->e, w->n, sizeof *w->e, cmp_entry);
	for (size_t i = 1; i < w->n; i++)
		if (cmp_entry(&w->e[i - 1], &w->e[i]) == 0)
			return ck_fail("%s: tensor %.*s added twice", w->prefix, (int)w->e[i].klen,
				       (const char *)w->e[i].key);
	char path[PATH_BUF];
	if (snprintf(path, sizeof path, "%s.index", w->prefix) >= (int)sizeof path)
		return ck_fail("%s: path too long", w->prefix);
	int fd = create_file(path);
	if (fd < 0)
		return ck_fail("%s: cannot create: %s", path, strerror(errno));
	ck_table_opts to = {.block_size = w->o.block_size, .snappy = w->o.snappy};
	ck_table_writer *tw = ck_table_writer_new(fd, path, &to);
	int rc = tw ? 0 : -1;

	Tensorflow__BundleHeaderProto h = TENSORFLOW__BUNDLE_HEADER_PROTO__INIT;
	Tensorflow__VersionDef v = TENSORFLOW__VERSION_DEF__INIT;
	v.producer = 1;
	h.num_shards = w->o.num_shards;
	h.endianness = w->o.big_endian ? TENSORFLOW__BUNDLE_HEADER_PROTO__ENDIANNESS__BIG
				       : TENSORFLOW__BUNDLE_HEADER_PROTO__ENDIANNESS__LITTLE;
	h.version = &v;
	unsigned char hb[64];
	size_t hl = tensorflow__bundle_header_proto__pack(&h, hb);
	if (rc == 0)
		rc = ck_table_writer_add(tw, "", 0, hb, hl);
	for (size_t i = 0; rc == 0 && i < w->n; i++) {
		unsigned char *val;
		size_t vlen;
		rc = pack_entry(&w->e[i], &val, &vlen);
		if (rc == 0) {
			rc = ck_table_writer_add(tw, w->e[i].key, w->e[i].klen, val, vlen);
			free(val);
		}
	}
	if (rc == 0)
		rc = ck_table_writer_finish(tw);
	ck_table_writer_free(tw);
	if (close(fd) < 0 && rc == 0)
		rc = ck_fail("%s: write error: %s", path, strerror(errno));
	return rc;
}

int ck_bundle_writer_finish(ck_bundle_writer *w)
{
	if (w->failed || w->finished || w->in_tensor)
		return ck_fail("%s: bundle writer misused or failed earlier", w->prefix);
	if (w->fd >= 0) {
		int rc = close(w->fd);
		w->fd = -1;
		if (rc < 0) {
			w->failed = 1;
			return ck_fail("%s: write error: %s", w->prefix, strerror(errno));
		}
	}
	if (write_index(w) < 0) {
		w->failed = 1;
		return -1;
	}
	w->finished = 1;
	return 0;
}

void ck_bundle_writer_free(ck_bundle_writer *w)
{
	if (!w)
		return;
	if (w->fd >= 0)
		close(w->fd);
	if (!w->finished && w->shard_off)
		remove_outputs(w);
	for (size_t i = 0; i < w->n; i++) {
		free(w->e[i].key);
		free(w->e[i].ext);
	}
	free(w->e);
	free(w->shard_off);
	free(w->prefix);
	free(w);
}
