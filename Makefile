# git dbsync — build, test, demo, benchmarks.
GO      ?= go
PREFIX  ?= /usr/local
BINDIR  ?= $(PREFIX)/bin
MANDIR  ?= $(PREFIX)/share/man/man1
# Where bash-completion and zsh look for completion files: git's own
# completion loads git-dbsync's from there when "git dbsync" is completed.
BASHCOMPDIR ?= $(PREFIX)/share/bash-completion/completions
ZSHCOMPDIR  ?= $(PREFIX)/share/zsh/site-functions
VERSION ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
LDFLAGS := -s -w -X main.ldflagsVersion=$(VERSION)

STATICCHECK ?= honnef.co/go/tools/cmd/staticcheck@v0.8.2

.PHONY: all build test unit race lint tools servers servers-stop bench soak fuzz demo install uninstall man clean

all: build

build:
	CGO_ENABLED=0 $(GO) build -trimpath -ldflags '$(LDFLAGS)' -o bin/git-dbsync ./cmd/git-dbsync
	CGO_ENABLED=0 $(GO) build -o bin/sqlexec ./internal/sqltool/sqlexec

# The tests: formatting, vet, staticcheck and the import directions, the
# race detector on the packages with concurrency, then every package's
# tests and the end-to-end scripts (testdata/script) through real git,
# on SQLite, PostgreSQL and MariaDB.
test: lint race tools servers
	$(GO) test -count=1 -timeout 45m ./...

# Besides PostgreSQL on 127.0.0.1:5432, some tests need PgBouncer in
# transaction mode in front of it (127.0.0.1:6432) and a hot standby of it
# (127.0.0.1:5433). make test starts them itself (idempotent; installs
# pgbouncer with apt-get when run as root) and leaves them running for the
# next run: make servers-stop stops them, .ci/run stops those it started.
# Run through go test alone, a test that needs one and cannot reach it
# fails (never skips): export the URLs start.sh prints, the defaults below.
export DBSYNC_TEST_PGBOUNCER ?= postgres://postgres@127.0.0.1:6432/postgres?sslmode=disable
export DBSYNC_TEST_PG_STANDBY ?= postgres://postgres@127.0.0.1:5433/postgres?sslmode=disable
# And a 3-node MariaDB Galera cluster (127.0.0.1:3311-3313; galera-4 and
# rsync installed with apt-get when run as root), for the cluster tests.
export DBSYNC_TEST_GALERA1 ?= mysql://root@127.0.0.1:3311/test
export DBSYNC_TEST_GALERA2 ?= mysql://root@127.0.0.1:3312/test
export DBSYNC_TEST_GALERA3 ?= mysql://root@127.0.0.1:3313/test

servers:
	sh testdata/servers/start.sh >/dev/null

servers-stop:
	sh testdata/servers/stop.sh

# The hook managers the end-to-end scripts drive (pre-commit, husky,
# lefthook; installed once, into ~/.cache/git-dbsync-tools), the shells
# the completion test drives (bash-completion, zsh), and the headless
# Chromium and chromedriver the web tests drive.
tools:
	sh testdata/managers/install.sh

# The tests that need no database server: SQLite only.
unit:
	DBSYNC_TEST_ENGINES=sqlite $(GO) test -count=1 -timeout 30m $$($(GO) list ./... | grep -v '/dialect/postgres$$\|/dialect/mysql$$')

# Lock files, the cat-file pool, the export's cache check and the plan's read
# of the target (beside the merge) run
# concurrently: the race detector watches them.
race:
	CGO_ENABLED=1 DBSYNC_TEST_ENGINES=sqlite $(GO) test -race -count=1 ./gitdb/lock ./gitdb/repo ./gitdb/exportdir ./gitdb/ledger
	CGO_ENABLED=1 DBSYNC_TEST_ENGINES=sqlite $(GO) test -race -count=1 ./gitdb

lint:
	@out=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go')); \
	  if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi
	$(GO) vet ./...
	$(GO) run $(STATICCHECK) ./...
	$(GO) test -count=1 ./internal/archtest   # packages import in the directions ARCHITECTURE.md gives
	GOOS=windows $(GO) build ./...   # the Windows build stays possible
	GOOS=darwin $(GO) build ./...

