"""stack_tf_write.py GOLDEN OUT — re-save the golden TF checkpoints with TensorFlow itself.

Run with the pinned TensorFlow ($CK_STACK_TF); one process writes everything
(importing TF is the slow part). For every golden TF case, OUT/CASE/VARIANT/
holds the case's other input files (configs, vocabularies) and a checkpoint
under the original prefix name, holding the original variables:
  saver   tf.compat.v1.train.Saver(sharded=True), the variables spread over
          three CPU devices (so several data shards)
  part    the same, every variable that has a dimension of 2 or more
          partitioned by tf.compat.v1.fixed_size_partitioner (alternately
          along its first and last axis), its parts on different devices
  object  tf.train.Checkpoint(...).save(): an object-based checkpoint
and OUT/t5/bf16/ the T5 variables cast to bfloat16 (as Mesh TF can train).
OUT/dtypes/{saver,part,object}/ hold variables of every dtype TF saves
(float16, bfloat16, int32, int64, bool, string, ...), scalars and empties.
Prints one line per checkpoint: CASE<TAB>VARIANT<TAB>PREFIX."""
import json
import os
import re
import shutil
import sys

import numpy as np
import tensorflow as tf

tf1 = tf.compat.v1
DEVICES = 3
CASES = ["bert", "bert_mlm_only", "albert", "gpt2", "t5", "xlnet", "transfo_xl"]


def slice_initializer(full):
    """An initializer for a (possibly partitioned) variable holding FULL."""
    def init(shape, dtype=None, partition_info=None):
        offset = partition_info.var_offset if partition_info is not None else [0] * len(shape)
        part = full[tuple(slice(o, o + s) for o, s in zip(offset, shape))]
        return tf.constant(part, dtype=dtype)
    return init


def device_of(i):
    """Variable i's device; part K of a partitioned one goes K devices further
    (as parameter servers hold the parts of a large embedding)."""
    def place(op):
        part = re.search(r"/part_(\d+)(?:/|$)", op.name)
        return "/cpu:%d" % ((i + (int(part.group(1)) if part else 0)) % DEVICES)
    return place


def save_v1(prefix, variables, partition):
    """Save {name: array} with the sharded TF1 Saver, the variables spread over
    the devices; partition=True: partitioned too."""
    graph = tf.Graph()
    with graph.as_default():
        for i, (name, value) in enumerate(sorted(variables.items())):
            dtype = tf.as_dtype(value.dtype) if value.dtype != object else tf.string
            partitioner = None
            if partition:
                axis = 0 if i % 2 == 0 or value.ndim < 2 else value.ndim - 1
                if value.ndim >= 1 and value.shape[axis] >= 2:
                    partitioner = tf1.fixed_size_partitioner(min(3, value.shape[axis]), axis=axis)
            with graph.device(device_of(i)):
                tf1.get_variable(name, shape=value.shape, dtype=dtype, initializer=slice_initializer(value),
                                 partitioner=partitioner, use_resource=False)
        saver = tf1.train.Saver(sharded=True)
        config = tf1.ConfigProto(device_count={"CPU": DEVICES})
        with tf1.Session(config=config) as sess:
            sess.run(tf1.global_variables_initializer())
            saver.save(sess, prefix, write_meta_graph=False)
    return prefix


class Holder(tf.Module):
    """The tracked variables of an object-based checkpoint, by a slash-free name."""


def save_object(directory, variables):
    holder = Holder()
    holder.vars = {name.replace("/", "."): tf.Variable(value, name=name) for name, value in variables.items()}
    return tf.train.Checkpoint(model=holder).save(os.path.join(directory, "ckpt"))


def read_all(prefix):
    reader = tf.train.load_checkpoint(prefix)
    return {name: reader.get_tensor(name) for name in reader.get_variable_to_shape_map()}


def dtype_variables():
    rng = np.random.default_rng(13)
    f = lambda *shape: rng.uniform(-4, 4, shape)
    strings = np.array([[b"", b"a", b"bc"], [b"\x00\xff", b"x" * 300, "\u00e9t\u00e9".encode()]], dtype=object)
    return {
        "f16/kernel": f(7, 5).astype(np.float16),
        "bf16/kernel": f(4, 6).astype(tf.bfloat16.as_numpy_dtype),
        "f64/bias": f(5).astype(np.float64),
        "f32/scalar": np.float32(1.5),
        "f32/empty": np.zeros((0, 3), np.float32),
        "i32/table": rng.integers(-2**31, 2**31, (6, 4), dtype=np.int32),
        "i64/table": rng.integers(-2**63, 2**63, (3, 5), dtype=np.int64),
        "global_step": np.int64(100000),
        "i8/codes": rng.integers(-128, 128, (9,), dtype=np.int8),
        "u8/codes": rng.integers(0, 256, (4, 4), dtype=np.uint8),
        "i16/codes": rng.integers(-2**15, 2**15, (5, 2), dtype=np.int16),
        "flags/mask": rng.integers(0, 2, (5, 3)).astype(bool),
        "vocab/tokens": strings,
        "vocab/name": np.array(b"a string scalar", dtype=object),
    }


def copy_inputs(case_dir, ckpt, dest):
    """The case's input files other than its checkpoint (configs, vocabularies)."""
    os.makedirs(dest, exist_ok=True)
    for f in os.listdir(os.path.join(case_dir, "input")):
        if f == "checkpoint" or f.startswith(ckpt + "."):
            continue
        shutil.copy(os.path.join(case_dir, "input", f), dest)


def main():
    golden, out = sys.argv[1:3]
    tf.config.set_logical_device_configuration(
        tf.config.list_physical_devices("CPU")[0], [tf.config.LogicalDeviceConfiguration()] * DEVICES)
    written = []
    for case in CASES:
        with open(os.path.join(golden, case, "case.json")) as f:
            ckpt = json.load(f)["checkpoint"]
        variables = read_all(os.path.join(golden, case, "input", ckpt))
        for variant in ("saver", "part", "object"):
            dest = os.path.join(out, case, variant)
            copy_inputs(os.path.join(golden, case), ckpt, dest)
            if variant == "object":
                written.append((case, variant, save_object(dest, variables)))
            else:
                written.append((case, variant, save_v1(os.path.join(dest, ckpt), variables, variant == "part")))
        if case == "t5":
            dest = os.path.join(out, case, "bf16")
            copy_inputs(os.path.join(golden, case), ckpt, dest)
            wide = {n: v.astype(tf.bfloat16.as_numpy_dtype) if v.dtype == np.float32 else v for n, v in variables.items()}
            written.append((case, "bf16", save_v1(os.path.join(dest, ckpt), wide, False)))
    for variant in ("saver", "part", "object"):
        dest = os.path.join(out, "dtypes", variant)
        os.makedirs(dest, exist_ok=True)
        if variant == "object":
            written.append(("dtypes", variant, save_object(dest, dtype_variables())))
        else:
            written.append(("dtypes", variant, save_v1(os.path.join(dest, "model.ckpt"), dtype_variables(), variant == "part")))
    for case, variant, prefix in written:
        print("%s\t%s\t%s" % (case, variant, prefix))


main()
