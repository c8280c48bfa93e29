/* objgraph.c — the TrackableObjectGraph of a TF2 object-based checkpoint
 * (objgraph.h). */
#include "objgraph.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "trackable_object_graph.pb-c.h"
#include "util.h"

enum {
	MAX_GRAPH_BYTES = 64 << 20, /* the real BERT-Base graph is 96 KB */
	MAX_NODES = 1 << 20,
	MAX_PATH = 4096,            /* bytes of one object path */
	MAX_PATHS = 64 << 20,       /* bytes of all of them */
};

typedef Tensorflow__TrackableObjectGraph Graph;
typedef Tensorflow__TrackableObjectGraph__TrackableObject Node;

struct ck_objgraph {
	Graph *pb;
	char **path; /* per node; NULL when the walk does not reach it */
	ck_objgraph_value *v;
	char **vpath; /* owned paths of the values */
	size_t n;
};

int ck_objgraph_present(const ck_source *s) { return ck_source_find(s, CK_OBJGRAPH_KEY) >= 0; }

void ck_objgraph_free(ck_objgraph *g)
{
	if (!g)
		return;
	if (g->pb) {
		for (size_t i = 0; g->path && i < g->pb->n_nodes; i++)
			free(g->path[i]);
		tensorflow__trackable_object_graph__free_unpacked(g->pb, NULL);
	}
	for (size_t i = 0; i < g->n; i++)
		free(g->vpath[i]);
	free(g->path);
	free(g->vpath);
	free(g->v);
	free(g);
}

size_t ck_objgraph_count(const ck_objgraph *g) { return g->n; }
const ck_objgraph_value *ck_objgraph_at(const ck_objgraph *g, size_t i) { return &g->v[i]; }

/* a/b[/c[/d]] (a may be "": the root), bounded by MAX_PATH and the running
 * total of all paths. */
static char *join(const char *a, const char *b, const char *c, const char *d, size_t *total)
{
	const char *part[4] = {a, b, c, d};
	size_t n = 1;
	for (int i = 0; i < 4; i++)
		n += part[i] ? strlen(part[i]) + 1 : 0;
	if (n > MAX_PATH || *total + n > MAX_PATHS) {
		ck_fail("an object path is longer than %d bytes", MAX_PATH);
		return NULL;
	}
	char *p = ck_malloc(n), *q = p;
	if (!p)
		return NULL;
	for (int i = 0; i < 4 && part[i]; i++) {
		if (q > p || (i > 0 && *a))
			*q++ = '/';
		if (i == 0 && !*a)
			continue;
		size_t l = strlen(part[i]);
		memcpy(q, part[i], l);
		q += l;
	}
	*q = 0;
	*total += n;
	return p;
}

/* The root-to-node paths: breadth first from node 0, each node reached once
 * (its shortest path; cycles and shared objects end there), then the slot
 * variables, which hang off their optimizer, not off a parent. */
static int walk(ck_objgraph *g)
{
	size_t nn = g->pb->n_nodes, total = 0;
	size_t *queue = ck_malloc(nn * sizeof *queue);
	if (!queue || !(g->path = ck_calloc(nn, sizeof *g->path)) || !(g->path[0] = strdup(""))) {
		free(queue);
		return g->path && !g->path[0] ? ck_fail("out of memory") : -1;
	}
	size_t head = 0, tail = 0;
	queue[tail++] = 0;
	while (head < tail) {
		const Node *u = g->pb->nodes[queue[head]];
		const char *up = g->path[queue[head++]];
		for (size_t k = 0; k < u->n_children; k++) {
			size_t c = (size_t)u->children[k]->node_id;
			if (g->path[c])
				continue;
			if (!(g->path[c] = join(up, u->children[k]->local_name, NULL, NULL, &total))) {
				free(queue);
				return -1;
			}
			queue[tail++] = c;
		}
	}
	free(queue);
	for (size_t i = 0; i < nn; i++) {
		const Node *o = g->pb->nodes[i];
		for (size_t k = 0; g->path[i] && k < o->n_slot_variables; k++) {
			const Tensorflow__TrackableObjectGraph__TrackableObject__SlotVariableReference *r =
			    o->slot_variables[k];
			size_t var = (size_t)r->original_variable_node_id, slot = (size_t)r->slot_variable_node_id;
			if (g->path[slot] || !g->path[var])
				continue;
			if (!(g->path[slot] = join(g->path[var], ".OPTIMIZER_SLOT", g->path[i], r->slot_name, &total)))
				return -1;
		}
	}
	return 0;
}

static int check_refs(const Graph *pb)
{
	if (pb->n_nodes == 0)
		return ck_fail("no objects");
	if (pb->n_nodes > MAX_NODES)
		return ck_fail("%zu objects, more than %d", pb->n_nodes, MAX_NODES);
	for (size_t i = 0; i < pb->n_nodes; i++) {
		const Node *u = pb->nodes[i];
		for (size_t k = 0; k < u->n_children; k++)
			if (u->children[k]->node_id < 0 || (size_t)u->children[k]->node_id >= pb->n_nodes)
				return ck_fail("object %zu: child %s is object %d, of %zu", i,
					       u->children[k]->local_name, u->children[k]->node_id, pb->n_nodes);
		for (size_t k = 0; k < u->n_slot_variables; k++) {
			int32_t a = u->slot_variables[k]->original_variable_node_id;
			int32_t b = u->slot_variables[k]->slot_variable_node_id;
			if (a < 0 || (size_t)a >= pb->n_nodes || b < 0 || (size_t)b >= pb->n_nodes)
				return ck_fail("object %zu: slot %s refers to objects %d and %d, of %zu", i,
					       u->slot_variables[k]->slot_name, a, b, pb->n_nodes);
		}
	}
	return 0;
}

