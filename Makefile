# investiq-mon: `make test` is the whole test suite, `make generate` the main job.
GO        ?= go
TOOLS_BIN := $(CURDIR)/.tools/bin
PROM_BINS := $(TOOLS_BIN)/prometheus $(TOOLS_BIN)/promtool $(TOOLS_BIN)/amtool
AM_BINS   := $(TOOLS_BIN)/alertmanager
LINT_BINS := $(TOOLS_BIN)/staticcheck

.PHONY: all build generate check test unit tools lint fmt bench clean ci-recipe

all: build

build:
	$(GO) build -o bin/investiq-mon ./cmd/investiq-mon

generate:
	$(GO) run ./cmd/investiq-mon generate

# Prometheus 3.16 (prometheus, promtool) and amtool 0.35 from one tools
# module; the Alertmanager 0.31.1 server from another (0.32+ cannot be built
# from the module proxy). Built once, then make sees them up to date.
tools: $(PROM_BINS) $(AM_BINS)

$(PROM_BINS) &: tools/prometheus/go.mod tools/prometheus/go.sum
	@mkdir -p $(TOOLS_BIN)
	@echo "building prometheus, promtool v0.316.0 and amtool v0.35.0 (first time: ~5 min)"
	$(GO) build -modfile=tools/prometheus/go.mod -o $(TOOLS_BIN)/ \
		github.com/prometheus/prometheus/cmd/prometheus \
		github.com/prometheus/prometheus/cmd/promtool \
		github.com/prometheus/alertmanager/cmd/amtool

$(AM_BINS) &: tools/alertmanager/go.mod tools/alertmanager/go.sum
	@mkdir -p $(TOOLS_BIN)
	@echo "building alertmanager v0.31.1"
	$(GO) build -modfile=tools/alertmanager/go.mod -o $(TOOLS_BIN)/ \
		github.com/prometheus/alertmanager/cmd/alertmanager

# staticcheck, pinned in its own tools module like the servers.
$(LINT_BINS) &: tools/lint/go.mod tools/lint/go.sum
	@mkdir -p $(TOOLS_BIN)
	$(GO) build -modfile=tools/lint/go.mod -o $(TOOLS_BIN)/ honnef.co/go/tools/cmd/staticcheck

lint: $(LINT_BINS)
	@out=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go' -not -path './.tools/*')); \
		if [ -n "$$out" ]; then echo "gofmt would change:"; echo "$$out"; exit 1; fi
	$(GO) vet ./...
	$(TOOLS_BIN)/staticcheck ./...

# The whole suite: lint, every test with the race detector against the real
# pinned servers, then the README's CI recipe (generate --check, validate
# --lint-fatal monitoring/, test) on a clean copy of the tracked tree.
test: tools lint
	INVESTIQ_REQUIRE_TOOLS=1 INVESTIQ_TOOLS_BIN=$(TOOLS_BIN) $(GO) test -race -count=1 -timeout 40m ./...
	bash .ci/recipe

# The README's CI recipe alone, as a user's CI runs it on a fresh clone.
ci-recipe:
	bash .ci/recipe

# Quick loop while editing: no race detector, cached results.
unit:
	INVESTIQ_TOOLS_BIN=$(TOOLS_BIN) $(GO) test ./...

bench: tools
	bash bench/validate.sh
	bash bench/ruletest.sh

clean:
	rm -rf bin .tools
