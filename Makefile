# make demo: deploy the example SQLite app to a local test host over SSH.
# make test: the whole test suite, integration tests included.
GO ?= go

.PHONY: all build test demo deps hosts hosts-down lint bench release

all: build

build:
	$(GO) build -o bin/ship ./cmd/ship

deps:
	scripts/install-deps

# Real test hosts: an sshd in front of this machine's Docker Engine, and a
# second host with its own engine in a network namespace. Idempotent.
hosts: deps
	$(GO) run ./internal/testhost/cmd/testhost up

hosts-down:
	$(GO) run ./internal/testhost/cmd/testhost down

# shellcheck reads every shell script: the .sh files that ship runs on
# hosts, and the bash scripts here and in .ci.
lint:
	scripts/check-binaries
	@command -v shellcheck >/dev/null || { echo "shellcheck is missing: make deps installs it"; exit 1; }
	shellcheck $$(git ls-files '*.sh' scripts .ci/run)
	@test -z "$$(gofmt -l $$(git ls-files '*.go'))" || { gofmt -l $$(git ls-files '*.go'); echo "gofmt needed"; exit 1; }
	$(GO) vet ./...

test: hosts lint
	$(GO) test -count=1 -parallel 4 -timeout 20m ./...

demo: hosts build
	scripts/demo

# Static, stripped binaries for linux and darwin, amd64 and arm64, plus SHA256SUMS, in $(DIST) (default dist/).
release:
	GO='$(GO)' VERSION='$(VERSION)' DIST='$(DIST)' scripts/release

# Benchmarks against the real test hosts; figures are recorded in README.md.
bench: hosts
	$(GO) run ./bench/queue
	$(GO) run ./bench/delivery
	$(GO) run ./bench/swap
	$(GO) run ./bench/swap -sizes 1,100,300,1000
	$(GO) run ./bench/replicas
	$(GO) test -run XXX -bench RestorePointHold -benchtime 5x ./database/
