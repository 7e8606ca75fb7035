# The time-stamping authority: build, local stack, tests, benchmark, fuzzing.
# A plain Makefile with an explicit source list; every library through pkg-config.

CC       ?= cc
comma    := ,
PKGS     := fcgi gnutls libtasn1 libxml-2.0 libpq p11-kit-1
BUILD    := build
# Programs and tests find the build through TSA_BUILD (make BUILD=build-x keeps builds apart).
export TSA_BUILD = $(abspath $(BUILD))
# The web server in front of the local stack (start, run): nginx, apache or lighttpd.
export TSA_WEB ?= nginx
VAR      ?= var

WARN     := -Wall -Wextra -Werror -Wshadow -Wstrict-prototypes -Wmissing-prototypes \
            -Wpointer-arith -Wcast-qual -Wwrite-strings -Wformat=2 -Wundef \
            -Wvla -Wnull-dereference -Wimplicit-fallthrough
HARDEN   := -D_FORTIFY_SOURCE=2 -fstack-protector-strong -fPIE -fno-strict-overflow
CFLAGS   ?= -O2 -g
ALL_CFLAGS = -std=c11 -D_GNU_SOURCE $(WARN) $(HARDEN) $(CFLAGS) -Iinclude -I$(BUILD) \
             $(shell pkg-config --cflags $(PKGS))
LDLIBS   := $(shell pkg-config --libs $(PKGS)) -lpthread
LDFLAGS  += -pie -Wl,-z,relro,-z,now

ifneq ($(SANITIZE),)
SANITIZERS := $(if $(filter 1 yes,$(SANITIZE)),address$(comma)undefined,$(SANITIZE))
override CFLAGS := -O1 -g -fno-omit-frame-pointer -fsanitize=$(SANITIZERS) \
                   -fno-sanitize-recover=all
LDFLAGS  += -fsanitize=$(SANITIZERS)
HARDEN   := -fPIE
# Its own build directory unless one is named, so the plain build is not rebuilt after it.
ifeq ($(origin BUILD),file)
BUILD    := build-asan
endif
# make check: one end-to-end pass (behind nginx unless TSA_E2E_WEBS says otherwise), and
# tests/run-all.sh fails on any sanitizer report a program of the stack logs (TSA_SANITIZE).
export TSA_E2E_WEBS ?= nginx
export TSA_SANITIZE := $(SANITIZERS)
endif

# The library shared by every program and by the tests.
LIB_SRC  := src/util/log.c src/util/invariant.c src/util/conf.c src/util/bytes.c src/util/hashalg.c \
            src/util/strbuf.c src/util/text.c src/util/base64.c src/util/children.c \
            src/asn1/der.c src/asn1/asn1.c \
            src/proto/request.c src/proto/rfc3161.c src/proto/soap.c src/proto/authenticode.c \
            src/proto/wsdl.c src/proto/detect.c \
            src/tst/serial.c src/tst/tstinfo.c src/tst/cms.c src/tst/token.c \
            src/tst/verify.c src/tst/verify_sd.c src/tst/verify_tstinfo.c src/tst/verify_ess.c \
            src/tst/verify_chain.c src/tst/xmltoken.c src/tst/xmlverify.c \
            src/sign/signer.c src/sign/order.c src/sign/link.c src/sign/logkey.c \
            src/policy/filters.c src/policy/policy.c src/policy/clients.c src/clock/clock.c \
            src/store/db.c src/store/config.c src/store/tokens.c src/store/edit.c \
            src/store/edit_policy.c src/store/edit_access.c src/store/edit_signer.c \
            src/admin/form.c src/admin/csrf.c \
            src/fcgi/handler.c src/fcgi/params.c src/fcgi/metrics.c src/fcgi/ops.c \
            src/fcgi/refusals.c src/fcgi/gate.c src/fcgi/logapi.c \
            src/log/merkle.c src/log/leaf.c src/log/logjson.c src/log/query.c src/store/logstore.c
ASN1_TAB := $(BUILD)/tsa_asn1_tab.c
LIB_OBJ  := $(LIB_SRC:%.c=$(BUILD)/%.o) $(BUILD)/tsa_asn1_tab.o

PROGS    := $(BUILD)/tsa-fcgi $(BUILD)/tsa-signer $(BUILD)/tsactl $(BUILD)/tsa-admin $(BUILD)/tsa-log \
            $(BUILD)/tsa-bench-sign $(BUILD)/tsa-test-record

all: $(PROGS)

$(ASN1_TAB): src/asn1/tsa.asn
	@mkdir -p $(dir $@)
	asn1Parser -o $@ -n tsa_asn1_tab $<

$(BUILD)/tsa_asn1_tab.o: $(ASN1_TAB) $(FLAGS_STAMP)
	$(CC) $(filter-out -Wmissing-prototypes -Wundef,$(ALL_CFLAGS)) -c -o $@ $<

$(BUILD)/migrations.o: $(BUILD)/migrations.c include/migrations.h $(FLAGS_STAMP)
	$(CC) $(ALL_CFLAGS) -c -o $@ $<

# Objects are rebuilt when the flags change (a SANITIZE build after a plain one, say).
FLAGS_ID    := $(shell echo '$(CC) $(ALL_CFLAGS) $(LDFLAGS)' | cksum | cut -d' ' -f1)
FLAGS_STAMP := $(BUILD)/.flags-$(FLAGS_ID)
$(FLAGS_STAMP):
	@mkdir -p $(BUILD)
	@rm -f $(BUILD)/.flags-*
	@touch $@

