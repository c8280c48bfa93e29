"""cfgcheck.py OURS [EXPECTED] [--alias KEY=OURKEY ...] [--want KEY=JSON ...] [--absent KEY ...]

Checks a config.json we wrote:
  * its text is exactly Python's json.dumps(config, indent=2, sort_keys=True) + "\\n"
    (id2label keys as integers, as Hugging Face holds them);
  * it has model_type and architectures and no transformers_version, and the weights' dtype
    under `dtype`, never `torch_dtype` (4.56 renamed it; 4.57 and 5.x warn about the old key);
  * every key of EXPECTED except transformers_version has the same value (same JSON types) in
    OURS, under the key an --alias names (an HF attribute_map alias; EXPECTED's torch_dtype,
    written by the reference's 4.33, is our dtype);
  * --want KEY=JSON: OURS has that value; --absent KEY: OURS does not have KEY.
Prints one line per failed check and exits 1 if any failed."""
import json, sys

def same(a, b):
    if type(a) is not type(b):
        return False
    if isinstance(a, dict):
        return a.keys() == b.keys() and all(same(a[k], b[k]) for k in a)
    if isinstance(a, list):
        return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b))
    return a == b

args = sys.argv[1:]
pos, alias, want, absent = [], {'torch_dtype': 'dtype'}, {}, ['torch_dtype']
while args:
    a = args.pop(0)
    if a == '--alias':
        k, v = args.pop(0).split('=', 1); alias[k] = v
    elif a == '--want':
        k, v = args.pop(0).split('=', 1); want[k] = json.loads(v)
    elif a == '--absent':
        absent.append(args.pop(0))
    else:
        pos.append(a)
text = open(pos[0], encoding='utf-8').read()
ours = json.loads(text)
errors = []
py = dict(ours)
if isinstance(py.get('id2label'), dict):
    py['id2label'] = {int(k): v for k, v in py['id2label'].items()}
if json.dumps(py, indent=2, sort_keys=True) + '\n' != text:
    errors.append('text differs from Python json.dumps(indent=2, sort_keys=True)')
for k in ('model_type', 'architectures'):
    if k not in ours:
        errors.append('no ' + k)
if 'transformers_version' in ours:
    errors.append('has transformers_version')
if len(pos) > 1:
    exp = json.load(open(pos[1], encoding='utf-8'))
    for k, v in exp.items():
        if k == 'transformers_version':
            continue
        ok = alias.get(k, k)
        if ok not in ours:
            errors.append('missing %s (expected %s)' % (ok, json.dumps(v)))
        elif not same(ours[ok], v):
            errors.append('%s = %s, expected %s' % (ok, json.dumps(ours[ok]), json.dumps(v)))
for k, v in want.items():
    if k not in ours or not same(ours[k], v):
        errors.append('%s = %s, wanted %s' % (k, json.dumps(ours.get(k)), json.dumps(v)))
for k in absent:
    if k in ours:
        errors.append('%s present' % k)
for e in errors:
    print(e)
sys.exit(1 if errors else 0)
