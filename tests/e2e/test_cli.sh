#!/usr/bin/env bash
# SPDX-FileCopyrightText: 2026 Sluice developers
# SPDX-License-Identifier: Apache-2.0
# The command line of INTERFACE.md: exit codes, --check printing every problem as
# FILE:LINE:COL, keygen file modes, refusal of readable secrets, and one-shot send.
. "$(dirname "$0")/lib.sh"
expect_rc() { local want=$1; shift; set +e; "$@" >"$W/out.txt" 2>&1; local rc=$?; set -e
	[ "$rc" -eq "$want" ] || { cat "$W/out.txt" >&2; fail "'$*' exited $rc, wanted $want"; }; }
expect_rc 0 "$TX" --version
expect_rc 0 "$RX" --help
expect_rc 2 "$TX" frobnicate
expect_rc 2 "$RX"
make_keys
[ "$(stat -c %a "$W/keys/tx.key")" = 600 ] && [ "$(stat -c %a "$W/keys/rx.key")" = 600 ] || fail "secret key modes"
[ "$(wc -l <"$W/keys/tx.pub")" = 1 ] && grep -q '^sluice-tx-pub:' "$W/keys/tx.pub" || fail "tx.pub format"
expect_rc 1 "$TX" keygen "$W/keys"   # never overwrites
write_rx_config
write_tx_config
expect_rc 0 "$TX" -c "$W/tx.yaml" --check
expect_rc 0 "$RX" -c "$W/rx.yaml" --check
# Several problems at once, each with its position.
sed -e 's/rate: 2Gbit/rate: 2Gbps/' -e 's/mtu: 1500/mtu: 12/' -e 's/^log:/colour: red\nlog:/' "$W/tx.yaml" >"$W/bad.yaml"
expect_rc 2 "$TX" -c "$W/bad.yaml" --check
grep -q "^$W/bad.yaml:3:8: 'mtu' is 12; it must be between 576 and 65535$" "$W/out.txt" || fail "mtu error"
grep -q "^$W/bad.yaml:4:9: bad rate '2Gbps'" "$W/out.txt" || fail "rate error"
grep -q "^$W/bad.yaml:[0-9]*:1: unknown key 'colour'" "$W/out.txt" || fail "unknown key error"
[ "$(wc -l <"$W/out.txt")" -eq 3 ] || fail "expected exactly 3 problems"
# Folders: tx state in its own spool (it would send and delete its session and journal), rx
# state given as a regular file; each at the position of its value.
line=$(grep -n '^state:' "$W/tx.yaml" | cut -d: -f1)
sed "s|^state: .*|state: $W/spool/|" "$W/tx.yaml" >"$W/nest.yaml"
expect_rc 2 "$TX" -c "$W/nest.yaml" --check
[ "$(cat "$W/out.txt")" = "$W/nest.yaml:$line:8: 'state' $W/spool/ is the same folder as the path of spool 'cam' ($W/spool); each needs a folder of its own" ] ||
	{ cat "$W/out.txt" >&2; fail "tx state in its spool not refused"; }
line=$(grep -n '^state:' "$W/rx.yaml" | cut -d: -f1)
: >"$W/statefile"
sed "s|^state: .*|state: $W/statefile|" "$W/rx.yaml" >"$W/file.yaml"
expect_rc 2 "$RX" -c "$W/file.yaml" --check
[ "$(cat "$W/out.txt")" = "$W/file.yaml:$line:8: 'state' $W/statefile is not a folder" ] ||
	{ cat "$W/out.txt" >&2; fail "rx state as a regular file not refused"; }
# A secret key readable by others is refused, at the position of keys.secret.
chmod 644 "$W/keys/rx.key"
expect_rc 2 "$RX" -c "$W/rx.yaml" --check
grep -q "^$W/rx.yaml:4:11: keys.secret: .*chmod 600" "$W/out.txt" || fail "readable secret not refused"
chmod 600 "$W/keys/rx.key"
expect_rc 2 "$TX" -c "$W/nonexistent.yaml" --check
grep -q "nonexistent.yaml:1:1: cannot read" "$W/out.txt" || fail "missing config message"
# As root with events, the intake process's `user:` must exist: exit 1 naming it and how to
# make it, before anything is bound or forked.
if [ "$(id -u)" = 0 ]; then
	sed 's/^user: nobody$/user: sluice-no-such-user/' "$W/tx.yaml" >"$W/nouser.yaml"
	printf 'events:\n  - name: ev\n    listen: udp:127.0.0.1:%s\n' $((BASE_PORT + 5)) >>"$W/nouser.yaml"
	grep -q '^user: sluice-no-such-user$' "$W/nouser.yaml" || fail "write_tx_config has no user: line"
	expect_rc 1 timeout 10 "$TX" -c "$W/nouser.yaml"
	grep -q "user 'sluice-no-such-user' does not exist: create it (useradd --system --no-create-home --shell /usr/sbin/nologin sluice-no-such-user)" "$W/out.txt" ||
		{ cat "$W/out.txt" >&2; fail "a missing tx user: wrong message"; }
