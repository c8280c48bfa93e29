/* objgraph.h — the object graph of a TensorFlow 2 object-based checkpoint
 * (tf.train.Checkpoint, Keras save_weights): the scalar string tensor
 * _CHECKPOINTABLE_OBJECT_GRAPH, a TrackableObjectGraph protobuf
 * (src/proto/trackable_object_graph.proto). It names every saved value: its
 * bundle key (the object path), the variable's own full name, and the path
 * of attribute names from the root (node 0) to the object that holds it.
 * The graph is read from the data file (the one tensor read); sizes are
 * checked before allocation, references validated, and the graph walked
 * breadth first without recursion (each node once, so cycles end). */
#ifndef CK_OBJGRAPH_H
#define CK_OBJGRAPH_H

#include <stddef.h>

#include "source.h"

#define CK_OBJGRAPH_KEY "_CHECKPOINTABLE_OBJECT_GRAPH"

typedef struct {
	const char *key;       /* checkpoint_key: a tensor of the checkpoint */
	const char *full_name; /* the variable's name; "" when not recorded */
	const char *path;      /* root-to-object attribute path + "/" + attribute name;
				  a slot: VARIABLE_PATH/.OPTIMIZER_SLOT/OPTIMIZER_PATH/SLOT */
} ck_objgraph_value;

typedef struct ck_objgraph ck_objgraph;

/* 1 when the checkpoint has an object graph tensor, else 0. */
int ck_objgraph_present(const ck_source *s);
/* Read and check the object graph of s (NULL + ck_fail on error, naming
 * the checkpoint and the problem). */
ck_objgraph *ck_objgraph_read(ck_source *s);
/* The same from the protobuf bytes themselves; has_value(ctx, key) says
 * whether the checkpoint has the value KEY; label names it in messages. */
ck_objgraph *ck_objgraph_parse(const void *proto, size_t len, int (*has_value)(void *ctx, const char *key),
			       void *ctx, const char *label);
void ck_objgraph_free(ck_objgraph *g);
/* The saved values, in node order then attribute order. */
size_t ck_objgraph_count(const ck_objgraph *g);
const ck_objgraph_value *ck_objgraph_at(const ck_objgraph *g, size_t i);

#endif
