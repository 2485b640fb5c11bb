# CodexIn developer entry points. Everything bootstraps itself from the npm
# registry (Bun included, as the `bun` npm package): no curl installers.
BUN := node_modules/.bin/bun
DEPS_STAMP := node_modules/.deps-stamp
JUNIT := test-results/junit.xml

.PHONY: run test build bench typecheck deps browser clean ui

deps: $(DEPS_STAMP)

$(DEPS_STAMP): package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	@touch $@

UI_BUNDLE := dist/ui/app.js

run: deps $(UI_BUNDLE)
	$(BUN) src/main.ts serve

# The dashboard (src/ui) bundled for src/routes/ui.ts to embed; the test preload rebuilds it when stale too.
ui: $(UI_BUNDLE)

$(UI_BUNDLE): $(DEPS_STAMP) $(shell find src/ui -type f 2>/dev/null)
	$(BUN) src/ui/build.ts

build: dist/codexin

dist/codexin: $(DEPS_STAMP) $(UI_BUNDLE) $(shell find src -type f 2>/dev/null)
	@mkdir -p dist
	# No --minify: it breaks Elysia's handler analysis at startup (research/bun-elysia-stack.md §1.4).
	$(BUN) build --compile --bytecode --sourcemap --no-compile-autoload-dotenv --no-compile-autoload-bunfig --define 'process.env.NODE_ENV="production"' src/main.ts --outfile dist/codexin
	@rm -f dist/*.map

# The Swagger UI test drives Debian's Chromium; install it when missing (CI and dev machines run as root).
browser:
	@command -v chromium >/dev/null 2>&1 || { (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null) || { echo "make: could not install chromium (needed by test/e2e/docs-ui.test.ts)"; exit 1; }; }

test: deps build browser
	@mkdir -p test-results
	$(BUN) test --reporter=junit --reporter-outfile=$(JUNIT)

typecheck: deps
	node_modules/.bin/tsc --noEmit -p .
	node_modules/.bin/tsc --noEmit -p src/ui

# CodexIn vs a direct client and a raw Bun proxy on the simulated upstream (bench/README.md).
# 10,000 open streams need ~20,000 sockets in CodexIn: raise the fd limit as far as allowed.
bench: deps build
	@ulimit -n 65536 2>/dev/null || ulimit -n $$(ulimit -Hn); $(BUN) bench/run.ts

clean:
	rm -rf dist test-results
