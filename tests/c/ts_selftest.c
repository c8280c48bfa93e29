/* ts_selftest — the PyTorch zip writer's API contract: refused dtypes and
 * shapes, misuse (unused, unwritten, short, long or twice-written storages,
 * duplicate names), pickled integers beyond 32 bits, archive names. What it
 * writes is checked against torch itself in t_ptpack.sh. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "torchsave.h"
#include "util.h"
#include "check.h"


static int scratch(void)
{
	FILE *f = tmpfile();
	return f ? dup(fileno(f)) : -1;
}

/* A writer with one F32 storage of 2 elements used by tensor "a". */
static ts_writer *one(int fd)
{
	ts_writer *w = ts_writer_new("t");
	long s = ts_writer_storage(w, CK_F32, 2);
	int64_t shape[1] = {2};
	if (ts_writer_tensor(w, "a", s, 1, shape) < 0 || ts_writer_begin(w, fd, "t.bin") < 0)
		exit(1);
	return w;
}

static void archive_is(const char *path, const char *want)
{
	char *a = ts_archive_name(path);
	char name[128];
	snprintf(name, sizeof name, "archive name of %s is %s", path, want);
	CHECK(name, a && strcmp(a, want) == 0);
	free(a);
}

/* The bytes of data.pkl (it starts at offset 64) contain needle. */
static int pickle_has(int fd, const void *needle, size_t n)
{
	unsigned char buf[4096];
	ssize_t got = pread(fd, buf, sizeof buf, 0);
	for (ssize_t i = 64; i + (ssize_t)n <= got; i++)
		if (memcmp(buf + i, needle, n) == 0)
			return 1;
	return 0;
}

int main(void)
{
	float data[2] = {1, 2};
	int64_t s2[1] = {2}, s3[1] = {3};

	ts_writer *w = ts_writer_new("t");
	CHECK("U16 has no storage type", ts_writer_storage(w, CK_U16, 1) < 0 && strstr(ck_errmsg(), "U16"));
	CHECK("U64 has no storage type", ts_writer_storage(w, CK_U64, 1) < 0);
	long s = ts_writer_storage(w, CK_F32, 2);
	CHECK("shape must match the storage", ts_writer_tensor(w, "a", s, 1, s3) < 0);
	CHECK("storage must exist", ts_writer_tensor(w, "a", 7, 1, s2) < 0);
	CHECK("storage too large", ts_writer_storage(w, CK_F64, UINT64_MAX / 4) < 0);
	int fd = scratch();
	CHECK("a declared storage must be used", ts_writer_begin(w, fd, "t.bin") < 0 &&
						       strstr(ck_errmsg(), "not used"));
	ts_writer_free(w);
	close(fd);

	w = ts_writer_new("t");
	s = ts_writer_storage(w, CK_F32, 2);
	long s_b = ts_writer_storage(w, CK_F32, 2);
	ts_writer_tensor(w, "a", s, 1, s2);
	ts_writer_tensor(w, "a", s_b, 1, s2);
	fd = scratch();
	CHECK("names must be distinct", ts_writer_begin(w, fd, "t.bin") < 0 && strstr(ck_errmsg(), "twice"));
	ts_writer_free(w);
	close(fd);

	fd = scratch();
	w = one(fd);
	CHECK("storage written whole", ts_writer_storage_begin(w, 0) == 0 && ts_writer_write(w, data, 8) == 0);
	CHECK("storage written twice is refused", ts_writer_storage_begin(w, 0) < 0);
	CHECK("end", ts_writer_end(w) == 0);
	CHECK("nothing after the end", ts_writer_storage_begin(w, 0) < 0 && ts_writer_end(w) < 0);
	ts_writer_free(w);
	close(fd);

	fd = scratch();
	w = one(fd);
	CHECK("storage longer than declared is refused",
	      ts_writer_storage_begin(w, 0) == 0 && ts_writer_write(w, data, 8) == 0 &&
		      ts_writer_write(w, data, 1) < 0);
	ts_writer_free(w);
	close(fd);

	fd = scratch();
	w = one(fd);
	CHECK("short storage is refused at the end",
	      ts_writer_storage_begin(w, 0) == 0 && ts_writer_write(w, data, 4) == 0 &&
		      ts_writer_end(w) < 0 && strstr(ck_errmsg(), "short"));
	ts_writer_free(w);
	close(fd);

	fd = scratch();
	w = one(fd);
	CHECK("unwritten storage is refused at the end", ts_writer_end(w) < 0 && strstr(ck_errmsg(), "never written"));
	ts_writer_free(w);
	close(fd);

	/* element counts beyond 32 bits are pickled as LONG1 */
	fd = scratch();
	w = ts_writer_new("t");
	int64_t big[1] = {(int64_t)1 << 31}, bigger[1] = {((int64_t)1 << 32) + 5}, mid[1] = {65536};
	ts_writer_tensor(w, "x", ts_writer_storage(w, CK_U8, (uint64_t)big[0]), 1, big);
	ts_writer_tensor(w, "y", ts_writer_storage(w, CK_U8, (uint64_t)bigger[0]), 1, bigger);
	ts_writer_tensor(w, "z", ts_writer_storage(w, CK_U8, (uint64_t)mid[0]), 1, mid);
	CHECK("begin with storages over 4 GiB", ts_writer_begin(w, fd, "t.bin") == 0);
	CHECK("2^31 pickled as LONG1 of 5 bytes", pickle_has(fd, "\x8a\x05\x00\x00\x00\x80\x00", 7));
	CHECK("2^32+5 pickled as LONG1 of 5 bytes", pickle_has(fd, "\x8a\x05\x05\x00\x00\x00\x01", 7));
	CHECK("65536 pickled as BININT", pickle_has(fd, "J\x00\x00\x01\x00", 5));
	ts_writer_free(w);
	close(fd);

	archive_is("out/pytorch_model.bin", "pytorch_model");
	archive_is("model.v1.bin", "model.v1");
	archive_is("dir.d/noext", "noext");
	archive_is("pytorch_model-00001-of-00002.bin", "pytorch_model-00001-of-00002");
	archive_is("x/.bin", "archive");
	archive_is("x/m\xc3\xa9.bin", "archive");
	archive_is("a\\b.bin", "b");
	return failures != 0;
}
