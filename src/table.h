/* table.h — LevelDB-format tables ("SSTables"), the container of a TF
 * checkpoint's .index file: read every entry in key order, and write one.
 *
 * Layout (docs/FORMATS.md): data blocks, a metaindex block, an index block whose
 * entries map a separator key to each data block's (offset, size), then a
 * 48-byte footer ending in a magic number. Every block is followed by a
 * 1-byte compression type (0 none, 1 snappy) and the masked CRC-32C of the
 * stored block + that byte. Keys inside a block are prefix-compressed, with
 * "restart" points where a key is stored whole.
 *
 * The reader treats the file as hostile: every varint, length, handle and
 * restart offset is bounds-checked, every block CRC verified, snappy sizes
 * bounded before allocating, and keys must be strictly increasing. */
#ifndef CK_TABLE_H
#define CK_TABLE_H

#include <stddef.h>
#include <stdint.h>

#define CK_TABLE_MAGIC 0xdb4775248b80fb57ull
#define CK_TABLE_FOOTER 48
/* Largest .index file read (the tables of the biggest real models are a
 * few MB) and largest block after decompression. */
#define CK_TABLE_MAX_FILE (1ull << 30)
#define CK_TABLE_MAX_BLOCK (256u << 20)

/* ---- reading ---- */
typedef struct ck_table ck_table;

typedef struct {
	const unsigned char *key; /* valid until the next ck_table_next call */
	size_t klen;
	const unsigned char *val;
	size_t vlen;
} ck_table_kv;

typedef struct {
	size_t data_blocks;
	size_t blocks_by_type[2]; /* data + index + metaindex blocks, by compression */
} ck_table_stats;

/* Read the table at path (the whole file: it is small) and check its
 * footer, index and metaindex blocks. */
ck_table *ck_table_open(const char *path);
void ck_table_close(ck_table *t);
/* Next entry in key order: 1 = *kv filled, 0 = no more entries, -1 = error.
 * Data blocks are read, verified and decompressed one at a time. */
int ck_table_next(ck_table *t, ck_table_kv *kv);
/* Block counts; complete once ck_table_next has returned 0. */
ck_table_stats ck_table_get_stats(const ck_table *t);
/* Whether the file's last 8 bytes are the table magic (1), not (0), or it
 * cannot be read (-1; no message). */
int ck_table_probe(const char *path);

/* ---- writing ---- */
typedef struct ck_table_writer ck_table_writer;

typedef struct {
	size_t block_size;    /* data block target size; 0 = 256 KiB as TF */
	int restart_interval; /* 0 = 16 as TF/LevelDB */
	int snappy;           /* compress blocks when it saves >= 1/8 */
} ck_table_opts;

/* Write to fd (label for messages); opts NULL = TF's defaults, no snappy.
 * Keys must be added in strictly increasing bytewise order. */
ck_table_writer *ck_table_writer_new(int fd, const char *label, const ck_table_opts *opts);
int ck_table_writer_add(ck_table_writer *w, const void *key, size_t klen, const void *val,
			size_t vlen);
/* Write the last data block, metaindex and index blocks and the footer. */
int ck_table_writer_finish(ck_table_writer *w);
void ck_table_writer_free(ck_table_writer *w);

/* Varints as LevelDB/protobuf encode them; the readers return the number of
 * bytes used, or 0 when the encoding is truncated, too long or overflows. */
size_t ck_varint32_get(const unsigned char *p, size_t avail, uint32_t *v);
size_t ck_varint64_get(const unsigned char *p, size_t avail, uint64_t *v);
size_t ck_varint64_put(unsigned char *p, uint64_t v); /* p has room for 10 */

#endif
