/* torchload.c — see torchload.h. */
#include "torchload.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "pickle.h"
#include "strided.h"
#include "util.h"
#include "zipread.h"

static const char *const allowed_calls[] = {
	"torch._utils._rebuild_tensor_v2",
	"torch._utils._rebuild_tensor",
	"torch._utils._rebuild_parameter",
	"torch._utils._rebuild_parameter_with_state",
	"torch.Size",
	"numpy.core.multiarray._reconstruct",
	"numpy._core.multiarray._reconstruct",
	"numpy.dtype",
	NULL,
};

/* The legacy magic number 0x1950a86a20f9469cfc6c as LONG1 stores it. */
static const unsigned char legacy_magic[10] = {0x6c, 0xfc, 0x9c, 0x46, 0xf9,
					       0x20, 0x6a, 0xa8, 0x50, 0x19};

typedef struct {
	char *key;            /* NULL for in-memory (numpy) data */
	ck_dtype dtype;       /* of the first reference; sizes legacy records */
	uint64_t numel;       /* elements of dtype */
	uint64_t nbytes;
	int have_data;
	uint64_t file_off;
	const unsigned char *mem;
	int swap;
} storage;

typedef struct {
	size_t storage;
	ck_dtype dtype;
	uint64_t offset;  /* elements of dtype */
	uint64_t limit;   /* elements of dtype the view may reach */
	int ndim;
	int64_t shape[CK_MAX_DIMS], stride[CK_MAX_DIMS];
} view;

struct tl_file {
	char *label;
	int fd;
	uint64_t size;
	int legacy;
	int swap; /* file storages are big-endian */
	zr_archive *zip;
	char *top; /* zip: "archive/" */
	pk_doc *docs[5];
	pk_doc *main;
	storage *st;
	size_t nst, stcap;
	size_t *slots; /* hash of storage keys: index + 1, 0 = empty */
	size_t nslots;
	view *v;
	size_t nv, vcap;
	int32_t *view_of; /* per object of the main pickle: view index or -1 */
	tl_tensor *t;
	size_t *t_view;
	size_t nt, tcap;
	json_t *values;
};

int tl_probe(const void *head, size_t n)
{
	const unsigned char *h = head;
	if (n >= 4 && memcmp(h, "PK\3\4", 4) == 0)
		return 1;
	/* PROTO, a FRAME from protocol 4 on, then LONG1 of the magic number */
	size_t p = 2;
	if (n < p || h[0] != 0x80)
		return 0;
	if (n > p && h[p] == 0x95)
		p += 9;
	return n >= p + 12 && h[p] == 0x8a && h[p + 1] == 10 && memcmp(h + p + 2, legacy_magic, 10) == 0;
}

/* ---- storages ---- */

static uint64_t hash_str(const char *s)
{
	uint64_t h = 1469598103934665603ull;
	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 1099511628211ull;
	return h;
}

static long find_storage(const tl_file *f, const char *key)
{
	if (!f->nslots)
		return -1;
	for (size_t h = hash_str(key) & (f->nslots - 1);; h = (h + 1) & (f->nslots - 1)) {
		if (!f->slots[h])
			return -1;
		if (strcmp(f->st[f->slots[h] - 1].key, key) == 0)
			return (long)(f->slots[h] - 1);
	}
}

static int index_storage(tl_file *f, size_t i)
{
	if (2 * (i + 1) > f->nslots) {
		size_t n = f->nslots ? 2 * f->nslots : 64;
		size_t *s = ck_calloc(n, sizeof *s);
		if (!s)
			return -1;
		free(f->slots);
		f->slots = s;
		f->nslots = n;
		for (size_t k = 0; k < f->nst; k++)
			if (f->st[k].key && k != i)
				index_storage(f, k);
	}
	size_t h = hash_str(f->st[i].key) & (f->nslots - 1);
	while (f->slots[h])
		h = (h + 1) & (f->nslots - 1);
	f->slots[h] = i + 1;
	return 0;
}

static long new_storage(tl_file *f)
{
	if (f->nst == f->stcap) {
		size_t cap = f->stcap ? 2 * f->stcap : 64;
		storage *s = ck_realloc(f->st, cap * sizeof *s);
		if (!s)
			return -1;
		f->st = s;
		f->stcap = cap;
	}
	memset(&f->st[f->nst], 0, sizeof f->st[0]);
	return (long)f->nst++;
}

static int storage_dtype(const pk_obj *cls, ck_dtype *t)
{
	static const struct {
		const char *name;
		ck_dtype t;
	} map[] = {
		{"BoolStorage", CK_BOOL},  {"ByteStorage", CK_U8},   {"CharStorage", CK_I8},
		{"ShortStorage", CK_I16},  {"IntStorage", CK_I32},   {"LongStorage", CK_I64},
		{"HalfStorage", CK_F16},   {"BFloat16Storage", CK_BF16},
		{"FloatStorage", CK_F32},  {"DoubleStorage", CK_F64},
	};
	if (cls->kind != PK_GLOBAL ||
	    (strcmp(cls->u.g.module, "torch") != 0 && strcmp(cls->u.g.module, "torch.cuda") != 0))
		return -1;
	for (size_t i = 0; i < sizeof map / sizeof map[0]; i++)
		if (strcmp(cls->u.g.name, map[i].name) == 0) {
			*t = map[i].t;
			return 0;
		}
	return -1;
}

/* A persistent id ('storage', StorageClass, key, location, numel[, view
 * metadata]) → storage index, the element type and the window of it the
 * tensor may use (legacy storage views). */
