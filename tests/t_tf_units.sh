# Unit checks of crc32c, the LevelDB table and the tensor bundle (hostile
# indexes, corrupt data, fuzzed entries): tests/c/{crc,table,bundle}_selftest.c.
. "$(dirname "$0")/lib.sh"
"$TB/crc_selftest" || fail "crc_selftest exited $?"
mkdir -p "$T/table" "$T/bundle"
"$TB/table_selftest" "$T/table" "$FIX/real/tf_v1_format/tfserving_bad_half_plus_two/export" ||
	fail "table_selftest exited $?"
"$TB/bundle_selftest" "$T/bundle" || fail "bundle_selftest exited $?"
