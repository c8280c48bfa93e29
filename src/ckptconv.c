/* ckptconv.c — the public API (ckptconv.h) over the internal modules:
 * source.h for checkpoints, safetensors.h for streams and safetensors
 * output, torchsave.h for PyTorch output. */
#include "ckptconv.h"

#include <stdlib.h>
#include <string.h>

#include "dtype.h"
#include "safetensors.h"
#include "source.h"
#include "torchsave.h"
#include "util.h"

/* The public enum is the internal one, value for value. */
_Static_assert(CKPT_BOOL == (int)CK_BOOL && CKPT_U8 == (int)CK_U8 && CKPT_I8 == (int)CK_I8 &&
		       CKPT_I16 == (int)CK_I16 && CKPT_U16 == (int)CK_U16 &&
		       CKPT_F16 == (int)CK_F16 && CKPT_BF16 == (int)CK_BF16 &&
		       CKPT_I32 == (int)CK_I32 && CKPT_U32 == (int)CK_U32 &&
		       CKPT_F32 == (int)CK_F32 && CKPT_F64 == (int)CK_F64 &&
		       CKPT_I64 == (int)CK_I64 && CKPT_U64 == (int)CK_U64 &&
		       CKPT_STRING == (int)CK_STRING && CKPT_STRING + 1 == (int)CK_DTYPE_COUNT,
	       "ckpt_dtype must equal ck_dtype");
_Static_assert(CKPT_MAX_DIMS == CK_MAX_DIMS, "CKPT_MAX_DIMS must equal CK_MAX_DIMS");

const char *ckpt_version(void) { return CK_VERSION; }
const char *ckpt_errmsg(void) { return ck_errmsg(); }

const char *ckpt_dtype_name(ckpt_dtype t)
{
	return (unsigned)t < CK_DTYPE_COUNT ? ck_dtype_name((ck_dtype)t) : NULL;
}

size_t ckpt_dtype_size(ckpt_dtype t)
{
	return (unsigned)t < CK_DTYPE_COUNT ? ck_dtype_size((ck_dtype)t) : 0;
}

/* ---- reading a checkpoint ---------------------------------------------- */

struct ckpt_file {
	ck_source *src;
	ckpt_tensor *t;
};

ckpt_file *ckpt_open(const char *path)
{
	ckpt_file *f = ck_calloc(1, sizeof *f);
	if (!f)
		return NULL;
	f->src = ck_source_open(path);
	size_t n = f->src ? ck_source_count(f->src) : 0;
	f->t = f->src ? ck_calloc(n, sizeof *f->t) : NULL;
	if (!f->t) {
		ckpt_close(f);
		return NULL;
	}
	for (size_t i = 0; i < n; i++) {
		const ck_source_entry *e = ck_source_at(f->src, i);
		f->t[i] = (ckpt_tensor){.name = e->name,
					.supported = e->supported,
					.dtype = (ckpt_dtype)e->dtype,
					.type_name = e->type_name,
					.ndim = e->ndim,
					.nbytes = e->nbytes};
		memcpy(f->t[i].shape, e->shape, sizeof e->shape);
	}
	return f;
}

void ckpt_close(ckpt_file *f)
{
	if (!f)
		return;
	ck_source_close(f->src);
	free(f->t);
	free(f);
}

const char *ckpt_format(const ckpt_file *f) { return ck_source_format(f->src); }
size_t ckpt_count(const ckpt_file *f) { return ck_source_count(f->src); }

const ckpt_tensor *ckpt_tensor_at(const ckpt_file *f, size_t i)
{
	return i < ck_source_count(f->src) ? &f->t[i] : NULL;
}

long ckpt_find(const ckpt_file *f, const char *name) { return ck_source_find(f->src, name); }

int ckpt_read(ckpt_file *f, size_t i, void *buf, uint64_t size)
{
	if (i >= ck_source_count(f->src))
		return ck_fail("%s: no tensor #%zu (it has %zu)", ck_source_label(f->src), i,
			       ck_source_count(f->src));
	if (size != f->t[i].nbytes)
		return ck_fail("%s: tensor %s: buffer is %llu bytes, the tensor %llu",
			       ck_source_label(f->src), f->t[i].name, (unsigned long long)size,
			       (unsigned long long)f->t[i].nbytes);
	return ck_source_read(f->src, i, buf, size);
}

