#!/usr/bin/env bash
# SPDX-FileCopyrightText: 2026 Sluice developers
# SPDX-License-Identifier: Apache-2.0
# Release artefacts (README, "Release artefacts"):
#  1. `make sbom` writes SPDX 2.3 JSON naming, for every library each binary names (NEEDED),
#     the Debian package that holds it at the version dpkg-query reports, with a purl, and
#     sluice DEPENDS_ON it;
#  2. `make dist` twice, into two folders, gives the same bytes; the tarball holds exactly the
#     tracked files under sluice-VERSION/, and its Makefile plans a build (make -n);
#  3. `reuse lint` passes on the unpacked tarball (licence and copyright for every file);
#  4. SECURITY.md says how to report, which versions are supported and what counts.
. "$(dirname "$0")/lib.sh"
for c in readelf dpkg-query python3 git reuse; do
	command -v "$c" >/dev/null || fail "$c is missing (make deps installs it)"
done
git -C "$ROOT" rev-parse --is-inside-work-tree >/dev/null 2>&1 ||
	{ echo "SKIP: not a git work tree (make dist packs the tracked files)"; exit 0; }
# Under the sanitizers (BUILD ends in /san) no C code of ours runs here (readelf, python, git,
# tar, reuse): the plain make check runs it on the binaries that are released.
[ "${BUILD%/san}" = "$BUILD" ] ||
	{ echo "SKIP: under the sanitizers: make sbom, make dist and reuse run no C code of ours; the plain make check runs this test"; exit 0; }
MAKE=(make -s -C "$ROOT" BUILD="$BUILD")
VERSION=$(sed -n 's/^#define SLUICE_VERSION "\(.*\)"/\1/p' "$ROOT/common/version.h")
[ -n "$VERSION" ] || fail "no SLUICE_VERSION in common/version.h"

log "1. make sbom"
rm -f "$BUILD/sluice.spdx.json"
"${MAKE[@]}" sbom >"$W/sbom.log" 2>&1 || { cat "$W/sbom.log"; fail "make sbom"; }
SBOM="$BUILD/sluice.spdx.json"
[ -s "$SBOM" ] || fail "make sbom wrote no $SBOM"
# needed.tsv: binary, soname, package, arch, version as dpkg knows them (independently of sbom.py:
# the package is the one whose file list has the library's resolved path or its real path).
for b in "$TX" "$RX"; do
	readelf -d "$b" | sed -n 's/.*(NEEDED).*\[\(.*\)\]/\1/p' | while read -r so; do
		path=$(ldd "$b" | awk -v so="$so" '$1 == so && $2 == "=>" { print $3 }')
		[ -n "$path" ] || fail "ldd does not resolve $so of $b"
		pkg=
		for p in "$path" "$(readlink -f "$path")" "/usr$path" "${path#/usr}"; do
			pkg=$(dpkg -S "$p" 2>/dev/null | head -n 1 | sed 's/: .*//; s/, .*//') && [ -n "$pkg" ] && break
		done
		[ -n "$pkg" ] || fail "no Debian package holds $path ($so of $b)"
		printf '%s\t%s\t%s\t%s\t%s\n' "$(basename "$b")" "$so" "$pkg" \
			"$(dpkg-query -W -f '${Version}' "$pkg")" "$(dpkg-query -W -f '${Architecture}' "$pkg")"
	done
done >"$W/needed.tsv"
[ "$(wc -l <"$W/needed.tsv")" -ge 5 ] || { cat "$W/needed.tsv"; fail "too few NEEDED libraries found"; }
grep -q '	libc.so.6	libc6' "$W/needed.tsv" || { cat "$W/needed.tsv"; fail "libc.so.6 not traced to libc6"; }
python3 - "$SBOM" "$W/needed.tsv" "$VERSION" <<'PY' || fail "the SBOM does not match the installed packages"
import json, re, sys
from urllib.parse import quote
doc = json.load(open(sys.argv[1]))
want_version = sys.argv[3]
bad = []
for k, v in (("spdxVersion", "SPDX-2.3"), ("dataLicense", "CC0-1.0"), ("SPDXID", "SPDXRef-DOCUMENT")):
    if doc.get(k) != v:
        bad.append(f"{k} is {doc.get(k)!r}, not {v!r}")
for k in ("name", "documentNamespace"):
    if not doc.get(k):
        bad.append(f"no {k}")
ci = doc.get("creationInfo", {})
if not ci.get("created", "").endswith("Z") or not ci.get("creators"):
    bad.append("creationInfo lacks created or creators")
pk = {p["SPDXID"]: p for p in doc["packages"]}
for p in doc["packages"]:
    for k in ("name", "downloadLocation", "versionInfo", "supplier", "licenseDeclared"):
        if k not in p:
            bad.append(f"package {p.get('name')} has no {k}")