static int resolve_storage(tl_file *f, const pk_obj *pid, size_t *idx, ck_dtype *dt,
			   uint64_t *win_off, uint64_t *win_len)
{
	const pk_obj *t = pid->u.pid;
	pk_obj *const *a = t->kind == PK_TUPLE ? t->u.seq.v : NULL;
	size_t n = a ? t->u.seq.n : 0;
	if (n < 5 || a[0]->kind != PK_STR || strcmp(a[0]->u.s.p, "storage") != 0 ||
	    a[2]->kind != PK_STR || !a[2]->u.s.n || a[4]->kind != PK_INT || a[4]->u.i < 0)
		return ck_fail("%s: malformed storage reference in the pickle", f->label);
	if (storage_dtype(a[1], dt) < 0)
		return ck_fail("%s: storage %s: unsupported storage type %s", f->label, a[2]->u.s.p,
			       a[1]->kind == PK_GLOBAL ? a[1]->u.g.qual : pk_kind_name(a[1]->kind));
	const char *key = a[2]->u.s.p;
	uint64_t numel = (uint64_t)a[4]->u.i, nbytes;
	if (ck_mul_u64(numel, ck_dtype_size(*dt), &nbytes) < 0)
		return ck_fail("%s: storage %s: size overflows", f->label, key);
	long s = find_storage(f, key);
	if (s >= 0) {
		storage *x = &f->st[s];
		if (x->nbytes != nbytes || (f->legacy && x->dtype != *dt))
			return ck_fail("%s: storage %s is referenced with two different sizes or types",
				       f->label, key);
	} else {
		if ((s = new_storage(f)) < 0)
			return -1;
		storage *x = &f->st[s];
		x->dtype = *dt;
		x->numel = numel;
		x->nbytes = nbytes;
		if (!(x->key = ck_strdup(key)) || index_storage(f, (size_t)s) < 0)
			return -1;
		if (f->zip) {
			size_t tl = strlen(f->top), kl = strlen(key);
			char *rec = ck_malloc(tl + 5 + kl + 1);
			if (!rec)
				return -1;
			memcpy(rec, f->top, tl);
			memcpy(rec + tl, "data/", 5);
			memcpy(rec + tl + 5, key, kl + 1);
			long r = zr_find(f->zip, rec);
			uint64_t off, size;
			int rc = r < 0 ? ck_fail("%s: storage %s: no record %s", f->label, key, rec)
				       : zr_stored_range(f->zip, zr_at(f->zip, (size_t)r), &off, &size);
			free(rec);
			if (rc < 0)
				return -1;
			if (size != nbytes)
				return ck_fail("%s: storage %s: its record holds %llu bytes but the pickle "
					       "says %llu",
					       f->label, key, (unsigned long long)size,
					       (unsigned long long)nbytes);
			x->file_off = off;
			x->have_data = 1;
			x->swap = f->swap;
		}
	}
	*idx = (size_t)s;
	*win_off = 0;
	*win_len = numel;
	if (n > 5 && a[5]->kind != PK_NONE) {
		/* Legacy storage view: (view key, offset, size) into the root. */
		const pk_obj *vm = a[5];
		if (vm->kind != PK_TUPLE || vm->u.seq.n != 3 || vm->u.seq.v[1]->kind != PK_INT ||
		    vm->u.seq.v[2]->kind != PK_INT || vm->u.seq.v[1]->u.i < 0 ||
		    vm->u.seq.v[2]->u.i < 0 ||
		    (uint64_t)vm->u.seq.v[1]->u.i > numel ||
		    (uint64_t)vm->u.seq.v[2]->u.i > numel - (uint64_t)vm->u.seq.v[1]->u.i)
			return ck_fail("%s: storage %s: malformed or out-of-range storage view", f->label,
				       key);
		*win_off = (uint64_t)vm->u.seq.v[1]->u.i;
		*win_len = (uint64_t)vm->u.seq.v[2]->u.i;
	}
	return 0;
}

/* ---- interpreting the allowed calls ---- */

static long new_view(tl_file *f)
{
	if (f->nv == f->vcap) {
		size_t cap = f->vcap ? 2 * f->vcap : 64;
		view *v = ck_realloc(f->v, cap * sizeof *v);
		if (!v)
			return -1;
		f->v = v;
		f->vcap = cap;
	}
	memset(&f->v[f->nv], 0, sizeof f->v[0]);
	return (long)f->nv++;
}

/* A tuple of non-negative ints (also through torch.Size(...)). */
static int int_tuple(const pk_obj *o, int64_t *out, int *n)
{
	if (pk_is_call(o, "torch.Size") && o->u.call.args->u.seq.n == 1)
		o = o->u.call.args->u.seq.v[0];
	if ((o->kind != PK_TUPLE && o->kind != PK_LIST) || o->u.seq.n > CK_MAX_DIMS)
		return -1;
	for (size_t i = 0; i < o->u.seq.n; i++) {
		if (o->u.seq.v[i]->kind != PK_INT || o->u.seq.v[i]->u.i < 0)
			return -1;
		out[i] = o->u.seq.v[i]->u.i;
	}
	*n = (int)o->u.seq.n;
	return 0;
}

static int rebuild_tensor(tl_file *f, const pk_obj *call)
{
	pk_obj *const *a = call->u.call.args->u.seq.v;
	size_t n = call->u.call.args->u.seq.n;
	int nd, ns;
	int64_t shape[CK_MAX_DIMS], stride[CK_MAX_DIMS];
	if (n < 4 || a[0]->kind != PK_PERSID || a[1]->kind != PK_INT || a[1]->u.i < 0 ||
	    int_tuple(a[2], shape, &nd) < 0 || int_tuple(a[3], stride, &ns) < 0 || nd != ns)
		return ck_fail("%s: malformed tensor (%s arguments) in the pickle", f->label,
			       call->u.call.fn->u.g.name);
	size_t s = 0;
	ck_dtype dt = CK_U8;
	uint64_t woff = 0, wlen = 0;
	if (resolve_storage(f, a[0], &s, &dt, &woff, &wlen) < 0)
		return -1;
	long v = new_view(f);
	if (v < 0)
		return -1;
	view *x = &f->v[v];
	x->storage = s;
	x->dtype = dt;
	x->offset = (uint64_t)a[1]->u.i;
	x->limit = wlen;
	x->ndim = nd;
	memcpy(x->shape, shape, sizeof shape);
	memcpy(x->stride, stride, sizeof stride);
	if (ck_add_u64(x->offset, woff, &x->offset) < 0 || ck_add_u64(x->limit, woff, &x->limit) < 0)
		return ck_fail("%s: storage view offset overflows", f->label);
	f->view_of[call->id] = (int32_t)v;
	return 0;
}