/* ---- reading a safetensors stream -------------------------------------- */

/* Tensors are numbered in data order, the order they arrive in. */
struct ckpt_stream {
	st_reader *r;
	ckpt_tensor *t;
	size_t next;   /* number of tensors delivered */
	int in_tensor; /* ckpt_stream_next has delivered one */
};

ckpt_stream *ckpt_stream_open(int fd, const char *label)
{
	ckpt_stream *s = ck_calloc(1, sizeof *s);
	if (!s)
		return NULL;
	s->r = st_reader_open(fd, label ? label : "stream");
	size_t n = s->r ? st_count(s->r) : 0;
	s->t = s->r ? ck_calloc(n, sizeof *s->t) : NULL;
	if (!s->t) {
		ckpt_stream_close(s);
		return NULL;
	}
	for (size_t k = 0; k < n; k++) {
		const st_tensor *t = st_at(s->r, st_data_order(s->r, k));
		s->t[k] = (ckpt_tensor){.name = t->name,
					.supported = 1,
					.dtype = (ckpt_dtype)t->dtype,
					.type_name = ck_dtype_name(t->dtype),
					.ndim = t->ndim,
					.nbytes = t->end - t->begin};
		memcpy(s->t[k].shape, t->shape, sizeof t->shape);
	}
	return s;
}

void ckpt_stream_close(ckpt_stream *s)
{
	if (!s)
		return;
	st_reader_free(s->r);
	free(s->t);
	free(s);
}

size_t ckpt_stream_count(const ckpt_stream *s) { return st_count(s->r); }

const ckpt_tensor *ckpt_stream_tensor(const ckpt_stream *s, size_t i)
{
	return i < st_count(s->r) ? &s->t[i] : NULL;
}

size_t ckpt_stream_meta_count(const ckpt_stream *s) { return st_meta_count(s->r); }

const char *ckpt_stream_meta_key(const ckpt_stream *s, size_t i)
{
	return i < st_meta_count(s->r) ? st_meta_at(s->r, i)->key : NULL;
}

const char *ckpt_stream_meta(const ckpt_stream *s, const char *key)
{
	return st_meta_get(s->r, key);
}

int ckpt_stream_next(ckpt_stream *s, size_t *index)
{
	int err = 0;
	s->in_tensor = st_next(s->r, &err) >= 0;
	if (!s->in_tensor)
		return err ? -1 : 0;
	*index = s->next++;
	return 1;
}

int ckpt_stream_read(ckpt_stream *s, void *buf, size_t n)
{
	if (!s->in_tensor)
		return ck_fail("%s: read before ckpt_stream_next gave a tensor", st_label(s->r));
	return st_read(s->r, buf, n);
}

/* ---- writing ------------------------------------------------------------ */

enum { DECLARING, WRITING, DONE, FAILED };

typedef struct {
	char *name;
	int ndim;
	int64_t shape[CK_MAX_DIMS];
	uint64_t nbytes;
} wtensor;

typedef struct {
	char *name;
	size_t target;
} wtie;

struct ckpt_writer {
	int state;
	char *label;
	st_writer *st; /* CKPT_SAFETENSORS */
	ts_writer *ts; /* CKPT_PYTORCH: storage i holds tensor i */
	wtensor *t;
	size_t n, cap;
	wtie *ties;
	size_t nties, capties;
	size_t cur;    /* PyTorch: the next tensor whose storage begins */
	uint64_t left; /* bytes still to come of the storage being written */
};

ckpt_writer *ckpt_writer_new(ckpt_file_type type, const char *name)
{
	if (type != CKPT_SAFETENSORS && type != CKPT_PYTORCH) {
		ck_fail("ckpt_writer_new: unknown file type %d", (int)type);
		return NULL;
	}
	if (!name || !*name) {
		ck_fail("ckpt_writer_new: the output needs a name");
		return NULL;
	}
	ckpt_writer *w = ck_calloc(1, sizeof *w);
	if (!w)
		return NULL;
	w->label = ck_strdup(name);
	int ok = w->label != NULL;
	if (ok && type == CKPT_SAFETENSORS) {
		ok = (w->st = st_writer_new()) != NULL && st_writer_meta(w->st, "format", "pt") == 0;
	} else if (ok) {
		char *archive = ts_archive_name(name);
		ok = archive && (w->ts = ts_writer_new(archive)) != NULL;
		free(archive);
	}
	if (!ok) {
		ckpt_writer_free(w);
		return NULL;
	}
	return w;
}

