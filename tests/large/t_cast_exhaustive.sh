# Every one of the 2^32 F32 bit patterns cast to F16 and BF16, compared with
# torch's tensor.to() (about 80 s).
. "$(dirname "$0")/../lib.sh"
"$PY" "$CK_ROOT/tests/py/cast_check.py" "$TB/cast_filter" --all-f32 || true
