/* pickle.h — a Python pickle reader that executes nothing.
 *
 * A pickle is a program for a small stack machine whose REDUCE/INST/OBJ
 * opcodes call arbitrary Python callables named by GLOBAL. This reader runs
 * the machine over an explicit stack and builds a tree of inert values; it
 * never calls anything. Policy for globals:
 *
 *  - A call (REDUCE, INST, OBJ) is accepted only when the callable is a
 *    GLOBAL on the caller's allow-list (the call becomes a PK_CALL node for
 *    the caller to interpret) or one of the plain-data constructors this
 *    module turns into data itself: collections.OrderedDict (→ PK_DICT),
 *    builtins.set / frozenset (→ PK_SET), _codecs.encode(str, 'latin1')
 *    (→ PK_BYTES, how protocol 2 writes bytes). Any other call is refused
 *    with an error naming the global: this is where every pickle exploit
 *    lives (os.system, builtins.eval, subprocess.Popen, __main__.f, ...).
 *  - NEWOBJ / NEWOBJ_EX (in Python: cls.__new__(cls), then BUILD sets the
 *    attributes) of any class gives an inert PK_CALL node with PK_NEWOBJ set
 *    that records the class name, the arguments and the BUILD state. This is
 *    how torch.save(model) stores nn.Module objects (e.g. __main__.Net), whose
 *    tensors we need; nothing of the class is ever run.
 *  - A GLOBAL that is never called is just a name (PK_GLOBAL).
 *  - Extension codes (EXT1/2/4) and out-of-band buffers are refused.
 *
 * Hostile-input limits: every length is checked against the buffer before
 * anything is allocated; memo indices are looked up in a hash (a huge index
 * costs nothing); object count, value-stack size and MARK depth are bounded;
 * all work is linear in the input. The tree may share nodes (memo GET) and
 * even contain cycles; pk_free frees it without recursion, and consumers
 * must walk it iteratively with a depth limit (PK_MAX_DEPTH). */
#ifndef CK_PICKLE_H
#define CK_PICKLE_H

#include <stddef.h>
#include <stdint.h>

#define PK_MAX_OBJECTS (1u << 22)  /* nodes per pickle (~200 MB at most; a
				      200k-word XLM vocabulary needs ~1M) */
#define PK_MAX_STACK (1u << 23)    /* value-stack entries */
#define PK_MAX_MARKS (1u << 16)    /* open MARKs */
#define PK_MAX_DEPTH 1000          /* container nesting a consumer should accept */

typedef enum {
	PK_NONE,
	PK_BOOL,   /* u.i is 0 or 1 */
	PK_INT,    /* u.i */
	PK_BIGINT, /* u.s: little-endian two's complement, > 64 bits */
	PK_FLOAT,  /* u.f */
	PK_STR,    /* u.s: the bytes as stored (UTF-8 from Python 3) */
	PK_BYTES,  /* u.s */
	PK_LIST,   /* u.seq */
	PK_TUPLE,  /* u.seq */
	PK_SET,    /* u.seq (set or frozenset) */
	PK_DICT,   /* u.seq: keys and values interleaved, insertion order; duplicate
		      keys are kept (a consumer applies "last value wins") */
	PK_GLOBAL, /* u.g */
	PK_CALL,   /* u.call: an allowed call, or an inert NEWOBJ object */
	PK_PERSID, /* u.pid: a persistent id (PyTorch: a storage reference) */
} pk_kind;

enum { PK_NEWOBJ = 1 };

typedef struct pk_obj pk_obj;
struct pk_obj {
	uint8_t kind;
	uint8_t flags; /* PK_CALL: PK_NEWOBJ */
	uint32_t id;   /* creation index, < pk_object_count() */
	union {
		int64_t i;
		double f;
		struct {
			char *p; /* NUL-terminated copy; n excludes the NUL */
			size_t n;
		} s;
		struct {
			pk_obj **v;
			size_t n, cap;
			pk_obj *state; /* PK_DICT: BUILD state (e.g. OrderedDict attributes) */
		} seq;
		struct {
			char *module, *name, *qual; /* qual = "module.name" */
		} g;
		struct {
			pk_obj *fn;     /* a PK_GLOBAL */
			pk_obj *args;   /* a PK_TUPLE */
			pk_obj *kwargs; /* NEWOBJ_EX keyword arguments, or NULL */
			pk_obj *state;  /* BUILD state, or NULL */
			pk_obj *items;  /* SETITEMS / APPENDS applied to an object, or NULL */
		} call;
		pk_obj *pid;
	} u;
};

typedef struct pk_doc pk_doc;

#define PK_TRUNCATED (-2)

/* Run the pickle that starts at buf. On success *out is the document and
 * *consumed the number of bytes up to and including STOP (bytes after it
 * are not looked at). allowed is a NULL-terminated list of "module.name"
 * callables that may be called (kept as PK_CALL); label prefixes errors.
 * Returns 0, -1 on error, or PK_TRUNCATED when the input ends before STOP
 * (a reader that loaded only a prefix of a file may retry with more). */
int pk_load(const void *buf, size_t len, const char *label, const char *const *allowed,
	    pk_doc **out, size_t *consumed);
void pk_free(pk_doc *d);

pk_obj *pk_root(const pk_doc *d);
size_t pk_object_count(const pk_doc *d);
/* Objects in creation order: arguments are always created before the call
 * that uses them. */
pk_obj *pk_object(const pk_doc *d, size_t id);

/* True when o is the global "module.name" (also matched through Python 2
 * names: __builtin__ → builtins, copy_reg → copyreg). */
int pk_is_global(const pk_obj *o, const char *qual);
/* True when o is a PK_CALL of the global qual. */
int pk_is_call(const pk_obj *o, const char *qual);
/* "tuple", "dict", ... for messages. */
const char *pk_kind_name(int kind);

#endif
