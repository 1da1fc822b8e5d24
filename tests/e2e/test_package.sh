#!/usr/bin/env bash
# SPDX-FileCopyrightText: 2026 Sluice developers
# SPDX-License-Identifier: Apache-2.0
# Installing Sluice (README, "Installing"):
#  1. the example configs pass --check with real keys, their paths moved into a temp folder;
#  2. `make install DESTDIR=... PREFIX=/usr` lays out exactly the expected files and modes, and
#     a second install keeps a site's /etc/sluice/*.yaml (the new one goes beside as .example);
#  3. both units pass `systemd-analyze verify` (binaries and man pages from that tree) and score
#     at most 2.0 in `systemd-analyze security --offline=true`;
#  4. `make deb` builds a package whose contents are listed and compared, whose maintainer
#     scripts parse, that lintian finds no error in, and whose postinst (run in a private mount
#     namespace over copies of /etc/passwd and the folders it makes) creates the user sluice
#     and its folders. systemd is not PID 1 here, so the services are not started from the
#     package: test_service.sh runs both daemons as the units do (unprivileged, sd_notify).
. "$(dirname "$0")/lib.sh"
command -v systemd-analyze >/dev/null ||
	{ echo "SKIP: systemd-analyze is missing (make deps installs the systemd package)"; exit 0; }
MAKE=(make -s -C "$ROOT" BUILD="$BUILD")
D="$W/root"

log "1. the example configs pass --check"
make_keys
sed "s|/etc/sluice|$W/keys|; s|/var/spool/sluice|$W/spool|; s|/var/lib/sluice|$W/state|" \
	"$ROOT/dist/examples/tx.yaml" >"$W/ex-tx.yaml"
sed "s|/etc/sluice|$W/keys|g; s|/srv/sluice|$W/srv|; s|/var/lib/sluice|$W/state|; s|/var/log/sluice|$W/log|" \
	"$ROOT/dist/examples/rx.yaml" >"$W/ex-rx.yaml"
! sed 's/#.*//' "$W/ex-tx.yaml" "$W/ex-rx.yaml" | grep -E '[ [](/etc|/var|/srv)/' || fail "a path was not moved"
"$TX" -c "$W/ex-tx.yaml" --check >"$W/check.log" 2>&1 || { cat "$W/check.log"; fail "tx.yaml fails --check"; }
"$RX" -c "$W/ex-rx.yaml" --check >"$W/check.log" 2>&1 || { cat "$W/check.log"; fail "rx.yaml fails --check"; }

# Under the sanitizers (BUILD ends in /san) only step 1 runs C code of ours; steps 2-4 run make,
# systemd-analyze, dpkg-buildpackage (which builds without SANITIZE) and lintian, the same as in
# the plain pass, so they are left to it.
if [ "${BUILD%/san}" != "$BUILD" ]; then
	log "ok: examples pass --check; steps 2-4 (install, units, package) skipped under the sanitizers: no C code of ours runs in them, the plain make check runs them"
	exit 0
fi

log "2. make install DESTDIR lays out the tree"
"${MAKE[@]}" install DESTDIR="$D" PREFIX=/usr >"$W/install.log" 2>&1 || { cat "$W/install.log"; fail "make install"; }
(cd "$D" && find . -mindepth 1 \( -type f -o -type l \) -printf '%m %p\n' | sort -k2) >"$W/layout"
cat >"$W/layout.want" <<'LIST'
644 ./etc/sluice/rx.yaml
644 ./etc/sluice/tx.yaml
644 ./usr/lib/systemd/system/sluice-rx.service
644 ./usr/lib/systemd/system/sluice-tx.service
755 ./usr/bin/sluice-rx
755 ./usr/bin/sluice-tx
644 ./usr/share/doc/sluice/examples/rx.yaml
644 ./usr/share/doc/sluice/examples/tx.yaml
644 ./usr/share/man/man5/sluice.yaml.5
644 ./usr/share/man/man8/sluice-rx.8
644 ./usr/share/man/man8/sluice-tx.8
LIST
sort -k2 -o "$W/layout.want" "$W/layout.want"
diff -u "$W/layout.want" "$W/layout" || fail "installed tree differs from the expected one"
grep -qx 'ExecStart=/usr/bin/sluice-rx -c /etc/sluice/rx.yaml' "$D/usr/lib/systemd/system/sluice-rx.service" ||
	fail "sluice-rx.service does not run /usr/bin/sluice-rx with /etc/sluice/rx.yaml"
