# Interrupted runs leave no partial output. SIGINT, SIGTERM and SIGKILL are
# sent while a tool is in the middle of writing: ckpt-extract -o (a 256 MB
# checkpoint made by mkckpt, stopped with SIGSTOP once its temporary file
# holds data), pt-pack into a directory (fed by a pipe that stalls halfway),
# pt-pack --checkpoint (stopped as ckpt-extract), and a whole mk/convert.mk
# conversion (the signal goes to make's process group, as Ctrl-C does). After
# SIGINT/SIGTERM no temporary file is left; after SIGKILL one may be, but
# never a file under a target's name. The next `make` then redoes what is
# missing and the folder equals, byte for byte, that of an uninterrupted
# conversion.
. "$(dirname "$0")/lib.sh"

# run_group CMD... & — run CMD (exec'd: $! is its pid) in a new process group
# (pgid = that pid) with
# SIGINT at its default action (a non-interactive shell would have its
# background jobs ignore it, and make keeps an ignored SIGINT ignored).
run_group() {
	exec "$PY" -c 'import os, signal, sys
signal.signal(signal.SIGINT, signal.SIG_DFL)
os.setpgid(0, 0)
os.execvp(sys.argv[1], sys.argv[1:])' "$@"
}

# wait_tmp DIR PID — wait (up to 120 s) until DIR holds a temporary output
# file (NAME.tmp.XXXXXX) of at least 1 MiB while PID still runs.
wait_tmp() {
	local dir=$1 pid=$2 end=$((SECONDS + 120)) f
	while [ $SECONDS -lt $end ] && kill -0 "$pid" 2>/dev/null; do
		for f in "$dir"/*.tmp.*; do
			[ -e "$f" ] && [ "$(stat -c %s "$f" 2>/dev/null || echo 0)" -ge 1048576 ] && return 0
		done
	done
	return 1
}

# targets DIR — the weight files under their final names.
targets() { (cd "$1" && ls -A | grep -Ev '\.tmp\.' | grep -E '^(out|model|pytorch_model)' || true); }
tmps() { (cd "$1" && ls -A | grep -E '\.tmp\.' || true); }

signum() { kill -l "$1"; }
# gone PGID — wait until every process of the group has exited (the group
# leader may go before the tool whose signal handler removes its files).
gone() {
	local end=$((SECONDS + 60))
	while kill -0 -- -"$1" 2>/dev/null && [ $SECONDS -lt $end ]; do sleep 0.05; done
}

# stop_mid_write NAME CMD... — for each signal, run CMD (writing into $O), stop
# it with SIGSTOP once a temporary output holds data, send the signal, and
# check that it killed CMD and left no output under a final name (nor, but
# for SIGKILL, a temporary file).
stop_mid_write() {
	local name=$1 sig pid rc
	shift
	for sig in INT TERM KILL; do
		rm -rf "$O" && mkdir -p "$O"
		run_group "$@" 2>"$T/err" &
		pid=$!
		if wait_tmp "$O" $pid && kill -STOP $pid 2>/dev/null; then
			if [ -n "$(targets "$O")" ]; then
				fail "$name SIG$sig: the output was complete before the signal (not mid-write)"
			else
				ok "$name SIG$sig: stopped in the middle of writing ($(tmps "$O" | tr '\n' ' '))"
			fi
		else
			fail "$name SIG$sig: never seen writing"
		fi
		kill -"$sig" $pid; kill -CONT $pid 2>/dev/null
		wait $pid
		rc=$?
		gone $pid
		check_eq "$name SIG$sig: killed by the signal" $((128 + $(signum $sig))) $rc
		check_eq "$name SIG$sig: no output file under its final name" "" "$(targets "$O")"
		if [ $sig != KILL ]; then
			check_eq "$name SIG$sig: temporary files removed" "" "$(tmps "$O")"
		fi
	done
}

# ---- ckpt-extract -o -----------------------------------------------------------
BIG=$T/big
mkdir -p "$BIG"
for i in $(seq 0 63); do echo "t$i F32 1024,1024"; done >"$BIG/spec"
"$TB/mkckpt" "$BIG/spec" "$BIG/m"
O=$T/o
stop_mid_write ckpt-extract "$B/ckpt-extract" "$BIG/m" -o "$O/out.safetensors"

# ---- pt-pack into a directory, fed by a stalling pipe ----------------------------
"$B/ckpt-extract" "$BIG/m" -o "$T/stream.safetensors"
for sig in INT TERM KILL; do
	rm -rf "$O" && mkdir -p "$O"
	run_group sh -c 'exec 3>&1; { head -c 67108864 "$1"; sleep 300; } | "$2" -o "$3/" --format both' sh \
		"$T/stream.safetensors" "$B/pt-pack" "$O" 2>"$T/err" &
	pid=$!
	if wait_tmp "$O" $pid; then
		ok "pt-pack SIG$sig: writing when signalled ($(tmps "$O" | tr '\n' ' '))"
	else
		fail "pt-pack SIG$sig: never seen writing"
	fi
	kill -"$sig" -- -$pid
	wait $pid
	gone $pid
	check_eq "pt-pack SIG$sig: no weight file under its final name" "" "$(targets "$O")"
	if [ $sig != KILL ]; then
		check_eq "pt-pack SIG$sig: temporary files removed" "" "$(tmps "$O")"
	fi
done

# ---- pt-pack --checkpoint (two threads) ------------------------------------------
# The signal reaches the packing thread (the extracting one blocks signals),
# whose handler removes the temporary files.
stop_mid_write "pt-pack --checkpoint" "$B/pt-pack" --checkpoint "$BIG/m" -o "$O/" --format both

# ---- a whole conversion through mk/convert.mk ------------------------------------
# The example BERT with a 500k-word vocabulary (64 MB embeddings, twice that in
# Adam slots), converted to both formats.
CK=$T/bert
mkdir -p "$CK"
sed 's/\<99\>/500000/' "$CK_ROOT/models/bert/example.spec" >"$CK/spec"
"$TB/mkckpt" "$CK/spec" "$CK/bert_model.ckpt"
sed 's/"vocab_size": 99/"vocab_size": 500000/' "$CK_ROOT/models/bert/example_config.json" >"$CK/bert_config.json"
printf '[PAD]\n[UNK]\n' >"$CK/vocab.txt"
cat >"$T/conv.mk" <<MK
CKPTCONV_BIN := $B
include $CK_ROOT/mk/convert.mk
\$(eval \$(call ckptconv,$T/ref,bert,$CK/bert_model.ckpt))
\$(eval \$(call ckptconv,$T/out,bert,$CK/bert_model.ckpt))
MK
M="make --no-print-directory -f $T/conv.mk"
check "make: the uninterrupted reference conversion" $M "$T/ref"

# same DIR — the folder equals the reference, file for file (the state under
# .ckptconv/ holds paths and caches: not compared).
same() {
	local a=$T/ref b=$1 f
	[ "$(cd "$a" && ls -A | grep -v '^\.ckptconv$')" = "$(cd "$b" && ls -A | grep -v '^\.ckptconv$')" ] || return 1
	for f in $(cd "$a" && ls -A | grep -v '^\.ckptconv$'); do cmp -s "$a/$f" "$b/$f" || return 1; done
}

for sig in INT TERM KILL; do
	rm -rf "$T/out"
	run_group $M "$T/out" >"$T/make1.log" 2>&1 &
	pid=$!
	if wait_tmp "$T/out" $pid && kill -STOP -- -$pid 2>/dev/null; then
		if [ -e "$T/out/ckptconv-manifest.json" ]; then
			fail "make SIG$sig: finished before the signal"
		else
			ok "make SIG$sig: stopped while pt-pack writes ($(tmps "$T/out" | tr '\n' ' '))"
		fi
	else
		fail "make SIG$sig: never seen writing"
	fi
	kill -"$sig" -- -$pid; kill -CONT -- -$pid 2>/dev/null
	wait $pid
	rc=$?
	gone $pid
	[ $rc -ne 0 ] && ok "make SIG$sig: make stopped (exit $rc)" || fail "make SIG$sig: make exited 0"
	check_eq "make SIG$sig: no manifest" "" "$(ls "$T/out/ckptconv-manifest.json" 2>/dev/null)"
	[ -e "$T/out/.ckptconv/weights.done" ] && fail "make SIG$sig: weights marked done" ||
		ok "make SIG$sig: weights not marked done"
	if [ $sig != KILL ]; then
		check_eq "make SIG$sig: no temporary file left" "" "$(tmps "$T/out")"
	fi
	had_config=$([ -e "$T/out/config.json" ] && echo yes)
	$M "$T/out" >"$T/make2.log" 2>&1
	check_eq "make SIG$sig: the next make succeeds" 0 $?
	grep -q pt-pack "$T/make2.log" && ok "make SIG$sig: the next make redoes the weights" ||
		fail "make SIG$sig: the weights were not redone"
	if [ "$had_config" = yes ]; then
		grep -q cfg-translate "$T/make2.log" && fail "make SIG$sig: config.json was complete but redone" ||
			ok "make SIG$sig: the complete config.json is not redone"
	fi
	same "$T/out" && ok "make SIG$sig: the folder equals the uninterrupted conversion byte for byte" ||
		fail "make SIG$sig: the folder differs from the reference: $(diff <(ls -A "$T/ref") <(ls -A "$T/out") | tr '\n' ' ')"
	check_eq "make SIG$sig: a third make does nothing" "" "$($M -s "$T/out" 2>&1)"
done
