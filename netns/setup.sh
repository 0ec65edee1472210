#!/usr/bin/env bash
# Brings up a topology (default: netns/topologies/default.json) as network
# namespaces with one anyguard role process each, links the host's root
# namespace to the client, and pings the anycast address from the host.
# Run as root. Usage: netns/setup.sh [topology.json] [anyguard up options]
set -euo pipefail
cd "$(dirname "$0")/.."

if [ "$(id -u)" -ne 0 ]; then
	echo "netns/setup.sh: run as root (it creates network namespaces)" >&2
	exit 2
fi

# The tools the network uses, and the Debian packages that bring them.
# tracepath is for the README's traceroute; BIRD only when the topology has "role": "bird" nodes.
declare -A need=([ip]=iproute2 [ping]=iputils-ping [tracepath]=iputils-tracepath [dig]=dnsutils [dnsmasq]=dnsmasq-base [tcpdump]=tcpdump [make]=make [gcc]=gcc)
if grep -Eq '"role": *"bird"' "${1:-netns/topologies/default.json}" 2>/dev/null; then need[bird]=bird2; need[birdc]=bird2; fi
missing=()
for tool in "${!need[@]}"; do command -v "$tool" >/dev/null || [ -x "/usr/sbin/$tool" ] || missing+=("${need[$tool]}"); done
mapfile -t missing < <(printf '%s\n' "${missing[@]}" | sort -u | grep .)
if [ ${#missing[@]} -gt 0 ]; then
	echo "• installing ${missing[*]} (apt-get)"
	DEBIAN_FRONTEND=noninteractive apt-get update -qq
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
if [ ! -d node_modules ] || [ ! -f build/Release/anyguard_io.node ]; then
	echo "• npm ci (dependencies and the native addon)"
	npm ci --no-audit --no-fund >/dev/null
fi
# Build when dist/ is missing or older than any source file.
if [ ! -f dist/cli/main.js ] || [ -n "$(find src -newer dist/cli/main.js -name '*.ts' -print -quit)" ]; then
	echo "• npm run build"
	npm run build >/dev/null
fi

topology=${1:-netns/topologies/default.json}
shift || true
node dist/cli/main.js up "$topology" "$@"

anycast=$(node -e 'const t=require(process.argv[1]); const c=t.nodes.find(n=>n.role==="client"); const g=t.groups.find(g=>(c.groups||[])[0]===g.name)||t.groups[0]; console.log(g.anycast)' "$(realpath "$topology")")
echo "• ping -6 -c 3 $anycast from the host, through the client's verification"
ping -6 -c 3 -W 2 "$anycast"
state=()
for ((i = 1; i <= $#; i++)); do [ "${!i}" = --state ] && j=$((i + 1)) && state=(--state "${!j}"); done
node dist/cli/main.js status --topology "$topology" "${state[@]}" | sed -n '/^NODES/,/^$/p'