# Benchmarks print figures (rows/s, MB/s, peak heap); nothing asserts a time.
# BenchmarkEngines prints the table of issue #25's aims (every engine, the
# core count); testdata/bench/rss.sh then checks the peak RSS of the real
# binary at 1M rows (RSS_FLAGS=--strict fails when one is over 64 MiB), and
# the table is printed again at the end.
RSS_FLAGS ?=
bench:
	@table=$$(mktemp); \
	DBSYNC_BENCH_TABLE=$$table $(GO) test -run '^$$' -bench . -benchtime 1x -timeout 60m ./... && \
	sh testdata/bench/rss.sh $(RSS_FLAGS) && \
	cat $$table; status=$$?; rm -f $$table; exit $$status

# Long loops, not in make test (which runs 20 kills and 5 races per
# engine, 20 races through PgBouncer and 20 cross-node races on the
# Galera cluster): 1,000 kill -9s of an apply at named points and random
# instants, and 200 two-way races between two clones, per engine and
# through PgBouncer; 200 races of two or three applies through the Galera
# nodes, and a 200,000-row first apply against wsrep_max_ws_rows = 131072;
# prints the counts.
SOAK_KILLS ?= 1000
SOAK_RACES ?= 200
SOAK_GALERA_ROWS ?= 200000
soak: servers
	@DBSYNC_SOAK_KILLS=$(SOAK_KILLS) DBSYNC_SOAK_RACES=$(SOAK_RACES) DBSYNC_SOAK_GALERA_RACES=$(SOAK_RACES) \
	  DBSYNC_SOAK_GALERA_ROWS=$(SOAK_GALERA_ROWS) $(GO) test -count=1 -timeout 900m -v \
	  -run 'TestCrashAnywhereLeavesBeforeOrAfter|TestRacesBetweenClonesOneWins|TestGalera' ./cmd/git-dbsync > soak.out 2>&1; \
	  status=$$?; grep -E 'soak |^(--- FAIL|FAIL|ok)' soak.out; rm -f soak.out; exit $$status

# The fuzzers, FUZZTIME each (their seeds run in make test).
FUZZTIME ?= 10m
fuzz:
	$(GO) test -run '^$$' -fuzz '^FuzzDecodeRow$$' -fuzztime $(FUZZTIME) ./serialize
	$(GO) test -run '^$$' -fuzz '^FuzzUnmarshalMeta$$' -fuzztime $(FUZZTIME) ./serialize
	$(GO) test -run '^$$' -fuzz '^FuzzLines$$' -fuzztime $(FUZZTIME) ./gitdb/exportdir
	$(GO) test -run '^$$' -fuzz '^FuzzPHP$$' -fuzztime $(FUZZTIME) ./gitdb/codec
	$(GO) test -run '^$$' -fuzz '^FuzzPHPEncode$$' -fuzztime $(FUZZTIME) ./gitdb/codec
	$(GO) test -run '^$$' -fuzz '^FuzzYAML$$' -fuzztime $(FUZZTIME) ./gitdb/codec

# The main job on the embedded default (SQLite): a throwaway repository
# with a small CMS database, classified, exported and committed.
demo: build
	@sh testdata/demo/demo.sh "$(CURDIR)/bin"

man: build
	rm -rf man && mkdir -p man && bin/git-dbsync man man

install: build man
	install -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(MANDIR) $(DESTDIR)$(BASHCOMPDIR) $(DESTDIR)$(ZSHCOMPDIR)
	install -m 755 bin/git-dbsync $(DESTDIR)$(BINDIR)/git-dbsync
	install -m 644 man/*.1 $(DESTDIR)$(MANDIR)/
	bin/git-dbsync completion bash > $(DESTDIR)$(BASHCOMPDIR)/git-dbsync
	bin/git-dbsync completion zsh > $(DESTDIR)$(ZSHCOMPDIR)/_git-dbsync

uninstall:
	rm -f $(DESTDIR)$(BINDIR)/git-dbsync $(DESTDIR)$(MANDIR)/git-dbsync*.1 \
	  $(DESTDIR)$(BASHCOMPDIR)/git-dbsync $(DESTDIR)$(ZSHCOMPDIR)/_git-dbsync

clean:
	rm -rf bin man
