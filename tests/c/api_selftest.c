/* api_selftest DIR — the public API's contracts (ckptconv.h) that the
 * example program does not reach: misuse and bad arguments fail with a
 * message and leave no partial state; empty tensors and chunks that span
 * tensors; streams read back what the writer wrote. Files go to DIR.
 * Prints "ok - ..." / "FAIL - ..." lines (tests/lib.sh). */
#include <ckptconv.h>

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const char *dir;
static int failures;

static void check(int cond, const char *name)
{
	printf("%s - %s\n", cond ? "ok" : "FAIL", name);
	if (!cond) {
		printf("   last error: %s\n", ckpt_errmsg());
		failures++;
	}
}

/* The call failed and the message contains want. */
static void check_err(int rc, const char *want, const char *name)
{
	int ok = rc < 0 && strstr(ckpt_errmsg(), want) != NULL;
	printf("%s - %s\n", ok ? "ok" : "FAIL", name);
	if (!ok) {
		printf("   rc %d, message: %s (wanted: %s)\n", rc, ckpt_errmsg(), want);
		failures++;
	}
}

static char *path(const char *name)
{
	static char buf[4096];
	snprintf(buf, sizeof buf, "%s/%s", dir, name);
	return buf;
}

static int create(const char *name)
{
	return open(path(name), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0666);
}

static void dtypes(void)
{
	check(!strcmp(ckpt_dtype_name(CKPT_BF16), "BF16") && ckpt_dtype_size(CKPT_BF16) == 2,
	      "dtype: BF16 is 2 bytes");
	check(!strcmp(ckpt_dtype_name(CKPT_STRING), "STRING") && ckpt_dtype_size(CKPT_STRING) == 0,
	      "dtype: STRING has no element size");
	check(ckpt_dtype_name((ckpt_dtype)99) == NULL && ckpt_dtype_size((ckpt_dtype)99) == 0,
	      "dtype: out-of-range values are rejected");
	check(ckpt_version() && strchr(ckpt_version(), '.'), "version: MAJOR.MINOR.PATCH");
}

/* Three tensors, the middle one empty, written in chunks that span them;
 * then read back through both readers. */
static void round_trip(ckpt_file_type type, const char *name)
{
	char label[128];
	int64_t s2[] = {2, 3}, s0[] = {0, 4};
	float a[6] = {1, 2, 3, 4, 5, 6};
	int64_t b = -7;
	ckpt_writer *w = ckpt_writer_new(type, path(name));
	int fd = create(name);
	int rc = w && fd >= 0 && ckpt_writer_add(w, "a", CKPT_F32, 2, s2) == 0 &&
		 ckpt_writer_add(w, "empty", CKPT_F16, 2, s0) == 0 &&
		 ckpt_writer_add(w, "b", CKPT_I64, 0, NULL) == 0 &&
		 ckpt_writer_tie(w, "a_tied", "a") == 0 && ckpt_writer_begin(w, fd) == 0;
	unsigned char all[sizeof a + sizeof b];
	memcpy(all, a, sizeof a);
	memcpy(all + sizeof a, &b, sizeof b);
	/* 5-byte chunks cross every tensor boundary */
	for (size_t k = 0; rc && k < sizeof all; k += 5)
		rc = ckpt_writer_write(w, all + k, sizeof all - k < 5 ? sizeof all - k : 5) == 0;
	rc = rc && ckpt_writer_end(w) == 0;
	snprintf(label, sizeof label, "%s: written in chunks across tensors", name);
	check(rc, label);
	ckpt_writer_free(w);
	if (fd >= 0)
		close(fd);

	ckpt_file *f = ckpt_open(path(name));
	long ia = f ? ckpt_find(f, "a") : -1, ib = f ? ckpt_find(f, "b") : -1;
	float ra[6] = {0};
	int64_t rb = 0;
	rc = f && ia >= 0 && ib >= 0 && ckpt_read(f, (size_t)ia, ra, sizeof ra) == 0 &&
	     ckpt_read(f, (size_t)ib, &rb, sizeof rb) == 0 && !memcmp(ra, a, sizeof a) && rb == b;
	snprintf(label, sizeof label, "%s: read back", name);
	check(rc, label);
	if (f) {
		const ckpt_tensor *e = ckpt_tensor_at(f, (size_t)ckpt_find(f, "empty"));
		snprintf(label, sizeof label, "%s: the empty tensor keeps its shape", name);
		check(e && e->dtype == CKPT_F16 && e->ndim == 2 && e->shape[0] == 0 && e->shape[1] == 4 &&
			      e->nbytes == 0,
		      label);
		snprintf(label, sizeof label, "%s: a wrong buffer size is refused", name);
		check_err(ckpt_read(f, (size_t)ia, ra, sizeof ra - 1), "buffer is 23 bytes", label);
		snprintf(label, sizeof label, "%s: an index out of range is refused", name);
		check_err(ckpt_read(f, 99, ra, sizeof ra), "no tensor #99", label);
		check(ckpt_tensor_at(f, 99) == NULL && ckpt_find(f, "nope") == -1,
		      "lookups out of range give NULL / -1");
	}
	ckpt_close(f);
}

/* A safetensors file is also a stream: tensors arrive in data order, with
 * the tie and the metadata. */
