"""tf_dump.py [CKPT OUT.npz]... — every variable of a TensorFlow checkpoint, read by
TensorFlow itself (tf.train.load_checkpoint), into an .npz: the originals the
hand mappings of the real-stack tests start from. Strings are left out."""
import sys

import numpy as np
import tensorflow as tf

a = sys.argv[1:]
for i in range(0, len(a), 2):
    r = tf.train.load_checkpoint(a[i])
    np.savez(a[i + 1], **{name: r.get_tensor(name) for name, dt in
                          sorted(r.get_variable_to_dtype_map().items()) if dt != tf.string})
