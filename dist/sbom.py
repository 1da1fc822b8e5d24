#!/usr/bin/env python3
# SPDX-FileCopyrightText: 2026 Sluice developers
# SPDX-License-Identifier: Apache-2.0
"""Write an SPDX 2.3 JSON SBOM of the shared libraries Sluice's binaries link.

    dist/sbom.py VERSION OUT.json BINARY...

Every library the dynamic loader maps for a binary (its NEEDED entries and theirs, as ldd
resolves them on this machine) is traced to the Debian package that installed it (dpkg -S),
and that package's installed name, version, architecture and maintainer (dpkg-query) become
one SPDX package. `sluice` DEPENDS_ON the packages its binaries name directly; a library
package DEPENDS_ON the packages of the libraries it names. Licenses are NOASSERTION: Debian's
copyright files use their own short names, which are copied into licenseComments when the
file is machine-readable. The output is the same for the same installed packages and the
same SOURCE_DATE_EPOCH (the time of the last commit, when unset). No network is used.
"""
import hashlib
import json
import os
import re
import subprocess
import sys
import time
import uuid
from urllib.parse import quote


def run(*argv):
    return subprocess.run(argv, check=True, capture_output=True, text=True).stdout


def needed(path):
    """NEEDED sonames of one ELF file, in order."""
    return re.findall(r"\(NEEDED\)\s+Shared library: \[([^\]]+)\]", run("readelf", "-d", path))


def ldd_map(binary):
    """soname -> path, for every library ldd maps for the binary (the vDSO has no file)."""
    out = {}
    for line in run("ldd", binary).splitlines():
        m = re.match(r"\s*(\S+) => (/\S+) \(", line)
        if m:
            out[m.group(1)] = m.group(2)
            continue
        m = re.match(r"\s*(/\S+) \(", line)  # the loader itself: named by path
        if m:
            out[os.path.basename(m.group(1))] = m.group(1)
    return out


def owner(path):
    """(package, arch) that dpkg says installed this path; tries the usrmerge aliases."""
    cands = [path, os.path.realpath(path)]
    for p in list(cands):
        for a, b in (("/usr/lib/", "/lib/"), ("/lib/", "/usr/lib/"), ("/lib64/", "/usr/lib64/")):
            if p.startswith(a):
                cands.append(b + p[len(a):])
    for c in dict.fromkeys(cands):
        r = subprocess.run(["dpkg", "-S", c], capture_output=True, text=True)
        if r.returncode == 0:
            pkg = r.stdout.split(": ", 1)[0].split(", ")[0]
            name, _, arch = pkg.partition(":")
            return name, arch
    sys.exit(f"sbom: no Debian package owns {path} (tried {', '.join(dict.fromkeys(cands))})")


def debian_licenses(name):
    """Debian's license short names from a machine-readable copyright file, else None."""
    try:
        with open(f"/usr/share/doc/{name}/copyright", encoding="utf-8", errors="replace") as f:
            text = f.read()
    except OSError:
        return None
    if not re.match(r"Format:\s*\S*copyright-format", text):
        return None
    names = sorted(set(m.strip() for m in re.findall(r"^License:[ \t]*(\S[^\n]*)$", text, re.M)))
    return names or None