static void stream(void)
{
	int fd = open(path("t.safetensors"), O_RDONLY | O_CLOEXEC);
	ckpt_stream *s = fd >= 0 ? ckpt_stream_open(fd, "t.safetensors") : NULL;
	check(s && ckpt_stream_count(s) == 3, "stream: three tensors");
	if (!s) {
		if (fd >= 0)
			close(fd);
		return;
	}
	check(ckpt_stream_meta(s, "format") && !strcmp(ckpt_stream_meta(s, "format"), "pt") &&
		      ckpt_stream_meta(s, "ckptconv.alias.a_tied") &&
		      !strcmp(ckpt_stream_meta(s, "ckptconv.alias.a_tied"), "a") &&
		      ckpt_stream_meta_count(s) == 2 && ckpt_stream_meta_key(s, 2) == NULL,
	      "stream: metadata has format and the tie");
	char buf[4];
	check_err(ckpt_stream_read(s, buf, 1), "before ckpt_stream_next", "stream: read before next");
	size_t i, k = 0;
	int r, order = 1;
	float first = 0;
	while ((r = ckpt_stream_next(s, &i)) == 1) {
		order &= i == k++;
		if (i == 0 && ckpt_stream_read(s, &first, sizeof first) < 0)
			order = 0;
	}
	check(r == 0 && order && k == 3 && first == 1, "stream: tensors arrive numbered 0, 1, 2");
	check(!strcmp(ckpt_stream_tensor(s, 1)->name, "empty") && ckpt_stream_tensor(s, 3) == NULL,
	      "stream: numbered in data order");
	ckpt_stream_close(s);
	close(fd);
}

static void misuse(void)
{
	int64_t s1[] = {2};
	ckpt_writer *w = ckpt_writer_new(CKPT_PYTORCH, path("m.bin"));
	check_err(ckpt_writer_add(w, "u", CKPT_U16, 1, s1), "tensor u: dtype U16 has no PyTorch",
		  "pytorch: U16 is refused");
	check_err(ckpt_writer_add(w, "s", CKPT_STRING, 1, s1), "cannot be written",
		  "strings are refused");
	int64_t neg[] = {-1};
	check_err(ckpt_writer_add(w, "n", CKPT_F32, 1, neg), "bad shape", "negative sizes are refused");
	check_err(ckpt_writer_meta(w, "k", "v"), "PyTorch files have no metadata",
		  "pytorch: metadata is refused");
	check(ckpt_writer_add(w, "x", CKPT_F32, 1, s1) == 0, "pytorch: declare x");
	check_err(ckpt_writer_tie(w, "y", "nope"), "no tensor nope", "tie to an undeclared tensor");
	check_err(ckpt_writer_tie(w, "x", "x"), "already has that name", "tie over a tensor name");
	check(ckpt_writer_tie(w, "y", "x") == 0, "tie y to x");
	check_err(ckpt_writer_tie(w, "y", "x"), "declared twice", "the same tie twice");
	check_err(ckpt_writer_write(w, "", 0), "only valid between begin and end", "data before begin");
	int fd = create("m.bin");
	check(ckpt_writer_begin(w, fd) == 0, "pytorch: begin");
	check_err(ckpt_writer_add(w, "z", CKPT_F32, 1, s1), "only valid before ckpt_writer_begin",
		  "declaring after begin");
	float v[3] = {1, 2, 3};
	check(ckpt_writer_write(w, v, 4) == 0, "pytorch: four bytes");
	check_err(ckpt_writer_end(w), "tensor x: 4 bytes missing", "pytorch: end with bytes missing");
	check_err(ckpt_writer_write(w, v, 4), "after an earlier failure", "nothing after a failure");
	ckpt_writer_free(w);
	close(fd);

	w = ckpt_writer_new(CKPT_SAFETENSORS, path("m.safetensors"));
	fd = create("m.safetensors");
	check_err(ckpt_writer_meta(w, "ckptconv.alias.q", "x"), "ckpt_writer_tie",
		  "safetensors: tie metadata only through ckpt_writer_tie");
	check(ckpt_writer_add(w, "x", CKPT_F32, 1, s1) == 0 && ckpt_writer_add(w, "x", CKPT_F32, 1, s1) == 0,
	      "safetensors: a duplicate name is only found at begin");
	check_err(ckpt_writer_begin(w, fd), "tensor x: name occurs twice", "duplicate names are refused");
	ckpt_writer_free(w);
	close(fd);

	w = ckpt_writer_new(CKPT_SAFETENSORS, path("m.safetensors"));
	fd = create("m.safetensors");
	check(ckpt_writer_add(w, "x", CKPT_F32, 1, s1) == 0 && ckpt_writer_begin(w, fd) == 0,
	      "safetensors: begin");
	check_err(ckpt_writer_write(w, v, sizeof v), "more data than the header declares",
		  "safetensors: too much data");
	ckpt_writer_free(w);
	close(fd);

	check(ckpt_writer_new(CKPT_SAFETENSORS, "") == NULL && ckpt_writer_new((ckpt_file_type)7, "x") == NULL,
	      "a writer needs a name and a known type");
	ckpt_writer_free(NULL);
	ckpt_close(NULL);
	ckpt_stream_close(NULL);

	check_err(ckpt_open(path("missing")) ? 0 : -1, "missing", "opening a missing file names it");
	fd = open(path("m.bin"), O_RDONLY | O_CLOEXEC); /* a zip, not a stream */
	check_err(ckpt_stream_open(fd, "m.bin") ? 0 : -1, "m.bin", "a non-stream is refused by the stream reader");
	close(fd);
}

int main(int argc, char **argv)
{
	if (argc != 2) {
		fprintf(stderr, "usage: api_selftest DIR\n");
		return 2;
	}
	dir = argv[1];
	dtypes();
	round_trip(CKPT_SAFETENSORS, "t.safetensors");
	round_trip(CKPT_PYTORCH, "t.bin");
	stream();
	misuse();
	return failures ? 1 : 0;
}
