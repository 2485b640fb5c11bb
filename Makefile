# CodexIn developer entry points. Everything bootstraps itself from the npm
# registry (Bun included, as the `bun` npm package): no curl installers.
BUN := node_modules/.bin/bun
DEPS_STAMP := node_modules/.deps-stamp
JUNIT := test-results/junit.xml

.PHONY: run test build release bench typecheck deps browser services clean ui

# Flags for `make run`, e.g. make run ARGS="--upstream mock".
ARGS ?=
VERSION := $(shell node -p "require('./package.json').version" 2>/dev/null || echo 0.0.0)
# Targets Bun can cross-compile to; it fetches each runtime from the npm registry (@oven/bun-*).
RELEASE_TARGETS := linux-x64 linux-arm64 darwin-arm64
COMPILE_FLAGS := --compile --bytecode --no-compile-autoload-dotenv --no-compile-autoload-bunfig --define 'process.env.NODE_ENV="production"' --define 'CODEXIN_VERSION="$(VERSION)"'

deps: $(DEPS_STAMP)

$(DEPS_STAMP): package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	@touch $@

UI_BUNDLE := dist/ui/app.js

# Serves the compiled binary, so the ./dist/codexin commands the README shows work right after.
run: build
	./dist/codexin serve $(ARGS)

# The dashboard (src/ui) bundled for src/routes/ui.ts to embed; the test preload rebuilds it when stale too.
ui: $(UI_BUNDLE)

$(UI_BUNDLE): $(DEPS_STAMP) $(shell find src/ui -type f 2>/dev/null)
	$(BUN) src/ui/build.ts

build: dist/codexin

dist/codexin: $(DEPS_STAMP) $(UI_BUNDLE) package.json $(shell find src -type f 2>/dev/null)
	@mkdir -p dist
	# No --minify: it breaks Elysia's handler analysis at startup (research/bun-elysia-stack.md §1.4).
	$(BUN) build $(COMPILE_FLAGS) --sourcemap src/main.ts --outfile dist/codexin
	@rm -f dist/*.map

# One binary per target in dist/release/, with SHA256SUMS.
release: $(DEPS_STAMP) $(UI_BUNDLE)
	@rm -rf dist/release && mkdir -p dist/release
	@for target in $(RELEASE_TARGETS); do \
	  echo "release: codexin-$(VERSION)-$$target"; \
	  $(BUN) build $(COMPILE_FLAGS) --target=bun-$$target src/main.ts --outfile dist/release/codexin-$(VERSION)-$$target >/dev/null || exit 1; \
	done
	@cd dist/release && sha256sum codexin-* > SHA256SUMS && cat SHA256SUMS

# The Swagger UI test drives Debian's Chromium; install it when missing (CI and dev machines run as root).
browser:
	@command -v chromium >/dev/null 2>&1 || { (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null) || { echo "make: could not install chromium (needed by test/e2e/docs-ui.test.ts)"; exit 1; }; }

# The scale-out tests start real PostgreSQL and Redis servers on loopback (test/support/services.ts).
services:
	@{ ls /usr/lib/postgresql/*/bin/postgres >/dev/null 2>&1 && command -v redis-server >/dev/null 2>&1; } || { (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql redis-server >/dev/null) || { echo "make: could not install postgresql and redis-server (needed by the scale-out tests)"; exit 1; }; }

test: deps build browser services
	@mkdir -p test-results
	# bun 1.4 ignores bunfig's [test] timeout: give tests that start processes room on a loaded machine here.
	$(BUN) test --timeout 60000 --reporter=junit --reporter-outfile=$(JUNIT)

typecheck: deps
	node_modules/.bin/tsc --noEmit -p .
	node_modules/.bin/tsc --noEmit -p src/ui

# CodexIn vs a direct client and a raw Bun proxy on the simulated upstream (bench/README.md);
# scenario 6 runs PostgreSQL and Redis (services).
# 10,000 open streams need ~20,000 sockets in CodexIn: raise the fd limit as far as allowed.
bench: deps build services
	@ulimit -n 65536 2>/dev/null || ulimit -n $$(ulimit -Hn); $(BUN) bench/run.ts

clean:
	rm -rf dist test-results
