#!/usr/bin/env bash
# SPDX-FileCopyrightText: 2026 Sluice developers
# SPDX-License-Identifier: Apache-2.0
# One-shot send's progress (README, "One-shot send"): on a terminal, one line redrawn in place
# with the percentage, sizes, rate and ETA, then a final line with totals and elapsed time;
# with TERM=dumb, or through a pipe, plain lines and a summary, never a carriage return. The
# terminal is a pseudo-terminal (python3 pty), output post-processing off, so the bytes checked
# are the bytes sluice-tx wrote.
. "$(dirname "$0")/lib.sh"

# ptyrun.py OUT CMD...: runs CMD on a 100x30 pseudo-terminal, copies what it writes to OUT,
# exits with CMD's status.
cat >"$W/ptyrun.py" <<'PY'
import fcntl, os, pty, struct, sys, termios
pid, fd = pty.fork()
if pid == 0:
    a = termios.tcgetattr(1)
    a[1] &= ~termios.OPOST  # no \n -> \r\n: keep sluice-tx's own bytes
    termios.tcsetattr(1, termios.TCSANOW, a)
    fcntl.ioctl(1, termios.TIOCSWINSZ, struct.pack("HHHH", 30, 100, 0, 0))
    os.execvp(sys.argv[2], sys.argv[2:])
with open(sys.argv[1], "wb") as out:
    while True:
        try:
            b = os.read(fd, 65536)
        except OSError:  # EIO: the child closed the terminal
            break
        if not b:
            break
        out.write(b)
_, st = os.waitpid(pid, 0)
sys.exit(os.waitstatus_to_exitcode(st))
PY

make_keys
write_rx_config
# 100 Mbit/s on the wire, 25% of it repair: 24 MB of content takes about 2.4 s, time for a
# couple of dozen redraws at 10 a second.
write_tx_config "$RX_PORT" 25% 100Mbit
start_rx
SIZE=24000000
make_file "$W/src/clip.ts" "$SIZE" progress

arrived() { cmp -s "$W/src/clip.ts" "$W/out/files/$1/clip.ts"; }

# --- on a terminal: a bar redrawn in place
log "send on a pseudo-terminal"
TERM=xterm timeout 60 python3 "$W/ptyrun.py" "$W/tty.out" "$TX" -c "$W/tx.yaml" send --as bar "$W/src/clip.ts" ||
	{ cat -A "$W/tty.out" >&2; fail "send under a pseudo-terminal exited $?"; }
wait_for "clip.ts under bar/" 20 arrived bar
redraws=$(tr -cd '\r' <"$W/tty.out" | wc -c)
[ "$redraws" -ge 5 ] || { cat -A "$W/tty.out" >&2; fail "only $redraws carriage returns on a terminal"; }
# Each redraw starts with \r and the erase-to-end-of-line sequence, then the bar.
tr '\r' '\n' <"$W/tty.out" | grep -aP '^\x1b\[K\[[=> ]+\] +[0-9]+%' >"$W/bars" ||
	{ cat -A "$W/tty.out" >&2; fail "no bar redrawn with \\r ESC[K"; }
grep -aoP '\] +\K[0-9]+(?=%)' "$W/bars" >"$W/pcts"
sort -n -c "$W/pcts" 2>/dev/null || { cat "$W/pcts" >&2; fail "the percentage went down"; }
[ "$(tail -n 1 "$W/pcts")" = 100 ] || { cat "$W/pcts" >&2; fail "the percentage did not reach 100"; }
[ "$(awk '$1 > 0 && $1 < 100' "$W/pcts" | sort -u | wc -l)" -ge 2 ] ||
	{ cat "$W/pcts" >&2; fail "no rising percentage between 0 and 100"; }
grep -aqP '\] +[0-9]+%  [0-9.]+ [kMG]?B / 24\.0 MB  [0-9.]+ [kMG]?bit/s  ETA [0-9]+:[0-5][0-9]' "$W/bars" ||
	{ cat -A "$W/bars" >&2; fail "no redraw with sizes, rate and ETA"; }
# The last line: totals and elapsed time, ended by a newline.
[ "$(tail -c 1 "$W/tty.out" | od -An -c | tr -d ' ')" = '\n' ] || fail "the output does not end with a newline"
last=$(tr '\r' '\n' <"$W/tty.out" | grep -av '^$' | tail -n 1)
printf '%s\n' "$last" | grep -aqP '^\x1b\[K\[=+\] 100%  24\.0 MB  [0-9.]+ [kMG]?bit/s  1 file sent in [0-9]+:[0-5][0-9]$' ||
	{ printf '%s\n' "$last" | cat -A >&2; fail "wrong final line on a terminal"; }

# --- NO_COLOR: still a bar, but no escape sequence at all
log "send on a pseudo-terminal with NO_COLOR"
NO_COLOR=1 TERM=xterm timeout 60 python3 "$W/ptyrun.py" "$W/nocolor.out" "$TX" -c "$W/tx.yaml" send --as nocolor "$W/src/clip.ts" ||
	fail "send with NO_COLOR exited $?"
wait_for "clip.ts under nocolor/" 20 arrived nocolor
! grep -aq $'\x1b' "$W/nocolor.out" || { cat -A "$W/nocolor.out" >&2; fail "NO_COLOR: an escape sequence was written"; }
tr '\r' '\n' <"$W/nocolor.out" | grep -aqP '^\[[=> ]+\] +[0-9]+%' || { cat -A "$W/nocolor.out" >&2; fail "NO_COLOR: no bar"; }

# --- plain: TERM=dumb on a terminal, and a pipe
check_plain() { # check_plain FILE NAME
	! grep -aq $'\r' "$1" || { cat -A "$1" >&2; fail "$2: a carriage return in plain output"; }
	! grep -aq $'\x1b' "$1" || { cat -A "$1" >&2; fail "$2: an escape sequence in plain output"; }
	grep -aq "info: sent clip.ts ($SIZE bytes)$" "$1" || { cat "$1" >&2; fail "$2: no line for the file sent"; }
	grep -aqP "info: send: 1 file sent, 24\.0 MB in [0-9]+:[0-5][0-9] \([0-9.]+ [kMG]?bit/s\)$" "$1" ||
		{ cat "$1" >&2; fail "$2: no summary line"; }
}
log "send on a pseudo-terminal with TERM=dumb"
TERM=dumb timeout 60 python3 "$W/ptyrun.py" "$W/dumb.out" "$TX" -c "$W/tx.yaml" send --as dumb "$W/src/clip.ts" ||
	fail "send with TERM=dumb exited $?"
wait_for "clip.ts under dumb/" 20 arrived dumb
check_plain "$W/dumb.out" "TERM=dumb"

log "send through a pipe"
set +e
TERM=xterm timeout 60 "$TX" -c "$W/tx.yaml" send --as plain "$W/src/clip.ts" 2>&1 | cat >"$W/pipe.out"
rc=${PIPESTATUS[0]}
set -e
[ "$rc" -eq 0 ] || { cat "$W/pipe.out" >&2; fail "send through a pipe exited $rc"; }
wait_for "clip.ts under plain/" 20 arrived plain
check_plain "$W/pipe.out" "pipe"
log "PASS: progress bar on a terminal, plain lines otherwise"
