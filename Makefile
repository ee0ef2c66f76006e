# The project's commands. `make test` is what CI runs (.ci/run).
SHELL := bash
.SHELLFLAGS := -eu -o pipefail -c
GO ?= go
# Emulator state (pids, endpoints, logs) of a test run.
STATE := .testenv

.PHONY: test vet unit minidyn store-dynalite lambda-smoke build run bench bench-minidyn clean web web-check chromium test-e2e bench-web deploy-web

## test: vet, every test under -race on the in-process emulators (and
## versitygw and moto_server), the tests of the minidyn fork, the store's
## non-transactional tests again on dynalite, every function's binary under
## the Lambda runtime emulator, and the page in Chromium.
test: vet unit minidyn store-dynalite lambda-smoke test-e2e

# staticcheck is pinned here rather than in go.mod: it is a tool, not a
# dependency of the code.
STATICCHECK := honnef.co/go/tools/cmd/staticcheck@v0.8.2

# The pinned minidyn fork (third_party/minidyn, a module of its own, so not
# part of ./...) is vetted on its own. Its upstream code trips three of
# staticcheck's checks: capitalized error strings that copy DynamoDB's
# messages (ST1005), a deprecated SDK endpoint resolver in its tests (SA1019)
# and an unused field (U1000); those are off for it.
MINIDYN := third_party/minidyn

vet:
	$(GO) vet ./...
	$(GO) run $(STATICCHECK) ./...
	cd $(MINIDYN) && $(GO) vet ./...
	cd $(MINIDYN) && $(GO) run $(STATICCHECK) -checks 'inherit,-ST1005,-SA1019,-U1000' ./...
	@unformatted=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go' -not -path './.*')); \
	if [[ -n $$unformatted ]]; then echo "gofmt needed:"; echo "$$unformatted"; exit 1; fi

# versitygw checks the signatures and expiry of presigned links, and moto's
# server is the SES v2 API that e-mail goes to (moto.sh installs nothing: it
# fails, saying so, without moto_server); the other tests use emulators in
# process. Only the tests that other targets run (lambda-smoke, bench) may
# skip here.
unit:
	@infra/testenv/moto.sh check
	@infra/testenv/versitygw.sh install
	@infra/testenv/versitygw.sh start $(STATE) >/dev/null
	@trap 'infra/testenv/versitygw.sh stop $(STATE)' EXIT; \
	infra/testenv/moto.sh start $(STATE) >/dev/null; \
	trap 'infra/testenv/versitygw.sh stop $(STATE); infra/testenv/moto.sh stop $(STATE)' EXIT; \
	TEST_S3_ENDPOINT=$$(cat $(STATE)/versitygw.endpoint) \
	TEST_S3_ACCESS_KEY=$$(cat $(STATE)/versitygw.access_key) \
	TEST_S3_SECRET_KEY=$$(cat $(STATE)/versitygw.secret_key) \
	TEST_SES_ENDPOINT=$$(cat $(STATE)/moto.endpoint) \
	TEST_DYNAMODB_MOTO_ENDPOINT=$$(cat $(STATE)/moto.endpoint) \
	  $(GO) test -race -count=1 -json ./... | $(GO) run ./infra/testcount -label "in-process emulators, versitygw and moto" \
	    -allow-skip 'TestLambdaSmoke|TestWorkbookBenchChild'

