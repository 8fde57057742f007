#!/usr/bin/env bash
# Builds the installable `elink` command: one npm tarball, elink-<version>-linux-<arch>.tgz in
# OUT (default dist-pkg/), that `npm install -g` installs without a registry or a compiler:
# @elink/cli with every production dependency bundled (the other @elink packages as they
# would be published, third-party packages at the lockfile's versions from npm's cache) and
# the TAP/TUN addon prebuilt (N-API: one build serves every Node >= 24 on this platform).
# Needs a built workspace (npm ci && npx tsc -b && npm run build -w packages/console: make build). Run it with Node 24 (scripts/node24.sh).
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
out=$(mkdir -p "${1:-$root/dist-pkg}" && cd "${1:-$root/dist-pkg}" && pwd)
addon="$root/packages/tuntap/build/Release/tuntap.node"
[ -f "$root/packages/cli/dist/main.js" ] && [ -f "$addon" ] && [ -f "$root/packages/console/dist/index.html" ] || {
  echo "scripts/pack.sh: build first (npm ci && npx tsc -b && npm run build -w packages/console, or make build)" >&2
  exit 1
}
stage=$(mktemp -d "${TMPDIR:-/tmp}/elink-pack.XXXXXX")
trap 'rm -rf "$stage"' EXIT
npmq() { npm --no-audit --no-fund --loglevel=error "$@"; }

# 1. The nine packages exactly as npm would publish them (each package.json's "files").
mkdir "$stage/parts"
(cd "$root" && npmq pack --workspaces --pack-destination "$stage/parts" >/dev/null)

# 2. Their production dependencies, at the lockfile's versions, offline from npm's cache
#    (filled by the npm ci that built the workspace).
mkdir -p "$stage/app/packages"
cp "$root/package.json" "$root/package-lock.json" "$stage/app/"
for tgz in "$stage"/parts/elink-*.tgz; do
  name=$(basename "$tgz" | sed 's/^elink-\(.*\)-[0-9][^-]*\.tgz$/\1/')
  mkdir "$stage/app/packages/$name"
  tar -xzf "$tgz" -C "$stage/app/packages/$name" --strip-components=1
done
(cd "$stage/app" && npmq ci --omit=dev --offline --ignore-scripts >/dev/null)

# 3. One package: @elink/cli on top, everything else bundled in its node_modules.
pkg="$stage/pkg"
cp -r "$stage/app/packages/cli" "$pkg"
cp -rL "$stage/app/node_modules" "$pkg/node_modules" # the @elink/* workspace links become copies
rm -rf "$pkg/node_modules/@elink/cli" "$pkg/node_modules/.bin" "$pkg/node_modules/.package-lock.json"
tuntap="$pkg/node_modules/@elink/tuntap"
mkdir -p "$tuntap/build/Release"
cp "$addon" "$tuntap/build/Release/"
# No binding.gyp, C++ sources or install script: npm must not rebuild it on install.
rm -rf "$tuntap/binding.gyp" "$tuntap/native"
node -e '
  const fs = require("node:fs");
  const edit = (file, f) => { const j = JSON.parse(fs.readFileSync(file, "utf8")); f(j); fs.writeFileSync(file, JSON.stringify(j, null, 2) + "\n"); };
  edit(process.argv[1], (j) => { j.bundleDependencies = true; delete j.private; });
  edit(process.argv[2], (j) => {
    delete j.scripts; j.gypfile = false;
    j.files = j.files.filter((f) => f !== "binding.gyp" && f !== "native").concat("build/Release/tuntap.node");
  });' "$pkg/package.json" "$tuntap/package.json"

version=$(node -p 'require(process.argv[1]).version' "$pkg/package.json")
arch=$(node -p 'process.arch')
tgz=$(cd "$pkg" && npmq pack --pack-destination "$stage" | tail -n 1)
mv "$stage/$tgz" "$out/elink-$version-linux-$arch.tgz"
echo "install it with: npm install -g --offline $out/elink-$version-linux-$arch.tgz" >&2
echo "$out/elink-$version-linux-$arch.tgz"
