"""stlist.py FILE.safetensors [NAME ...] — the tensor list (NAME<TAB>DTYPE<TAB>SHAPE) of a
safetensors file in header order, leaving out the NAMEs given."""
import json, struct, sys

with open(sys.argv[1], 'rb') as f:
    n = struct.unpack('<Q', f.read(8))[0]
    header = json.loads(f.read(n))
skip = set(sys.argv[2:])
for name, t in header.items():
    if name != '__metadata__' and name not in skip:
        print('%s\t%s\t%s' % (name, t['dtype'], ','.join(str(d) for d in t['shape'])))
