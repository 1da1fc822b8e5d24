#!/usr/bin/env bash
# SPDX-FileCopyrightText: 2026 Sluice developers
# SPDX-License-Identifier: Apache-2.0
# tx's event intake runs in a process of its own (tx/intake_proc/intake_proc.h):
#
#   sluice-tx (signing key) ── sluice-tx-spawn (listening sockets) ── sluice-intake (parser)
#
# 1. The process tree is there, the intake process under its filter, with no new privileges
#    and, as root, as the `user:` account (nobody) chrooted into STATE/empty; events of a UDP
#    and a TCP source flow end to end: every event once, in order (sluice-evverify).
# 2. As root: the memory of the intake process and of the spawner (/proc/PID/mem, every
#    readable mapping) holds neither the 32-byte Ed25519 seed of tx.key nor the 64-byte secret
#    key; the same search on sluice-tx finds both (so the search can fail).
# 3. SIGKILL of the intake process in the middle of a UDP stream: sluice-tx logs it, counts it
#    (sluice_tx_intake_restarts_total), starts another (clean of the key too), and later events
#    (UDP, and a new TCP connection) arrive. Every event sluice-tx had taken
#    (sluice_tx_events_total) is delivered: rx counts no seq gap. Events the intake process had
#    read and not yet written to its channel get no seq: their number is reported.
# 4. SIGKILL of the spawner: the intake process (which changed user) ends with it.
# 5. The spawner's own filter (SANDBOX_TX_SPAWNER; step 1 checks its Seccomp status is 2): the
#    test trigger tx-spawner-filter tries to open /etc/passwd (its Landlock ruleset refuses:
#    it may read /dev/null only), then calls execve(), which kills it with SIGSYS; sluice-tx
#    logs how it ended and that no intake process will be started, starts none, goes on sending
#    files (one sent after arrives intact) and stops cleanly.
# 6. An intake process that closed its channel but has not exited yet when sluice-tx asks for
#    the next one (test trigger tx-intake-linger: the first one closes its channel, then waits
#    1.5 s before it exits): the spawner ends it (SIGKILL) and starts the next at once, which
#    takes events. (The spawner used to ignore that request, and no intake process was ever
#    started again: events refused, silently.)
. "$(dirname "$0")/lib.sh"
EVSEND="$BUILD/sluice-evsend"
EVVERIFY="$BUILD/sluice-evverify"
U=$((BASE_PORT + 5)) T=$((BASE_PORT + 6))
N=${EVENTS_N:-20000}
make_keys
EVENTS_YAML="events:
  - name: udp
    listen: udp:127.0.0.1:$U
  - name: tcp
    listen: tcp:127.0.0.1:$T"
write_rx_config
write_tx_config "$RX_PORT" 25% 1Gbit
start_rx
start_tx
wait_for "session" 10 metric_ge "$RX_METRICS" sluice_rx_sessions_total 1

children_of() { grep -l "^PPid:[[:space:]]*$1\$" /proc/[0-9]*/status 2>/dev/null | cut -d/ -f3 || true; }
comm() { cat "/proc/$1/comm" 2>/dev/null || true; }
intake_pid() {
	local s
	s=$(children_of "$TX_PID")
	[ "$(echo "$s" | wc -w)" = 1 ] && [ "$(comm "$s")" = sluice-tx-spawn ] || return 0
	for c in $(children_of "$s"); do [ "$(comm "$c")" = sluice-intake ] && echo "$c"; done
}
have_intake() { [ -n "$(intake_pid)" ]; }

log "1: the process tree, and events end to end"
wait_for "the intake process" 10 have_intake
SPAWNER=$(children_of "$TX_PID")
INTAKE=$(intake_pid)
log "   sluice-tx $TX_PID, spawner $SPAWNER, intake $INTAKE"
if grep -q "intake process $INTAKE: .*system-call filter on" "$W/tx.log"; then
	grep -q '^Seccomp:[[:space:]]*2$' "/proc/$INTAKE/status" || fail "intake $INTAKE has no seccomp filter"
	grep -q '^NoNewPrivs:[[:space:]]*1$' "/proc/$INTAKE/status" || fail "intake $INTAKE can gain privileges"
	[ "$(ls "/proc/$INTAKE/task" | wc -l)" = 1 ] || fail "intake $INTAKE has threads"
	grep -q '^Seccomp:[[:space:]]*2$' "/proc/$SPAWNER/status" || fail "spawner $SPAWNER has no seccomp filter"
	grep -q '^NoNewPrivs:[[:space:]]*1$' "/proc/$SPAWNER/status" || fail "spawner $SPAWNER can gain privileges"
