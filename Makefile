# The project's commands. `make test` is what CI runs (.ci/run).
SHELL := bash
.SHELLFLAGS := -eu -o pipefail -c
GO ?= go
# Emulator state (pids, endpoints, logs) of a test run.
STATE := .testenv

.PHONY: test vet unit store-dynalite run bench clean

## test: vet, every test under -race on the in-process emulators, and the
## store's non-transactional tests again on dynalite.
test: vet unit store-dynalite

vet:
	$(GO) vet ./...
	@unformatted=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go' -not -path './.*')); \
	if [[ -n $$unformatted ]]; then echo "gofmt needed:"; echo "$$unformatted"; exit 1; fi

# versitygw checks the signatures and expiry of presigned links; the other
# tests use emulators in process.
unit:
	@infra/testenv/versitygw.sh install
	@infra/testenv/versitygw.sh start $(STATE) >/dev/null
	@trap 'infra/testenv/versitygw.sh stop $(STATE)' EXIT; \
	TEST_S3_ENDPOINT=$$(cat $(STATE)/versitygw.endpoint) \
	TEST_S3_ACCESS_KEY=$$(cat $(STATE)/versitygw.access_key) \
	TEST_S3_SECRET_KEY=$$(cat $(STATE)/versitygw.secret_key) \
	  $(GO) test -race -count=1 -json ./... | $(GO) run ./infra/testcount -label "in-process emulators and versitygw"

# dynalite has no transactions: tests that need them end in Tx and are
# skipped here by name, not by t.Skip, so the run must show no skips.
store-dynalite:
	@infra/testenv/dynalite.sh start $(STATE) >/dev/null
	@trap 'infra/testenv/dynalite.sh stop $(STATE)' EXIT; \
	TEST_DYNAMODB_ENDPOINT=$$(cat $(STATE)/dynalite.endpoint) \
	  $(GO) test -race -count=1 -json -skip 'Tx' ./shared/store/ | $(GO) run ./infra/testcount -label dynalite -no-skips

## run: the local server with the demo data set.
run:
	$(GO) run ./infra/devserver

clean:
	rm -rf $(STATE)
