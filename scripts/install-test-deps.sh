#!/usr/bin/env bash
# Installs what the test suite needs and is missing: Debian packages for the real
# network tests (namespaces, ping, tcpdump, iperf3, redis-server, haproxy, tinyproxy, iptables, radvd, traceroute), systemd-analyze
# for the unit files, and the native build tools. Idempotent; apt runs only when something is missing.
set -euo pipefail

need=()
have() { command -v "$1" >/dev/null 2>&1; }
have ip        || need+=(iproute2)
have ping      || need+=(iputils-ping)
have tcpdump   || need+=(tcpdump)
have iperf3    || need+=(iperf3)
have redis-server || need+=(redis-server)
have haproxy   || need+=(haproxy)
have tinyproxy || need+=(tinyproxy-bin) # the HTTP CONNECT proxy of the WebSocket/proxy tests
have iptables  || [ -x /usr/sbin/iptables ] || need+=(iptables) # a firewall that passes only HTTPS (websocket-proxy test)
have radvd || [ -x /usr/sbin/radvd ] || need+=(radvd)
have traceroute || [ -x /usr/sbin/traceroute ] || need+=(traceroute)
have curl      || need+=(curl)
[ -x /usr/bin/chromium ] || need+=(chromium) # the web console's browser test (playwright-core drives it)
have systemd-analyze || need+=(systemd) # checks the units in deploy/systemd
have make      || need+=(make)
have g++       || need+=(g++)
have python3   || need+=(python3)
# @elink/stack: make test rebuilds lwip.wasm with Debian's toolchain and compares it (packages/stack/build-wasm.sh)
have clang-14 && have wasm-ld-14 && [ -f /usr/lib/wasm32-wasi/libc.a ] && ls /usr/lib/llvm-14/lib/clang/*/lib/wasi/libclang_rt.builtins-wasm32.a >/dev/null 2>&1 || need+=(clang-14 lld-14 wasi-libc libclang-rt-14-dev-wasm32)

if [ ${#need[@]} -gt 0 ]; then
  if [ "$(id -u)" -ne 0 ]; then
    echo "missing packages: ${need[*]} (run as root to install them)" >&2
    exit 1
  fi
  echo "installing: ${need[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi
# The distribution's redis-server service is not what the tests use: they start their own.