/* numpy: _reconstruct(ndarray, (0,), b'b') then BUILD((version,) shape,
 * dtype, is_fortran, data). Numeric arrays become in-memory tensors; any
 * other array (object, strings) stays an inert value. */
static int numpy_array(tl_file *f, const pk_obj *call)
{
	const pk_obj *st = call->u.call.state;
	if (!st || st->kind != PK_TUPLE || (st->u.seq.n != 5 && st->u.seq.n != 4))
		return 0;
	pk_obj *const *a = st->u.seq.v + (st->u.seq.n - 4);
	const pk_obj *dt = a[1], *data = a[3];
	if (!pk_is_call(dt, "numpy.dtype") || dt->u.call.args->u.seq.n < 1 ||
	    dt->u.call.args->u.seq.v[0]->kind != PK_STR || a[2]->kind != PK_BOOL ||
	    data->kind != PK_BYTES)
		return 0;
	const char *code = dt->u.call.args->u.seq.v[0]->u.s.p;
	char order = '|';
	const pk_obj *ds = dt->u.call.state;
	if (ds && ds->kind == PK_TUPLE && ds->u.seq.n >= 2 && ds->u.seq.v[1]->kind == PK_STR)
		order = ds->u.seq.v[1]->u.s.p[0];
	static const struct {
		const char *code;
		ck_dtype t;
	} map[] = {{"b1", CK_BOOL}, {"i1", CK_I8},  {"i2", CK_I16}, {"i4", CK_I32},
		   {"i8", CK_I64},  {"u1", CK_U8},  {"u2", CK_U16}, {"u4", CK_U32},
		   {"u8", CK_U64},  {"f2", CK_F16}, {"f4", CK_F32}, {"f8", CK_F64}};
	long type = -1;
	for (size_t i = 0; i < sizeof map / sizeof map[0]; i++)
		if (strcmp(code, map[i].code) == 0)
			type = (long)i;
	int nd;
	int64_t shape[CK_MAX_DIMS];
	if (type < 0 || int_tuple(a[0], shape, &nd) < 0)
		return 0;
	ck_dtype t = map[type].t;
	size_t es = ck_dtype_size(t);
	uint64_t nbytes;
	if (ck_shape_nbytes(t, nd, shape, &nbytes) < 0 || nbytes != data->u.s.n)
		return ck_fail("%s: numpy array in the pickle: %zu data bytes do not match its shape",
			       f->label, data->u.s.n);
	long s = new_storage(f), v = s < 0 ? -1 : new_view(f);
	if (v < 0)
		return -1;
	storage *x = &f->st[s];
	x->dtype = t;
	x->numel = nbytes / es;
	x->nbytes = nbytes;
	x->have_data = 1;
	x->mem = (const unsigned char *)data->u.s.p;
	x->swap = order == '>' && es > 1;
	view *w = &f->v[v];
	w->storage = (size_t)s;
	w->dtype = t;
	w->limit = x->numel;
	w->ndim = nd;
	memcpy(w->shape, shape, sizeof shape);
	int64_t acc = 1;
	for (int i = 0; i < nd; i++) {
		int k = a[2]->u.i ? i : nd - 1 - i;
		w->stride[k] = acc;
		acc *= shape[k] ? shape[k] : 1;
	}
	f->view_of[call->id] = (int32_t)v;
	return 0;
}

static int interpret(tl_file *f)
{
	size_t n = pk_object_count(f->main);
	if (!(f->view_of = ck_malloc((n ? n : 1) * sizeof *f->view_of)))
		return -1;
	for (size_t i = 0; i < n; i++)
		f->view_of[i] = -1;
	/* Creation order: a call's arguments exist (and are interpreted)
	 * before the call. */
	for (size_t i = 0; i < n; i++) {
		const pk_obj *o = pk_object(f->main, i);
		if (o->kind != PK_CALL || (o->flags & PK_NEWOBJ))
			continue;
		const char *q = o->u.call.fn->u.g.qual;
		if (strcmp(q, "torch._utils._rebuild_tensor_v2") == 0 ||
		    strcmp(q, "torch._utils._rebuild_tensor") == 0) {
			if (rebuild_tensor(f, o) < 0)
				return -1;
		} else if (strcmp(q, "torch._utils._rebuild_parameter") == 0 ||
			   strcmp(q, "torch._utils._rebuild_parameter_with_state") == 0) {
			const pk_obj *arg = o->u.call.args->u.seq.n ? o->u.call.args->u.seq.v[0] : NULL;
			if (!arg || f->view_of[arg->id] < 0)
				return ck_fail("%s: %s of something that is not a tensor", f->label,
					       o->u.call.fn->u.g.name);
			f->view_of[o->id] = f->view_of[arg->id];
		} else if (strstr(q, "multiarray._reconstruct")) {
			if (numpy_array(f, o) < 0)
				return -1;
		}
	}
	return 0;
}

/* ---- naming and JSON ---- */

typedef struct {
	const pk_obj *o;
	json_t *j;
	size_t next;  /* next child */
	size_t plen;  /* path length of this container */
} frame;