def main():
    if len(sys.argv) < 4:
        sys.exit("usage: dist/sbom.py VERSION OUT.json BINARY...")
    version, out, binaries = sys.argv[1], sys.argv[2], sys.argv[3:]

    libs = {}      # soname -> path
    direct = {}    # soname -> [binaries naming it]
    for b in binaries:
        m = ldd_map(b)
        for so in needed(b):
            if so not in m:
                sys.exit(f"sbom: {b} needs {so}, which ldd did not resolve")
            direct.setdefault(so, []).append(os.path.basename(b))
        libs.update(m)

    pkgs = {}      # (name, arch) -> {"sonames": set, "deps": set}
    of_lib = {}
    for so, path in sorted(libs.items()):
        key = owner(path)
        of_lib[so] = key
        pkgs.setdefault(key, {"sonames": set(), "deps": set()})["sonames"].add(so)
    for so, path in libs.items():
        for dep in needed(path):
            if dep in of_lib and of_lib[dep] != of_lib[so]:
                pkgs[of_lib[so]]["deps"].add(of_lib[dep])

    distro = ""
    try:
        with open("/etc/os-release") as f:
            osr = dict(l.rstrip("\n").split("=", 1) for l in f if "=" in l)
        distro = f"{osr.get('ID', '').strip(chr(34))}-{osr.get('VERSION_ID', '').strip(chr(34))}"
    except OSError:
        pass

    spdx_id = {}
    packages = [{
        "SPDXID": "SPDXRef-Package-sluice",
        "name": "sluice",
        "versionInfo": version,
        "supplier": "NOASSERTION",
        "downloadLocation": "NOASSERTION",
        "filesAnalyzed": False,
        "licenseConcluded": "Apache-2.0",
        "licenseDeclared": "Apache-2.0",
        "copyrightText": "NOASSERTION",
        "comment": "binaries: " + ", ".join(os.path.basename(b) for b in binaries),
    }]
    for key in sorted(pkgs):
        name, arch = key
        # A package that is not Multi-Arch: same is known to dpkg by its bare name.
        fmt = "${Version}\t${Maintainer}\t${Homepage}\t${Architecture}"
        q = f"{name}:{arch}" if arch else name
        ver, maint, home, arch = run("dpkg-query", "-W", "-f", fmt, q).split("\t")
        sid = "SPDXRef-Package-deb-" + re.sub(r"[^A-Za-z0-9.-]", "-", f"{name}-{arch}")
        spdx_id[key] = sid
        m = re.match(r"(.*?)\s*<([^>]+)>", maint)
        supplier = f"Organization: {m.group(1)} ({m.group(2)})" if m else "NOASSERTION"
        purl = f"pkg:deb/debian/{name}@{quote(ver, safe='.-_~')}?arch={arch}"
        if distro != "-":
            purl += f"&distro={distro}"
        sonames = sorted(pkgs[key]["sonames"])
        users = sorted({b for so in sonames for b in direct.get(so, [])})
        p = {
            "SPDXID": sid,
            "name": name,
            "versionInfo": ver,
            "supplier": supplier,
            "downloadLocation": "NOASSERTION",
            "filesAnalyzed": False,
            "licenseConcluded": "NOASSERTION",
            "licenseDeclared": "NOASSERTION",
            "copyrightText": "NOASSERTION",
            "externalRefs": [{"referenceCategory": "PACKAGE-MANAGER",
                              "referenceType": "purl", "referenceLocator": purl}],
            "comment": "libraries: " + " ".join(sonames) +
                       ("; named directly by: " + " ".join(users) if users else "; linked indirectly"),
        }
        if home:
            p["homepage"] = home
        lic = debian_licenses(name)
        if lic:
            p["licenseComments"] = "Debian copyright file names: " + "; ".join(lic)
        packages.append(p)

    rels = [{"spdxElementId": "SPDXRef-DOCUMENT", "relationshipType": "DESCRIBES",
             "relatedSpdxElement": "SPDXRef-Package-sluice"}]
    for key in sorted({of_lib[so] for so in direct}):
        rels.append({"spdxElementId": "SPDXRef-Package-sluice", "relationshipType": "DEPENDS_ON",
                     "relatedSpdxElement": spdx_id[key]})
    for key in sorted(pkgs):
        for dep in sorted(pkgs[key]["deps"]):
            rels.append({"spdxElementId": spdx_id[key], "relationshipType": "DEPENDS_ON",
                         "relatedSpdxElement": spdx_id[dep]})

    epoch = os.environ.get("SOURCE_DATE_EPOCH")
    if not epoch:
        epoch = run("git", "log", "-1", "--format=%ct").strip() or str(int(time.time()))
    created = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(int(epoch)))
    body = json.dumps([packages, rels], sort_keys=True).encode()
    ns = uuid.uuid5(uuid.NAMESPACE_URL, "sluice-sbom:" + hashlib.sha256(body).hexdigest())
    doc = {
        "spdxVersion": "SPDX-2.3",
        "dataLicense": "CC0-1.0",
        "SPDXID": "SPDXRef-DOCUMENT",
        "name": f"sluice-{version}",
        "documentNamespace": f"urn:uuid:{ns}",
        "creationInfo": {"created": created, "creators": ["Tool: sluice dist/sbom.py"]},
        "packages": packages,
        "relationships": rels,
    }
    tmp = out + ".tmp"
    with open(tmp, "w") as f:
        json.dump(doc, f, indent=2)
        f.write("\n")
    os.replace(tmp, out)


if __name__ == "__main__":
    main()
