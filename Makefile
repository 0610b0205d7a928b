# patrol: `make demo` shows it working, `make test` proves it.
GO        ?= go
BIN       ?= bin/patrol
VERSION   ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
LDFLAGS   := -X main.version=$(VERSION)
PKGS      := ./...

.PHONY: all build test demo bench fuzz chaos lint clean

all: build

build:
	$(GO) build -ldflags '$(LDFLAGS)' -o $(BIN) ./cmd/patrol

## test: every test, with the race detector off the browser tests' hot path.
test: lint
	$(GO) test -count=1 -timeout 12m $(PKGS)

## demo: the bundled demo marketplace on loopback, a sweep, the suspects table.
demo: build
	$(BIN) demo

## bench: every performance figure the issues ask for, each beside its baseline.
bench:
	$(GO) test -p 1 -run '^$$' -bench . -benchmem -timeout 60m $(PKGS)

## fuzz: longer fuzzing of the parsers (the seeds run in `make test`).
FUZZTIME ?= 60s
fuzz:
	@for spec in $$(grep -rl --include='*_test.go' '^func Fuzz' . | xargs -n1 dirname | sort -u); do \
		for f in $$(grep -h '^func Fuzz' $$spec/*_test.go | sed 's/func \(Fuzz[A-Za-z0-9_]*\).*/\1/'); do \
			echo "fuzz $$spec $$f"; $(GO) test -run '^$$' -fuzz "^$$f$$" -fuzztime $(FUZZTIME) $$spec || exit 1; \
		done; \
	done

## chaos: long crash/resume and hostile-server runs.
chaos:
	PATROL_CHAOS=1 $(GO) test -count=1 -run 'Chaos|Crash|Hostile' -timeout 30m $(PKGS)

lint:
	$(GO) vet $(PKGS)
	@out=$$(gofmt -l $$(git ls-files '*.go')); if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi

clean:
	rm -rf bin