typedef struct {
	tl_file *f;
	char *path;
	size_t plen, pcap;
	frame *fr;
	size_t nfr, frcap;
	int32_t *frame_of; /* object id → frame index + 1 while on the path */
	unsigned char *seen; /* object id → visited before */
	uint64_t revisits;
} walker;

static int path_push(walker *w, const char *comp, size_t n)
{
	size_t need = w->plen + (w->plen ? 1 : 0) + n + 1;
	if (need > 65536)
		return ck_fail("%s: a value nested too deep to name (path over 64 KiB)", w->f->label);
	if (need > w->pcap) {
		size_t cap = need * 2;
		char *p = ck_realloc(w->path, cap);
		if (!p)
			return -1;
		w->path = p;
		w->pcap = cap;
	}
	if (w->plen)
		w->path[w->plen++] = '/';
	memcpy(w->path + w->plen, comp, n);
	w->plen += n;
	w->path[w->plen] = 0;
	return 0;
}

/* The current path for a message: "(top)", or at most ~100 characters. */
static const char *cur_path(walker *w)
{
	if (!w->plen)
		return "(top)";
	if (w->plen > 100)
		memcpy(w->path + 96, "...", 4);
	return w->path;
}

static int valid_utf8(const unsigned char *s, size_t n)
{
	for (size_t i = 0; i < n;) {
		unsigned c = s[i++];
		int more;
		unsigned min;
		if (c < 0x80)
			continue;
		if ((c & 0xe0) == 0xc0)
			more = 1, min = 0x80, c &= 0x1f;
		else if ((c & 0xf0) == 0xe0)
			more = 2, min = 0x800, c &= 0x0f;
		else if ((c & 0xf8) == 0xf0)
			more = 3, min = 0x10000, c &= 0x07;
		else
			return 0;
		if (n - i < (size_t)more)
			return 0;
		for (int k = 0; k < more; k++) {
			if ((s[i] & 0xc0) != 0x80)
				return 0;
			c = c << 6 | (s[i++] & 0x3f);
		}
		if (c < min || c > 0x10ffff || (c >= 0xd800 && c <= 0xdfff))
			return 0;
	}
	return 1;
}

static void hex(const unsigned char *p, size_t n, char *out)
{
	static const char d[] = "0123456789abcdef";
	for (size_t i = 0; i < n; i++) {
		out[2 * i] = d[p[i] >> 4];
		out[2 * i + 1] = d[p[i] & 15];
	}
	out[2 * n] = 0;
}

/* A big int as "0x..." / "-0x..." (magnitude, most significant first). */
static char *bigint_text(const pk_obj *o)
{
	size_t n = o->u.s.n;
	const unsigned char *p = (const unsigned char *)o->u.s.p;
	int neg = p[n - 1] & 0x80;
	unsigned char *mag = ck_malloc(n);
	char *out = ck_malloc(2 * n + 4);
	if (!mag || !out) {
		free(mag);
		free(out);
		return NULL;
	}
	unsigned carry = 1;
	for (size_t i = 0; i < n; i++) { /* two's complement → magnitude, big-endian */
		unsigned b = neg ? (unsigned)(unsigned char)~p[i] + carry : p[i];
		carry = neg ? b >> 8 : 0;
		mag[n - 1 - i] = (unsigned char)b;
	}
	size_t skip = 0;
	while (skip + 1 < n && mag[skip] == 0)
		skip++;
	strcpy(out, neg ? "-0x" : "0x");
	char *digits = out + strlen(out);
	hex(mag + skip, n - skip, digits);
	if (digits[0] == '0' && digits[1]) /* one leading zero nibble */
		memmove(digits, digits + 1, strlen(digits));
	free(mag);
	return out;
}

/* Python's repr of a float: the shortest text that reads back the same. */
static void float_repr(double v, char *buf, size_t cap)
{
	for (int prec = 1; prec <= 17; prec++) {
		snprintf(buf, cap, "%.*g", prec, v);
		if (strtod(buf, NULL) == v)
			break;
	}
	if (!strpbrk(buf, ".eninf"))
		strncat(buf, ".0", cap - strlen(buf) - 1);
}

/* A dict key as a name part / JSON key; NULL (with a message) if the key's
 * type has no text form. *tmp receives an allocation to free. */
static const char *key_text(walker *w, const pk_obj *k, size_t *n, char *buf, size_t cap,
			    char **tmp)
{
	*tmp = NULL;
	switch (k->kind) {
	case PK_STR:
		if (!valid_utf8((const unsigned char *)k->u.s.p, k->u.s.n) || memchr(k->u.s.p, 0, k->u.s.n)) {
			ck_fail("%s: %s: a dict key is not valid UTF-8 text", w->f->label, cur_path(w));
			return NULL;
		}
		*n = k->u.s.n;
		return k->u.s.p;
	case PK_INT:
		snprintf(buf, cap, "%lld", (long long)k->u.i);
		break;
	case PK_BOOL:
		snprintf(buf, cap, "%s", k->u.i ? "true" : "false");
		break;
	case PK_NONE:
		snprintf(buf, cap, "null");
		break;
	case PK_FLOAT:
		float_repr(k->u.f, buf, cap);
		break;
	case PK_BIGINT:
		if (!(*tmp = bigint_text(k)))
			return NULL;
		*n = strlen(*tmp);
		return *tmp;
	default:
		ck_fail("%s: %s: a dict key of type %s is not supported", w->f->label, cur_path(w),
			pk_kind_name(k->kind));
		return NULL;
	}
	*n = strlen(buf);
	return buf;
}

static json_t *tagged(const char *tag, json_t *v)
{
	json_t *o = json_object();
	if (o && v && json_object_set_new(o, tag, v) == 0)
		return o;
	json_decref(o);
	json_decref(v);
	return NULL;
}