else
	log "   (no system-call filter in this build: sanitizers)"
fi
status_of() { awk -v k="$2:" '$1 == k { print $2 }' "/proc/$1/status"; }
[ "$(status_of "$INTAKE" NoNewPrivs)" = 1 ] || fail "intake $INTAKE can gain privileges"
if [ "$(id -u)" = 0 ]; then
	[ "$(status_of "$INTAKE" Uid)" = "$(id -u nobody)" ] || fail "intake $INTAKE runs as uid $(status_of "$INTAKE" Uid), not nobody's (user: nobody)"
	[ "$(status_of "$INTAKE" Gid)" = "$(id -g nobody)" ] || fail "intake $INTAKE runs as gid $(status_of "$INTAKE" Gid), not nobody's"
	root=$(readlink "/proc/$INTAKE/root")
	[ "$root" = "$(readlink -f "$W/tx-state/empty")" ] || fail "intake $INTAKE's root is $root, not STATE/empty"
	log "   intake $INTAKE: uid $(status_of "$INTAKE" Uid), root $root"
fi
log "   $(grep -m1 "intake process $INTAKE: reading" "$W/tx.log" | sed 's/.*info: //')"
"$EVSEND" --count "$N" --rate 20000 --mode mixed "udp:127.0.0.1:$U" 2>>"$W/evsend.log" &
g1=$!
"$EVSEND" --count "$N" --clients 4 --split --mode mixed "tcp:127.0.0.1:$T" 2>>"$W/evsend.log" ||
	fail "evsend tcp: $(tail -n 3 "$W/evsend.log")"
wait "$g1" || fail "evsend udp: $(tail -n 3 "$W/evsend.log")"
wait_for "all $((2 * N)) events delivered" 60 metric_ge "$RX_METRICS" sluice_rx_events_delivered_total $((2 * N))
out="$W/out/events"
"$EVVERIFY" --source udp --expect "$N" "$out/udp" >"$W/check-udp.txt" || fail "udp: $(tail -n 5 "$W/check-udp.txt")"
"$EVVERIFY" --source tcp --expect "$N" --clients 4 "$out/tcp" >"$W/check-tcp.txt" || fail "tcp: $(tail -n 5 "$W/check-tcp.txt")"
[ "$(metric "$TX_METRICS" sluice_tx_intake_restarts_total)" = 0 ] || fail "the intake process was restarted"
[ "$(metric "$TX_METRICS" sluice_tx_events_total)" = $((2 * N)) ] || fail "sluice-tx took $(metric "$TX_METRICS" sluice_tx_events_total) events, not $((2 * N))"
[ "$(intake_pid)" = "$INTAKE" ] || fail "the intake process changed"
log "1 ok: $(tail -n 1 "$W/check-udp.txt"); $(tail -n 1 "$W/check-tcp.txt")"

# search_key PID: prints "seed=N secret=M regions=R", the places each byte string was found in
# its memory (the Ed25519 seed, and libsodium's secret key: seed || public key).
search_key() {
	local r
	r=$(python3 "$ROOT/tests/tools/memsearch/memsearch.py" "$1" "$W/keys/tx.key:sluice-tx-key" \
		"$W/keys/tx.key:sluice-tx-key+$W/keys/tx.pub:sluice-tx-pub") || return 1
	set -- $r
	echo "seed=$1 secret=$2 regions=$3"
}

check_clean() { # PID NAME: its memory holds neither key string
	local r
	r=$(search_key "$1") || fail "cannot read the memory of $2 ($1)"
	log "   $2 ($1): $r"
	case "$r" in "seed=0 secret=0 "*) ;; *) fail "$2 ($1) holds the signing key: $r" ;; esac
	case "$r" in *" regions=0") fail "no memory of $2 ($1) could be read" ;; esac
}

if [ "$(id -u)" = 0 ] && [ "${BUILD%/san}" = "$BUILD" ]; then
	log "2: no signing key in the memory of the intake process or the spawner"
	r=$(search_key "$TX_PID") || fail "cannot read the memory of sluice-tx"
	log "   sluice-tx ($TX_PID): $r"
	case "$r" in "seed=0 "* | *" secret=0 "*) fail "the search does not find the key in sluice-tx itself: $r" ;; esac
	check_clean "$INTAKE" "the intake process"
	check_clean "$SPAWNER" "the spawner"
	log "2 ok"
else
	log "2: skipped (needs root, and a build without sanitizers: their shadow memory cannot be read through /proc/PID/mem)"