void ckpt_writer_free(ckpt_writer *w)
{
	if (!w)
		return;
	st_writer_free(w->st);
	ts_writer_free(w->ts);
	for (size_t i = 0; i < w->n; i++)
		free(w->t[i].name);
	for (size_t i = 0; i < w->nties; i++)
		free(w->ties[i].name);
	free(w->t);
	free(w->ties);
	free(w->label);
	free(w);
}

/* Declarations are only valid before begin; data only between begin and
 * end; nothing after a failure. */
static int in_state(ckpt_writer *w, int state, const char *call)
{
	if (w->state == state)
		return 0;
	if (w->state == FAILED)
		return ck_fail("%s: %s after an earlier failure", w->label, call);
	static const char *const when[] = {"before ckpt_writer_begin", "between begin and end",
					   "after ckpt_writer_end"};
	return ck_fail("%s: %s is only valid %s", w->label, call, when[state]);
}

/* A failure while writing leaves the file incomplete: no further calls. */
static int failed(ckpt_writer *w)
{
	w->state = FAILED;
	return -1;
}

static long find_tensor(const ckpt_writer *w, const char *name)
{
	for (size_t i = 0; i < w->n; i++)
		if (strcmp(w->t[i].name, name) == 0)
			return (long)i;
	return -1;
}

static int grow(void **arr, size_t *cap, size_t n, size_t size)
{
	if (n < *cap)
		return 0;
	size_t c = *cap ? 2 * *cap : 64;
	void *p = ck_realloc(*arr, c * size);
	if (!p)
		return -1;
	*arr = p;
	*cap = c;
	return 0;
}

int ckpt_writer_add(ckpt_writer *w, const char *name, ckpt_dtype dtype, int ndim,
		    const int64_t *shape)
{
	if (in_state(w, DECLARING, "ckpt_writer_add") < 0)
		return -1;
	if ((unsigned)dtype >= CKPT_STRING)
		return ck_fail("%s: tensor %s: dtype %d cannot be written", w->label, name, (int)dtype);
	uint64_t nbytes, numel;
	if (ndim < 0 || ndim > CK_MAX_DIMS || (ndim > 0 && !shape) ||
	    ck_shape_nbytes((ck_dtype)dtype, ndim, shape, &nbytes) < 0 ||
	    ck_shape_numel(ndim, shape, &numel) < 0)
		return ck_fail("%s: tensor %s: bad shape or size overflow", w->label, name);
	if (grow((void **)&w->t, &w->cap, w->n, sizeof *w->t) < 0)
		return -1;
	int rc;
	if (w->st) {
		rc = st_writer_add(w->st, name, (ck_dtype)dtype, ndim, shape);
	} else {
		long sid = ts_writer_storage(w->ts, (ck_dtype)dtype, numel);
		if (sid < 0)
			return ck_fail("%s: tensor %s: %s", w->label, name, ck_errmsg());
		rc = ts_writer_tensor(w->ts, name, sid, ndim, shape);
	}
	if (rc < 0)
		return ck_fail("%s: %s", w->label, ck_errmsg());
	wtensor *t = &w->t[w->n];
	memset(t, 0, sizeof *t);
	if (!(t->name = ck_strdup(name)))
		return -1;
	t->ndim = ndim;
	if (ndim)
		memcpy(t->shape, shape, (size_t)ndim * sizeof *shape);
	t->nbytes = nbytes;
	w->n++;
	return 0;
}

