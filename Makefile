# The project's commands. `make test` is what CI runs (.ci/run).
SHELL := bash
.SHELLFLAGS := -eu -o pipefail -c
GO ?= go
# Emulator state (pids, endpoints, logs) of a test run.
STATE := .testenv

.PHONY: test vet unit store-dynalite lambda-smoke build run bench clean

## test: vet, every test under -race on the in-process emulators, the
## store's non-transactional tests again on dynalite, and every function's
## binary under the Lambda runtime emulator.
test: vet unit store-dynalite lambda-smoke

# staticcheck is pinned here rather than in go.mod: it is a tool, not a
# dependency of the code.
STATICCHECK := honnef.co/go/tools/cmd/staticcheck@v0.8.2

vet:
	$(GO) vet ./...
	$(GO) run $(STATICCHECK) ./...
	@unformatted=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go' -not -path './.*')); \
	if [[ -n $$unformatted ]]; then echo "gofmt needed:"; echo "$$unformatted"; exit 1; fi

# versitygw checks the signatures and expiry of presigned links; the other
# tests use emulators in process. Only the tests that other targets run
# (lambda-smoke, bench) may skip here.
unit:
	@infra/testenv/versitygw.sh install
	@infra/testenv/versitygw.sh start $(STATE) >/dev/null
	@trap 'infra/testenv/versitygw.sh stop $(STATE)' EXIT; \
	TEST_S3_ENDPOINT=$$(cat $(STATE)/versitygw.endpoint) \
	TEST_S3_ACCESS_KEY=$$(cat $(STATE)/versitygw.access_key) \
	TEST_S3_SECRET_KEY=$$(cat $(STATE)/versitygw.secret_key) \
	  $(GO) test -race -count=1 -json ./... | $(GO) run ./infra/testcount -label "in-process emulators and versitygw" \
	    -allow-skip 'TestLambdaSmoke|TestWorkbookBenchChild'

# dynalite has no transactions: tests that need them are in _tx_test.go
# files built only without the notransactions tag (see shared/testenv), and
# the run must show no skips.
store-dynalite:
	@infra/testenv/dynalite.sh start $(STATE) >/dev/null
	@trap 'infra/testenv/dynalite.sh stop $(STATE)' EXIT; \
	TEST_DYNAMODB_ENDPOINT=$$(cat $(STATE)/dynalite.endpoint) \
	  $(GO) test -race -count=1 -json -tags notransactions ./shared/store/ | $(GO) run ./infra/testcount -label dynalite

# The functions: one folder each under functions/.
FUNCTIONS := $(notdir $(wildcard functions/*))
# Builds output here: .build/arm64/<function>/bootstrap as SAM builds it for
# AWS, .build/host/<function>/bootstrap for this machine.
BUILD := .build

# lambda builds function $(1) for AWS (Graviton, provided.al2023) as
# $(2)/bootstrap. infra/deploy checks that every function of template.yaml
# has its build-<LogicalId> target below.
lambda = CGO_ENABLED=0 GOOS=linux GOARCH=arm64 $(GO) build -tags lambda.norpc -trimpath -ldflags "-s -w" -o $(2)/bootstrap ./functions/$(1)

# `sam build` (Metadata: BuildMethod: makefile) runs build-<LogicalId> with
# ARTIFACTS_DIR set.
build-OrgsFunction:             ; $(call lambda,orgs,$(ARTIFACTS_DIR))
build-ReportsFunction:          ; $(call lambda,reports,$(ARTIFACTS_DIR))
build-LicensesFunction:         ; $(call lambda,licenses,$(ARTIFACTS_DIR))
build-NotesFunction:            ; $(call lambda,notes,$(ARTIFACTS_DIR))
build-PinsFunction:             ; $(call lambda,pins,$(ARTIFACTS_DIR))
build-ExportsFunction:          ; $(call lambda,exports,$(ARTIFACTS_DIR))
build-SubscriptionsFunction:    ; $(call lambda,subscriptions,$(ARTIFACTS_DIR))
build-ScheduledReportsFunction: ; $(call lambda,scheduled-reports,$(ARTIFACTS_DIR))

## build: every function as `sam build` builds it, through the same targets,
## into .build/arm64/<function>/bootstrap, and their sizes.
build:
	@rm -rf $(BUILD)/arm64
	@for f in $(FUNCTIONS); do \
	  id=$$(sed -E 's/(^|-)([a-z])/\U\2/g' <<<"$$f")Function; \
	  $(MAKE) --no-print-directory build-$$id ARTIFACTS_DIR=$(CURDIR)/$(BUILD)/arm64/$$f; \
	done
	@for f in $(FUNCTIONS); do \
	  stat -c %s $(BUILD)/arm64/$$f/bootstrap | awk -v f=$$f '{ printf "%-20s %6.1f MiB\n", f, $$1 / 1048576 }'; \
	done

## lambda-smoke: every function built for this machine and run under the AWS
## Lambda Runtime Interface Emulator, on emulated DynamoDB and S3, with the
## API Gateway and EventBridge events of infra/deploy/testdata/events.
lambda-smoke: build
	@infra/testenv/rie.sh install
	@rm -rf $(BUILD)/host
	@for f in $(FUNCTIONS); do \
	  CGO_ENABLED=0 $(GO) build -tags lambda.norpc -trimpath -ldflags "-s -w" -o $(BUILD)/host/$$f/bootstrap ./functions/$$f; \
	done
	@rm -f $(BUILD)/lambda-smoke.txt
	LAMBDA_SMOKE=1 $(GO) test -count=1 -json -run '^TestLambdaSmoke$$' ./infra/deploy | \
	  $(GO) run ./infra/testcount -label "Lambda runtime emulator"
	@cat $(BUILD)/lambda-smoke.txt

## bench: the benchmarks whose figures are in the README. The DynamoDB
## request counts (and the pages of the large distributor's report, with the
## CPU time of this process) run on dynalite; the workbook runs each variant in a fresh
## process to measure its peak RSS (a few minutes: the cell-by-cell variants
## are slow, which is the point).
bench:
	$(GO) test -run '^$$' -bench 'ReportLarge|PageLarge|PagerLarge' -benchmem ./shared/report
	$(GO) test -run '^$$' -bench 'SnapshotRows' -benchmem ./shared/store
	@infra/testenv/dynalite.sh start $(STATE) >/dev/null
	@trap 'infra/testenv/dynalite.sh stop $(STATE)' EXIT; \
	TEST_DYNAMODB_ENDPOINT=$$(cat $(STATE)/dynalite.endpoint) \
	  $(GO) test -run '^$$' -bench 'Requests' -benchtime 10x ./shared/httpapi && \
	  TEST_DYNAMODB_ENDPOINT=$$(cat $(STATE)/dynalite.endpoint) \
	  $(GO) test -run '^$$' -bench 'SaveReportLarge|ReportPageLarge' -benchtime 5x ./shared/store
	$(GO) test -run '^$$' -bench 'WorkbookRSS/(Workbook|Workbook-no-memory-limit|CellByCell-SetCellValue|CellByCell-SetSheetRow)$$' -benchtime 1x -timeout 30m ./shared/export

## run: the local server with the demo data set.
run:
	$(GO) run ./infra/devserver

clean:
	rm -rf $(STATE) $(BUILD)
