# Outlet's tasks. `make help` lists them.
.DEFAULT_GOAL := help
GO ?= go

.PHONY: help
help: ## List the tasks
	@awk 'BEGIN {FS = ":.*## "} /^[a-zA-Z_-]+:.*## / {printf "  %-13s %s\n", $$1, $$2}' $(MAKEFILE_LIST)

.PHONY: serve
serve: ## Run Outlet on 127.0.0.1:8080 with its data in ./outlet-data
	$(GO) run ./cmd/outlet serve

.PHONY: build
build: ## Build the outlet binary into ./bin
	$(GO) build -o bin/outlet ./cmd/outlet

GOFMT ?= gofmt
POSTGRES_SKIPPED = make test: the Postgres store suite was SKIPPED (OUTLET_TEST_POSTGRES is not set). Run it with OUTLET_TEST_POSTGRES="postgres://postgres@127.0.0.1:5432/test?sslmode=disable" make test (a database the tests may create schemas in; .ci/run sets it).

.PHONY: test
test: ## Run every test: format, vet, then all packages with the race detector (end-to-end included; Postgres with OUTLET_TEST_POSTGRES)
	@unformatted=$$($(GOFMT) -l .); if [ -n "$$unformatted" ]; then echo "gofmt would change:"; echo "$$unformatted"; exit 1; fi
	$(GO) vet ./...
	@# go test shows a passing package's output only with -v: say here, after
	@# the results, that the Postgres suite didn't run.
	@$(GO) test -race -count=1 -timeout 30m ./...; status=$$?; \
		if [ -z "$$OUTLET_TEST_POSTGRES" ]; then echo '$(POSTGRES_SKIPPED)'; fi; exit $$status

.PHONY: fuzz
fuzz: ## Run each fuzz target for FUZZTIME (default 30s)
	@for pkg in $$($(GO) list ./...); do \
		for f in $$($(GO) test -list 'Fuzz.*' $$pkg | grep '^Fuzz'); do \
			echo "== $$pkg $$f"; $(GO) test -run XXX -fuzz "^$$f$$" -fuzztime $${FUZZTIME:-30s} $$pkg || exit 1; \
		done; \
	done

.PHONY: bench
bench: ## Measure throughput with outlet bench (20,000 events, 32 publishers) and the store benchmarks
	$(GO) build -o bin/outlet ./cmd/outlet
	./bin/outlet bench
	$(GO) test -run XXX -bench . -benchtime 3000x ./sqlite/

# The portal's bundle (portal/dist) is committed, so building and serving
# Outlet need no Node; these targets need Node and npm.
PORTAL_WEB = portal/web

.PHONY: portal
.PHONY: capacity
capacity: build ## Measure what a delivery costs on Postgres (rows, WAL, CPU, bytes kept) with 1, 2 and 4 nodes; OUTLET_CAPACITY_DB is a Postgres URL to create a database from
	internal/bench/capacity.sh 20000 1 2 4

portal: ## Rebuild the portal's bundle portal/dist from portal/web (npm ci, type check, esbuild); commit the result
	cd $(PORTAL_WEB) && npm ci --no-audit --no-fund
	cd $(PORTAL_WEB) && npm run --silent typecheck
	$(GO) run ./portal/build -sizes

.PHONY: portal-check
portal-check: ## Fail if the committed portal/dist isn't what portal/web builds (npm ci, type check, rebuild into a temporary directory)
	cd $(PORTAL_WEB) && npm ci --no-audit --no-fund
	cd $(PORTAL_WEB) && npm run --silent typecheck
	$(GO) run ./portal/build -check

# The examples' npm packages come from the npm registry once; their smoke
# tests (in make test) install them from npm's cache, offline.
.PHONY: examples
examples: ## Install the examples' npm packages (npm ci in examples/receiver-node and examples/functions), which their tests need
	cd examples/receiver-node && npm ci --no-audit --no-fund
	cd examples/functions && npm ci --no-audit --no-fund

# The TypeScript SDK's types (generated from docs/openapi.yaml) and its
# compiled dist/ are committed; this target needs Node and npm. Its tests
# (go test ./sdk/typescript, in make test) fail when either is stale.
SDK_TS = sdk/typescript

.PHONY: sdk
sdk: ## Regenerate the TypeScript SDK after a change to docs/openapi.yaml or sdk/typescript/src (npm ci, openapi-typescript, tsc into dist/); commit the result
	cd $(SDK_TS) && npm ci --no-audit --no-fund
	cd $(SDK_TS) && npm run --silent generate
	cd $(SDK_TS) && npm run --silent build

.PHONY: docs
docs: ## Regenerate docs/configuration.md from the flags
	$(GO) run ./cmd/outlet config-docs > docs/configuration.md

# Spectral, the OpenAPI linter, comes from npm into docs/lint; once it is
# there, make test's docs package runs it too.
.PHONY: openapi-lint
openapi-lint: ## Lint docs/openapi.yaml with Spectral's OpenAPI rules (npm ci in docs/lint); every finding fails
	cd docs/lint && npm ci --no-audit --no-fund
	cd docs/lint && npm run --silent lint