echo '# the site edited this' >>"$D/etc/sluice/tx.yaml"
"${MAKE[@]}" install DESTDIR="$D" PREFIX=/usr >"$W/install.log" 2>&1 || fail "second make install"
tail -n 1 "$D/etc/sluice/tx.yaml" | grep -qx '# the site edited this' || fail "a site's tx.yaml was overwritten"
cmp -s "$ROOT/dist/examples/tx.yaml" "$D/etc/sluice/tx.yaml.example" || fail "no tx.yaml.example beside it"
grep -q "keeping $D/etc/sluice/tx.yaml" "$W/install.log" || fail "install did not say it kept tx.yaml"
MANWIDTH=80 man -l "$D/usr/share/man/man5/sluice.yaml.5" 2>/dev/null | grep -q 'keys.senders' ||
	fail "sluice.yaml(5) does not render"

log "3. the units: systemd-analyze verify and security"
mkdir -p "$W/units"
for u in rx tx; do
	sed "s|/usr/bin/|$D/usr/bin/|g" "$D/usr/lib/systemd/system/sluice-$u.service" >"$W/units/sluice-$u.service"
done
(cd "$W/units" && MANPATH="$D/usr/share/man" systemd-analyze verify sluice-rx.service sluice-tx.service) \
	>"$W/verify.log" 2>&1 || { cat "$W/verify.log"; fail "systemd-analyze verify"; }
[ ! -s "$W/verify.log" ] || { cat "$W/verify.log"; fail "systemd-analyze verify printed warnings"; }
# The check itself sees a broken unit: a binary that is not there.
sed 's|^ExecStart=.*|ExecStart=/nonexistent/sluice-rx|' "$W/units/sluice-rx.service" >"$W/units/broken.service"
if (cd "$W/units" && systemd-analyze verify --man=no broken.service) >/dev/null 2>&1; then
	fail "systemd-analyze verify passed a unit whose binary is missing"
fi
for u in rx tx; do
	(cd "$W/units" && systemd-analyze security --offline=true --no-pager "sluice-$u.service") >"$W/security-$u.log" 2>&1 || true
	score=$(sed -n 's/.*Overall exposure level for sluice-'$u'.service: \([0-9.]*\).*/\1/p' "$W/security-$u.log")
	[ -n "$score" ] || { cat "$W/security-$u.log"; fail "no exposure score for sluice-$u.service"; }
	awk -v s="$score" 'BEGIN { exit !(s <= 2.0) }' || { grep '✗' "$W/security-$u.log"; fail "sluice-$u.service exposure $score > 2.0"; }
	log "   sluice-$u.service: verify ok, exposure $score"
done

