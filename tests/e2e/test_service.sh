#!/usr/bin/env bash
# SPDX-FileCopyrightText: 2026 Sluice developers
# SPDX-License-Identifier: Apache-2.0
# Both daemons as the systemd units run them (dist/systemd/): an unprivileged user with no
# capabilities, no new privileges, umask 0027, under a service manager's notify socket:
#  1. each tells READY=1 from its main process once it serves, WATCHDOG=1 every half
#     WATCHDOG_USEC from its loop, STOPPING=1 at SIGTERM (sd_notify, common/notify.h);
#  2. not root, sluice-rx skips chroot and the user change but still runs its four processes
#     under their filters, and a file crosses byte-identical;
#  3. both stop cleanly (exit 0).
# As root, also: no process of either is dumpable (the same user cannot read its memory).
. "$(dirname "$0")/lib.sh"
if [ "$(id -u)" = 0 ]; then
	RUN_AS=nobody
	RUNAS=(setpriv --reuid=nobody --regid=nogroup --clear-groups --no-new-privs --inh-caps=-all
	       --bounding-set=-all)
	chown nobody:nogroup "$W"
else
	RUN_AS=$(id -un)
	RUNAS=(env) # already unprivileged
fi
UID_RUN=$(id -u "$RUN_AS")
make_keys
write_rx_config
write_tx_config "$RX_PORT" 25% 500Mbit
mkdir -p "$W/src"
make_file "$W/src/one.bin" 3000000 one
[ "$(id -u)" = 0 ] && chown -R nobody:nogroup "$W"

# notify_listen NAME: a notify socket at $W/NAME.sock; each datagram becomes a line
# "PID UID MESSAGE" (newlines as |) in $W/NAME.notify. Stops by itself after 60 s quiet.
notify_listen() {
	"${RUNAS[@]}" /usr/bin/python3 - "$W/$1.sock" "$W/$1.notify" <<'PY' &
import socket, struct, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(sys.argv[1])
s.setsockopt(socket.SOL_SOCKET, socket.SO_PASSCRED, 1)
s.settimeout(60)
with open(sys.argv[2], "a", buffering=1) as out:
    while True:
        try:
            msg, anc, _, _ = s.recvmsg(4096, socket.CMSG_SPACE(12))
        except socket.timeout:
            break
        pid = uid = -1
        for level, kind, data in anc:
            if level == socket.SOL_SOCKET and kind == socket.SCM_CREDENTIALS:
                pid, uid, _ = struct.unpack("iii", data[:12])
        out.write("%d %d %s\n" % (pid, uid, msg.decode(errors="replace").replace("\n", "|")))
PY
	PIDS+=("$!")
	wait_for "$1's notify socket" 5 test -S "$W/$1.sock"
}
notified() { grep -q "^$2 $UID_RUN .*$3" "$W/$1.notify" 2>/dev/null; } # NAME PID MESSAGE
count_watchdog() { grep -c "^$2 $UID_RUN WATCHDOG=1" "$W/$1.notify" 2>/dev/null || true; }

# start_unit NAME BINARY: as the unit runs it (umask 0027, the user, no capabilities).
start_unit() {
	(umask 0027; NOTIFY_SOCKET="$W/$1.sock" WATCHDOG_USEC=200000 exec "${RUNAS[@]}" "$2" \
		-c "$W/$1.yaml" >>"$W/$1.log" 2>&1) &
	PIDS+=("$!")
}

notify_listen rx
notify_listen tx
log "1. readiness and watchdog, as $RUN_AS"
start_unit rx "$RX"
RX_PID=${PIDS[-1]}
wait_for "rx READY=1" 10 notified rx "$RX_PID" 'READY=1'
metrics_up "$RX_METRICS" || fail "rx said READY=1 before its metrics listened"
start_unit tx "$TX"
TX_PID=${PIDS[-1]}
wait_for "tx READY=1" 10 notified tx "$TX_PID" 'READY=1'
metrics_up "$TX_METRICS" || fail "tx said READY=1 before its metrics listened"
sleep 1
for side in rx tx; do
	pid=RX_PID; [ "$side" = tx ] && pid=TX_PID
	n=$(count_watchdog "$side" "${!pid}")
	[ "$n" -ge 5 ] || fail "$side sent $n WATCHDOG=1 in over a second (every 100 ms wanted)"
	log "   $side: READY=1, $n WATCHDOG=1 so far"
done

log "2. sluice-rx unprivileged: four processes, filtered, no chroot; a file crosses"
[ "$(stat -c %u "/proc/$RX_PID")" = "$UID_RUN" ] || fail "rx does not run as $RUN_AS"
grep -q 'Landlock ABI' "$W/rx.log" || fail "rx's start-up line has no Landlock ABI"
wait_for "the link process" 10 bash -c "[ -n \"\$(pgrep -P \$(pgrep -P $RX_PID -x sluice-rx-spawn) -x sluice-rx-link)\" ]"
SP=$(pgrep -P "$RX_PID" -x sluice-rx-spawn)
LINK=$(pgrep -P "$SP" -x sluice-rx-link)
DELIVER=$(pgrep -P "$SP" -x sluice-rx-deliv)
[ -n "$DELIVER" ] || fail "no deliver process"
[ "$(readlink "/proc/$LINK/root")" = / ] || fail "the link process is chrooted though rx is not root"
[ "$(stat -c %u "/proc/$LINK")" = "$UID_RUN" ] || fail "the link process does not run as $RUN_AS"
assert_filtered "$W/rx.log" "$RX_PID" "$LINK" "$DELIVER"
assert_filtered "$W/tx.log" "$TX_PID"
for p in "$RX_PID" "$SP" "$LINK" "$DELIVER" "$TX_PID"; do
	[ "$(awk '$1 == "CapEff:" { print $2 }' "/proc/$p/status")" = 0000000000000000 ] ||
		fail "process $p has capabilities"
done
# Not dumpable, any of them: another process of the same user (a compromised spawner or
# deliver process) cannot read their memory through /proc (the monitor and sluice-tx hold the
# secret keys; they used to be readable).
if [ "$(id -u)" = 0 ]; then
	for p in "$RX_PID" "$SP" "$LINK" "$DELIVER" "$TX_PID"; do
		! "${RUNAS[@]}" cat "/proc/$p/environ" >/dev/null 2>&1 ||
			fail "process $p ($(cat "/proc/$p/comm")) is dumpable: $RUN_AS reads its /proc/PID/environ"
	done
fi
cp "$W/src/one.bin" "$W/spool/.one.tmp" && mv "$W/spool/.one.tmp" "$W/spool/one.bin"
wait_for "one file delivered" 30 metric_ge "$RX_METRICS" sluice_rx_objects_delivered_total 1
cmp "$W/src/one.bin" "$W/out/files/cam/one.bin" || fail "delivered file differs"
[ "$(stat -c %U "$W/out/files/cam/one.bin")" = "$RUN_AS" ] || fail "delivered file is not $RUN_AS's"

log "3. STOPPING=1 and a clean stop"
stop_clean "$TX_PID" sluice-tx
stop_clean "$RX_PID" sluice-rx
notified tx "$TX_PID" 'STOPPING=1' || fail "tx did not send STOPPING=1"
notified rx "$RX_PID" 'STOPPING=1' || fail "rx did not send STOPPING=1"
log "ok: both daemons as $RUN_AS under a notify socket"
