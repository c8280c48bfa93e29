/* api_example.c — using libckpt (ckptconv.h): list a checkpoint's tensors,
 * or copy them into a safetensors or PyTorch file.
 *
 *   api_example CKPT        read (and so verify) every tensor, then print
 *                           NAME<TAB>DTYPE<TAB>SHAPE lines as ckpt-ls does
 *   api_example CKPT OUT    copy every numeric tensor to OUT: a PyTorch file
 *                           when OUT ends in .bin, .pt or .pth, else
 *                           safetensors
 *   api_example - OUT       the same from a safetensors stream on standard
 *                           input (ckpt-extract CKPT | api_example - OUT),
 *                           tied weights included
 *
 * Build it against the installed library:
 *   cc -o api_example api_example.c $(pkg-config --cflags --libs ckptconv) */
#include <ckptconv.h>

#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static int fail(void)
{
	fprintf(stderr, "api_example: %s\n", ckpt_errmsg());
	return 1;
}

static void print_tensor(const ckpt_tensor *t)
{
	printf("%s\t%s\t", t->name, t->type_name);
	for (int d = 0; d < t->ndim; d++)
		printf("%s%" PRId64, d ? "," : "", t->shape[d]);
	printf("\n");
}

static int list(const char *path)
{
	ckpt_file *f = ckpt_open(path);
	if (!f)
		return fail();
	int rc = 0;
	for (size_t i = 0; rc == 0 && i < ckpt_count(f); i++) {
		const ckpt_tensor *t = ckpt_tensor_at(f, i);
		if (!t->supported)
			continue;
		void *buf = malloc(t->nbytes ? t->nbytes : 1);
		if (!buf || ckpt_read(f, i, buf, t->nbytes) < 0)
			rc = buf ? fail() : 1;
		free(buf);
	}
	for (size_t i = 0; rc == 0 && i < ckpt_count(f); i++)
		print_tensor(ckpt_tensor_at(f, i));
	ckpt_close(f);
	return rc;
}

static ckpt_file_type type_of(const char *out)
{
	const char *dot = strrchr(out, '.');
	if (dot && (!strcmp(dot, ".bin") || !strcmp(dot, ".pt") || !strcmp(dot, ".pth")))
		return CKPT_PYTORCH;
	return CKPT_SAFETENSORS;
}

/* Copy from a checkpoint file: declare every numeric tensor, then read each
 * into one buffer (as large as the largest tensor) and write it. */
static int copy_file(const char *path, ckpt_writer *w, int fd)
{
	ckpt_file *f = ckpt_open(path);
	if (!f)
		return fail();
	uint64_t max = 0;
	int rc = 0;
	for (size_t i = 0; rc == 0 && i < ckpt_count(f); i++) {
		const ckpt_tensor *t = ckpt_tensor_at(f, i);
		if (!t->supported || t->dtype == CKPT_STRING)
			continue;
		rc = ckpt_writer_add(w, t->name, t->dtype, t->ndim, t->shape);
		if (t->nbytes > max)
			max = t->nbytes;
	}
	void *buf = rc == 0 ? malloc(max ? max : 1) : NULL;
	if (rc == 0 && (!buf || ckpt_writer_begin(w, fd) < 0))
		rc = -1;
	for (size_t i = 0; rc == 0 && i < ckpt_count(f); i++) {
		const ckpt_tensor *t = ckpt_tensor_at(f, i);
		if (t->supported && t->dtype != CKPT_STRING &&
		    (ckpt_read(f, i, buf, t->nbytes) < 0 || ckpt_writer_write(w, buf, t->nbytes) < 0))
			rc = -1;
	}
	if (rc == 0)
		rc = ckpt_writer_end(w);
	free(buf);
	ckpt_close(f);
	return rc < 0 ? fail() : 0;
}

/* Copy from a stream in one pass: the tensors (numbered in arrival order)
 * and ties are known from the header; the data is passed on in 64 KiB
 * chunks, so memory does not grow with the tensors. */
static int copy_stream(ckpt_writer *w, int fd)
{
	ckpt_stream *s = ckpt_stream_open(STDIN_FILENO, "stdin");
	if (!s)
		return fail();
	int rc = 0;
	for (size_t i = 0; rc == 0 && i < ckpt_stream_count(s); i++) {
		const ckpt_tensor *t = ckpt_stream_tensor(s, i);
		rc = ckpt_writer_add(w, t->name, t->dtype, t->ndim, t->shape);
	}
	const char *tie = "ckptconv.alias.";
	for (size_t i = 0; rc == 0 && i < ckpt_stream_meta_count(s); i++) {
		const char *key = ckpt_stream_meta_key(s, i);
		if (strncmp(key, tie, strlen(tie)) == 0)
			rc = ckpt_writer_tie(w, key + strlen(tie), ckpt_stream_meta(s, key));
	}
	if (rc == 0)
		rc = ckpt_writer_begin(w, fd);
	static unsigned char buf[1 << 16];
	size_t i;
	int more;
	while (rc == 0 && (more = ckpt_stream_next(s, &i)) != 0) {
		if (more < 0) {
			rc = -1;
			break;
		}
		for (uint64_t left = ckpt_stream_tensor(s, i)->nbytes; rc == 0 && left;) {
			size_t n = left < sizeof buf ? (size_t)left : sizeof buf;
			rc = ckpt_stream_read(s, buf, n) < 0 || ckpt_writer_write(w, buf, n) < 0 ? -1 : 0;
			left -= n;
		}
	}
	if (rc == 0)
		rc = ckpt_writer_end(w);
	ckpt_stream_close(s);
	return rc < 0 ? fail() : 0;
}

int main(int argc, char **argv)
{
	if (argc < 2 || argc > 3 || (argc == 2 && !strcmp(argv[1], "-"))) {
		fprintf(stderr, "usage: api_example CKPT [OUT] | api_example - OUT   (libckpt %s)\n",
			ckpt_version());
		return 2;
	}
	if (argc == 2)
		return list(argv[1]);
	const char *out = argv[2];
	ckpt_writer *w = ckpt_writer_new(type_of(out), out);
	if (!w)
		return fail();
	int fd = open(out, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0666);
	if (fd < 0) {
		perror(out);
		ckpt_writer_free(w);
		return 1;
	}
	int rc = strcmp(argv[1], "-") ? copy_file(argv[1], w, fd) : copy_stream(w, fd);
	if (close(fd) < 0 && rc == 0) {
		perror(out);
		rc = 1;
	}
	if (rc)
		unlink(out);
	ckpt_writer_free(w);
	return rc;
}
