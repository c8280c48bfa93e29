# The rule engine and tensor operations, unit by unit (tests/c/rules_selftest.c).
. "$(dirname "$0")/lib.sh"
"$TB/rules_selftest"
