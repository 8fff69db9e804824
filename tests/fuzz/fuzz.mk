# libFuzzer targets, one per parser that takes outside input (issue 6).
# Included by the top Makefile (-include tests/*/*.mk); see
# tests/fuzz/README.md.
#
#   make fuzz-build               build every fuzzer into $(FUZZ_B)/
#   make fuzz [FUZZ_SECONDS=60]   replay tests/fuzz/crashes/, then fuzz each
#                                 target FUZZ_SECONDS on a copy of its seeds;
#                                 fails if any target crashes, leaks, trips
#                                 UBSan, times out or runs out of memory
#   make fuzz FUZZ_TARGETS="fuzz_profile fuzz_bundle"   only those
#
# Everything is built with clang (-fsanitize=fuzzer,address,undefined)
# into its own directory; no gcc object is reused.

FUZZ_B        ?= build-fuzz
FUZZ_CC       ?= clang
FUZZ_SECONDS  ?= 60
FUZZ_TIMEOUT  ?= 1
FUZZ_TARGETS  ?= $(basename $(notdir $(wildcard tests/fuzz/fuzz_*.c)))

FUZZ_SAN      := -fsanitize=address,undefined -fno-sanitize-recover=undefined \
                 -fno-omit-frame-pointer
# Project code: instrumented for coverage; warnings shown, not fatal
# (clang's set differs from gcc's, which the real build enforces).
# MUSTER_FUZZING (this build only; libFuzzer's convention for the same is
# FUZZING_BUILD_MODE_UNSAFE_FOR_PRODUCTION) makes server/http.c listen in
# plain HTTP, for fuzz_http; nothing else defines it.
FUZZ_CFLAGS   := -std=c11 -D_GNU_SOURCE -g -O1 -Iinclude $(FUZZ_SAN) \
                 -fsanitize=fuzzer-no-link -Wall -Wextra -DMUSTER_FUZZING \
                 -DMUSTER_VERSION=\"$(VERSION)\" \
                 -DMUSTER_LIBEXECDIR=\"$(LIBEXECDIR)\" $(PKG_CFLAGS)
# The harnesses: the house warnings, fatal.
FUZZ_HCFLAGS  := -std=c11 -D_GNU_SOURCE -g -O1 -Iinclude $(FUZZ_SAN) \
                 $(WARN) $(PKG_CFLAGS)
FUZZ_LDFLAGS  := -fsanitize=fuzzer $(FUZZ_SAN)

FUZZ_LIB_OBJ      := $(LIB_SRC:%.c=$(FUZZ_B)/obj/%.o)
FUZZ_AGENT_OBJ    := $(AGENT_SRC:%.c=$(FUZZ_B)/obj/%.o)
FUZZ_REPORTER_OBJ := $(REPORTER_SRC:%.c=$(FUZZ_B)/obj/%.o)
FUZZ_SERVER_OBJ   := $(SERVER_SRC:%.c=$(FUZZ_B)/obj/%.o)
FUZZ_ALL_OBJ      := $(FUZZ_LIB_OBJ) $(FUZZ_AGENT_OBJ) $(FUZZ_REPORTER_OBJ) \
                     $(FUZZ_SERVER_OBJ)
FUZZ_BINS         := $(FUZZ_TARGETS:%=$(FUZZ_B)/%)

# What each target links beyond its harness; archives pull in only what
# is used.
FUZZ_LINK_fuzz_profile := $(FUZZ_B)/libmuster.a
FUZZ_LIBS_fuzz_profile := $(LIBS_CORE)
FUZZ_LINK_fuzz_cfgtree := $(FUZZ_B)/libmuster.a
FUZZ_LIBS_fuzz_cfgtree := $(LIBS_CORE)
FUZZ_LINK_fuzz_minisig := $(FUZZ_B)/libmuster.a
FUZZ_LIBS_fuzz_minisig := $(LIBS_CORE)
FUZZ_LINK_fuzz_bundle  := $(FUZZ_B)/libmuster.a
FUZZ_LIBS_fuzz_bundle  := $(LIBS_CORE)
FUZZ_LINK_fuzz_root    := $(FUZZ_B)/libmuster.a
FUZZ_LIBS_fuzz_root    := $(LIBS_CORE)
FUZZ_LINK_fuzz_simdev  := $(FUZZ_B)/agent.a $(FUZZ_B)/libmuster.a
FUZZ_LIBS_fuzz_simdev  := $(LIBS_CORE)
FUZZ_LINK_fuzz_proctcp := $(FUZZ_B)/agent.a $(FUZZ_B)/libmuster.a
FUZZ_LIBS_fuzz_proctcp := $(LIBS_CORE)
FUZZ_LINK_fuzz_sockdiag := $(FUZZ_B)/agent.a $(FUZZ_B)/libmuster.a
FUZZ_LIBS_fuzz_sockdiag := $(LIBS_CORE)
FUZZ_LINK_fuzz_frame   := $(FUZZ_B)/agent.a $(FUZZ_B)/reporter.a \
                          $(FUZZ_B)/libmuster.a
