"""reprcheck.py PYREPR — pyjson_repr_double must print what Python's repr() prints:
every power of two, boundary values, and random bit patterns."""
import random, struct, subprocess, sys

vals = [2.0 ** k for k in range(-1074, 1024)]
vals += [-v for v in vals[::7]]
vals += [0.0, -0.0, 0.1, 0.02, 1e-05, 1e-12, 1e-06, 0.0001, 1e16, 1e15, 123456789012345678.0,
         1.0, 5e-324, 1.7976931348623157e308, 2.2250738585072014e-308, 0.02209708691207961,
         9007199254740993.0, 1e22, 1e23, 0.3, 2.5, 100.0, 1234567890123456.0]
rnd = random.Random(20240601)
for _ in range(200000):
    d = struct.unpack('<d', struct.pack('<Q', rnd.getrandbits(64)))[0]
    if d == d and d not in (float('inf'), float('-inf')):
        vals.append(d)
for _ in range(20000):  # short decimals, the usual config values
    vals.append(float('%de%d' % (rnd.randrange(1, 10 ** rnd.randrange(1, 8)), rnd.randrange(-20, 20))))
inp = ''.join('%016x\n' % struct.unpack('<Q', struct.pack('<d', v))[0] for v in vals)
out = subprocess.run([sys.argv[1]], input=inp.encode(), capture_output=True, check=True).stdout.decode().split('\n')
bad = [(repr(v), o) for v, o in zip(vals, out) if repr(v) != o]
if bad or len(out) != len(vals) + 1:
    print('FAIL - repr of %d doubles: %d differ, e.g. %s' % (len(vals), len(bad), bad[:5]))
    sys.exit(1)
print('ok - repr of %d doubles equals Python repr()' % len(vals))
