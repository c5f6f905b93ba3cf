# investiq-mon: `make test` is the whole test suite, `make generate` the main job.
GO        ?= go
TOOLS_BIN := $(CURDIR)/.tools/bin
PROM_BINS := $(TOOLS_BIN)/prometheus $(TOOLS_BIN)/promtool $(TOOLS_BIN)/amtool
AM_BINS   := $(TOOLS_BIN)/alertmanager
LINT_BINS := $(TOOLS_BIN)/staticcheck

# The compose path on a real engine (make images): static server binaries
# for the images, Debian's static busybox, the images themselves and the
# Compose v2 CLI plugin, found by the docker CLI through DOCKER_CONFIG.
STATIC_BIN    := $(CURDIR)/.tools/static
STATIC_PROM   := $(STATIC_BIN)/prometheus $(STATIC_BIN)/promtool
STATIC_AM     := $(STATIC_BIN)/alertmanager $(STATIC_BIN)/amtool
DOCKER_CONFIG_DIR := $(CURDIR)/.tools/docker
COMPOSE_VERSION   := v5.6.0
COMPOSE_PLUGIN    := $(DOCKER_CONFIG_DIR)/cli-plugins/docker-compose
# busybox-static from Debian 12, pinned by version and sha256.
BUSYBOX_VERSION := 1:1.35.0-4+deb12u1+b1
BUSYBOX_SHA256  := 3d3fdbe91d4660c873e14b092c213fe81c1da6362daa236eb25d0171eb108744
BUSYBOX         := $(CURDIR)/.tools/deb/busybox-static-$(BUSYBOX_SHA256)/bin/busybox
# The CA bundle of this machine (Debian's ca-certificates), for receivers
# reached over HTTPS from inside the containers.
CA_BUNDLE       ?= /etc/ssl/certs/ca-certificates.crt
# The tags spec/investiq.go names; never grafana/grafana.
PROM_IMAGE := prom/prometheus:v3.16.0
AM_IMAGE   := prom/alertmanager:v0.31.1

.PHONY: all build generate check test unit tools lint fmt bench clean images docker-images ci-recipe fuzz

all: build

build:
	$(GO) build -o bin/ ./cmd/investiq-mon ./cmd/investiq-mon-generate

# investiq-mon generate, built alone (cmd/investiq-mon-generate links no
# parser): the quick first run on a fresh machine.
generate:
	$(GO) run ./cmd/investiq-mon-generate

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

# Static builds for the images (the dynamically linked .tools/bin stays as
# it is for the tests): Prometheus and promtool 3.16.0 from the prometheus
# tools module, Alertmanager and amtool 0.31.1 from the alertmanager one,
# with their real versions in -ldflags (images/gobuild-static.sh).
$(STATIC_PROM) &: tools/prometheus/go.mod tools/prometheus/go.sum images/gobuild-static.sh
	GO=$(GO) sh images/gobuild-static.sh tools/prometheus/go.mod github.com/prometheus/prometheus $(STATIC_BIN) \
		github.com/prometheus/prometheus/cmd/prometheus github.com/prometheus/prometheus/cmd/promtool

$(STATIC_AM) &: tools/alertmanager/go.mod tools/alertmanager/go.sum images/gobuild-static.sh
	GO=$(GO) sh images/gobuild-static.sh tools/alertmanager/go.mod github.com/prometheus/alertmanager $(STATIC_BIN) \
		github.com/prometheus/alertmanager/cmd/alertmanager github.com/prometheus/alertmanager/cmd/amtool

$(BUSYBOX): images/fetch-deb.sh
	sh images/fetch-deb.sh busybox-static $(BUSYBOX_VERSION) $(BUSYBOX_SHA256) $(CURDIR)/.tools/deb/busybox-static-$(BUSYBOX_SHA256)
	@touch $@ # dpkg-deb keeps the package's old mtime; make compares with the script's

# Compose v2 as a docker CLI plugin, in a DOCKER_CONFIG of its own (never
# the user's home): DOCKER_CONFIG=$(DOCKER_CONFIG_DIR) docker compose version.
$(COMPOSE_PLUGIN): tools/compose/go.mod tools/compose/go.sum
	@mkdir -p $(dir $@)
	@echo "building the docker compose plugin $(COMPOSE_VERSION) (first time: ~3 min)"
	$(GO) build -modfile=tools/compose/go.mod -trimpath \
		-ldflags "-X github.com/docker/compose/v5/internal.Version=$(COMPOSE_VERSION)" \
		-o $@ github.com/docker/compose/v5/cmd

# prom/prometheus:v3.16.0 and prom/alertmanager:v0.31.1 built here FROM
# scratch (images/*/Dockerfile); skipped when the image's context label
# matches, so a second run takes a second.
images: $(COMPOSE_PLUGIN) $(STATIC_PROM) $(STATIC_AM) $(BUSYBOX)
	@docker info --format '{{.ServerVersion}}' >/dev/null || { echo "make images: no Docker engine answers docker info"; exit 1; }
	sh images/build-image.sh prometheus $(PROM_IMAGE) 3.16.0 v0.316.0 $(CURDIR)/.tools/images/prometheus \
		$(BUSYBOX) $(CA_BUNDLE) $(STATIC_PROM)
	sh images/build-image.sh alertmanager $(AM_IMAGE) 0.31.1 v0.31.1 $(CURDIR)/.tools/images/alertmanager \
		$(BUSYBOX) $(CA_BUNDLE) $(STATIC_AM)
	DOCKER_CONFIG=$(DOCKER_CONFIG_DIR) docker compose version

# What make test runs: images when an engine answers, else one line (the
# compose tests then skip, or fail under CI=true).
docker-images:
	@if docker info --format '{{.ServerVersion}}' >/dev/null 2>&1; then $(MAKE) --no-print-directory images; \
	else echo "no Docker engine (docker info fails): skipping make images; the compose end-to-end tests will skip"; fi

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
test: tools lint docker-images
	INVESTIQ_REQUIRE_TOOLS=1 INVESTIQ_TOOLS_BIN=$(TOOLS_BIN) DOCKER_CONFIG=$(DOCKER_CONFIG_DIR) $(GO) test -race -count=1 -timeout 40m ./...
	bash .ci/recipe

# The README's CI recipe alone, as a user's CI runs it on a fresh clone.
ci-recipe:
	bash .ci/recipe

# Quick loop while editing: no race detector, cached results.
unit:
	INVESTIQ_TOOLS_BIN=$(TOOLS_BIN) $(GO) test ./...

# Every fuzz target for FUZZTIME each (default 60s); make test runs their
# seed corpora only, as plain go test does.
FUZZTIME ?= 60s
fuzz:
	GO=$(GO) FUZZTIME=$(FUZZTIME) bash .ci/fuzz

bench: tools
	bash bench/validate.sh
	bash bench/ruletest.sh

clean:
	rm -rf bin .tools