# minidyn's own tests, and the fork's. They make SDK clients of their own,
# which fail when a CA bundle is set in the environment.
minidyn:
	@(cd $(MINIDYN) && env -u AWS_CA_BUNDLE $(GO) test -race -count=1 -json ./...) | \
	  $(GO) run ./infra/testcount -label "minidyn fork"

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
build-NotificationsFunction:    ; $(call lambda,notifications,$(ARTIFACTS_DIR))
build-NotifierFunction:         ; $(call lambda,notifier,$(ARTIFACTS_DIR))
build-ImportFunction:           ; $(call lambda,import,$(ARTIFACTS_DIR))

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
## Lambda Runtime Interface Emulator, on emulated DynamoDB, S3 and SES, with
## the API Gateway and EventBridge events of infra/deploy/testdata/events.
lambda-smoke: build
	@infra/testenv/rie.sh install
	@rm -rf $(BUILD)/host
	@for f in $(FUNCTIONS); do \
	  CGO_ENABLED=0 $(GO) build -tags lambda.norpc -trimpath -ldflags "-s -w" -o $(BUILD)/host/$$f/bootstrap ./functions/$$f; \
	done
	@rm -f $(BUILD)/lambda-smoke.txt
	@infra/testenv/moto.sh start $(STATE) >/dev/null
	@trap 'infra/testenv/moto.sh stop $(STATE)' EXIT; \
	LAMBDA_SMOKE=1 TEST_SES_ENDPOINT=$$(cat $(STATE)/moto.endpoint) $(GO) test -count=1 -json -run '^TestLambdaSmoke$$' ./infra/deploy | \
	  $(GO) run ./infra/testcount -label "Lambda runtime emulator"
	@cat $(BUILD)/lambda-smoke.txt

## bench: the benchmarks whose figures are in the README. The DynamoDB
## request counts, the pages of the large distributor's report (with the
## CPU time of this process), the large tenant at 100,000 and 300,000
## licenses (import and every read endpoint) and the notifier run on
## dynalite (e-mail to moto); the workbook runs each variant in a fresh
## process to measure its peak RSS. About half an hour: the large tenants'
## imports and the cell-by-cell workbook variants are slow, which is the
## point.
bench:
	$(GO) test -run '^$$' -bench 'ReportLarge|PageLarge|PagerLarge' -benchmem ./shared/report
	$(GO) test -run '^$$' -bench 'SnapshotRows' -benchmem ./shared/store
	@infra/testenv/versitygw.sh install
	@infra/testenv/dynalite.sh start $(STATE) >/dev/null
	@trap 'infra/testenv/dynalite.sh stop $(STATE); infra/testenv/moto.sh stop $(STATE); infra/testenv/versitygw.sh stop $(STATE)' EXIT; \
	infra/testenv/moto.sh start $(STATE) >/dev/null; \
	infra/testenv/versitygw.sh start $(STATE) >/dev/null; \
	export TEST_DYNAMODB_ENDPOINT=$$(cat $(STATE)/dynalite.endpoint) TEST_SES_ENDPOINT=$$(cat $(STATE)/moto.endpoint) \
	  TEST_S3_ENDPOINT=$$(cat $(STATE)/versitygw.endpoint) TEST_S3_ACCESS_KEY=$$(cat $(STATE)/versitygw.access_key) \
	  TEST_S3_SECRET_KEY=$$(cat $(STATE)/versitygw.secret_key); \
	  $(GO) test -run '^$$' -bench 'Requests' -benchtime 10x ./shared/httpapi && \
	  $(GO) test -run '^$$' -bench 'SaveReportLarge|ReportPageLarge' -benchtime 5x ./shared/store && \
	  $(GO) test -run '^$$' -bench 'LargeTenant' -benchtime 3x -timeout 60m ./shared/httpapi && \
	  $(GO) test -run '^$$' -bench 'NotifyLarge' -benchtime 1x -timeout 30m ./shared/httpapi
	$(GO) test -run '^$$' -bench 'WorkbookRSS/(Workbook|Workbook-no-memory-limit|CellByCell-SetCellValue|CellByCell-SetSheetRow)$$' -benchtime 1x -timeout 30m ./shared/workbook

## bench-minidyn: the minidyn fork against v0.8.2 as released, through the
## SDK (a BatchWriteItem of 100,000 items, Queries and a transaction in a
## table of 100,000); the figures are in third_party/minidyn/PATCHES.md.
## v0.8.2 takes about 12 minutes.
bench-minidyn:
	GO=$(GO) $(MINIDYN)/compare-v0.8.2.sh