int ckpt_writer_tie(ckpt_writer *w, const char *name, const char *target)
{
	if (in_state(w, DECLARING, "ckpt_writer_tie") < 0)
		return -1;
	long t = find_tensor(w, target);
	if (t < 0)
		return ck_fail("%s: tie %s: no tensor %s declared before it", w->label, name, target);
	if (find_tensor(w, name) >= 0)
		return ck_fail("%s: tie %s: a tensor already has that name", w->label, name);
	for (size_t i = 0; i < w->nties; i++)
		if (strcmp(w->ties[i].name, name) == 0)
			return ck_fail("%s: tie %s: declared twice", w->label, name);
	if (grow((void **)&w->ties, &w->capties, w->nties, sizeof *w->ties) < 0)
		return -1;
	if (w->st) {
		size_t len = strlen(ST_ALIAS_PREFIX) + strlen(name) + 1;
		char *key = ck_malloc(len);
		if (!key)
			return -1;
		snprintf(key, len, "%s%s", ST_ALIAS_PREFIX, name);
		int rc = st_writer_meta(w->st, key, target);
		free(key);
		if (rc < 0)
			return ck_fail("%s: %s", w->label, ck_errmsg());
	}
	if (!(w->ties[w->nties].name = ck_strdup(name)))
		return -1;
	w->ties[w->nties++].target = (size_t)t;
	return 0;
}

int ckpt_writer_meta(ckpt_writer *w, const char *key, const char *value)
{
	if (in_state(w, DECLARING, "ckpt_writer_meta") < 0)
		return -1;
	if (!w->st)
		return ck_fail("%s: metadata %s: PyTorch files have no metadata", w->label, key);
	if (strncmp(key, ST_ALIAS_PREFIX, strlen(ST_ALIAS_PREFIX)) == 0)
		return ck_fail("%s: metadata %s: declare ties with ckpt_writer_tie", w->label, key);
	if (st_writer_meta(w->st, key, value) < 0)
		return ck_fail("%s: %s", w->label, ck_errmsg());
	return 0;
}

/* PyTorch: begin the storage records of the next tensors until one has
 * bytes to receive (empty tensors have nothing to wait for). */
static int next_storage(ckpt_writer *w)
{
	while (w->left == 0 && w->cur < w->n) {
		if (ts_writer_storage_begin(w->ts, (long)w->cur) < 0)
			return -1;
		w->left = w->t[w->cur++].nbytes;
	}
	return 0;
}

int ckpt_writer_begin(ckpt_writer *w, int fd)
{
	if (in_state(w, DECLARING, "ckpt_writer_begin") < 0)
		return -1;
	int rc;
	if (w->st) {
		rc = st_writer_begin(w->st, fd, w->label);
	} else {
		rc = 0;
		for (size_t i = 0; rc == 0 && i < w->nties; i++) {
			const wtensor *t = &w->t[w->ties[i].target];
			rc = ts_writer_tensor(w->ts, w->ties[i].name, (long)w->ties[i].target, t->ndim,
					      t->shape);
		}
		if (rc == 0)
			rc = ts_writer_begin(w->ts, fd, w->label);
		if (rc == 0)
			rc = next_storage(w);
	}
	if (rc < 0)
		return failed(w);
	w->state = WRITING;
	return 0;
}

int ckpt_writer_write(ckpt_writer *w, const void *buf, size_t n)
{
	if (in_state(w, WRITING, "ckpt_writer_write") < 0)
		return -1;
	if (w->st)
		return st_writer_write(w->st, buf, n) < 0 ? failed(w) : 0;
	const unsigned char *p = buf;
	while (n) {
		if (w->left == 0) {
			ck_fail("%s: more data than the tensors declared", w->label);
			return failed(w);
		}
		size_t k = n < w->left ? n : (size_t)w->left;
		if (ts_writer_write(w->ts, p, k) < 0)
			return failed(w);
		w->left -= k;
		p += k;
		n -= k;
		if (w->left == 0 && next_storage(w) < 0)
			return failed(w);
	}
	return 0;
}

int ckpt_writer_end(ckpt_writer *w)
{
	if (in_state(w, WRITING, "ckpt_writer_end") < 0)
		return -1;
	if (w->ts && w->left) {
		ck_fail("%s: tensor %s: %llu bytes missing", w->label, w->t[w->cur - 1].name,
			(unsigned long long)w->left);
		return failed(w);
	}
	if ((w->st ? st_writer_end(w->st) : ts_writer_end(w->ts)) < 0)
		return failed(w);
	w->state = DONE;
	return 0;
}
