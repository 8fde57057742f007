#!/usr/bin/env bash
# Builds lwip.wasm (lwIP + csrc/glue.c) with Debian's clang-14 and lld-14 for wasm32.
# Reproducible: fixed file list and flags, no debug info, source paths mapped to
# relative ones, so the same toolchain gives the same bytes (make test checks the
# committed lwip.wasm against a fresh build: `build-wasm.sh --check`).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
cd "$here"
CC="${CC:-clang-14}"
out="${1:-}"
check=0
if [ "$out" = "--check" ]; then check=1; out=""; fi
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
target="${out:-$tmp/lwip.wasm}"

L=lwip/src
sources=(
  $L/core/init.c $L/core/def.c $L/core/inet_chksum.c $L/core/ip.c $L/core/mem.c $L/core/memp.c
  $L/core/netif.c $L/core/pbuf.c $L/core/stats.c $L/core/sys.c $L/core/tcp.c $L/core/tcp_in.c
  $L/core/tcp_out.c $L/core/timeouts.c $L/core/udp.c
  $L/core/ipv4/etharp.c $L/core/ipv4/icmp.c $L/core/ipv4/ip4.c $L/core/ipv4/ip4_addr.c $L/core/ipv4/ip4_frag.c
  $L/core/ipv6/ethip6.c $L/core/ipv6/icmp6.c $L/core/ipv6/inet6.c $L/core/ipv6/ip6.c $L/core/ipv6/ip6_addr.c
  $L/core/ipv6/ip6_frag.c $L/core/ipv6/mld6.c $L/core/ipv6/nd6.c
  $L/netif/ethernet.c
  csrc/glue.c
)
cflags=(
  --target=wasm32-wasi -O2 -std=c11 -Wall -Wno-unused-function -Wno-unused-variable -Wno-tautological-constant-out-of-range-compare
  -mbulk-memory -mmutable-globals -msign-ext
  -ffile-prefix-map="$here"/= -fno-ident
  -Icsrc -I$L/include
)
objs=()
for s in "${sources[@]}"; do
  o="$tmp/$(echo "$s" | tr / _).o"
  "$CC" "${cflags[@]}" -c "$s" -o "$o"
  objs+=("$o")
done
# No entry point and no WASI imports: everything the module needs comes from module "el".
"$CC" --target=wasm32-wasi -nostartfiles -Wl,--no-entry -Wl,--strip-all -Wl,--gc-sections \
  -Wl,-z,stack-size=262144 -Wl,--initial-memory=16777216 -Wl,--max-memory=16777216 \
  -o "$target" "${objs[@]}"
if [ $check -eq 1 ]; then
  if cmp -s "$target" wasm/lwip.wasm; then
    echo "packages/stack/wasm/lwip.wasm is what the sources build ($(wc -c <wasm/lwip.wasm) bytes)"
  else
    echo "packages/stack/wasm/lwip.wasm differs from a fresh build of lwip/ and csrc/: run packages/stack/build-wasm.sh wasm/lwip.wasm and commit it" >&2
    exit 1
  fi
fi