static int add_tensor(walker *w, int32_t v, json_t **out)
{
	tl_file *f = w->f;
	const view *x = &f->v[v];
	if (f->nt == f->tcap) {
		size_t cap = f->tcap ? 2 * f->tcap : 64;
		tl_tensor *t = ck_realloc(f->t, cap * sizeof *t);
		size_t *tv = t ? ck_realloc(f->t_view, cap * sizeof *tv) : NULL;
		if (t)
			f->t = t;
		if (!tv)
			return -1;
		f->t_view = tv;
		f->tcap = cap;
	}
	tl_tensor *t = &f->t[f->nt];
	memset(t, 0, sizeof *t);
	if (!(t->name = ck_strdup(w->plen ? w->path : "tensor")))
		return -1;
	f->t_view[f->nt++] = (size_t)v;
	t->dtype = x->dtype;
	t->ndim = x->ndim;
	memcpy(t->shape, x->shape, sizeof t->shape);
	json_t *shape = json_array();
	for (int i = 0; shape && i < x->ndim; i++)
		json_array_append_new(shape, json_integer(x->shape[i]));
	json_t *o = tagged("__tensor__", json_string(t->name));
	if (!o || !shape || json_object_set_new(o, "dtype", json_string(ck_dtype_name(x->dtype))) ||
	    json_object_set_new(o, "shape", shape)) {
		json_decref(o);
		return ck_fail("%s: out of memory", f->label);
	}
	*out = o;
	return 0;
}

/* The JSON of a leaf value; containers get an empty JSON container and a
 * frame (the caller pushes it). */
static int visit(walker *w, const pk_obj **op, json_t **out, int *container)
{
	tl_file *f = w->f;
	const pk_obj *o = *op;
	*container = 0;
	if (pk_is_call(o, "torch.Size") && o->u.call.args->u.seq.n == 1)
		*op = o = o->u.call.args->u.seq.v[0];
	if (w->seen[o->id] && ++w->revisits > TL_MAX_REVISITS)
		return ck_fail("%s: the pickle's values expand to more than %u repeated items through "
			       "shared references",
			       f->label, TL_MAX_REVISITS);
	w->seen[o->id] = 1;
	if (o->kind == PK_CALL && f->view_of[o->id] >= 0)
		return add_tensor(w, f->view_of[o->id], out);
	switch (o->kind) {
	case PK_NONE:
		*out = json_null();
		return 0;
	case PK_BOOL:
		*out = json_boolean(o->u.i);
		return 0;
	case PK_INT:
		*out = json_integer(o->u.i);
		return 0;
	case PK_BIGINT: {
		char *t = bigint_text(o);
		*out = t ? tagged("__int__", json_string(t)) : NULL;
		free(t);
		return *out ? 0 : -1;
	}
	case PK_FLOAT:
		*out = isfinite(o->u.f) ? json_real(o->u.f)
					: tagged("__float__", json_string(isnan(o->u.f) ? "nan"
									  : o->u.f > 0  ? "inf"
											: "-inf"));
		return 0;
	case PK_STR:
		if (!(*out = json_stringn(o->u.s.p, o->u.s.n)))
			return ck_fail("%s: %s: a string is not valid UTF-8", f->label, cur_path(w));
		return 0;
	case PK_BYTES: {
		char *t = ck_malloc(2 * o->u.s.n + 1);
		if (!t)
			return -1;
		hex((const unsigned char *)o->u.s.p, o->u.s.n, t);
		*out = tagged("__bytes__", json_string(t));
		free(t);
		return 0;
	}
	case PK_GLOBAL:
		if (!(*out = tagged("__global__", json_string(o->u.g.qual))))
			return ck_fail("%s: %s: a global name is not valid UTF-8", f->label,
				       cur_path(w));
		return 0;
	default:
		break;
	}
	int32_t fi = w->frame_of[o->id];
	if (fi) {
		const frame *a = &w->fr[fi - 1];
		char *p = ck_malloc(a->plen + 1);
		if (!p)
			return -1;
		memcpy(p, w->path, a->plen);
		p[a->plen] = 0;
		*out = tagged("__cycle__", json_string(a->plen ? p : "(top)"));
		free(p);
		return 0;
	}
	if (w->nfr >= PK_MAX_DEPTH)
		return ck_fail("%s: values nested deeper than %d levels (at %s)", f->label,
			       PK_MAX_DEPTH, cur_path(w));
	*container = 1;
	if (o->kind == PK_DICT || o->kind == PK_CALL || o->kind == PK_PERSID)
		*out = json_object();
	else
		*out = json_array();
	if (o->kind == PK_CALL &&
	    json_object_set_new(*out, (o->flags & PK_NEWOBJ) ? "__class__" : "__call__",
				json_string(o->u.call.fn->u.g.qual)) < 0) {
		json_decref(*out);
		return ck_fail("%s: %s: the name of a class is not valid UTF-8", f->label,
			       cur_path(w));
	}
	return 0;
}

/* The next child of a container: its node, its JSON key (NULL for an array
 * element), and its name part (NULL: adds nothing to the path). */
