/* zipread.c — see zipread.h. */
#include "zipread.h"

#include <stdlib.h>
#include <string.h>

#include "strided.h"
#include "util.h"

struct zr_archive {
	zr_entry *e;
	size_t n;
	size_t *sorted; /* indices sorted by name */
	char *label;
};

static uint64_t rd(const unsigned char *p, int n)
{
	uint64_t v = 0;
	for (int i = n - 1; i >= 0; i--)
		v = v << 8 | p[i];
	return v;
}

static const zr_archive *g_sort; /* qsort has no context argument */
static int cmp_name(const void *a, const void *b)
{
	return strcmp(g_sort->e[*(const size_t *)a].name, g_sort->e[*(const size_t *)b].name);
}

/* The ZIP64 extended-information field replaces the 32-bit fields that are
 * all ones, in this order. */
static int zip64_extra(const unsigned char *x, size_t xlen, zr_entry *e, const char *label)
{
	size_t p = 0;
	while (p + 4 <= xlen) {
		unsigned id = (unsigned)rd(x + p, 2);
		size_t sz = (size_t)rd(x + p + 2, 2);
		if (sz > xlen - p - 4)
			return ck_fail("%s: record %s: malformed extra field", label, e->name);
		if (id == 1) {
			const unsigned char *f = x + p + 4;
			size_t q = 0;
			uint64_t *fields[3] = {&e->usize, &e->csize, &e->header};
			for (int k = 0; k < 3; k++) {
				if (*fields[k] != 0xffffffffu)
					continue;
				if (q + 8 > sz)
					return ck_fail("%s: record %s: ZIP64 extra field too short", label,
						       e->name);
				*fields[k] = rd(f + q, 8);
				q += 8;
			}
		}
		p += 4 + sz;
	}
	return 0;
}

static int parse_cdir(zr_archive *z, const unsigned char *cd, uint64_t size, uint64_t count)
{
	size_t p = 0;
	for (uint64_t k = 0; k < count; k++) {
		if (size - p < 46 || rd(cd + p, 4) != 0x02014b50)
			return ck_fail("%s: corrupt central directory entry %llu", z->label,
				       (unsigned long long)k);
		size_t nlen = (size_t)rd(cd + p + 28, 2), xlen = (size_t)rd(cd + p + 30, 2),
		       clen = (size_t)rd(cd + p + 32, 2);
		if (size - p - 46 < (uint64_t)nlen + xlen + clen)
			return ck_fail("%s: central directory entry %llu runs past its end", z->label,
				       (unsigned long long)k);
		zr_entry *e = &z->e[z->n];
		const char *name = (const char *)cd + p + 46;
		if (memchr(name, 0, nlen))
			return ck_fail("%s: record name with a NUL byte", z->label);
		e->name = ck_malloc(nlen + 1);
		if (!e->name)
			return -1;
		memcpy(e->name, name, nlen);
		e->name[nlen] = 0;
		z->n++;
		e->flags = (uint16_t)rd(cd + p + 8, 2);
		e->method = (uint16_t)rd(cd + p + 10, 2);
		e->crc = (uint32_t)rd(cd + p + 16, 4);
		e->csize = rd(cd + p + 20, 4);
		e->usize = rd(cd + p + 24, 4);
		e->header = rd(cd + p + 42, 4);
		if (zip64_extra(cd + p + 46 + nlen, xlen, e, z->label) < 0)
			return -1;
		p += 46 + nlen + xlen + clen;
	}
	if (p != size)
		return ck_fail("%s: central directory has %llu unexplained bytes", z->label,
			       (unsigned long long)(size - p));
	return 0;
}

/* Check each local header against its central entry and find the data. */
static int locate_data(zr_archive *z, int fd, uint64_t cd_off)
{
	char *name = NULL;
	size_t namecap = 0;
	int rc = 0;
	for (size_t i = 0; i < z->n && rc == 0; i++) {
		zr_entry *e = &z->e[i];
		unsigned char h[30];
		size_t nlen = strlen(e->name);
		if (e->header > cd_off || cd_off - e->header < 30) {
			rc = ck_fail("%s: record %s: local header offset outside the archive", z->label,
				     e->name);
			break;
		}
		if (ck_pread_full(fd, h, 30, e->header, z->label) < 0 || rd(h, 4) != 0x04034b50) {
			rc = ck_fail("%s: record %s: bad local header", z->label, e->name);
			break;
		}
		uint64_t lnlen = rd(h + 26, 2), lxlen = rd(h + 28, 2);
		e->data = e->header + 30 + lnlen + lxlen;
		if (lnlen != nlen || e->data > cd_off || cd_off - e->data < e->csize) {
			rc = ck_fail("%s: record %s: local header or data outside the archive "
				     "(truncated file?)",
				     z->label, e->name);
			break;
		}
		if (nlen + 1 > namecap) {
			free(name);
			namecap = nlen + 1;
			if (!(name = ck_malloc(namecap))) {
				rc = -1;
				break;
			}
		}
		if (ck_pread_full(fd, name, nlen, e->header + 30, z->label) < 0 ||
		    memcmp(name, e->name, nlen) != 0)
			rc = ck_fail("%s: record %s: local header names a different record", z->label,
				     e->name);
	}
	free(name);
	return rc;
}

