#!/usr/bin/env bash
# SPDX-FileCopyrightText: 2026 Sluice developers
# SPDX-License-Identifier: Apache-2.0
# sluice-rx's processes and what confines them (README, "Security model"):
#  1. the link process runs as the user: account, chrooted into STATE/empty, no new privileges,
#     its filter on; the test trigger link-open shows it cannot open a file;
#  2. no process but the monitor holds the receiver's static secret (/proc/PID/mem, as root);
#  3. the link process killed with SIGKILL mid-transfer is started again, every file of the
#     batch in flight is delivered or counted lost, and later files arrive intact;
#  4. a malformed message from the link process, to the deliver process or to the key holder,
#     is refused, counted, and the link process is killed and started again;
#  5. each process's filter (the spawner's too) stops a forbidden call (test triggers); the deliver process opens
#     nothing outside its folders (Landlock); SIGTERM stops them all;
#  6. SIGKILL of the monitor takes the other processes with it (the link process changed user,
#     which clears a parent-death signal: it is set again).
#  7. the link process, though it changed user, ends when the spawner is killed.
. "$(dirname "$0")/lib.sh"
make_keys
write_rx_config
write_tx_config "$RX_PORT" 25% 300Mbit
mkdir -p "$W/a" "$W/b" "$W/c"
for i in $(seq 1 8); do make_file "$W/a/a$i.bin" 3000000 "a$i"; done
for i in $(seq 1 4); do make_file "$W/b/b$i.bin" 1000000 "b$i"; done
for i in $(seq 1 2); do make_file "$W/c/c$i.bin" 500000 "c$i"; done
SAN=0
[ "${BUILD%/san}" != "$BUILD" ] && SAN=1

child() { pgrep -P "$1" -x "$2" | head -n 1; } # PARENT COMM
spawner() { child "$RX_PID" sluice-rx-spawn; }
link_pid() { rx_link_pid; }
deliver_pid() { local s; s=$(spawner) && [ -n "$s" ] && child "$s" sluice-rx-deliv; }
status_of() { awk -v k="$2:" '$1 == k { print $2 }' "/proc/$1/status"; }
delivered() { # DIR PREFIX COUNT: files PREFIX1..COUNT of DIR arrived intact
	local i
	for i in $(seq 1 "$3"); do cmp -s "$1/$2$i.bin" "$W/out/files/cam/$2$i.bin" || return 1; done
}
stop_rx() {
	local t0 t1
	t0=$(date +%s%N)
	kill -TERM "$RX_PID"
	RX_RC=0
	wait "$RX_PID" 2>/dev/null || RX_RC=$?
	t1=$(date +%s%N)
	log "   rx stopped in $(((t1 - t0) / 1000000)) ms (exit $RX_RC)"
}

start_rx
start_tx
have_link() { [ -n "$(link_pid)" ]; }
wait_for "the link process" 10 have_link
LINK=$(link_pid)
DELIVER=$(deliver_pid)
[ -n "$DELIVER" ] || fail "no deliver process under the spawner"

log "1: the link process's confinement"
if [ "$(id -u)" = 0 ]; then
	[ "$(status_of "$LINK" Uid)" = "$(id -u nobody)" ] || fail "the link process runs as uid $(status_of "$LINK" Uid), not nobody's"
	root=$(readlink "/proc/$LINK/root")
	[ "$root" = "$(readlink -f "$W/rx-state/empty")" ] || fail "the link process's root is $root"
fi
[ "$(status_of "$LINK" NoNewPrivs)" = 1 ] || fail "the link process may gain privileges"
if [ $SAN = 0 ]; then
	[ "$(status_of "$LINK" Seccomp)" = 2 ] || fail "the link process has no filter"
	[ "$(status_of "$DELIVER" Seccomp)" = 2 ] || fail "the deliver process has no filter"
	[ "$(status_of "$(spawner)" Seccomp)" = 2 ] || fail "the spawner has no filter"
fi
# Beyond stdin, stdout and stderr (the log), only sockets: the link, two lanes, the key holder.
if ls -l "/proc/$LINK/fd" 2>/dev/null | awk '$9 > 2' | grep -E -- '-> /'; then
	fail "the link process holds a file"
fi
log "1 ok: uid $(status_of "$LINK" Uid | cut -f1), root $(readlink "/proc/$LINK/root"), $(ls "/proc/$LINK/fd" | wc -l) descriptors"

