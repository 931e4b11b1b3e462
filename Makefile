# codexgov: `make run` starts the server, `make test` runs everything CI runs.

CODEX_VERSION := 0.169.0
PORTKEY_VERSION := 1.15.2
CACHE_DIR     ?= $(HOME)/.cache/codexgov
CODEX_PREFIX  := $(CACHE_DIR)/codex-$(CODEX_VERSION)
export CODEX_BIN ?= $(CODEX_PREFIX)/node_modules/.bin/codex
# Each PostgreSQL test makes a schema or database of its own on this server.
export CODEXGOV_TEST_POSTGRES ?= postgres://postgres@127.0.0.1:5432/test?sslmode=disable

GO          ?= go
VERSION     ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo devel)
LDFLAGS     := -X github.com/codexgov/codexgov/internal/buildinfo.version=$(VERSION)
STATICCHECK := $(CACHE_DIR)/bin/staticcheck
# A count, not a duration: Go 1.26's fuzz coordinator can report a spurious
# "context deadline exceeded" failure when a -fuzztime duration ends
# (go.dev/issue/75804, fixed in Go 1.27). 100,000 inputs take 2-10 s a target.
FUZZTIME    ?= 100000x

.PHONY: run build image test unit fuzz clitools syslog chromium webassets bench bench-scale bench-policy bench-bundle bench-ingest bench-compliance bench-analytics bench-console bench-gateway lint codex postgres keyring tools clean

run:
	$(GO) run ./cmd/codexgov server

build:
	$(GO) build -ldflags "$(LDFLAGS)" -o bin/codexgov ./cmd/codexgov

## image: the container image (needs a Docker engine; see docs/operations.md).
image:
	docker build --build-arg VERSION=$(VERSION) -t codexgov:$(VERSION) .

## test: install what the tests need, lint, run every test, then the fuzzers briefly.
test: codex postgres keyring clitools syslog chromium webassets lint unit fuzz

codex:
	@scripts/install-codex.sh $(CODEX_VERSION) $(CODEX_PREFIX)

postgres:
	@scripts/check-postgres.sh

# The Compliance API client test is written in shell with curl and jq.
clitools:
	@scripts/install-debs.sh "the Compliance API client test" "curl jq" curl jq

# The SIEM syslog test runs a real rsyslogd with its GnuTLS driver.
syslog:
	@scripts/install-debs.sh "the SIEM syslog test" "rsyslogd /usr/lib/$$(uname -m)-linux-gnu/rsyslog/lmnsd_gtls.so" rsyslog rsyslog-gnutls

# The console's browser tests drive Debian's Chromium through chromedp.
chromium:
	@scripts/install-debs.sh "the console's browser tests" "chromium" chromium

# The console's vendored browser assets match their recorded hashes.
webassets:
	@scripts/vendor-web-assets.sh

# Codex's OAuth sign-in on Linux needs a Secret Service (gnome-keyring).
keyring:
	@scripts/install-debs.sh "the Codex OAuth sign-in tests" "gnome-keyring-daemon dbus-daemon" gnome-keyring dbus

unit:
	$(GO) test -count=1 -timeout 20m ./...

## fuzz: the native fuzzers, then HOSTILE_INPUTS generated hostile requests against a real server on SQLite and PostgreSQL.
HOSTILE_INPUTS ?= 100000
fuzz:
	$(GO) test -run '^$$' -fuzz '^FuzzParse$$' -fuzztime $(FUZZTIME) ./codex/toml
	$(GO) test -run '^$$' -fuzz '^FuzzEffective$$' -fuzztime $(FUZZTIME) ./codex/requirements
	$(GO) test -run '^$$' -fuzz '^FuzzCheckMatchesLinear$$' -fuzztime $(FUZZTIME) ./codex/execpolicy
	$(GO) test -run '^$$' -fuzz '^FuzzLoad$$' -fuzztime $(FUZZTIME) ./codex/execpolicy
	$(GO) test -run '^$$' -fuzz '^FuzzAnalyze$$' -fuzztime $(FUZZTIME) ./codex/shellsplit
	$(GO) test -run '^$$' -fuzz '^FuzzResolve$$' -fuzztime $(FUZZTIME) ./codex/config
	$(GO) test -run '^$$' -fuzz '^FuzzFilter$$' -fuzztime $(FUZZTIME) ./internal/scim
	$(GO) test -run '^$$' -fuzz '^FuzzInspect$$' -fuzztime $(FUZZTIME) ./internal/mdm
	$(GO) test -run '^$$' -fuzz '^FuzzNormalize$$' -fuzztime $(FUZZTIME) -fuzzminimizetime 0 ./internal/telemetry
	CODEXGOV_HOSTILE_INPUTS=$(HOSTILE_INPUTS) $(GO) test -count=1 -v -run '^TestHostileInputs$$' ./internal/httpapi

