/* pyjson.h — JSON text byte-for-byte as Python writes it with
 * json.dumps(obj, indent=2, sort_keys=True) + "\n" (the form of every
 * Hugging Face config.json): two-space indentation, one member or element per
 * line, ": " after keys, empty containers as {} and [], floats in Python's
 * shortest round-trip repr (1e-05, 0.1, 1.0), non-ASCII and control
 * characters as \uXXXX escapes (surrogate pairs above U+FFFF).
 *
 * Values are jansson trees. Integers are jansson's 64-bit integers; a real
 * is always written with a fraction or an exponent, as Python does. */
#ifndef CK_PYJSON_H
#define CK_PYJSON_H

#include <jansson.h>
#include <stddef.h>

enum {
	/* Members of every object in code-point order (sort_keys=True); without
	 * it, jansson's insertion order. */
	PYJSON_SORT_KEYS = 1,
	/* The top-level "id2label" object is ordered by its keys as integers:
	 * Hugging Face holds those keys as ints, which Python sorts
	 * numerically ("2" before "10"). */
	PYJSON_ID2LABEL_INT_KEYS = 2,
	/* On one line with ", " and ": " and no final newline, as
	 * json.dumps(obj) writes it without indent (for messages). */
	PYJSON_ONE_LINE = 4,
};

/* Deepest nesting pyjson_dumps accepts (configs are a few levels deep). */
#define PYJSON_MAX_DEPTH 64

/* The text of v followed by "\n" (unless PYJSON_ONE_LINE), in a malloc'd
 * NUL-terminated buffer. */
int pyjson_dumps(const json_t *v, int flags, char **text, size_t *len);

/* Python's repr() of a finite double ("1e-05", "0.02", "1.0", "-0.0",
 * "1e+16"). buf needs 32 bytes. Returns -1 for NaN and infinities. */
int pyjson_repr_double(double d, char *buf, size_t len);

/* Write pyjson_dumps(v) atomically to path ("-" or NULL: stdout). */
int pyjson_write_file(const json_t *v, int flags, const char *path);

#endif