$(BUILD)/%.o: %.c $(wildcard include/*.h) $(FLAGS_STAMP) | $(ASN1_TAB)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -c -o $@ $<

# The XSDs are embedded in soap.o (.incbin).
$(BUILD)/src/proto/soap.o: xsd/timestamp.xsd xsd/xmldsig-subset.xsd
# The WSDL is embedded in wsdl.o (.incbin).
$(BUILD)/src/proto/wsdl.o: wsdl/timestamp.wsdl
# The verifier's private header, outside include/.
$(patsubst %.c,$(BUILD)/%.o,$(wildcard src/tst/verify*.c)): src/tst/verify_int.h
# The configuration write path's private header, outside include/.
$(patsubst %.c,$(BUILD)/%.o,$(wildcard src/store/edit*.c)): src/store/edit_int.h

$(BUILD)/libtsa.a: $(LIB_OBJ)
	ar rcs $@ $^

$(BUILD)/tsa-fcgi: $(BUILD)/src/fcgi/main.o $(BUILD)/libtsa.a
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

# The signing process: the listener and one connection's orders (README "Security").
$(BUILD)/tsa-signer: $(BUILD)/src/signer/main.o $(BUILD)/src/signer/serve.o $(BUILD)/libtsa.a
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

# The token log's integrator (README "Token log").
$(BUILD)/tsa-log: $(BUILD)/src/logd/main.o $(BUILD)/src/logd/integrate.o $(BUILD)/libtsa.a
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)
$(BUILD)/src/logd/main.o $(BUILD)/src/logd/integrate.o: src/logd/logd.h

$(BUILD)/migrations.c: src/cli/embed-schema.sh $(sort $(wildcard schema/*.sql))
	src/cli/embed-schema.sh $(sort $(wildcard schema/*.sql)) > $@

$(BUILD)/tsactl: $(BUILD)/src/cli/tsactl.o $(BUILD)/src/cli/cli.o $(BUILD)/src/cli/output.o \
                 $(BUILD)/src/cli/admin.o $(BUILD)/src/cli/clients.o $(BUILD)/src/cli/keys.o \
                 $(BUILD)/src/cli/log.o \
                 $(BUILD)/migrations.o $(BUILD)/libtsa.a
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

# The web console: its pages and FastCGI loop; its parsers are in libtsa (unit-tested, fuzzed).
$(BUILD)/tsa-admin: $(BUILD)/src/admin/main.o $(BUILD)/src/admin/pages.o \
                   $(BUILD)/src/admin/page_dashboard.o $(BUILD)/src/admin/page_policy.o \
                   $(BUILD)/src/admin/page_tokens.o $(BUILD)/src/admin/html.o $(BUILD)/libtsa.a
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

$(BUILD)/tsa-bench-sign: $(BUILD)/tests/bench/bench_sign.o $(BUILD)/libtsa.a
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

# e2e signer/group-commit: the token recorder driven against PostgreSQL.
$(BUILD)/tsa-test-record: $(BUILD)/tests/e2e/record_batch.o $(BUILD)/libtsa.a
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

# ---- tests ---------------------------------------------------------------------------------
UNIT_SRC := $(wildcard tests/unit/test_*.c)
UNIT_BIN := $(UNIT_SRC:tests/unit/%.c=$(BUILD)/tests/unit/%)

# testlib.c: what every suite does alike (not named test_*: it is no suite of its own).
UNIT_LIB := $(BUILD)/tests/unit/testlib.o
.SECONDARY: $(UNIT_LIB)

$(BUILD)/tests/unit/%: $(BUILD)/tests/unit/%.o $(UNIT_LIB) $(BUILD)/libtsa.a
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS) $(shell pkg-config --libs check)

$(BUILD)/tests/unit/%.o: tests/unit/%.c tests/unit/testlib.h $(wildcard include/*.h) \
                         $(FLAGS_STAMP) | $(ASN1_TAB)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) $(shell pkg-config --cflags check) -Wno-missing-prototypes -c -o $@ $<

# The fuzz targets, built without libFuzzer: a driver that replays the corpus and crash files.
FUZZ_TARGETS := rfc3161 verify soap authenticode params filters form gate order tlog
FUZZ_REPLAY  := $(FUZZ_TARGETS:%=$(BUILD)/tests/fuzz/replay_%)

$(BUILD)/tests/fuzz/replay_%: tests/fuzz/fuzz_%.c tests/fuzz/replay.c $(BUILD)/libtsa.a
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -Wno-missing-prototypes $(LDFLAGS) -o $@ $^ $(LDLIBS)

deps:
	deploy/deps.sh

# Quietly calls `make deps` first when a needed command or library is missing.
need-deps:
	@deploy/deps.sh --if-missing

check: need-deps
	$(MAKE) all $(UNIT_BIN) $(FUZZ_REPLAY)
	tests/run-all.sh

run: need-deps all
	deploy/stack/stack.sh run

start: need-deps all
	deploy/stack/stack.sh start

stop:
	deploy/stack/stack.sh stop

bench: need-deps all
	tests/bench/bench.sh

# libFuzzer (clang) runs, each bounded in time: FUZZ_SECONDS per target.
FUZZ_SECONDS ?= 60
fuzz: need-deps
	tests/fuzz/run.sh $(FUZZ_SECONDS) $(FUZZ_TARGETS)

# Soak: SOAK_SECONDS (default 600; CI: 45) of mixed traffic against a private stack.
SOAK_SECONDS ?= 600
soak: need-deps all
	SOAK_SECONDS=$(SOAK_SECONDS) tests/soak/run.sh

clean:
	rm -rf $(BUILD)

.PHONY: all deps need-deps check run start stop bench fuzz soak clean
