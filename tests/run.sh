#!/usr/bin/env bash
# SPDX-FileCopyrightText: 2026 Sluice developers
# SPDX-License-Identifier: Apache-2.0
# Runs every unit test binary given as arguments, then every end-to-end test in tests/e2e/,
# each in its own process, and closes with one line: "check: N passed, N failed".
set -u
cd "$(dirname "$0")/.."
export SLUICE_BUILD=${SLUICE_BUILD:-build}
pass=0; fail=0; failed=()
for t in "$@"; do
	name=$(basename "$t")
	if out=$("$t" 2>&1); then
		pass=$((pass + 1)); echo "PASS unit/$name"
	else
		fail=$((fail + 1)); failed+=("unit/$name"); echo "FAIL unit/$name"; echo "$out" | tail -n 40
	fi
done
if [ "${SLUICE_UNIT_ONLY:-0}" != 1 ]; then
	for t in tests/e2e/test_*.sh; do
		[ -e "$t" ] || continue
		name=$(basename "$t" .sh)
		[ -n "${SLUICE_E2E:-}" ] && [[ ! "$name" =~ ${SLUICE_E2E} ]] && continue
		start=$(date +%s)
		log=$(mktemp /tmp/sluice-e2e-XXXXXX.log)
		if timeout 900 bash "$t" >"$log" 2>&1; then
			pass=$((pass + 1)); echo "PASS e2e/$name ($(( $(date +%s) - start ))s)"
		else
			fail=$((fail + 1)); failed+=("e2e/$name"); echo "FAIL e2e/$name ($(( $(date +%s) - start ))s)"
			grep -E '^\[[0-9:]+\] ' "$log" | tail -n 12; echo "---- the end of its output"; tail -n 50 "$log"
		fi
		rm -f "$log"
	done
fi
[ ${#failed[@]} -gt 0 ] && printf 'failed: %s\n' "${failed[@]}"
echo "check: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
