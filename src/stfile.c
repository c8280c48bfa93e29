/* stfile.c — see stfile.h. */
#include "stfile.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "strided.h"
#include "util.h"

struct stf_file {
	int fd;
	st_reader *r;
	uint64_t data; /* offset of the data buffer */
	char *label;
};

stf_file *stf_open(const char *path)
{
	stf_file *f = ck_calloc(1, sizeof *f);
	struct stat st;
	if (!f)
		return NULL;
	f->fd = -1;
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
	/* The stream reader consumes exactly the length prefix and header. */
	if (!(f->r = st_reader_open(f->fd, path)))
		goto fail;
	off_t pos = lseek(f->fd, 0, SEEK_CUR);
	if (pos < 0) {
		ck_fail("%s: %s", path, strerror(errno));
		goto fail;
	}
	f->data = (uint64_t)pos;
	uint64_t want = f->data + st_data_size(f->r);
	if ((uint64_t)st.st_size != want) {
		ck_fail("%s: the header describes %llu bytes of file but it has %llu", path,
			(unsigned long long)want, (unsigned long long)st.st_size);
		goto fail;
	}
	return f;
fail:
	stf_close(f);
	return NULL;
}

void stf_close(stf_file *f)
{
	if (!f)
		return;
	st_reader_free(f->r);
	if (f->fd >= 0)
		close(f->fd);
	free(f->label);
	free(f);
}

const st_reader *stf_header(const stf_file *f) { return f->r; }

int stf_read(stf_file *f, size_t i, void *dst)
{
	const st_tensor *t = st_at(f->r, i);
	if (!t)
		return ck_fail("%s: no tensor %zu", f->label, i);
	return ck_pread_full(f->fd, dst, (size_t)(t->end - t->begin), f->data + t->begin, f->label);
}