fi

log "3: SIGKILL of the intake process in the middle of a UDP stream"
M=40000
taken0=$(metric "$TX_METRICS" sluice_tx_events_total)
delivered0=$(metric "$RX_METRICS" sluice_rx_events_delivered_total)
"$EVSEND" --count "$M" --first "$N" --rate 20000 --mode mixed "udp:127.0.0.1:$U" 2>>"$W/evsend.log" &
g1=$!
took_some() { [ "$(metric "$TX_METRICS" sluice_tx_events_total)" -ge $((taken0 + M / 4)) ]; }
wait_for "a quarter of the stream taken" 20 took_some
kill -KILL "$INTAKE"
log "   killed $INTAKE after $(($(metric "$TX_METRICS" sluice_tx_events_total) - taken0)) events were taken"
wait_for "the restart to be counted" 10 metric_ge "$TX_METRICS" sluice_tx_intake_restarts_total 1
new_intake() { local p; p=$(intake_pid); [ -n "$p" ] && [ "$p" != "$INTAKE" ]; }
wait_for "a new intake process" 10 new_intake
INTAKE2=$(intake_pid)
wait "$g1" || fail "evsend udp: $(tail -n 3 "$W/evsend.log")"
# Later events, on a connection made after the restart.
"$EVSEND" --count 1000 --mode mixed "tcp:127.0.0.1:$T" --first "$N" 2>>"$W/evsend.log" || fail "evsend tcp after the restart"
settled() {
	local taken delivered
	taken=$(metric "$TX_METRICS" sluice_tx_events_total)
	delivered=$(metric "$RX_METRICS" sluice_rx_events_delivered_total)
	[ "$taken" -gt 0 ] && [ "$delivered" = "$taken" ]
}
wait_for "every event sluice-tx took to be delivered" 30 settled
grep -q "intake process $INTAKE was killed by signal 9" "$W/tx.log" || fail "tx did not log how the intake process ended"
grep -q "intake process $INTAKE has exited after .* starting another" "$W/tx.log" || fail "tx did not log the restart"
[ "$(metric "$TX_METRICS" sluice_tx_intake_restarts_total)" = 1 ] || fail "restarts: $(metric "$TX_METRICS" sluice_tx_intake_restarts_total)"
[ "$(metric "$RX_METRICS" sluice_rx_events_lost_total)" = 0 ] || fail "rx counted $(metric "$RX_METRICS" sluice_rx_events_lost_total) events lost"
[ "$(metric "$TX_METRICS" sluice_tx_events_kernel_dropped_total)" = 0 ] || fail "the kernel dropped UDP events"
"$EVVERIFY" --source tcp --expect $((N + 1000)) --clients 4 "$out/tcp" >"$W/check-tcp2.txt" ||
	fail "tcp after the restart: $(tail -n 5 "$W/check-tcp2.txt")"
udp_taken=$(($(metric "$TX_METRICS" sluice_tx_events_total) - taken0 - 1000))
"$EVVERIFY" --source udp --allow-gaps --expect $((N + M)) "$out/udp" >"$W/check-udp2.txt" ||
	fail "udp after the kill: $(tail -n 5 "$W/check-udp2.txt")"
grep -q "missing=$((M - udp_taken)) dup=0 bad=0 order=0 unknown=0 seq_gaps=0" "$W/check-udp2.txt" ||
	fail "udp after the kill: $(tail -n 1 "$W/check-udp2.txt") (sluice-tx took $udp_taken of $M)"
lost_in_child=$((M - udp_taken))
[ "$lost_in_child" -ge 0 ] && [ "$lost_in_child" -le 64 ] ||
	fail "$lost_in_child events missing: more than the intake process can hold between reading and writing"
log "3 ok: intake $INTAKE killed, $INTAKE2 took over; every one of the $(metric "$TX_METRICS" sluice_tx_events_total) events sluice-tx took was delivered (rx seq gaps 0); $lost_in_child were in flight in the killed process (read, not yet handed over)"
if [ "$(id -u)" = 0 ] && [ "${BUILD%/san}" = "$BUILD" ]; then
	check_clean "$INTAKE2" "the restarted intake process"
fi
if [ "$(id -u)" = 0 ]; then
	[ "$(status_of "$INTAKE2" Uid)" = "$(id -u nobody)" ] || fail "the restarted intake process runs as uid $(status_of "$INTAKE2" Uid)"
	[ "$(readlink "/proc/$INTAKE2/root")" = "$(readlink -f "$W/tx-state/empty")" ] || fail "the restarted intake process is not in STATE/empty"