static int next_child(walker *w, frame *fr, const pk_obj **child, const char **jkey,
		      const char **comp, size_t *clen, char *buf, size_t cap, char **tmp, int *done)
{
	const pk_obj *o = fr->o;
	*tmp = NULL;
	*done = 0;
	*jkey = *comp = NULL;
	size_t i = fr->next++;
	switch (o->kind) {
	case PK_DICT:
		if (2 * i >= o->u.seq.n)
			break;
		*child = o->u.seq.v[2 * i + 1];
		if (!(*comp = key_text(w, o->u.seq.v[2 * i], clen, buf, cap, tmp)))
			return -1;
		*jkey = *comp;
		return 0;
	case PK_LIST:
	case PK_TUPLE:
	case PK_SET:
		if (i >= o->u.seq.n)
			break;
		*child = o->u.seq.v[i];
		snprintf(buf, cap, "%zu", i);
		*comp = buf;
		*clen = strlen(buf);
		return 0;
	case PK_PERSID:
		if (i > 0)
			break;
		*child = o->u.pid;
		*jkey = "__persid__";
		return 0;
	case PK_CALL: {
		/* args, kwargs, state, items — the present ones, in that order */
		const pk_obj *parts[4] = {o->u.call.args, o->u.call.kwargs, o->u.call.state,
					  o->u.call.items};
		static const char *const keys[4] = {"__args__", "__kwargs__", "__state__", "__items__"};
		while (i < 4 && !parts[i])
			i = fr->next++;
		if (i >= 4)
			break;
		*child = parts[i];
		*jkey = keys[i];
		if (i < 2) { /* arguments are named under their key; state and
				items stand for the object itself */
			*comp = keys[i];
			*clen = strlen(keys[i]);
		}
		return 0;
	}
	default:
		break;
	}
	*done = 1;
	return 0;
}

static int attach(json_t *parent, const char *jkey, size_t klen, json_t *v)
{
	if (!v)
		return -1;
	if (json_is_array(parent))
		return json_array_append_new(parent, v);
	return json_object_setn_new(parent, jkey, klen, v);
}

static int push_frame(walker *w, const pk_obj *o, json_t *j)
{
	if (w->nfr == w->frcap) {
		size_t cap = w->frcap ? 2 * w->frcap : 64;
		frame *fr = ck_realloc(w->fr, cap * sizeof *fr);
		if (!fr)
			return -1;
		w->fr = fr;
		w->frcap = cap;
	}
	w->fr[w->nfr] = (frame){o, j, 0, w->plen};
	w->frame_of[o->id] = (int32_t)++w->nfr;
	return 0;
}

static int walk(tl_file *f)
{
	walker w = {.f = f};
	int rc = -1;
	size_t n = pk_object_count(f->main);
	if (!(w.frame_of = ck_calloc(n ? n : 1, sizeof *w.frame_of)) ||
	    !(w.seen = ck_calloc(n ? n : 1, 1)) || path_push(&w, "", 0) < 0)
		goto out;
	w.plen = 0;
	json_t *root;
	const pk_obj *top = pk_root(f->main);
	int container;
	if (visit(&w, &top, &root, &container) < 0)
		goto out;
	f->values = root;
	if (!root || (container && push_frame(&w, top, root) < 0))
		goto out;
	while (w.nfr) {
		frame *fr = &w.fr[w.nfr - 1];
		const pk_obj *child;
		const char *jkey, *comp;
		size_t clen = 0;
		char buf[64], *tmp;
		int done;
		w.plen = fr->plen;
		w.path[w.plen] = 0;
		if (next_child(&w, fr, &child, &jkey, &comp, &clen, buf, sizeof buf, &tmp, &done) < 0)
			goto out;
		if (done) {
			w.frame_of[fr->o->id] = 0;
			w.nfr--;
			continue;
		}
		json_t *parent = fr->j, *v;
		size_t klen = jkey == comp ? clen : jkey ? strlen(jkey) : 0;
		int r = comp ? path_push(&w, comp, clen) : 0;
		if (r == 0)
			r = visit(&w, &child, &v, &container);
		if (r == 0 && attach(parent, jkey, klen, v) < 0)
			r = ck_fail("%s: %s: cannot represent a value as JSON", f->label, cur_path(&w));
		free(tmp);
		if (r < 0 || (container && push_frame(&w, child, v) < 0))
			goto out;
	}
	rc = 0;
out:
	free(w.path);
	free(w.fr);
	free(w.frame_of);
	free(w.seen);
	return rc;
}

/* ---- validation after naming ---- */

static const tl_file *g_sort; /* qsort has no context argument */
static int cmp_tname(const void *a, const void *b)
{
	return strcmp(g_sort->t[*(const size_t *)a].name, g_sort->t[*(const size_t *)b].name);
}

static int check_tensors(tl_file *f)
{
	for (size_t i = 0; i < f->nt; i++) {
		tl_tensor *t = &f->t[i];
		const view *x = &f->v[f->t_view[i]];
		const storage *s = &f->st[x->storage];
		size_t es = ck_dtype_size(x->dtype);
		uint64_t lo, hi, limit = x->limit;
		char shp[256];
		if (s->nbytes % es || (s->nbytes / es) < limit)
			limit = s->nbytes / es;
		if (ck_shape_nbytes(t->dtype, t->ndim, t->shape, &t->nbytes) < 0)
			return ck_fail("%s: tensor %s: shape size overflows", f->label, t->name);
		if (sv_check(x->ndim, x->shape, x->stride, x->offset, limit, &lo, &hi) < 0) {
			ck_shape_format(x->ndim, x->stride, shp, sizeof shp);
			return ck_fail("%s: tensor %s: view (offset %llu, strides [%s]) reaches outside "
				       "its storage %s of %llu elements",
				       f->label, t->name, (unsigned long long)x->offset, shp,
				       s->key ? s->key : "(numpy array)", (unsigned long long)limit);
		}
		if (t->nbytes > f->size && t->nbytes > TL_MAX_EXPANDED)
			return ck_fail("%s: tensor %s: an expanded view of %llu bytes from a %llu-byte "
				       "file; refused",
				       f->label, t->name, (unsigned long long)t->nbytes,
				       (unsigned long long)f->size);
	}
	size_t *idx = ck_malloc((f->nt ? f->nt : 1) * sizeof *idx);
	if (!idx)
		return -1;
	for (size_t i = 0; i < f->nt; i++)
		idx[i] = i;
	g_sort = f;
	qsort(idx, f->nt, sizeof *idx, cmp_tname);
	for (size_t i = 1; i < f->nt; i++)
		if (strcmp(f->t[idx[i - 1]].name, f->t[idx[i]].name) == 0) {
			ck_fail("%s: tensor %s: two different values have this name", f->label,
				f->t[idx[i]].name);
			free(idx);
			return -1;
		}
	free(idx);
	return 0;
}

