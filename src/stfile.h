/* stfile.h — a .safetensors FILE read in place (random access by tensor),
 * on top of the stream reader's header validation (safetensors.h). The file
 * size must be exactly header + data. */
#ifndef CK_STFILE_H
#define CK_STFILE_H

#include <stddef.h>
#include <stdint.h>

#include "safetensors.h"

typedef struct stf_file stf_file;

stf_file *stf_open(const char *path);
void stf_close(stf_file *f);
/* The parsed header: tensors in header order, metadata. */
const st_reader *stf_header(const stf_file *f);
/* Read tensor i (st_at(stf_header(f), i)) into dst (end - begin bytes). */
int stf_read(stf_file *f, size_t i, void *dst);

#endif