log "2: the static secret is in the monitor's memory only"
if [ "$(id -u)" = 0 ] && [ $SAN = 0 ]; then
	count_secret() { python3 "$ROOT/tests/tools/memsearch/memsearch.py" "$1" "$W/keys/rx.key:sluice-rx-key"; }

	read -r n regions < <(count_secret "$RX_PID") || fail "cannot read the monitor's memory"
	[ "$n" -ge 1 ] || fail "the search does not find the secret in the monitor itself ($n in $regions regions)"
	for p in "link:$LINK" "deliver:$DELIVER" "spawner:$(spawner)"; do
		read -r n regions < <(count_secret "${p#*:}") || fail "cannot read the memory of the ${p%%:*} process"
		[ "$regions" -gt 0 ] || fail "no memory of the ${p%%:*} process could be read"
		[ "$n" = 0 ] || fail "the ${p%%:*} process holds the static secret ($n times)"
		log "   ${p%%:*} (${p#*:}): 0 in $regions regions"
	done
	log "2 ok"
else
	log "2: skipped (needs root, and a build without sanitizers: their shadow memory cannot be read through /proc/PID/mem)"
fi

log "3: the link process killed with SIGKILL mid-transfer"
cp -a "$W/a/." "$W/spool/"
wait_for "a first file delivered" 30 metric_ge "$RX_METRICS" sluice_rx_objects_delivered_total 1
kill -9 "$LINK"
new_link() { local p; p=$(link_pid); [ -n "$p" ] && [ "$p" != "$LINK" ]; }
wait_for "a new link process" 10 new_link
[ "$(metric "$RX_METRICS" sluice_rx_link_restarts_total)" = 1 ] || fail "link restarts: $(metric "$RX_METRICS" sluice_rx_link_restarts_total)"
grep -q "the link process was killed by signal 9" "$W/rx.log" || fail "the restart is not logged"
wait_for "tx done with batch a" 60 bash -c "[ \$(wc -l <'$W/tx-state/journal') -ge 8 ]"
accounted() {
	local n=0 i
	for i in $(seq 1 8); do cmp -s "$W/a/a$i.bin" "$W/out/files/cam/a$i.bin" && n=$((n + 1)); done
	[ $((n + $(metric "$RX_METRICS" sluice_rx_objects_lost_total))) -ge 8 ]
}
wait_for "every file of batch a delivered or counted lost" 30 accounted
cp -a "$W/b/." "$W/spool/"
wait_for "batch b delivered intact after the restart" 60 delivered "$W/b" b 4
[ "$(deliver_pid)" = "$DELIVER" ] || fail "the deliver process was restarted too"
log "3 ok: $(metric "$RX_METRICS" sluice_rx_objects_lost_total) of batch a lost and reported, batch b intact"
stop_rx
[ "$RX_RC" = 0 ] || fail "rx exited $RX_RC at SIGTERM"
for p in $(pgrep -x sluice-rx-link || true); do
	if [ "$(awk '{print $4}' "/proc/$p/stat" 2>/dev/null)" = 1 ]; then fail "a link process outlived rx"; fi
done

log "4: malformed messages from the link process"
for t in link-badmsg link-badkey; do
	SLUICE_TEST_TRIGGER=$t start_rx
	refused() { [ "$(metric "$RX_METRICS" sluice_rx_channel_refused_total)" -ge 1 ]; }
	wait_for "$t: refused" 20 refused
	wait_for "$t: link process started again" 20 metric_ge "$RX_METRICS" sluice_rx_link_restarts_total 1
	grep -q "the link process sent the .* a malformed message: treated as compromised, killed" "$W/rx.log" ||
		fail "$t: no log line"
	log "   $t: refused, killed, started again"
	stop_rx
done
rm -f "$W/out/files/cam/c"*
SLUICE_TEST_TRIGGER=link-badmsg start_rx
wait_for "link process started again" 20 metric_ge "$RX_METRICS" sluice_rx_link_restarts_total 1
cp -a "$W/c/." "$W/spool/"
wait_for "files after the restart delivered intact" 60 delivered "$W/c" c 2
stop_rx
log "4 ok"