by_name = {p["name"]: p for p in doc["packages"]}
me = by_name.get("sluice")
if not me or me["versionInfo"] != want_version:
    bad.append(f"no package sluice at version {want_version}")
deps = {(r["spdxElementId"], r["relatedSpdxElement"]) for r in doc["relationships"]
        if r["relationshipType"] == "DEPENDS_ON"}
for r in doc["relationships"]:
    for end in (r["spdxElementId"], r["relatedSpdxElement"]):
        if end != "SPDXRef-DOCUMENT" and end not in pk:
            bad.append(f"relationship names unknown element {end}")
for line in open(sys.argv[2]):
    binary, so, pkg, ver, arch = line.rstrip("\n").split("\t")
    name = pkg.split(":")[0]
    p = by_name.get(name)
    if not p:
        bad.append(f"{binary} needs {so} from {pkg}: not in the SBOM")
        continue
    if p["versionInfo"] != ver:
        bad.append(f"{name}: SBOM says {p['versionInfo']}, dpkg-query says {ver}")
    if so not in re.split(r"[\s;,]+", p.get("comment", "")):
        bad.append(f"{name}: {so} is not listed in its comment")
    purl = f"pkg:deb/debian/{name}@{quote(ver, safe='.-_~')}?arch={arch}"
    refs = [r["referenceLocator"] for r in p.get("externalRefs", []) if r["referenceType"] == "purl"]
    if not any(r == purl or r.startswith(purl + "&") for r in refs):
        bad.append(f"{name}: purl {refs} is not {purl}")
    if (me["SPDXID"] if me else "", p["SPDXID"]) not in deps:
        bad.append(f"sluice does not DEPEND_ON {name}")
for b in bad:
    print("sbom:", b, file=sys.stderr)
sys.exit(1 if bad else 0)
PY
cp "$SBOM" "$W/sbom.first"
rm -f "$SBOM"
"${MAKE[@]}" sbom >"$W/sbom.log" 2>&1 || fail "second make sbom"
cmp -s "$W/sbom.first" "$SBOM" || fail "two runs of make sbom differ"

log "2. make dist twice: the same bytes"
"${MAKE[@]}" dist DISTDIR="$W/d1" >"$W/dist1.log" 2>&1 || { cat "$W/dist1.log"; fail "make dist"; }
sleep 1 # a time that leaked into the archive would now differ
"${MAKE[@]}" dist DISTDIR="$W/d2" >"$W/dist2.log" 2>&1 || { cat "$W/dist2.log"; fail "second make dist"; }
T="sluice-$VERSION.tar.gz"
[ -s "$W/d1/$T" ] || fail "make dist wrote no $T"
cmp "$W/d1/$T" "$W/d2/$T" || fail "two runs of make dist differ"
(cd "$W/d1" && sha256sum -c --quiet "$T.sha256") || fail "$T.sha256 does not match"
gzip -t "$W/d1/$T" || fail "$T is not valid gzip"
tar -tzf "$W/d1/$T" | sed "s,^sluice-$VERSION/,," | LC_ALL=C sort >"$W/tar.list"
git -C "$ROOT" ls-files | LC_ALL=C sort >"$W/git.list"
diff -u "$W/git.list" "$W/tar.list" || fail "the tarball does not hold exactly the tracked files"
want_mtime=$(git -C "$ROOT" log -1 --format=%ct)
TZ=UTC0 tar --full-time -tvzf "$W/d1/$T" | awk '{ print $2, $4, $5 }' | sort -u >"$W/stamps"
[ "$(cat "$W/stamps")" = "0/0 $(TZ=UTC0 date -d "@$want_mtime" '+%F %T')" ] ||
	fail "owners and times are not 0/0 and the last commit's: $(head -n 5 "$W/stamps")"
mkdir "$W/src" && tar -xzf "$W/d1/$T" -C "$W/src"
make -n -C "$W/src/sluice-$VERSION" BUILD="$W/src-build" all >"$W/src-make.log" 2>&1 ||
	{ cat "$W/src-make.log"; fail "make -n all fails in the unpacked tarball"; }
grep -q 'sluice-rx' "$W/src-make.log" || fail "make -n all in the tarball does not plan sluice-rx"

log "3. reuse lint, over the unpacked tarball (the tracked files; no test's leftovers)"
(cd "$W/src/sluice-$VERSION" && reuse lint) >"$W/reuse.log" 2>&1 || { tail -n 40 "$W/reuse.log"; fail "reuse lint"; }
grep -q 'Files with license information: \([0-9]*\) / \1$' "$W/reuse.log" || fail "reuse lint did not cover every file"

log "4. SECURITY.md"
S="$ROOT/SECURITY.md"
[ -f "$S" ] || fail "no SECURITY.md"
for want in 'Supported versions' 'Reporting a vulnerability' "${VERSION%.*}" 'sluice-rx'; do
	grep -qF "$want" "$S" || fail "SECURITY.md does not mention '$want'"
done
log "PASS"