log "4. make deb"
make -s -C "$ROOT" deb >"$W/deb.log" 2>&1 || { cat "$W/deb.log"; fail "make deb"; }
DEB=$(ls "$ROOT"/build/deb/sluice_*_*.deb)
dpkg-deb -c "$DEB" | awk '$1 !~ /^d/ { print substr($1, 2), $6 }' | sort -k2 >"$W/deb.list"
cat >"$W/deb.want" <<'LIST'
rw-r--r-- ./etc/sluice/rx.yaml
rw-r--r-- ./etc/sluice/tx.yaml
rw-r--r-- ./lib/systemd/system/sluice-rx.service
rw-r--r-- ./lib/systemd/system/sluice-tx.service
rwxr-xr-x ./usr/bin/sluice-rx
rwxr-xr-x ./usr/bin/sluice-tx
rw-r--r-- ./usr/share/doc/sluice/changelog.gz
rw-r--r-- ./usr/share/doc/sluice/copyright
rw-r--r-- ./usr/share/doc/sluice/examples/rx.yaml
rw-r--r-- ./usr/share/doc/sluice/examples/tx.yaml
rw-r--r-- ./usr/share/man/man5/sluice.yaml.5.gz
rw-r--r-- ./usr/share/man/man8/sluice-rx.8.gz
rw-r--r-- ./usr/share/man/man8/sluice-tx.8.gz
LIST
sort -k2 -o "$W/deb.want" "$W/deb.want"
diff -u "$W/deb.want" "$W/deb.list" || fail "package contents differ from the expected ones"
dpkg-deb -e "$DEB" "$W/ctrl"
for s in postinst prerm postrm; do [ -f "$W/ctrl/$s" ] || fail "no $s in the package"; done
for s in preinst postinst prerm postrm; do
	[ ! -f "$W/ctrl/$s" ] || sh -n "$W/ctrl/$s" || fail "$s does not parse"
done
grep -qx '/etc/sluice/tx.yaml' "$W/ctrl/conffiles" || fail "/etc/sluice/tx.yaml is not a conffile"
grep -q 'deb-systemd-invoke stop' "$W/ctrl/prerm" || fail "prerm does not stop the services"
dpkg-deb -f "$DEB" Depends | grep -q 'libsystemd0' || fail "the package does not depend on libsystemd0"
if command -v lintian >/dev/null; then
	lintian --no-tag-display-limit "$DEB" >"$W/lintian.log" 2>&1 || true
	! grep '^E:' "$W/lintian.log" || fail "lintian reports errors"
	log "   lintian: $(grep -c '^[WE]:' "$W/lintian.log" || true) warnings, no error"
else
	log "   lintian is missing (make deps installs it): not run"
fi
# postinst configure, isolated: a copy of /etc (adduser renames files into it), empty folders
# in place of those it makes, no service manager (/run/systemd/system absent).
mkdir -p "$W/ns/var-lib" "$W/ns/var-log" "$W/ns/var-spool" "$W/ns/srv" "$W/ns/run"
cp -a /etc "$W/ns/etc"
cat >"$W/ns/run.sh" <<SH
set -e
mount --bind "$W/ns/etc" /etc
mount --bind "$W/ns/var-lib" /var/lib && mkdir -p /var/lib/dpkg && mount --bind "$W/ns/var-log" /var/log
mount --bind "$W/ns/var-spool" /var/spool && mount --bind "$W/ns/srv" /srv && mount --bind "$W/ns/run" /run
sh "$W/ctrl/postinst" configure
sh "$W/ctrl/postinst" configure # again, as an upgrade would: no error
getent passwd sluice
stat -c '%U:%G %a %n' /var/lib/sluice /var/spool/sluice /srv/sluice /var/log/sluice
SH
if [ "$(id -u)" = 0 ] && unshare --mount --propagation private true 2>/dev/null; then
	unshare --mount --propagation private sh "$W/ns/run.sh" >"$W/postinst.log" 2>&1 ||
		{ cat "$W/postinst.log"; fail "postinst configure failed"; }
	grep -q '^sluice:x:[0-9]*:[0-9]*:.*:/var/lib/sluice:/usr/sbin/nologin$' "$W/postinst.log" ||
		{ cat "$W/postinst.log"; fail "postinst did not make the system user sluice"; }
	for d in /var/lib/sluice /var/spool/sluice /srv/sluice /var/log/sluice; do
		grep -qx "sluice:sluice 750 $d" "$W/postinst.log" || { cat "$W/postinst.log"; fail "$d: not sluice's, 0750"; }
	done
	log "   postinst: user sluice and its folders made"
else
	log "   postinst not run: needs root and mount namespaces"
fi
log "ok: examples, install tree, units (verify, exposure <= 2.0), package"
