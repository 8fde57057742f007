# Emotion Link — the two commands a user needs:
#   make up     install, build, and start broker + switch in one process (state in .elink-state/)
#   make test   install what the tests need (npm packages, native build, Debian packages) and run them all

STATE ?= .elink-state
NPM_STAMP := node_modules/.package-lock.json

.PHONY: up test build deps test-deps clean

up: build
	node packages/cli/dist/main.js up --state $(STATE)

build: $(NPM_STAMP)
	npx tsc -b

# npm ci also compiles the TAP/TUN addon (packages/tuntap) with node-gyp.
$(NPM_STAMP): package.json package-lock.json packages/*/package.json
	npm ci --no-audit --no-fund

deps: $(NPM_STAMP)

test-deps:
	scripts/install-test-deps.sh

test: test-deps
	npm ci --no-audit --no-fund
	npx tsc -b
	# Unit tests first, then the end-to-end tests alone: they load the machine's two cores.
	npx vitest run --project unit
	npx vitest run --project e2e

clean:
	rm -rf node_modules packages/*/dist packages/*/build packages/*/*.tsbuildinfo
