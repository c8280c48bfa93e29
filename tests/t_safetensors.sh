# The safetensors stream module: round trip, malformed headers, real files.
. "$(dirname "$0")/lib.sh"
"$TB/st_selftest" "$FIX"/real/safetensors/*.safetensors
