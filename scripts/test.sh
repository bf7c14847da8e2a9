#!/usr/bin/env bash
# The test command: installs what it needs (idempotently), builds, then runs every tier — unit,
# integration (real Docker engine, real libp2p on loopback) and end-to-end (the built bin/monk and
# bin/monkd) — and ends with one line "N passed, N failed".
set -euo pipefail
repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$repo"
bash scripts/bootstrap.sh
export PATH="$repo/.tools/bin:$PATH" NO_COLOR=1 FORCE_COLOR=0
export NODE_EXTRA_CA_CERTS="${NODE_EXTRA_CA_CERTS:-/etc/ssl/certs/ca-certificates.crt}"

results="$(mktemp)"
trap 'rm -f "$results"' EXIT
status=0
pnpm exec vitest run --reporter=default --reporter=json --outputFile.json="$results" "$@" || status=$?

node -e '
  const fs = require("node:fs");
  let r = {};
  try { r = JSON.parse(fs.readFileSync(process.argv[1], "utf8")); } catch {}
  const passed = r.numPassedTests ?? 0;
  const failed = (r.numFailedTests ?? 0) + (r.numFailedTestSuites ?? 0) - 0;
  const skipped = (r.numPendingTests ?? 0) + (r.numTodoTests ?? 0);
  console.log(`${passed} passed, ${r.numFailedTests ?? 0} failed` + (skipped ? `, ${skipped} skipped` : ""));
' "$results"
exit "$status"
