# mod_mocaverse — build, run and test.  `make run` and `make test` are the two
# commands a newcomer needs; everything else is a step of theirs.

APXS      ?= apxs
CC        ?= cc
MODULE    := mod_mocaverse
SO        := .libs/$(MODULE).so
BUILD     := build
# The version's one place is the first line of debian/changelog; the
# module (/version) and the package take it.
VERSION   := $(shell sed -n '1s/^[^(]*(\([^)]*\)).*/\1/p' debian/changelog)
VERSION_DEF := -DMV_VERSION_NUMBER=$(VERSION)

CORE_SRC  := $(wildcard src/core/*.c)
# src/core/ (pure C, no httpd) is compiled once, position-independent, into
# a static library that the module, the tests, the tools and the bench link.
CORE_OBJ  := $(CORE_SRC:src/core/%.c=$(BUILD)/core/%.o)
CORE_LIB  := $(BUILD)/libmvcore.a
HTTPD_SRC := $(MODULE).c $(wildcard src/*.c)
HEADERS   := $(wildcard include/*.h src/*.h)
LIBS      := -ljwt -ljansson -lsodium -lpq

WARN      := -Wall -Wextra -Werror
# Flags for the parts built outside apxs (unit and integration tests).
TCFLAGS   := -std=gnu11 -O2 -g $(WARN) -D_GNU_SOURCE -Iinclude -I/usr/include/postgresql \
             $(VERSION_DEF)
# Extra compiler and linker flags for the module (debian/rules passes
# Debian's hardening flags here).
MV_CFLAGS  ?=
MV_LDFLAGS ?=

UNIT_SRC  := $(wildcard tests/unit/test_*.c)
UNIT_BIN  := $(UNIT_SRC:tests/unit/%.c=$(BUILD)/unit/%)
IT_SRC    := $(wildcard tests/integration/test_*.c)
IT_BIN    := $(IT_SRC:tests/integration/%.c=$(BUILD)/integration/%)
IT_LIB    := tests/integration/harness.c
# make test-cluster: one binary on the integration harness.
CLUSTER_BIN := $(BUILD)/cluster/test_cluster
# The console's browser test (headless chromium driven by playwright-core).
BROWSER_TEST := tests/browser/run.sh
BROWSER_DEPS := $(BUILD)/browser/node_modules/.installed
# make bench: helpers linked with the core code, and the pgbench scripts
# generated from the SQL the module prepares (once include/mv_rewards_sql.h exists).
BENCH_BIN := $(BUILD)/bench/mvbench
BENCH_FLOOR := $(BUILD)/bench/.libs/mod_bench_floor.so
BENCH_SQL := $(if $(wildcard include/mv_rewards_sql.h),$(BUILD)/bench/scan.pgbench $(BUILD)/bench/wallet.pgbench)

.PHONY: all deps install run stop migrate test test-run unit integration console-test test-cluster bench \
        bench-admin clean format format-check directives-check directives-readme conf-check deb test-deb \
        openapi-tools openapi-lint openapi-routes openapi-check

# openapi/: the API described once (OpenAPI 3.1).  Bundled to JSON and
# compiled into the module by a Debian-only script (python3-yaml); the npm
# tools (Redocly CLI, Swagger UI, ajv) are pinned in tools/openapi's lock
# file and installed by `npm ci` into build/openapi-tools.
OPENAPI_SRC  := $(wildcard openapi/*.yaml openapi/paths/*.yaml)
OPENAPI_JSON := $(BUILD)/openapi.json
OPENAPI_H    := $(BUILD)/openapi_json.h
NODE_TOOLS   := $(BUILD)/openapi-tools
NODE_STAMP   := $(NODE_TOOLS)/node_modules/.mv-installed
NODE_BIN     := $(NODE_TOOLS)/node_modules/.bin
# Every request and response of `make integration`, one JSON line each.
EXCHANGES    := $(BUILD)/exchanges

all: $(SO)

$(BUILD)/core/%.o: src/core/%.c $(HEADERS) Makefile
	@mkdir -p $(@D)
	$(CC) $(TCFLAGS) $(MV_CFLAGS) -fPIC -c -o $@ $<

$(CORE_LIB): $(CORE_OBJ)
	rm -f $@
	$(AR) rcs $@ $^

# The library goes to the linker as -Wl, (libtool calls linking a static
# library into a module "not portable"), followed by the libraries it needs.
$(SO): $(HTTPD_SRC) $(CORE_LIB) $(HEADERS) $(OPENAPI_H) Makefile debian/changelog
	@test -n "$(VERSION)" || { echo 'no version in debian/changelog'; exit 1; }
	$(APXS) -c -n $(MODULE) -Iinclude -I$(BUILD) -I/usr/include/postgresql \
	    -Wc,-std=gnu11 $(foreach w,$(WARN),-Wc,$(w)) \
	    -Wc,$(VERSION_DEF) \
	    $(foreach f,$(MV_CFLAGS),-Wc,$(f)) $(foreach f,$(MV_LDFLAGS),-Wl,$(f)) \
	    -o $(MODULE).la $(HTTPD_SRC) $(LIBS) -Wl,$(CORE_LIB) \
	    $(foreach l,$(LIBS),-Wl,$(l)) \
	    > $(BUILD).log 2>&1 || { cat $(BUILD).log; exit 1; }
	@! grep -i 'warning:' $(BUILD).log || { echo 'build has warnings'; exit 1; }

deps:
	@scripts/deps.sh

install: $(SO)
	$(APXS) -i -n $(MODULE) $(SO)

run: deps all openapi-tools
	@scripts/run.sh start

stop:
	@scripts/run.sh stop

migrate:
	@scripts/run.sh migrate

test: deps format-check directives-check conf-check all openapi-lint openapi-routes unit integration openapi-check test-run

$(OPENAPI_JSON) $(OPENAPI_H) &: $(OPENAPI_SRC) tools/openapi/bundle.py
	@mkdir -p $(BUILD)
	python3 tools/openapi/bundle.py openapi/openapi.yaml $(OPENAPI_JSON) $(OPENAPI_H)

openapi-tools: $(NODE_STAMP)

$(NODE_STAMP): tools/openapi/package.json tools/openapi/package-lock.json
	@mkdir -p $(NODE_TOOLS)
	cp tools/openapi/package.json tools/openapi/package-lock.json $(NODE_TOOLS)/
	cd $(NODE_TOOLS) && npm ci --no-audit --no-fund --ignore-scripts --loglevel=error
	@touch $@

# Redocly CLI's recommended rules, exceptions justified in openapi/redocly.yaml.
openapi-lint: $(NODE_STAMP)
	$(NODE_BIN)/redocly lint --config openapi/redocly.yaml --format=stylish openapi/openapi.yaml

# The code's route table and the document's paths and methods are one set.
openapi-routes: $(OPENAPI_JSON)
	python3 tools/openapi/routes.py $(OPENAPI_JSON) src/dispatch.c src/*.c

# Every recorded exchange validated against the document, the checker's own
# tests first, then the coverage of every documented status.
openapi-check: $(NODE_STAMP) $(OPENAPI_JSON)
	NODE_PATH=$(NODE_TOOLS)/node_modules node --test tools/openapi/test/
	NODE_PATH=$(NODE_TOOLS)/node_modules node tools/openapi/check-exchanges.cjs \
	    $(OPENAPI_JSON) $(EXCHANGES)
# make run from a checkout under a 0700 directory (tests/run-private.sh).
test-run: all
	@tests/run-private.sh

# libapache2-mod-mocaverse_$(VERSION)_<arch>.deb in build/deb, checked by
# lintian; test-deb installs it into this machine's apache2 and tests it.
deb:
	@scripts/deps.sh deb
	@scripts/deb.sh build

test-deb: deb
	@scripts/deb.sh test

$(BUILD)/unit/%: tests/unit/%.c $(CORE_LIB) $(HEADERS)
	@mkdir -p $(@D)
	$(CC) $(TCFLAGS) -o $@ $< $(CORE_LIB) $(LIBS) -lcmocka

$(BUILD)/integration/%: tests/integration/%.c $(IT_LIB) $(wildcard tests/integration/*.h) $(CORE_LIB) $(HEADERS)
	@mkdir -p $(@D)
	$(CC) $(TCFLAGS) -Itests/integration -o $@ $< $(IT_LIB) $(CORE_LIB) \
	    $(LIBS) -lcurl -lcmocka -lpthread

$(CLUSTER_BIN): tests/cluster/test_cluster.c $(IT_LIB) $(wildcard tests/integration/*.h) $(CORE_LIB) $(HEADERS)
	@mkdir -p $(@D)
	$(CC) $(TCFLAGS) -Itests/integration -o $@ $< $(IT_LIB) $(CORE_LIB) \
	    $(LIBS) -lcurl -lcmocka -lpthread

# Three hosts behind HAProxy, directly on PostgreSQL and through PgBouncer
# (tests/cluster/run.sh; CLUSTER_MODES picks some of the modes).
test-cluster: deps all $(CLUSTER_BIN)
	@tests/cluster/run.sh $(CLUSTER_BIN) $(CLUSTER_MODES)

# The README's directive table is generated from include/mv_config.h.
DIRECTIVES_MD := $(BUILD)/tools/directives-md
APACHE_INC    := -I$(shell $(APXS) -q INCLUDEDIR) -I$(shell $(APXS) -q APR_INCLUDEDIR)

$(DIRECTIVES_MD): tools/directives-md.c $(CORE_LIB) $(HEADERS)
	@mkdir -p $(@D)
	$(CC) $(TCFLAGS) $(APACHE_INC) -o $@ $< $(CORE_LIB) $(LIBS)

directives-check: $(DIRECTIVES_MD)
	@scripts/directives-readme.sh $(DIRECTIVES_MD) check

directives-readme: $(DIRECTIVES_MD)
	@scripts/directives-readme.sh $(DIRECTIVES_MD) write

# The Debian package's mods-available/mocaverse.conf: the template with the
# directives and their defaults put in; conf-check proves it names them all.
MODULE_CONF := $(BUILD)/apache2/mocaverse.conf

$(MODULE_CONF): debian/mocaverse.conf.in $(DIRECTIVES_MD)
	@mkdir -p $(@D)
	$(DIRECTIVES_MD) conf >$@.body
	sed -e '/^@DIRECTIVES@$$/{r $@.body' -e 'd;}' $< >$@.tmp
	rm -f $@.body && mv $@.tmp $@

conf-check: $(MODULE_CONF)
	@scripts/check-module-conf.sh $(MODULE_CONF) $(DIRECTIVES_MD)

unit: $(UNIT_BIN)
	@scripts/run-unit.sh $(UNIT_BIN)

integration: $(SO) $(IT_BIN) $(NODE_STAMP) $(BROWSER_DEPS)
	@rm -rf $(EXCHANGES) && mkdir -p $(EXCHANGES)
	@MV_TEST_RECORD=$(CURDIR)/$(EXCHANGES) tests/integration/run.sh $(IT_BIN) \
	    tests/integration/reference_page.sh $(BROWSER_TEST)

# The console's browser test alone, against its own httpd and PostgreSQL.
console-test: $(SO) $(BROWSER_DEPS)
	@tests/integration/run.sh $(BROWSER_TEST)

# playwright-core at the version pinned in tests/browser/package-lock.json,
# installed from the npm registry into build/browser (Debian's chromium runs it).
$(BROWSER_DEPS): tests/browser/package.json tests/browser/package-lock.json
	@mkdir -p $(@D)
	cp tests/browser/package.json tests/browser/package-lock.json $(BUILD)/browser/
	cd $(BUILD)/browser && npm ci --no-audit --no-fund --ignore-scripts --loglevel=error
	@touch $@

bench: deps all $(BENCH_BIN) $(BENCH_SQL) $(BENCH_FLOOR) $(BUILD)/bench/sqlgen
	@bench/run.sh

# httpd's floor for make bench: a handler answering a constant.
$(BENCH_FLOOR): bench/floor/mod_bench_floor.c
	@mkdir -p $(BUILD)/bench
	$(APXS) -c -o $(BUILD)/bench/mod_bench_floor.la $< >$(BUILD)/bench/floor.log 2>&1 || \
	    { cat $(BUILD)/bench/floor.log; exit 1; }

# The admin routes on a million users and ten million ledger rows
# (docs/BENCHMARKS.md, "Admin routes at scale"); the data set is generated
# once into var/bench-admin and kept.  Not part of make test.
bench-admin: deps all
	@bench/admin.sh

$(BUILD)/bench/mvbench: bench/mvbench.c $(CORE_LIB) $(HEADERS)
	@mkdir -p $(@D)
	$(CC) $(TCFLAGS) -o $@ $< $(CORE_LIB) $(LIBS) -lpthread

$(BUILD)/bench/sqlgen: bench/sqlgen.c include/mv_rewards_sql.h
	@mkdir -p $(@D)
	$(CC) $(TCFLAGS) -o $@ $<

$(BUILD)/bench/%.pgbench: $(BUILD)/bench/sqlgen
	$< $* >$@.tmp && mv $@.tmp $@

clean:
	rm -rf $(BUILD) $(BUILD).log .libs *.la *.lo *.slo *.o \
	    src/*.lo src/*.slo src/*.o src/.libs src/core/*.lo src/core/*.slo \
	    src/core/*.o src/core/.libs bench/floor/*.lo bench/floor/*.slo \
	    bench/floor/*.o bench/floor/.libs

# Every C source and header of the project, formatted by .clang-format.
FORMAT_SRC = $(wildcard $(MODULE).c src/*.c src/*.h src/*/*.c src/*/*.h include/*.h \
                 tests/*/*.c tests/*/*.h bench/*.c bench/*/*.c tools/*.c)

format:
	clang-format -i $(FORMAT_SRC)

# make test fails on unformatted code: run `make format` before committing.
format-check:
	@clang-format --dry-run -Werror $(FORMAT_SRC)

# --------------------------------------------------------------------------
# make test-asan: the module (through apxs), the unit tests and the
# integration run, all built with AddressSanitizer and UBSan into
# build/asan/, apart from the normal build.  httpd is not instrumented:
# tests/asan/apache2 starts it with the sanitizer runtime preloaded, and
# tests/asan/run.sh fails on any sanitizer report.  See docs/FUZZING.md.
ASAN_CC      := gcc
ASAN_DIR     := $(BUILD)/asan
ASAN_FLAGS   := -fsanitize=address,undefined -fno-omit-frame-pointer -g -O1
ASAN_TCFLAGS := $(filter-out -O2 -g,$(TCFLAGS)) $(ASAN_FLAGS)
# src/core/ once, position-independent, as for the normal build.
ASAN_CORE    := $(ASAN_DIR)/libmvcore.a
ASAN_CORE_O  := $(CORE_SRC:src/core/%.c=$(ASAN_DIR)/core/%.o)
# apxs writes its objects next to the sources: it builds a copy of them.
ASAN_MOD     := $(ASAN_DIR)/mod
ASAN_SO      := $(ASAN_MOD)/.libs/$(MODULE).so
ASAN_UNIT    := $(UNIT_SRC:tests/unit/%.c=$(ASAN_DIR)/unit/%)
ASAN_IT      := $(IT_SRC:tests/integration/%.c=$(ASAN_DIR)/integration/%)

.PHONY: test-asan

test-asan: deps $(ASAN_SO) $(ASAN_UNIT) $(ASAN_IT)
	@ASAN_CC=$(ASAN_CC) ASAN_SO=$(ASAN_SO) tests/asan/run.sh \
	    --unit $(ASAN_UNIT) --integration $(ASAN_IT)

$(ASAN_DIR)/core/%.o: src/core/%.c $(HEADERS) Makefile
	@mkdir -p $(@D)
	$(ASAN_CC) $(ASAN_TCFLAGS) -fPIC -c -o $@ $<

$(ASAN_CORE): $(ASAN_CORE_O)
	rm -f $@
	$(AR) rcs $@ $^

$(ASAN_SO): $(HTTPD_SRC) $(ASAN_CORE) $(HEADERS) $(OPENAPI_H) Makefile
	@rm -rf $(ASAN_MOD) && mkdir -p $(ASAN_MOD)
	@cp --parents $(HTTPD_SRC) $(HEADERS) $(ASAN_MOD)/
	cd $(ASAN_MOD) && $(APXS) -S CC=$(ASAN_CC) -c -n $(MODULE) -Iinclude \
	    -I$(CURDIR)/$(BUILD) \
	    -I/usr/include/postgresql -Wc,-std=gnu11 -Wc,$(VERSION_DEF) \
	    $(foreach w,$(WARN) $(ASAN_FLAGS),-Wc,$(w)) \
	    -Wl,-fsanitize=address,undefined \
	    -o $(MODULE).la $(HTTPD_SRC) $(LIBS) -Wl,$(CURDIR)/$(ASAN_CORE) \
	    $(foreach l,$(LIBS),-Wl,$(l)) \
	    > build.log 2>&1 || { cat build.log; exit 1; }
	@! grep -i 'warning:' $(ASAN_MOD)/build.log || { echo 'build has warnings'; exit 1; }

$(ASAN_DIR)/unit/%: tests/unit/%.c $(ASAN_CORE) $(HEADERS)
	@mkdir -p $(@D)
	$(ASAN_CC) $(ASAN_TCFLAGS) -o $@ $< $(ASAN_CORE) $(LIBS) -lcmocka

$(ASAN_DIR)/integration/%: tests/integration/%.c $(IT_LIB) $(wildcard tests/integration/*.h) $(ASAN_CORE) $(HEADERS)
	@mkdir -p $(@D)
	$(ASAN_CC) $(ASAN_TCFLAGS) -Itests/integration -o $@ $< $(IT_LIB) \
	    $(ASAN_CORE) $(LIBS) -lcurl -lcmocka -lpthread

# --------------------------------------------------------------------------
# make fuzz: libFuzzer targets (tests/fuzz/fuzz_*.c, clang) over the pure
# core, built with AddressSanitizer and UBSan into build/fuzz/; each runs
# FUZZ_SECONDS from seeds made of its unit tests' inputs.  See
# docs/FUZZING.md.
FUZZ_CC      := clang
FUZZ_DIR     := $(BUILD)/fuzz
FUZZ_SECONDS ?= 60
FUZZ_FLAGS   := -std=gnu11 -g -O1 $(WARN) -D_GNU_SOURCE -Iinclude \
                -fsanitize=address,undefined -fno-sanitize-recover=undefined \
                -fno-omit-frame-pointer
FUZZ_SRC     := $(wildcard tests/fuzz/fuzz_*.c)
FUZZ_BIN     := $(FUZZ_SRC:tests/fuzz/%.c=$(FUZZ_DIR)/%)
# The core once, instrumented for coverage, as a library the targets link.
FUZZ_CORE    := $(FUZZ_DIR)/libmvcore.a
FUZZ_CORE_O  := $(CORE_SRC:src/core/%.c=$(FUZZ_DIR)/core/%.o)

.PHONY: fuzz

fuzz: deps $(FUZZ_BIN)
	@FUZZ_SECONDS=$(FUZZ_SECONDS) tests/fuzz/run.sh $(FUZZ_BIN)

$(FUZZ_DIR)/core/%.o: src/core/%.c $(HEADERS)
	@mkdir -p $(@D)
	$(FUZZ_CC) $(FUZZ_FLAGS) -fsanitize=fuzzer-no-link -c -o $@ $<

$(FUZZ_CORE): $(FUZZ_CORE_O)
	rm -f $@
	$(AR) rcs $@ $^

$(FUZZ_DIR)/%: tests/fuzz/%.c tests/fuzz/fuzz.h $(FUZZ_CORE)
	$(FUZZ_CC) $(FUZZ_FLAGS) -fsanitize=fuzzer -o $@ $< $(FUZZ_CORE) $(LIBS)