zr_archive *zr_open(int fd, uint64_t file_size, const char *label)
{
	zr_archive *z = ck_calloc(1, sizeof *z);
	unsigned char *tail = NULL, *cd = NULL;
	if (!z || !(z->label = ck_strdup(label)))
		goto fail;
	if (file_size < 22) {
		ck_fail("%s: not a zip archive (too short)", label);
		goto fail;
	}
	size_t tlen = file_size < 22 + 65535 ? (size_t)file_size : 22 + 65535;
	uint64_t tstart = file_size - tlen;
	if (!(tail = ck_malloc(tlen)) || ck_pread_full(fd, tail, tlen, tstart, label) < 0)
		goto fail;
	long at = -1;
	for (long i = (long)tlen - 22; i >= 0; i--)
		if (rd(tail + i, 4) == 0x06054b50 && (size_t)i + 22 + rd(tail + i + 20, 2) == tlen) {
			at = i;
			break;
		}
	if (at < 0) {
		ck_fail("%s: no zip end-of-central-directory record (truncated file?)", label);
		goto fail;
	}
	const unsigned char *eocd = tail + at;
	uint64_t eocd_pos = tstart + (uint64_t)at;
	uint64_t count = rd(eocd + 10, 2), cd_size = rd(eocd + 12, 4), cd_off = rd(eocd + 16, 4);
	uint64_t limit = eocd_pos;
	if (eocd_pos >= 20) {
		unsigned char loc[20], r[56];
		if (ck_pread_full(fd, loc, 20, eocd_pos - 20, label) < 0)
			goto fail;
		if (rd(loc, 4) == 0x07064b50) {
			uint64_t z64 = rd(loc + 8, 8);
			if (z64 > eocd_pos - 20 || eocd_pos - 20 - z64 < 56) {
				ck_fail("%s: ZIP64 end record offset outside the archive", label);
				goto fail;
			}
			if (ck_pread_full(fd, r, 56, z64, label) < 0)
				goto fail;
			if (rd(r, 4) != 0x06064b50) {
				ck_fail("%s: bad ZIP64 end-of-central-directory record", label);
				goto fail;
			}
			count = rd(r + 32, 8);
			cd_size = rd(r + 40, 8);
			cd_off = rd(r + 48, 8);
			limit = z64;
		} else if (rd(eocd + 4, 2) || rd(eocd + 6, 2)) {
			ck_fail("%s: multi-disk zip archives are not supported", label);
			goto fail;
		}
	}
	if (cd_off > limit || limit - cd_off < cd_size) {
		ck_fail("%s: central directory (offset %llu, %llu bytes) outside the archive "
			"(truncated file?)",
			label, (unsigned long long)cd_off, (unsigned long long)cd_size);
		goto fail;
	}
	if (cd_size > ZR_MAX_CDIR || count > cd_size / 46) {
		ck_fail("%s: central directory of %llu bytes for %llu records is implausible", label,
			(unsigned long long)cd_size, (unsigned long long)count);
		goto fail;
	}
	if (!(cd = ck_malloc((size_t)cd_size)) || ck_pread_full(fd, cd, (size_t)cd_size, cd_off, label) < 0)
		goto fail;
	if (!(z->e = ck_calloc((size_t)count, sizeof *z->e)))
		goto fail;
	if (parse_cdir(z, cd, cd_size, count) < 0 || locate_data(z, fd, cd_off) < 0)
		goto fail;
	if (!(z->sorted = ck_calloc(z->n, sizeof *z->sorted)))
		goto fail;
	for (size_t i = 0; i < z->n; i++)
		z->sorted[i] = i;
	g_sort = z;
	qsort(z->sorted, z->n, sizeof *z->sorted, cmp_name);
	for (size_t i = 1; i < z->n; i++)
		if (strcmp(z->e[z->sorted[i - 1]].name, z->e[z->sorted[i]].name) == 0) {
			ck_fail("%s: duplicate record %s", label, z->e[z->sorted[i]].name);
			goto fail;
		}
	free(tail);
	free(cd);
	return z;
fail:
	free(tail);
	free(cd);
	zr_close(z);
	return NULL;
}

void zr_close(zr_archive *z)
{
	if (!z)
		return;
	for (size_t i = 0; i < z->n; i++)
		free(z->e[i].name);
	free(z->e);
	free(z->sorted);
	free(z->label);
	free(z);
}

size_t zr_count(const zr_archive *z) { return z->n; }
const zr_entry *zr_at(const zr_archive *z, size_t i) { return i < z->n ? &z->e[i] : NULL; }

long zr_find(const zr_archive *z, const char *name)
{
	size_t lo = 0, hi = z->n;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int c = strcmp(z->e[z->sorted[mid]].name, name);
		if (c == 0)
			return (long)z->sorted[mid];
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return -1;
}

int zr_stored_range(const zr_archive *z, const zr_entry *e, uint64_t *offset, uint64_t *size)
{
	if (e->flags & 1)
		return ck_fail("%s: record %s is encrypted", z->label, e->name);
	if (e->method != 0)
		return ck_fail("%s: record %s is compressed (method %u); only stored records are "
			       "supported",
			       z->label, e->name, e->method);
	if (e->csize != e->usize)
		return ck_fail("%s: record %s: stored size %llu differs from its size %llu", z->label,
			       e->name, (unsigned long long)e->csize, (unsigned long long)e->usize);
	*offset = e->data;
	*size = e->usize;
	return 0;
}
