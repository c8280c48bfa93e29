/* zipread.h — the central directory of a zip archive, for reading stored
 * records in place (PyTorch checkpoints, numpy .npz).
 *
 * Finds the end-of-central-directory record (and the ZIP64 one when
 * present), parses every central entry (ZIP64 extra fields included),
 * checks each local header against it and computes where each record's
 * data starts. Every offset and size is checked against the file size
 * before use; the central directory is read only after its size is known to
 * fit. Records are not decompressed: a reader asks for a record's data range
 * and gets an error naming the record if it is compressed or encrypted. */
#ifndef CK_ZIPREAD_H
#define CK_ZIPREAD_H

#include <stddef.h>
#include <stdint.h>

#define ZR_MAX_CDIR (64u << 20)  /* central directory bytes we accept */

typedef struct {
	char *name;
	uint16_t method; /* 0 = stored */
	uint16_t flags;
	uint32_t crc;
	uint64_t csize, usize;
	uint64_t header; /* local header offset */
	uint64_t data;   /* data offset (after the local header) */
} zr_entry;

typedef struct zr_archive zr_archive;

/* Parse the archive in fd (file_size bytes). label names it in errors. */
zr_archive *zr_open(int fd, uint64_t file_size, const char *label);
void zr_close(zr_archive *z);

size_t zr_count(const zr_archive *z);
/* Entries in central-directory order. */
const zr_entry *zr_at(const zr_archive *z, size_t i);
/* Index of the record with this exact name, or -1 (binary search). */
long zr_find(const zr_archive *z, const char *name);
/* Where a stored record's bytes are: error if compressed or encrypted. */
int zr_stored_range(const zr_archive *z, const zr_entry *e, uint64_t *offset, uint64_t *size);

#endif