FUZZ_LIBS_fuzz_frame   := $(LIBS_CORE)
FUZZ_LINK_fuzz_agent   := $(FUZZ_B)/agent.a $(FUZZ_B)/libmuster.a
FUZZ_LIBS_fuzz_agent   := $(LIBS_CORE)
FUZZ_LINK_fuzz_report  := $(FUZZ_B)/server.a $(FUZZ_B)/libmuster.a
FUZZ_LIBS_fuzz_report  := $(LIBS_SERVER)
FUZZ_LINK_fuzz_server  := $(FUZZ_B)/server.a $(FUZZ_B)/libmuster.a
FUZZ_LIBS_fuzz_server  := $(LIBS_SERVER)
FUZZ_LINK_fuzz_http    := $(FUZZ_B)/server.a $(FUZZ_B)/libmuster.a
FUZZ_LIBS_fuzz_http    := $(LIBS_SERVER)
FUZZ_LINK_fuzz_receipt := $(FUZZ_B)/server.a $(FUZZ_B)/libmuster.a
FUZZ_LIBS_fuzz_receipt := $(LIBS_SERVER)
FUZZ_LINK_fuzz_console := $(FUZZ_B)/server.a $(FUZZ_B)/libmuster.a
FUZZ_LIBS_fuzz_console := $(LIBS_SERVER)
FUZZ_LINK_fuzz_proof   := $(FUZZ_B)/server.a $(FUZZ_B)/libmuster.a
FUZZ_LIBS_fuzz_proof   := $(LIBS_SERVER)

# Headers are found by the compiler (-MMD -MP, as in the main build).
FUZZ_DEPFLAGS = -MMD -MP -MF $@.d
-include $(shell find $(FUZZ_B) -name '*.d' 2>/dev/null)

.PHONY: fuzz fuzz-build fuzz-clean
fuzz-build: $(FUZZ_BINS)

$(FUZZ_ALL_OBJ): $(FUZZ_B)/obj/%.o: %.c tests/fuzz/fuzz.mk
	@mkdir -p $(dir $@)
	$(Q)$(FUZZ_CC) $(FUZZ_CFLAGS) $(FUZZ_DEPFLAGS) -c -o $@ $<

$(FUZZ_B)/libmuster.a: $(FUZZ_LIB_OBJ)
	$(Q)rm -f $@; ar rcs $@ $^
$(FUZZ_B)/agent.a: $(FUZZ_AGENT_OBJ)
	$(Q)rm -f $@; ar rcs $@ $^
$(FUZZ_B)/reporter.a: $(FUZZ_REPORTER_OBJ)
	$(Q)rm -f $@; ar rcs $@ $^
$(FUZZ_B)/server.a: $(FUZZ_SERVER_OBJ)
	$(Q)rm -f $@; ar rcs $@ $^

define FUZZ_BIN_RULE
$(FUZZ_B)/$(1): tests/fuzz/$(1).c $(FUZZ_LINK_$(1)) tests/fuzz/fuzz.mk
	@mkdir -p $(FUZZ_B)
	$(Q)$(FUZZ_CC) $(FUZZ_HCFLAGS) $$(FUZZ_DEPFLAGS) $(FUZZ_LDFLAGS) -o $$@ $$< \
	    $(FUZZ_LINK_$(1)) $(FUZZ_LIBS_$(1))
endef
$(foreach t,$(FUZZ_TARGETS),$(eval $(call FUZZ_BIN_RULE,$(t))))

# One target after another (the cores are shared with other work); every
# target runs even when an earlier one failed.
fuzz: fuzz-build
	@failed=""; \
	for t in $(FUZZ_TARGETS); do \
		FUZZ_B=$(FUZZ_B) FUZZ_SECONDS=$(FUZZ_SECONDS) \
		    FUZZ_TIMEOUT=$(FUZZ_TIMEOUT) \
		    sh tests/fuzz/run.sh $$t || failed="$$failed $$t"; \
	done; \
	if [ -n "$$failed" ]; then echo "fuzz: FAILED:$$failed"; exit 1; fi

fuzz-clean:
	rm -rf $(FUZZ_B)

clean: fuzz-clean