/* The scalar string as TF stores it: varint64 length, masked CRC-32C of the
 * length (already verified by the reader), the bytes. */
static int string_value(const uint8_t *p, uint64_t n, const uint8_t **s, size_t *len)
{
	uint64_t v = 0;
	size_t i = 0;
	for (int shift = 0;; shift += 7) {
		if (i == n || shift > 63)
			return ck_fail("a bad string length");
		v |= (uint64_t)(p[i] & 0x7f) << shift;
		if (!(p[i++] & 0x80))
			break;
	}
	if (n - i < 4 || v != n - i - 4)
		return ck_fail("string length %llu does not fit the tensor's %llu bytes",
			       (unsigned long long)v, (unsigned long long)n);
	*s = p + i + 4;
	*len = (size_t)v;
	return 0;
}

/* The graph from its protobuf bytes: references checked, walked, every
 * value's key known to has_value. */
static ck_objgraph *parse(ck_objgraph *g, const uint8_t *str, size_t len,
			  int (*has_value)(void *ctx, const char *key), void *ctx)
{
	g->pb = tensorflow__trackable_object_graph__unpack(NULL, len, str);
	if (!g->pb)
		return ck_fail("%s: not a TrackableObjectGraph protobuf", CK_OBJGRAPH_KEY), NULL;
	if (check_refs(g->pb) < 0 || walk(g) < 0)
		return NULL;
	size_t nv = 0;
	for (size_t k = 0; k < g->pb->n_nodes; k++)
		nv += g->pb->nodes[k]->n_attributes; /* each one is a message of >= 2 bytes: no overflow */
	if (!(g->v = ck_calloc(nv ? nv : 1, sizeof *g->v)) || !(g->vpath = ck_calloc(nv ? nv : 1, sizeof *g->vpath)))
		return NULL;
	size_t total = 0;
	for (size_t k = 0; k < g->pb->n_nodes; k++) {
		const Node *u = g->pb->nodes[k];
		for (size_t a = 0; a < u->n_attributes; a++) {
			const char *key = u->attributes[a]->checkpoint_key;
			if (!has_value(ctx, key))
				return ck_fail("object %zu names the value '%s', which the checkpoint does not have",
					       k, key), NULL;
			ck_objgraph_value *v = &g->v[g->n];
			v->key = key;
			v->full_name = u->attributes[a]->full_name;
			if (g->path[k] &&
			    !(g->vpath[g->n] = join(g->path[k], ".ATTRIBUTES", u->attributes[a]->name, NULL, &total)))
				return NULL;
			v->path = g->vpath[g->n] ? g->vpath[g->n] : "";
			g->n++;
		}
	}
	return g;
}

static ck_objgraph *finish(ck_objgraph *g, ck_objgraph *ok, const char *label)
{
	if (ok)
		return g;
	char why[512];
	snprintf(why, sizeof why, "%s", ck_errmsg());
	ck_fail("%s: object graph: %s", label, why);
	ck_objgraph_free(g);
	return NULL;
}

ck_objgraph *ck_objgraph_parse(const void *proto, size_t len, int (*has_value)(void *ctx, const char *key),
			       void *ctx, const char *label)
{
	ck_objgraph *g = ck_calloc(1, sizeof *g);
	if (!g)
		return NULL;
	if (len > MAX_GRAPH_BYTES) {
		ck_fail("%s: %zu bytes, more than %d", CK_OBJGRAPH_KEY, len, MAX_GRAPH_BYTES);
		return finish(g, NULL, label);
	}
	return finish(g, parse(g, proto, len, has_value, ctx), label);
}

static int source_has(void *ctx, const char *key) { return ck_source_find(ctx, key) >= 0; }

static ck_objgraph *read_graph(ck_source *s, ck_objgraph *g)
{
	long i = ck_source_find(s, CK_OBJGRAPH_KEY);
	if (i < 0)
		return ck_fail("no %s tensor: not a TensorFlow 2 object-based checkpoint", CK_OBJGRAPH_KEY), NULL;
	const ck_source_entry *e = ck_source_at(s, (size_t)i);
	if (!e->supported || e->dtype != CK_STRING || e->ndim != 0)
		return ck_fail("%s is not a scalar string", CK_OBJGRAPH_KEY), NULL;
	if (e->nbytes > MAX_GRAPH_BYTES)
		return ck_fail("%s: %llu bytes, more than %d", CK_OBJGRAPH_KEY, (unsigned long long)e->nbytes,
			       MAX_GRAPH_BYTES), NULL;
	uint8_t *buf = ck_malloc(e->nbytes ? (size_t)e->nbytes : 1);
	const uint8_t *str = NULL;
	size_t len = 0;
	ck_objgraph *r = NULL;
	if (buf && ck_source_read(s, (size_t)i, buf, e->nbytes) == 0 &&
	    string_value(buf, e->nbytes, &str, &len) == 0)
		r = parse(g, str, len, source_has, s);
	free(buf);
	return r;
}

ck_objgraph *ck_objgraph_read(ck_source *s)
{
	ck_objgraph *g = ck_calloc(1, sizeof *g);
	return g ? finish(g, read_graph(s, g), ck_source_label(s)) : NULL;
}
