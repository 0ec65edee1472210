#!/usr/bin/env bash
# Removes everything netns/setup.sh made: processes, namespaces, veths, TUNs,
# host routes and the state directory. Safe to run again.
# Usage: netns/teardown.sh [topology.json] [--state DIR]
set -euo pipefail
cd "$(dirname "$0")/.."
if [ "$(id -u)" -ne 0 ]; then
	echo "netns/teardown.sh: run as root" >&2
	exit 2
fi
[ -f dist/cli/main.js ] || npm run build >/dev/null
topology=${1:-netns/topologies/default.json}
shift || true
node dist/cli/main.js down "$topology" "$@"