/* ---- the two containers ---- */

static int open_zip(tl_file *f)
{
	if (!(f->zip = zr_open(f->fd, f->size, f->label)))
		return -1;
	const zr_entry *pkl = NULL;
	for (size_t i = 0; i < zr_count(f->zip); i++) {
		const zr_entry *e = zr_at(f->zip, i);
		const char *slash = strchr(e->name, '/');
		if (slash && strcmp(slash, "/data.pkl") == 0) {
			if (pkl)
				return ck_fail("%s: two data.pkl records", f->label);
			pkl = e;
		}
	}
	if (!pkl)
		return ck_fail("%s: a zip archive without <folder>/data.pkl: not a PyTorch checkpoint",
			       f->label);
	size_t tl = (size_t)(strchr(pkl->name, '/') - pkl->name) + 1;
	if (!(f->top = ck_malloc(tl + 1)))
		return -1;
	memcpy(f->top, pkl->name, tl);
	f->top[tl] = 0;
	uint64_t off, size;
	for (size_t i = 0; i < zr_count(f->zip); i++) {
		const zr_entry *e = zr_at(f->zip, i);
		if (strncmp(e->name, f->top, tl) != 0)
			return ck_fail("%s: record %s is outside the top folder %s", f->label, e->name,
				       f->top);
		if (zr_stored_range(f->zip, e, &off, &size) < 0)
			return -1;
	}
	char name[4096];
	snprintf(name, sizeof name, "%sbyteorder", f->top);
	long bo = zr_find(f->zip, name);
	if (bo >= 0) {
		char text[8] = {0};
		if (zr_stored_range(f->zip, zr_at(f->zip, (size_t)bo), &off, &size) < 0)
			return -1;
		if (size > 6 || ck_pread_full(f->fd, text, (size_t)size, off, f->label) < 0 ||
		    (strcmp(text, "little") != 0 && strcmp(text, "big") != 0))
			return ck_fail("%s: record %s is neither 'little' nor 'big'", f->label, name);
		f->swap = strcmp(text, "big") == 0;
	}
	zr_stored_range(f->zip, pkl, &off, &size);
	if (size > TL_MAX_PICKLE)
		return ck_fail("%s: data.pkl of %llu bytes is larger than the %llu accepted", f->label,
			       (unsigned long long)size, TL_MAX_PICKLE);
	unsigned char *buf = ck_malloc((size_t)size);
	size_t llen = strlen(f->label) + strlen(pkl->name) + 3;
	char *label = ck_malloc(llen);
	if (!buf || !label) {
		free(buf);
		free(label);
		return -1;
	}
	snprintf(label, llen, "%s: %s", f->label, pkl->name);
	size_t used = 0;
	int rc = ck_pread_full(f->fd, buf, (size_t)size, off, f->label);
	if (rc == 0)
		rc = pk_load(buf, (size_t)size, label, allowed_calls, &f->docs[0], &used) < 0 ? -1 : 0;
	free(buf);
	free(label);
	if (rc < 0)
		return -1;
	if (used != size)
		return ck_fail("%s: %llu bytes after the end of data.pkl's pickle", f->label,
			       (unsigned long long)(size - used));
	f->main = f->docs[0];
	return interpret(f);
}

/* The five legacy pickles, from a prefix of the file that grows until they
 * fit. Returns the offset where the storage data starts, or -1. */
static int64_t load_legacy_pickles(tl_file *f)
{
	size_t want = f->size < (1u << 20) ? (size_t)f->size : (1u << 20);
	for (;;) {
		unsigned char *buf = ck_malloc(want);
		if (!buf || ck_pread_full(f->fd, buf, want, 0, f->label) < 0) {
			free(buf);
			return -1;
		}
		size_t pos = 0, used;
		int rc = 0, k;
		for (k = 0; k < 5 && rc == 0; k++) {
			const char *const *allow = k == 3 ? allowed_calls : NULL;
			rc = pk_load(buf + pos, want - pos, f->label, allow, &f->docs[k], &used);
			if (rc == 0)
				pos += used;
		}
		free(buf);
		if (rc == 0)
			return (int64_t)pos;
		for (k = 0; k < 5; k++) {
			pk_free(f->docs[k]);
			f->docs[k] = NULL;
		}
		if (rc != PK_TRUNCATED || want == f->size)
			return -1;
		if (want >= TL_MAX_PICKLE)
			return ck_fail("%s: the legacy pickles are larger than %llu bytes", f->label,
				       TL_MAX_PICKLE);
		want = f->size - want < want ? (size_t)f->size : 2 * want;
	}
}

