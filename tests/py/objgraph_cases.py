"""objgraph_cases.py DIR — with real TensorFlow: DIR/tf_names.tsv, what TF's
own TrackableObjectGraph parser says of each checkpoint given after DIR
(KEY<TAB>FULL_NAME per saved value, in node order), and hand-made object
graphs saved with tf.raw_ops.SaveV2 beside one float tensor "x":
  cycle     node 0 -> 1 -> 0 (a shared/cyclic reference; valid in TF)
  dangling  a child that is node 99 of 2
  missing   an attribute whose checkpoint_key is not in the checkpoint
  garbage   a string that is no protobuf"""
import os
import sys

import tensorflow as tf
from tensorflow.core.protobuf import trackable_object_graph_pb2 as pb

out = sys.argv[1]
with open(os.path.join(out, "tf_names.tsv"), "w") as f:
    for ck in sys.argv[2:]:
        g = pb.TrackableObjectGraph.FromString(
            tf.train.load_checkpoint(ck).get_tensor("_CHECKPOINTABLE_OBJECT_GRAPH"))
        for n in g.nodes:
            for a in n.attributes:
                f.write(f"{a.checkpoint_key}\t{a.full_name}\n")


def graph(child_id, key):
    g = pb.TrackableObjectGraph()
    root, leaf = g.nodes.add(), g.nodes.add()
    root.children.add(node_id=1, local_name="x")
    leaf.children.add(node_id=child_id, local_name="back")
    leaf.attributes.add(name="VARIABLE_VALUE", full_name="x", checkpoint_key=key)
    return g.SerializeToString()


cases = {"cycle": graph(0, "x/.ATTRIBUTES/VARIABLE_VALUE"),
         "dangling": graph(99, "x/.ATTRIBUTES/VARIABLE_VALUE"),
         "missing": graph(0, "y/.ATTRIBUTES/VARIABLE_VALUE"),
         "garbage": b"\xff\xff\xff\xff not a protobuf"}
for name, blob in cases.items():
    os.makedirs(os.path.join(out, name), exist_ok=True)
    tf.raw_ops.SaveV2(prefix=os.path.join(out, name, "ckpt"),
                      tensor_names=["_CHECKPOINTABLE_OBJECT_GRAPH", "x/.ATTRIBUTES/VARIABLE_VALUE"],
                      shape_and_slices=["", ""], tensors=[tf.constant(blob), tf.constant([1.0, 2.0])])
