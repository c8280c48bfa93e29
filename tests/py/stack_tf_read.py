"""stack_tf_read.py LIST — what TensorFlow reads, against what our tools read.

Run with the pinned TensorFlow ($CK_STACK_TF), one process for every checkpoint.
LIST has one line per checkpoint: LABEL<TAB>PREFIX<TAB>LS<TAB>JSON<TAB>ST<TAB>KIND
  LS    `ckpt-ls PREFIX` output: must equal tf.train.list_variables (names,
        shapes, in order) with the dtypes of get_variable_to_dtype_map()
  JSON  `ckpt-ls --json PREFIX`: where TF's CheckpointReader cannot reassemble
        a partitioned variable (float16: "Dtype half not supported"), TF
        restores each slice by its own extent, as restoring a partitioned
        variable does; an extent TF did not save would not be found
  ST    a safetensors file that must hold every non-string variable exactly
        as tf.train.load_checkpoint(PREFIX).get_tensor() returns it (dtype,
        shape, bytes) and nothing else
  KIND  tf: ST is `ckpt-extract PREFIX`, which verifies and skips string
        tensors, so they must be absent from it;
        mkckpt: the checkpoint was made by our bundle writer (tests/c/mkckpt.c)
        and ST is its --expect file (the generator's values); its string
        tensors, which TF must read too, hold element i = "NAME:i" 1 to 3 times;
        index: only the index is there (a real release's), ST is unused.
Prints one "ok"/"FAIL" line per check."""
import json
import re
import sys

import numpy as np
import tensorflow as tf

sys.path.insert(0, __file__.rsplit("/", 1)[0])
import st  # noqa: E402

OURS = {tf.float32: "F32", tf.float16: "F16", tf.bfloat16: "BF16", tf.float64: "F64",
        tf.int64: "I64", tf.int32: "I32", tf.int16: "I16", tf.int8: "I8", tf.uint8: "U8",
        tf.uint16: "U16", tf.uint32: "U32", tf.uint64: "U64", tf.bool: "BOOL", tf.string: "STRING"}


def report(label, what, problems):
    for p in problems[:5]:
        print("FAIL - %s: %s: %s" % (label, what, p))
    if len(problems) > 5:
        print("FAIL - %s: %s: and %d more" % (label, what, len(problems) - 5))
    return not problems


def generated_strings(name, value):
    """mkckpt's STRING rule: element i is "NAME:i" repeated 1 to 3 times."""
    flat = np.asarray(value, dtype=object).reshape(-1)
    return [i for i, s in enumerate(flat)
            if not re.fullmatch(b"(?:%s){1,3}" % re.escape(("%s:%d" % (name, i)).encode()), s)]


def restore_by_slices(prefix, entry, dtype):
    """TF's values of a partitioned variable, slice by slice (RestoreV2)."""
    full = None
    shape = entry["shape"]
    for s in entry["slices"]:
        explicit = ":".join("%d,%d" % (a, n) for a, n in zip(s["start"], s["shape"]))
        # ckpt-ls shows a whole-dimension extent ("-" in TF's spec) by its length
        whole = ":".join("-" if (a, n) == (0, d) else "%d,%d" % (a, n)
                         for a, n, d in zip(s["start"], s["shape"], shape))
        for extents in dict.fromkeys((explicit, whole)):
            spec = "%s %s" % (" ".join(map(str, shape)), extents)
            try:
                part = tf.raw_ops.RestoreV2(prefix=prefix, tensor_names=[entry["name"]], shape_and_slices=[spec],
                                            dtypes=[dtype])[0].numpy()
                break
            except tf.errors.InvalidArgumentError:
                if extents == whole:
                    raise
        if full is None:
            full = np.zeros(entry["shape"], part.dtype)
        full[tuple(slice(a, a + n) for a, n in zip(s["start"], s["shape"]))] = part
    return full


def check(label, prefix, ls_path, json_path, st_path, kind):
    reader = tf.train.load_checkpoint(prefix)
    dtypes = reader.get_variable_to_dtype_map()
    variables = tf.train.list_variables(prefix)
    want = ["%s\t%s\t%s" % (n, OURS.get(dtypes[n], dtypes[n].name), ",".join(map(str, s))) for n, s in variables]
    with open(ls_path) as f:
        got = f.read().splitlines()
    problems = ["TF lists %r, ckpt-ls %r" % (w, g) for w, g in zip(want, got) if w != g]
    if len(want) != len(got):
        problems.append("TF lists %d variables, ckpt-ls %d" % (len(want), len(got)))
    if report(label, "ckpt-ls = tf.train.list_variables", problems):
        print("ok - %s: ckpt-ls = tf.train.list_variables with TF's dtypes (%d variables)" % (label, len(want)))
    if kind == "index":
        return

    with open(json_path) as f:
        entries = {e["name"]: e for e in json.load(f)["tensors"]}
    _, ours, _ = st.read(st_path)
    problems, strings, by_slices = [], 0, []
    for name, _ in variables:
        try:
            value = reader.get_tensor(name)
        except ValueError:
            if not entries.get(name, {}).get("slices"):
                raise
            value = restore_by_slices(prefix, entries[name], dtypes[name])
            by_slices.append("%s %s" % (dtypes[name].name, name))
        if dtypes[name] == tf.string:
            strings += 1
            if name in ours:
                problems.append("string tensor %s is in the output" % name)
            if kind == "mkckpt":
                bad = generated_strings(name, value)
                if bad:
                    problems.append("TF reads string tensor %s elements %s unlike the generator" % (name, bad[:5]))
            continue
        if name not in ours:
            problems.append("%s: missing" % name)
            continue
        t = ours[name]
        if t.dtype != OURS[dtypes[name]] or t.shape != value.shape:
            problems.append("%s: TF %s %s, ours %s %s" % (name, dtypes[name].name, value.shape, t.dtype, t.shape))
        elif np.ascontiguousarray(value).tobytes() != np.ascontiguousarray(t.data).tobytes():
            problems.append("%s: bytes differ" % name)
    problems += ["%s: not a TF variable" % n for n in ours if n not in dtypes]
    what = "ckpt-extract = get_tensor" if kind == "tf" else "TF's get_tensor = mkckpt's values"
    if report(label, what, problems):
        print("ok - %s: %s, bit for bit (%d tensors, %d string tensors%s%s)"
              % (label, what, len(variables) - strings, strings,
                 " read by TF as written" if kind == "mkckpt" else " verified and skipped",
                 "; restored by TF slice by slice: " + ", ".join(by_slices) if by_slices else ""))


def main():
    with open(sys.argv[1]) as f:
        for line in f:
            check(*line.rstrip("\n").split("\t"))


main()