static int open_legacy(tl_file *f)
{
	int64_t data = load_legacy_pickles(f);
	if (data < 0)
		return -1;
	const pk_obj *magic = pk_root(f->docs[0]), *proto = pk_root(f->docs[1]),
		     *sys = pk_root(f->docs[2]), *keys = pk_root(f->docs[4]);
	if (magic->kind != PK_BIGINT || magic->u.s.n != 10 || memcmp(magic->u.s.p, legacy_magic, 10))
		return ck_fail("%s: not a PyTorch legacy file (bad magic number)", f->label);
	if (proto->kind != PK_INT || proto->u.i != 1001)
		return ck_fail("%s: unsupported legacy protocol version", f->label);
	if (sys->kind == PK_DICT)
		for (size_t i = 0; i + 1 < sys->u.seq.n; i += 2) {
			const pk_obj *k = sys->u.seq.v[i], *v = sys->u.seq.v[i + 1];
			if (k->kind == PK_STR && strcmp(k->u.s.p, "little_endian") == 0 &&
			    v->kind == PK_BOOL)
				f->swap = !v->u.i;
		}
	f->main = f->docs[3];
	if (interpret(f) < 0)
		return -1;
	if (keys->kind != PK_LIST)
		return ck_fail("%s: the storage key list is not a list", f->label);
	uint64_t pos = (uint64_t)data;
	for (size_t i = 0; i < keys->u.seq.n; i++) {
		const pk_obj *k = keys->u.seq.v[i];
		long s = k->kind == PK_STR ? find_storage(f, k->u.s.p) : -1;
		if (s < 0)
			return ck_fail("%s: storage key list names %s, which no tensor uses", f->label,
				       k->kind == PK_STR ? k->u.s.p : "a non-string");
		storage *x = &f->st[s];
		unsigned char cnt[8];
		if (x->have_data)
			return ck_fail("%s: storage %s listed twice", f->label, x->key);
		if (f->size - pos < 8 || ck_pread_full(f->fd, cnt, 8, pos, f->label) < 0)
			return ck_fail("%s: storage %s: file ends before its size", f->label, x->key);
		uint64_t count = 0;
		for (int b = 7; b >= 0; b--)
			count = count << 8 | cnt[b];
		if (count != x->numel)
			return ck_fail("%s: storage %s: the file says %llu elements, the pickle %llu",
				       f->label, x->key, (unsigned long long)count,
				       (unsigned long long)x->numel);
		pos += 8;
		if (f->size - pos < x->nbytes)
			return ck_fail("%s: storage %s: %llu bytes claimed but only %llu left in the file",
				       f->label, x->key, (unsigned long long)x->nbytes,
				       (unsigned long long)(f->size - pos));
		x->file_off = pos;
		x->have_data = 1;
		x->swap = f->swap;
		pos += x->nbytes;
	}
	for (size_t i = 0; i < f->nst; i++)
		if (!f->st[i].have_data)
			return ck_fail("%s: storage %s has no data in the file", f->label, f->st[i].key);
	if (pos != f->size)
		return ck_fail("%s: %llu unexpected bytes after the last storage", f->label,
			       (unsigned long long)(f->size - pos));
	return 0;
}

tl_file *tl_open(const char *path)
{
	tl_file *f = ck_calloc(1, sizeof *f);
	if (!f)
		return NULL;
	f->fd = -1;
	struct stat st;
	unsigned char head[32];
	if (!(f->label = ck_strdup(path)))
		goto fail;
	if ((f->fd = open(path, O_RDONLY | O_CLOEXEC)) < 0 || fstat(f->fd, &st) < 0) {
		ck_fail("%s: %s", path, strerror(errno));
		goto fail;
	}
	if (!S_ISREG(st.st_mode)) {
		ck_fail("%s: not a regular file", path);
		goto fail;
	}
	f->size = (uint64_t)st.st_size;
	size_t hn = f->size < sizeof head ? (size_t)f->size : sizeof head;
	if (ck_pread_full(f->fd, head, hn, 0, path) < 0)
		goto fail;
	if (!tl_probe(head, hn)) {
		ck_fail("%s: not a PyTorch checkpoint (neither a zip nor a legacy torch.save file)",
			path);
		goto fail;
	}
	f->legacy = head[0] == 0x80;
	if ((f->legacy ? open_legacy(f) : open_zip(f)) < 0 || walk(f) < 0 || check_tensors(f) < 0)
		goto fail;
	return f;
fail:
	tl_close(f);
	return NULL;
}

void tl_close(tl_file *f)
{
	if (!f)
		return;
	if (f->fd >= 0)
		close(f->fd);
	zr_close(f->zip);
	for (int k = 0; k < 5; k++)
		pk_free(f->docs[k]);
	for (size_t i = 0; i < f->nst; i++)
		free(f->st[i].key);
	for (size_t i = 0; i < f->nt; i++)
		free(f->t[i].name);
	json_decref(f->values);
	free(f->st);
	free(f->slots);
	free(f->v);
	free(f->view_of);
	free(f->t);
	free(f->t_view);
	free(f->top);
	free(f->label);
	free(f);
}

const char *tl_format(const tl_file *f) { return f->legacy ? "legacy" : "zip"; }
size_t tl_count(const tl_file *f) { return f->nt; }
const tl_tensor *tl_at(const tl_file *f, size_t i) { return i < f->nt ? &f->t[i] : NULL; }
const json_t *tl_values(const tl_file *f) { return f->values; }

void tl_layout(const tl_file *f, size_t i, const char **storage, uint64_t *offset,
	       const int64_t **stride)
{
	const view *x = &f->v[f->t_view[i]];
	*storage = f->st[x->storage].key;
	*offset = x->offset;
	*stride = x->stride;
}

int tl_read(tl_file *f, size_t i, void *dst)
{
	if (i >= f->nt)
		return ck_fail("%s: no tensor %zu", f->label, i);
	const tl_tensor *t = &f->t[i];
	const view *x = &f->v[f->t_view[i]];
	const storage *s = &f->st[x->storage];
	size_t es = ck_dtype_size(x->dtype);
	char label[4096];
	snprintf(label, sizeof label, "%s: tensor %s", f->label, t->name);
	if (s->mem)
		sv_gather(dst, s->mem, es, x->ndim, x->shape, x->stride, x->offset);
	else if (sv_read(f->fd, s->file_off, dst, es, x->ndim, x->shape, x->stride, x->offset,
			 label) < 0)
		return -1;
	if (s->swap)
		sv_byteswap(dst, t->nbytes / es, es);
	return 0;
}