# ------------------------------------------------------------------ the page

# npm ci installs the page's packages exactly as web/package-lock.json pins
# them, again whenever the lock changes.
web/node_modules/.package-lock.json: web/package-lock.json
	cd web && npm ci --no-audit --no-fund
	@touch $@

## web: build the page into web/dist, which is committed: the local server
## embeds it, so that `go run ./infra/devserver` needs no Node.js.
web: web/node_modules/.package-lock.json
	cd web && node build.mjs

## web-check: a fresh build of the page equals the committed web/dist.
web-check: web/node_modules/.package-lock.json
	@cd web && node build.mjs ../$(BUILD)/web-dist >/dev/null
	@if ! diff -r web/dist $(BUILD)/web-dist >/dev/null; then \
	  echo "web/dist is not the build of web/src: run make web and commit web/dist"; diff -rq web/dist $(BUILD)/web-dist; exit 1; fi
	@echo "web/dist is the build of web/src"

# Debian's Chromium: installed when missing if we may (root, apt), else a
# message that names the package. CHROMIUM may point at another build.
CHROMIUM ?= /usr/bin/chromium
chromium:
	@if [[ ! -x $(CHROMIUM) ]]; then \
	  if [[ $$(id -u) == 0 ]] && command -v apt-get >/dev/null; then \
	    echo "installing Debian's chromium"; \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; \
	  else \
	    echo "make test-e2e needs Chromium at $(CHROMIUM): install Debian's package chromium (apt-get install chromium), or set CHROMIUM"; exit 1; \
	  fi; \
	fi

## test-e2e: the page in headless Chromium (playwright-core) against the
## local server; screenshots and the downloaded workbook go to web/test-output.
test-e2e: web-check chromium
	cd web && CHROMIUM=$(CHROMIUM) npm test --silent

## bench-web: the page with the large distributor's 100,000 licenses, on
## dynalite (a few minutes: most of it loads the data); figures in the README.
bench-web: web-check chromium
	@infra/testenv/dynalite.sh start $(STATE)-web >/dev/null
	@trap 'infra/testenv/dynalite.sh stop $(STATE)-web' EXIT; \
	cd web && CHROMIUM=$(CHROMIUM) node e2e/large.mjs $$(cat ../$(STATE)-web/dynalite.endpoint)

## deploy-web: upload the page to a deployed stack (STACK, REGION): the
## assets (kept forever: old pages still name theirs), index.html and the
## stack's WebConfig output as config.json (read afresh), then a CloudFront
## invalidation of those two. Needs the AWS CLI and the stack's credentials.
STACK ?= partner-licenses-dev
REGION ?=
deploy-web: web-check
	@aws=(aws $(if $(REGION),--region $(REGION))); \
	out() { "$${aws[@]}" cloudformation describe-stacks --stack-name $(STACK) \
	  --query "Stacks[0].Outputs[?OutputKey=='$$1'].OutputValue" --output text; }; \
	bucket=$$(out WebBucketName); dist=$$(out WebDistributionId); \
	out WebConfig > $(BUILD)/config.json; \
	"$${aws[@]}" s3 sync web/dist/assets s3://$$bucket/assets --cache-control 'public, max-age=31536000, immutable'; \
	"$${aws[@]}" s3 cp web/dist/index.html s3://$$bucket/index.html --cache-control no-cache; \
	"$${aws[@]}" s3 cp $(BUILD)/config.json s3://$$bucket/config.json --cache-control no-cache --content-type application/json; \
	"$${aws[@]}" cloudfront create-invalidation --distribution-id $$dist --paths /index.html /config.json / >/dev/null; \
	echo "the page: $$(out WebUrl)"

## run: the local server with the demo data set.
run:
	$(GO) run ./infra/devserver

clean:
	rm -rf $(STATE) $(STATE)-web $(BUILD) web/test-output
