#!/usr/bin/env bash
# Brings up a topology (default: netns/topologies/default.json; JSON or YAML)
# as network namespaces with one anyguard role process each, links the host's
# root namespace to the client, and pings the anycast address from the host.
# Installs what is missing first: the Debian tools the README's examples use,
# the npm packages and the native addon. It prints one line per step; the
# tools' own logs are kept in a file and shown only when a step fails.
# Run as root. Usage: netns/setup.sh [topology] [anyguard up options]
set -euo pipefail
cd "$(dirname "$0")/.."

fail() {
	echo "netns/setup.sh: $1" >&2
	exit "${2:-1}"
}

[ "$(id -u)" -eq 0 ] || fail "run as root (it creates network namespaces): sudo npm start" 2

# Node.js ≥ 20.19 (package.json engines).
command -v node >/dev/null || fail "Node.js is not installed: install Node.js 20.19 or later (https://nodejs.org, or Debian's nodejs from a current release)"
node -e 'const [a, b] = process.versions.node.split(".").map(Number); process.exit(a > 20 || (a === 20 && b >= 19) ? 0 : 1)' ||
	fail "Node.js $(node --version) is too old: anyguard needs 20.19 or later"

log=$(mktemp -t anyguard-setup.XXXXXX)
trap 'rm -f "$log"' EXIT
# Runs a step quietly; on failure shows the end of its log and the fix.
step() {
	local what=$1 fix=$2
	shift 2
	echo "• $what"
	if ! "$@" >"$log" 2>&1; then
		tail -n 25 "$log" >&2
		fail "$what failed: $fix"
	fi
}

# The tools the network and the README's examples use, and the Debian packages that bring them.
declare -A need=(
	[ip]=iproute2 [ping]=iputils-ping [tracepath]=iputils-tracepath [dig]=dnsutils [dnsmasq]=dnsmasq-base
	[tcpdump]=tcpdump [tshark]=tshark [dot]=graphviz [curl]=curl [nft]=nftables
	[make]=make [gcc]=gcc [python3]=python3
)
# BIRD only when the topology has "role": "bird" nodes (JSON or YAML).
if grep -Eq '"?role"?: *"?bird"?' "${1:-netns/topologies/default.json}" 2>/dev/null; then need[bird]=bird2; need[birdc]=bird2; fi
missing=()
for tool in "${!need[@]}"; do
	# nft by its system path: under npm, node_modules/.bin has a command of that name.
	if [ "$tool" = nft ]; then [ -x /usr/sbin/nft ] || missing+=("${need[$tool]}"); continue; fi
	command -v "$tool" >/dev/null || [ -x "/usr/sbin/$tool" ] || missing+=("${need[$tool]}")
done
[ ${#missing[@]} -eq 0 ] || mapfile -t missing < <(printf '%s\n' "${missing[@]}" | sort -u)
if [ ${#missing[@]} -gt 0 ]; then
	export DEBIAN_FRONTEND=noninteractive
	step "installing ${missing[*]} (apt-get)" "install them by hand: apt-get install -y ${missing[*]}" \
		sh -c "apt-get update -qq && apt-get install -y -qq --no-install-recommends ${missing[*]}"
fi
if [ ! -d node_modules ] || [ ! -f build/Release/anyguard_io.node ]; then
	step "npm ci: the npm packages, and the native TUN and UDP addon (node-gyp)" \
		"check that npm's registry is reachable and that gcc, make and python3 are installed, then run npm ci" \
		npm ci --no-audit --no-fund --loglevel=error
fi
# Build when dist/ is missing or older than any source file.
if [ ! -f dist/cli/main.js ] || [ -n "$(find src -newer dist/cli/main.js -name '*.ts' -print -quit)" ]; then
	step "npm run build (TypeScript to dist/)" "run npm run build and read its errors" npm run build
fi

topology=${1:-netns/topologies/default.json}
shift || true
node dist/cli/main.js up "$topology" "$@"

anycast=$(node --input-type=module -e '
	import {loadTopology} from "./dist/config/topology.js";
	const t = loadTopology(process.argv[1]);
	const c = t.nodes.find((n) => n.role === "client");
	console.log((t.groups.find((g) => (c?.groups ?? [])[0] === g.name) ?? t.groups[0]).anycast);' "$topology")
echo "• ping -6 -c 3 $anycast from the host, through the client's verification"
ping -6 -c 3 -W 2 "$anycast"
state=()
for ((i = 1; i <= $#; i++)); do [ "${!i}" = --state ] && j=$((i + 1)) && state=(--state "${!j}"); done
node dist/cli/main.js status --topology "$topology" "${state[@]}" | sed -n '/^NODES/,/^$/p'