fi
stop_clean "$TX_PID" tx
# sluice-tx has exited; its spawner and the intake process end with it (a zombie is ended).
ended_too() { [ ! -e "/proc/$1" ] || [ "$(status_of "$1" State)" = Z ]; }
wait_for "the intake process to end with sluice-tx" 2 ended_too "$INTAKE2"

# The user change clears the parent-death signal (prctl(2)); privdrop_apply sets it again.
log "4: the intake process ends with the spawner"
start_tx
wait_for "the intake process" 10 have_intake
SPAWNER=$(children_of "$TX_PID")
INTAKE=$(intake_pid)
kill -KILL "$SPAWNER"
ended() { [ ! -e "/proc/$1" ] || [ "$(status_of "$1" State)" = Z ]; }
wait_for "intake $INTAKE to end with spawner $SPAWNER" 5 ended "$INTAKE"
stop_clean "$TX_PID" tx
log "4 ok: intake $INTAKE ended with spawner $SPAWNER"

log "5: the spawner's filter stops execve() (test trigger tx-spawner-filter)"
SLUICE_TEST_TRIGGER=tx-spawner-filter start_tx
if grep -q "no system-call filter in this build" "$W/tx.log"; then
	log "5: skipped (no system-call filter in this build: sanitizers)"
else
	gone() { grep -q "event intake: the spawner ([0-9]*) was killed by signal 31" "$W/tx.log"; }
	wait_for "sluice-tx to see its spawner killed by SIGSYS" 10 gone
	grep -q "test trigger tx-spawner-filter: calling execve" "$W/tx.log" || fail "the trigger did not run"
	# Its Landlock ruleset: reading /dev/null only.
	opened=$(grep -m1 "test trigger tx-spawner-filter: open(/etc/passwd)" "$W/tx.log" | sed 's/.*open(/open(/')
	case "$opened" in
	*"failed: Permission denied (Landlock ABI "[1-9]*) ;;
	*"succeeded (Landlock ABI 0)") log "   (no Landlock in this kernel)" ;;
	*) fail "the spawner's file access: $opened" ;;
	esac
	! grep -q "test trigger tx-spawner-filter: execve() failed" "$W/tx.log" || fail "execve() was not stopped"
	sleep 0.5
	kids=$(for c in $(children_of "$TX_PID"); do comm "$c"; done)
	[ -z "$kids" ] || fail "sluice-tx still has children after its spawner died: $kids"
	[ "$(metric "$TX_METRICS" sluice_tx_intake_restarts_total)" = 0 ] || fail "an intake process was restarted"
	make_file "$W/after-spawner.bin" 300000 after-spawner
	stage_into_spool "$W/after-spawner.bin" after-spawner.bin
	arrived() { cmp -s "$W/after-spawner.bin" "$W/out/files/cam/after-spawner.bin"; }
	wait_for "a file sent after the spawner died" 30 arrived
	log "5 ok: $opened; $(grep -m1 'the spawner ([0-9]*) was killed by signal 31' "$W/tx.log" | sed 's/.*error: //')"
fi
stop_clean "$TX_PID" tx

log "6: the next intake process while the last one lingers (test trigger tx-intake-linger)"
L0=$(wc -l <"$W/tx.log")
SLUICE_TEST_TRIGGER=tx-intake-linger start_tx
since() { tail -n +$((L0 + 1)) "$W/tx.log"; }
lingered() { since | grep -q "intake process [0-9]* has exited after .* starting another"; }
wait_for "sluice-tx to see the first intake process's channel close" 10 lingered
FIRST=$(since | grep -m1 -o "intake process [0-9]* has exited" | awk '{print $3}')
next_intake() { local p; p=$(intake_pid); [ -n "$p" ] && [ "$p" != "$FIRST" ]; }
wait_for "the next intake process after $FIRST" 5 next_intake
taken0=$(metric "$TX_METRICS" sluice_tx_events_total)
"$EVSEND" --count 100 --mode mixed "tcp:127.0.0.1:$T" --first $((N + 1000)) 2>>"$W/evsend.log" ||
	fail "evsend tcp to the next intake process"
wait_for "the next intake process to take events" 10 metric_ge "$TX_METRICS" sluice_tx_events_total $((taken0 + 100))
since | grep -q "intake process $FIRST was killed by signal 9" ||
	fail "the lingering intake process $FIRST was not ended by the spawner"
log "6 ok: $FIRST lingered and was killed; $(intake_pid) took 100 events"
stop_clean "$TX_PID" tx
stop_clean "$RX_PID" rx
