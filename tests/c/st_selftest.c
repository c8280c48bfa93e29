/* st_selftest — unit checks of the safetensors stream module: a writer/reader
 * round trip through a pipe, the rejection of malformed headers, and reading
 * the real safetensors fixtures given as arguments. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <fcntl.h>

#include "safetensors.h"
#include "util.h"
#include "check.h"


static void roundtrip(void)
{
	int p[2];
	if (pipe(p) < 0)
		exit(1);
	st_writer *w = st_writer_new();
	int64_t s1[2] = {2, 3}, s0[1] = {0};
	st_writer_add(w, "b.weight", CK_F32, 2, s1);
	st_writer_add(w, "a.empty", CK_I64, 1, s0);
	st_writer_add(w, "z.scalar\xc3\xa9", CK_U8, 0, NULL);
	st_writer_meta(w, "format", "pt");
	float f[6] = {1, 2, 3, 4, 5, 6};
	unsigned char u = 7;
	CHECK("writer begin", st_writer_begin(w, p[1], "pipe") == 0);
	CHECK("writer write", st_writer_write(w, f, sizeof f) == 0 && st_writer_write(w, &u, 1) == 0);
	CHECK("writer end", st_writer_end(w) == 0);
	CHECK("writer refuses extra data", st_writer_write(w, &u, 1) < 0);
	st_writer_free(w);
	close(p[1]);
	st_reader *r = st_reader_open(p[0], "pipe");
	CHECK("reader opens pipe", r != NULL);
	if (!r)
		return;
	CHECK("three tensors in header order", st_count(r) == 3 &&
		      strcmp(st_at(r, 0)->name, "b.weight") == 0 &&
		      strcmp(st_at(r, 2)->name, "z.scalar\xc3\xa9") == 0);
	CHECK("metadata", st_meta_get(r, "format") && strcmp(st_meta_get(r, "format"), "pt") == 0);
	int err;
	long i = st_next(r, &err);
	float g[6];
	CHECK("first tensor data", i == 0 && st_read(r, g, sizeof g) == 0 && memcmp(f, g, sizeof f) == 0);
	i = st_next(r, &err);
	CHECK("empty tensor", i == 1 && st_at(r, 1)->end == st_at(r, 1)->begin);
	i = st_next(r, &err);
	void *buf;
	CHECK("scalar", i == 2 && st_read_all(r, &buf) == 0 && *(unsigned char *)buf == 7);
	free(buf);
	CHECK("end of stream", st_next(r, &err) == -1 && err == 0);
	st_reader_free(r);
	close(p[0]);
}

static st_reader *open_text(const char *header, size_t datalen)
{
	char path[] = "/tmp/st_selftest.XXXXXX";
	int fd = mkstemp(path);
	unlink(path);
	uint64_t n = strlen(header);
	unsigned char len[8];
	for (int i = 0; i < 8; i++)
		len[i] = (unsigned char)(n >> (8 * i));
	if (write(fd, len, 8) != 8 || write(fd, header, n) != (ssize_t)n)
		exit(1);
	for (size_t i = 0; i < datalen; i++)
		if (write(fd, "", 1) != 1)
			exit(1);
	lseek(fd, 0, SEEK_SET);
	st_reader *r = st_reader_open(fd, "bad");
	close(fd);
	return r;
}

static void rejects(void)
{
	struct {
		const char *name, *header, *msg;
	} cases[] = {
		{"rejects gap", "{\"a\":{\"dtype\":\"U8\",\"shape\":[1],\"data_offsets\":[1,2]}}", "gap"},
		{"rejects overlap",
		 "{\"a\":{\"dtype\":\"U8\",\"shape\":[2],\"data_offsets\":[0,2]},"
		 "\"b\":{\"dtype\":\"U8\",\"shape\":[1],\"data_offsets\":[1,2]}}", "overlap"},
		{"rejects size mismatch", "{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,4]}}", "needs"},
		{"rejects duplicate names",
		 "{\"a\":{\"dtype\":\"U8\",\"shape\":[1],\"data_offsets\":[0,1]},"
		 "\"a\":{\"dtype\":\"U8\",\"shape\":[1],\"data_offsets\":[1,2]}}", "JSON"},
		{"rejects unknown dtype", "{\"a\":{\"dtype\":\"Q7\",\"shape\":[1],\"data_offsets\":[0,1]}}", "dtype"},
		{"rejects overflowing shape",
		 "{\"a\":{\"dtype\":\"F64\",\"shape\":[4294967296,4294967296],\"data_offsets\":[0,1]}}", "overflow"},
		{"rejects non-object", "[1,2]", "object"},
		{"rejects bad metadata", "{\"__metadata__\":{\"k\":1}}", "string"},
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		st_reader *r = open_text(cases[i].header, 2);
		CHECK(cases[i].name, !r && strstr(ck_errmsg(), cases[i].msg));
		st_reader_free(r);
	}
}

int main(int argc, char **argv)
{
	roundtrip();
	rejects();
	for (int i = 1; i < argc; i++) {
		int fd = open(argv[i], O_RDONLY);
		st_reader *r = fd >= 0 ? st_reader_open(fd, argv[i]) : NULL;
		int err = 0;
		uint64_t total = 0;
		if (r) {
			void *buf;
			while (st_next(r, &err) >= 0 && st_read_all(r, &buf) == 0) {
				total += st_at(r, (size_t)0) ? 1 : 0;
				free(buf);
			}
		}
		char name[512];
		snprintf(name, sizeof name, "reads real file %s", strrchr(argv[i], '/') + 1);
		CHECK(name, r && !err && total == st_count(r));
		st_reader_free(r);
		if (fd >= 0)
			close(fd);
	}
	return failures != 0;
}