fi
# One-shot send under --as, exit 0 once the last packet has left.
start_rx
make_file "$W/one/clip1.ts" 1234567 c1
make_file "$W/one/clip2.ts" 7654 c2
expect_rc 0 "$TX" -c "$W/tx.yaml" send --as incident-42 "$W/one/clip1.ts" "$W/one/clip2.ts"
wait_for "one-shot files" 20 bash -c "cmp -s '$W/one/clip1.ts' '$W/out/files/incident-42/clip1.ts' && cmp -s '$W/one/clip2.ts' '$W/out/files/incident-42/clip2.ts'"
expect_rc 2 "$TX" -c "$W/tx.yaml" send --as 'Bad/Name' "$W/one/clip1.ts"
# Paths that cannot be sent refuse the whole command before anything is sent (exit 2, each
# named); a FIFO is never opened (it would block: `timeout` turns a hang into a failure).
send_refused() { # send_refused "MESSAGE LINE..." -- PATH...
	local want=()
	while [ "$1" != -- ]; do want+=("sluice-tx: send: $1"); shift; done
	shift
	expect_rc 2 timeout 10 "$TX" -c "$W/tx.yaml" send --as refused "$@"
	want+=("sluice-tx: send: refused; nothing was sent")
	printf '%s\n' "${want[@]}" | cmp -s - "$W/out.txt" || { cat "$W/out.txt" >&2; fail "send $*: wrong message"; }
}
mkfifo "$W/fifo"
perl -MIO::Socket::UNIX -e 'IO::Socket::UNIX->new(Type => SOCK_STREAM(), Local => $ARGV[0], Listen => 1) or die "$!"' "$W/sock"
mkdir -p "$W/withfifo/sub"
make_file "$W/withfifo/ok.ts" 100 ok
mkfifo "$W/withfifo/sub/pipe"
send_refused "$W/nonexistent.ts: No such file or directory" -- "$W/nonexistent.ts"
send_refused "$W/fifo: not a regular file (a FIFO)" -- "$W/fifo"
send_refused "/dev/null: not a regular file (a character device)" -- /dev/null
send_refused "$W/sock: not a regular file (a socket)" -- "$W/sock"
send_refused "$W/withfifo/sub/pipe: not a regular file (a FIFO)" -- "$W/withfifo"
send_refused "$W/nonexistent.ts: No such file or directory" "$W/fifo: not a regular file (a FIFO)" \
	-- "$W/one/clip1.ts" "$W/nonexistent.ts" "$W/fifo"
# An empty folder: nothing to do, which is done (exit 0), and said.
mkdir -p "$W/empty"
expect_rc 0 timeout 10 "$TX" -c "$W/tx.yaml" send "$W/empty"
printf 'sluice-tx: send: %s: no files to send in this folder\nsluice-tx: send: nothing to send\n' "$W/empty" |
	cmp -s - "$W/out.txt" || { cat "$W/out.txt" >&2; fail "send EMPTYDIR: wrong message"; }
# The daemon, started after a one-shot with the same key, is a newer session for rx.
start_tx
make_file "$W/after.bin" 5555 after
cp "$W/after.bin" "$W/spool/"
wait_for "daemon after one-shot" 15 test -f "$W/out/files/cam/after.bin"
cmp "$W/after.bin" "$W/out/files/cam/after.bin" || fail "after.bin differs"
[ "$(metric "$RX_METRICS" sluice_rx_rejected_replay_total)" -eq 0 ] || fail "a session was refused as a replay"
# The refused one-shots sent nothing (their packets would have arrived before the daemon's).
[ ! -e "$W/out/files/refused" ] || fail "a refused one-shot sent files"
log "ok"