## bench: the exec-policy matcher against its linear reference (see docs/architecture.md).
bench:
	$(GO) test -run '^$$' -bench . -count 6 ./codex/execpolicy

## bench-scale: a policy write and a replica's catch-up as other workspaces grow 10 -> 1,000 (100 users each), against a full rebuild.
bench-scale:
	$(GO) test -run '^$$' -bench PolicyWriteScaling -benchtime 30x -count 3 ./internal/sqlstore

## bench-policy: /api/v1/client/requirements (200 and 304) against nginx serving the same bytes.
bench-policy:
	@scripts/bench-policy.sh

## bench-ingest: the OTLP/HTTP receiver end to end (captured Codex turns as protobuf, 8 senders, real durability) against a raw batched insert of the same rows into the same schema (SQLite synchronous=FULL, PostgreSQL COPY), rounds interleaved, on both databases; goal: ratio >= 0.3.
bench-ingest: postgres
	$(GO) test -run '^$$' -bench '^BenchmarkIngest$$' -benchtime 7x ./cmd/codexgov

## bench-compliance: downloading a sealed file of 1,000,000 records (about 1 GB) from the server binary on PostgreSQL against psql's \copy of the same source rows, rounds interleaved; goal: ratio >= 0.5; reports the server's RSS growth while serving.
bench-compliance: postgres
	$(GO) test -run '^$$' -bench '^BenchmarkComplianceDownload$$' -benchtime 1x -timeout 60m ./cmd/codexgov

## bench-analytics: the Analytics API on 100,000 users x 90 days of rollups (p50/p95 of the 90-day workspace query and of per-user pages), and on the raw events of 10,000 users x 30 days against a naive GROUP BY for the same answer (checked equal), rounds interleaved, on both databases; goals: p95 < 200 ms, API/naive <= 1/50.
bench-analytics: postgres
	$(GO) test -run '^$$' -bench '^BenchmarkAnalytics$$' -benchtime 1x -timeout 90m ./cmd/codexgov

## bench-gateway: the model gateway's added latency and time to first event, streaming 50 SSE events from a Go fake upstream: direct, through codexgov, through nginx proxy_pass (buffering off) and through Portkey's gateway (npm, pinned; as released its streamed /v1/responses fails, so also with its PR #1390 fix), rounds interleaved; goals: added p50 <= 1 ms and p99 <= 5 ms, at most 2x nginx's added p50, less than Portkey's, first event within 1 ms.
bench-gateway:
	@scripts/install-debs.sh "make bench-gateway" "nginx" nginx
	CODEXGOV_PORTKEY="$$(scripts/install-portkey.sh $(PORTKEY_VERSION) $(CACHE_DIR)/portkey-$(PORTKEY_VERSION))" \
		$(GO) test -run '^$$' -bench '^BenchmarkGateway$$' -benchtime 1x -timeout 30m ./cmd/codexgov

## bench-console: every console page's server time through single sign-on, on 10,000 users with 90 days of rollups, 30 days of raw events and 10,000 devices, on both databases; goal: p95 < 200 ms.
bench-console: postgres
	$(GO) test -run '^$$' -bench '^BenchmarkConsolePages$$' -benchtime 1x -timeout 60m ./cmd/codexgov

## bench-bundle: the configuration server's bundle endpoint over TLS against nginx serving the same bytes over TLS.
bench-bundle:
	@scripts/bench-bundle.sh

tools: $(STATICCHECK)

$(STATICCHECK): tools/go.mod tools/go.sum
	cd tools && GOBIN=$(CACHE_DIR)/bin $(GO) install honnef.co/go/tools/cmd/staticcheck

lint: tools
	@out=$$(gofmt -l $$(git ls-files '*.go')); if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi
	$(GO) vet ./...
	$(STATICCHECK) ./...
	$(GO) mod tidy -diff

clean:
	rm -rf bin