log "5: each process's filter, and the link process's file access"
SLUICE_TEST_TRIGGER=link-open start_rx
wait_for "the link-open trigger" 10 grep -q "test trigger link-open" "$W/rx.log"
grep "test trigger link-open" "$W/rx.log" | tail -n 1 | grep -q "failed" || fail "the link process opened /etc/passwd"
log "   $(grep "test trigger link-open" "$W/rx.log" | tail -n 1 | cut -d' ' -f4-)"
stop_rx
SLUICE_TEST_TRIGGER=deliver-open start_rx
wait_for "the deliver-open trigger" 10 grep -q "test trigger deliver-open" "$W/rx.log"
if grep "test trigger deliver-open" "$W/rx.log" | tail -n 1 | grep -q "ABI 0)"; then
	log "   (no Landlock in this kernel: the deliver process's file access is not narrowed)"
else
	grep "test trigger deliver-open" "$W/rx.log" | tail -n 1 | grep -q "failed: Permission denied" ||
		fail "the deliver process opened /etc/passwd: $(grep "test trigger deliver-open" "$W/rx.log" | tail -n 1)"
fi
log "   $(grep "test trigger deliver-open" "$W/rx.log" | tail -n 1 | cut -d' ' -f4-)"
stop_rx
if [ $SAN = 1 ]; then
	log "5: filters skipped (sanitizer builds install none)"
else
	for t in link-filter deliver-filter; do
		: >"$W/rx.log"
		SLUICE_TEST_TRIGGER=$t start_rx
		wait_for "$t: killed" 10 grep -q "the ${t%-filter} process was killed by signal 31" "$W/rx.log"
		again() { grep -A100 "killed by signal 31" "$W/rx.log" | grep -q "$1 process .* started"; }
		wait_for "$t: started again" 10 again "${t%-filter}"
		log "   $t: killed by SIGSYS, started again"
		stop_rx
	done
	SLUICE_TEST_TRIGGER=monitor-filter "$RX" -c "$W/rx.yaml" >>"$W/rx.log" 2>&1 &
	RX_PID=$!
	rc=0
	wait "$RX_PID" 2>/dev/null || rc=$?
	[ "$rc" = $((128 + 31)) ] || fail "monitor-filter: rx exited $rc, not by SIGSYS"
	log "   monitor-filter: killed by SIGSYS"
	# The spawner cannot be started again (a new one would be forked from the monitor, which
	# holds the key by then): rx logs how it ended and stops, exit 1.
	: >"$W/rx.log"
	SLUICE_TEST_TRIGGER=spawner-filter "$RX" -c "$W/rx.yaml" >>"$W/rx.log" 2>&1 &
	RX_PID=$!
	rc=0
	wait "$RX_PID" 2>/dev/null || rc=$?
	[ "$rc" = 1 ] || fail "spawner-filter: rx exited $rc, not 1"
	grep -q "test trigger spawner-filter: calling execve() under the filter" "$W/rx.log" ||
		fail "spawner-filter: the trigger did not act"
	grep -q "the spawner process was killed by signal 31" "$W/rx.log" ||
		fail "spawner-filter: its death by SIGSYS is not logged"
	log "   spawner-filter: killed by SIGSYS, logged, rx stopped (exit 1)"
fi
log "5 ok"

log "6: the monitor killed with SIGKILL takes every process with it"
start_rx
wait_for "the link process" 10 have_link
kids="$(spawner) $(link_pid) $(deliver_pid)"
kill -9 "$RX_PID"
wait "$RX_PID" 2>/dev/null || true
gone() { local p; for p in $kids; do kill -0 "$p" 2>/dev/null && return 1; done; return 0; }
wait_for "spawner, link and deliver processes gone" 5 gone
start_rx # the port is free again
stop_rx
log "6 ok"

# The user change clears the parent-death signal (prctl(2)); privdrop_apply sets it again.
log "7: the link process ends with the spawner"
start_rx
wait_for "the link process" 10 have_link
LINK=$(link_pid)
SP=$(spawner)
kill -KILL "$SP"
ended() { [ ! -e "/proc/$1" ] || [ "$(status_of "$1" State)" = Z ]; }
wait_for "link process $LINK to end with spawner $SP" 5 ended "$LINK"
RX_RC=0
wait "$RX_PID" 2>/dev/null || RX_RC=$?
[ "$RX_RC" = 1 ] || fail "rx exited $RX_RC once its spawner was gone, not 1"
log "7 ok: link process $LINK ended with spawner $SP; rx exited 1"
log "ok"
