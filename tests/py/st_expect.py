"""st_expect.py IN OUT 'EXPR' ... — evaluate each Python expression with
i / o = {name: numpy array} of the input / output safetensors files, im / om
their metadata, on = the output names in header order, plus np, same,
bf16_to_f32, f32_to_bf16; print "ok - EXPR" or "FAIL - EXPR"."""
import sys

import numpy as np

import st


def main():
    im, it, _ = st.read(sys.argv[1])
    om, ot, on = st.read(sys.argv[2])
    env = {"i": {k: v.data for k, v in it.items()}, "o": {k: v.data for k, v in ot.items()},
           "im": im, "om": om, "on": on, "np": np, "same": st.same,
           "bf16_to_f32": st.bf16_to_f32, "f32_to_bf16": st.f32_to_bf16}
    for expr in sys.argv[3:]:
        try:
            good = bool(eval(expr, env))
            why = ""
        except Exception as e:  # a failing check, not a crash of the suite
            good, why = False, " (%s: %s)" % (type(e).__name__, e)
        print("%s - %s%s" % ("ok" if good else "FAIL", expr, why))


main()
