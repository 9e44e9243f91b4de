#!/usr/bin/env bash
# Install the servers the real-server tests start themselves (test/harness/): redis-server,
# rabbitmq-server (with epmd from erlang-base), postgresql-15; promtool (prometheus), which
# lints /metrics; and chromium, which the demo's test renders the timeline SVG in (headless).
# Debian bookworm packages.
#
# Idempotent: installs only what is missing (~0 s when everything is there, ~10 s otherwise),
# runs `apt-get update` once and only when something is missing. --no-upgrade: never touch a
# version that is already installed (the image ships PostgreSQL 15.18 while apt offers newer).
# The packages' own services are kept from starting (they would take the default ports; the
# tests never use those): a temporary policy-rc.d that refuses every start, if none exists.
set -euo pipefail

need=()
command -v redis-server >/dev/null 2>&1 || [ -x /usr/bin/redis-server ] || need+=(redis-server)
{ [ -x /usr/lib/rabbitmq/bin/rabbitmq-server ] && command -v epmd >/dev/null 2>&1; } || need+=(rabbitmq-server)
compgen -G '/usr/lib/postgresql/*/bin/initdb' >/dev/null || need+=(postgresql-15)
# promtool (from Debian's prometheus package) lints the worker's /metrics in test/metrics.
command -v promtool >/dev/null 2>&1 || need+=(prometheus)
command -v chromium >/dev/null 2>&1 || need+=(chromium)

if [ ${#need[@]} -eq 0 ]; then
  echo "install-test-servers: redis-server, rabbitmq-server, postgresql, promtool, chromium all present" >&2
  exit 0
fi

SUDO=()
if [ "$(id -u)" -ne 0 ]; then
  if command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
    SUDO=(sudo -n)
  else
    echo "install-test-servers: missing ${need[*]}; run as root: apt-get install -y --no-install-recommends ${need[*]}" >&2
    exit 1
  fi
fi

export DEBIAN_FRONTEND=noninteractive
policy=/usr/sbin/policy-rc.d
tmp_policy=""
cleanup() { if [ -n "$tmp_policy" ]; then "${SUDO[@]}" rm -f "$policy"; fi; }
trap cleanup EXIT
if [ ! -e "$policy" ]; then
  printf '#!/bin/sh\n# temporary, from scripts/install-test-servers.sh: start no service\nexit 101\n' | "${SUDO[@]}" tee "$policy" >/dev/null
  "${SUDO[@]}" chmod 755 "$policy"
  tmp_policy=1
fi

t0=$(date +%s)
"${SUDO[@]}" apt-get update -q >/dev/null
"${SUDO[@]}" apt-get install -y -q --no-install-recommends --no-upgrade "${need[@]}" >/dev/null
echo "install-test-servers: installed ${need[*]} in $(( $(date +%s) - t0 )) s" >&2
