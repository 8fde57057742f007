# Emotion Link — the two commands a user needs:
#   make up     install, build, and start broker + switch in one process (state in .elink-state/)
#   make test   install what the tests need (npm packages, native build, Debian packages) and run them all
#
# Everything runs on Node.js 24 LTS through scripts/node24.sh: the system's node when it is
# new enough, else the version pinned in .node-version, fetched once into .tools/node.

STATE ?= .elink-state
NPM_STAMP := node_modules/.package-lock.json
NODE24 := scripts/node24.sh

.PHONY: up test build deps test-deps pack clean

up: build
	$(NODE24) node packages/cli/dist/main.js up --state $(STATE)

# The web console (packages/console) is bundled by Vite, not tsc: its own step, after tsc -b.
build: $(NPM_STAMP)
	$(NODE24) npx tsc -b
	$(NODE24) npm run build -w packages/console

# npm ci also compiles the TAP/TUN addon (packages/tuntap) with node-gyp, against the
# headers of the Node that runs it (npm_config_nodedir, set by scripts/node24.sh).
$(NPM_STAMP): package.json package-lock.json packages/*/package.json .node-version
	$(NODE24) npm ci --no-audit --no-fund

deps: $(NPM_STAMP)

# The installable command: dist-pkg/elink-<version>-linux-<arch>.tgz (npm install -g it).
pack: build
	$(NODE24) scripts/pack.sh

test-deps:
	scripts/install-test-deps.sh

test: test-deps
	$(NODE24) npm ci --no-audit --no-fund
	$(NODE24) npx tsc -b
	# The checks after the build are independent of each other: two at a time.
	$(MAKE) -j2 --no-print-directory --output-sync=target test-checks
	# Unit tests first, then the end-to-end tests: not side by side, each loads the machine's cores.
	$(NODE24) npx vitest run --project unit
	# Two end-to-end files at a time, then those that must run alone (vitest.config.ts).
	$(NODE24) npx vitest run --project 'e2e-*'

.PHONY: test-checks check-console check-unit-types check-test-types check-bench-types check-wasm
# The longest first: make -j2 starts them in this order.
test-checks: check-unit-types check-console check-test-types check-wasm check-bench-types

# The console: type-checked (its tests too) and bundled; the broker serves it, the browser test uses it.
check-console:
	$(NODE24) npm run build -w packages/console

# The tests and the benchmarks are type-checked too (vitest does not check types).
check-unit-types:
	$(NODE24) npx tsc -p tsconfig.unit-tests.json
check-test-types:
	$(NODE24) npx tsc -p test --noEmit
check-bench-types:
	$(NODE24) npx tsc -p bench --noEmit

# The committed lwip.wasm must be what its vendored sources build (reproducible build).
check-wasm:
	packages/stack/build-wasm.sh --check

clean:
	rm -rf node_modules packages/*/dist packages/*/build packages/*/*.tsbuildinfo dist-pkg
