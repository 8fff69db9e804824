# Muster: hand-written Makefile.  See README.md.
#
#   make            build the programs into build/bin
#   make check      install missing Debian packages (as root), build, run
#                   every test, also under ASan+UBSan; ends "N passed, N failed"
#   make bench      benchmarks, each figure beside a same-run baseline
#   make fuzz       every libFuzzer target (FUZZ_SECONDS=60 each)
#   make demo       the whole story on loopback, narrated
#   make install    programs, man pages, docs and the example config under
#                   PREFIX (/usr/local) in DESTDIR; nothing in /etc or /var
#   make install-units    the systemd units, in UNITDIR
#   make install-dirs     SYSCONFDIR/muster and LOCALSTATEDIR/lib/muster-server
#   make uninstall  removes what install and install-units installed
#   make deb        Debian packages (dpkg-buildpackage), into build-deb/
#
# libmuster.a is built from lib/, one archive per program from its
# directory (every .c but main.c); programs, unit tests and fuzzers link
# the archives.  Objects depend on the headers the compiler lists.

PREFIX  ?= /usr/local
BINDIR  ?= $(PREFIX)/bin
MANDIR  ?= $(PREFIX)/share/man
DOCDIR  ?= $(PREFIX)/share/doc/muster
UNITDIR ?= $(PREFIX)/lib/systemd/system
# The programs' defaults are /etc/muster/server.cfg and /var/lib/muster
# whatever the PREFIX (FHS: host-specific files stay in /etc and /var), so
# these do not follow PREFIX; only install-dirs uses them.
SYSCONFDIR    ?= /etc
LOCALSTATEDIR ?= /var
DESTDIR ?=
VERSION := 0.1.0

B       ?= build
V       ?=
Q       := $(if $(V),,@)
SAN     ?=
CC      ?= cc

PKGS     := libsodium libconfig openssl libcurl jansson cmocka libmicrohttpd \
            sqlite3 libqrencode libpng libpq
PKG_CFLAGS := $(shell pkg-config --cflags $(PKGS) 2>/dev/null)

WARN    := -Wall -Wextra -Werror -Wshadow -Wstrict-prototypes \
           -Wmissing-prototypes -Wformat=2 -Wno-format-nonliteral
CFLAGS  ?= -O2 -g
ifeq ($(SAN),)
HARDEN  := -fstack-protector-strong -D_FORTIFY_SOURCE=2
else
HARDEN  := -fstack-protector-strong -fsanitize=address,undefined \
           -fno-omit-frame-pointer -fno-sanitize-recover=undefined
endif
ALL_CFLAGS  = -std=c11 -D_GNU_SOURCE \
              $(WARN) $(HARDEN) $(CFLAGS) -Iinclude \
              -DMUSTER_VERSION=\"$(VERSION)\" \
              -DMUSTER_LIBEXECDIR=\"$(LIBEXECDIR)\" $(PKG_CFLAGS)
ALL_LDFLAGS = -Wl,-z,relro -Wl,-z,now -Wl,--as-needed $(HARDEN) $(LDFLAGS)

LIBS_CORE   := $(shell pkg-config --libs libsodium libconfig jansson 2>/dev/null)
LIBS_ENROLL := $(LIBS_CORE) $(shell pkg-config --libs libcrypto libcurl libqrencode libpng 2>/dev/null)
LIBS_SERVER := $(LIBS_CORE) $(shell pkg-config --libs libmicrohttpd gnutls sqlite3 libpq libcrypto 2>/dev/null) -lpthread
LIBS_REPORTER := $(shell pkg-config --libs libcurl libssl libcrypto 2>/dev/null)
LIBS_TEST   := $(LIBS_ENROLL) $(LIBS_SERVER) $(shell pkg-config --libs cmocka 2>/dev/null)

LIB_SRC     := $(wildcard lib/*.c)
ENROLL_SRC  := $(filter-out enroll/main.c,$(wildcard enroll/*.c))
AGENT_SRC   := $(filter-out agent/main.c,$(wildcard agent/*.c agent/device/*.c))
SERVER_SRC  := $(filter-out server/main.c,$(wildcard server/*.c))
REPORTER_SRC := $(filter-out agent/reporter/main.c,$(wildcard agent/reporter/*.c))
LIB_OBJ     := $(LIB_SRC:%.c=$(B)/%.o)
ENROLL_OBJ  := $(ENROLL_SRC:%.c=$(B)/%.o)
AGENT_OBJ   := $(AGENT_SRC:%.c=$(B)/%.o)
SERVER_OBJ  := $(SERVER_SRC:%.c=$(B)/%.o)
REPORTER_OBJ := $(REPORTER_SRC:%.c=$(B)/%.o)
ARCHIVES    := $(B)/enroll.a $(B)/agent.a $(B)/server.a $(B)/reporter.a \
               $(B)/libmuster.a

# The agent's reporter is found beside muster-agent, else here.
LIBEXECDIR  ?= $(PREFIX)/libexec/muster

# The paths compiled into the programs, in a stamp rewritten only when
# they change: the objects that embed one depend on it, so a make (or
# make install) with another PREFIX rebuilds them and nothing else.
PATHS_NOW   := LIBEXECDIR=$(LIBEXECDIR)

PROGS       := $(B)/bin/muster-enroll $(B)/bin/muster-agent \
               $(if $(wildcard server/main.c),$(B)/bin/muster-server) \
               $(if $(wildcard agent/reporter/main.c),$(B)/bin/muster-reporter)
UNIT_SRC    := $(wildcard tests/unit/test_*.c)
UNIT_BIN    := $(UNIT_SRC:tests/unit/%.c=$(B)/tests/%)

.PHONY: all check test deps install install-units install-dirs uninstall \
        deb demo clean bench FORCE
all: $(PROGS)

$(B)/paths.stamp: FORCE
	@mkdir -p $(dir $@)
	$(Q)if [ "$$(cat $@ 2>/dev/null)" != '$(PATHS_NOW)' ]; then \
	    echo '$(PATHS_NOW)' >$@; fi
$(B)/agent/net.o: $(B)/paths.stamp

# Each object depends on the headers it includes, as the compiler lists
# them (-MMD -MP writes $@.d beside it), and on the Makefile's flags.
DEPFLAGS = -MMD -MP -MF $@.d

$(B)/%.o: %.c Makefile
	@mkdir -p $(dir $@)
	$(Q)$(CC) $(ALL_CFLAGS) $(DEPFLAGS) -c -o $@ $<

$(B)/libmuster.a: $(LIB_OBJ)
	$(Q)rm -f $@; ar rcs $@ $^

$(B)/enroll.a: $(ENROLL_OBJ)
	$(Q)rm -f $@; ar rcs $@ $^

$(B)/agent.a: $(AGENT_OBJ)
	$(Q)rm -f $@; ar rcs $@ $^

$(B)/server.a: $(SERVER_OBJ)
	$(Q)rm -f $@; ar rcs $@ $^

$(B)/reporter.a: $(REPORTER_OBJ)
	$(Q)rm -f $@; ar rcs $@ $^

$(B)/bin/muster-enroll: $(B)/enroll/main.o $(B)/enroll.a $(B)/libmuster.a
	@mkdir -p $(dir $@)
	$(Q)$(CC) $(ALL_LDFLAGS) -o $@ $^ $(LIBS_ENROLL)

$(B)/bin/muster-agent: $(B)/agent/main.o $(B)/agent.a $(B)/libmuster.a
	@mkdir -p $(dir $@)
	$(Q)$(CC) $(ALL_LDFLAGS) -o $@ $^ $(LIBS_CORE)

$(B)/bin/muster-server: $(B)/server/main.o $(B)/server.a $(B)/libmuster.a
	@mkdir -p $(dir $@)
	$(Q)$(CC) $(ALL_LDFLAGS) -o $@ $^ $(LIBS_SERVER)

# The reporter links libcurl and nothing of the agent's secrets: of
# libmuster only the pinned client (lib/https.o: libcurl and libc) and
# lib/io.o (libc).
$(B)/bin/muster-reporter: $(B)/agent/reporter/main.o $(B)/reporter.a \
    $(B)/lib/https.o $(B)/lib/io.o
	@mkdir -p $(dir $@)
	$(Q)$(CC) $(ALL_LDFLAGS) -o $@ $^ $(LIBS_REPORTER)

# Unit tests link every module archive; archives pull in only what is used.
$(B)/tests/%: tests/unit/%.c $(ARCHIVES) Makefile
	@mkdir -p $(dir $@)
	$(Q)$(CC) $(ALL_CFLAGS) $(DEPFLAGS) $(ALL_LDFLAGS) -o $@ $< $(ARCHIVES) \
	    $(LIBS_TEST)

TOOLS       := $(B)/tests/tools/tcphold $(B)/tests/tools/rusage

$(B)/tests/tools/%: tests/tools/%.c
	@mkdir -p $(dir $@)
	$(Q)$(CC) $(ALL_CFLAGS) $(DEPFLAGS) $(ALL_LDFLAGS) -o $@ $<

# Raw Ed25519 signing rate, the roster benchmark's baseline.
TOOLS += $(B)/tests/tools/signrate
$(B)/tests/tools/signrate: tests/tools/signrate.c
	@mkdir -p $(dir $@)
	$(Q)$(CC) $(ALL_CFLAGS) $(DEPFLAGS) $(ALL_LDFLAGS) -o $@ $< $(LIBS_CORE)

# The roll-up benchmark's store generator writes through the real schema.
TOOLS += $(B)/tests/tools/rollupgen
$(B)/tests/tools/rollupgen: tests/tools/rollupgen.c $(B)/server.a $(B)/libmuster.a
	@mkdir -p $(dir $@)
	$(Q)$(CC) $(ALL_CFLAGS) $(DEPFLAGS) $(ALL_LDFLAGS) -o $@ $< $(B)/server.a \
	    $(B)/libmuster.a $(LIBS_SERVER)

# The ingest load tool signs like a device (libmuster) and posts (libcurl).
TOOLS += $(B)/tests/tools/ingest
$(B)/tests/tools/ingest: tests/tools/ingest.c $(B)/libmuster.a
	@mkdir -p $(dir $@)
	$(Q)$(CC) $(ALL_CFLAGS) $(DEPFLAGS) $(ALL_LDFLAGS) -o $@ $< $(B)/libmuster.a \
	    $(LIBS_CORE) $(LIBS_REPORTER)

# Test machinery with rules of its own (fuzzers, fault injection) keeps
# them beside its sources; each fragment may add to TOOLS.
-include $(wildcard tests/*/*.mk)

# The dependency lists the compiler wrote (see DEPFLAGS).
-include $(shell find $(B) -name '*.d' 2>/dev/null)

test: $(PROGS) $(UNIT_BIN) $(TOOLS)

deps:
	@sh scripts/deps.sh

# The plain build first, then the sanitizer build of the same tests; one
# runner counts both and prints the closing "N passed, N failed" line.
check: deps
	@$(MAKE) --no-print-directory test
	@$(MAKE) --no-print-directory test B=build-san SAN=1
	@sh tests/run.sh build build-san

# make install: files only, nothing in /etc or /var (install-dirs does
# that, when asked).  Each list below is what uninstall removes again.
INST_BIN    := $(notdir $(filter-out %/muster-reporter,$(PROGS)))
INST_LIBEXEC := $(notdir $(filter %/muster-reporter,$(PROGS)))
INST_MAN1   := $(notdir $(wildcard docs/man/*.1))
INST_MAN5   := $(notdir $(wildcard docs/man/*.5))
INST_DOC    := README.md $(wildcard docs/*.md)
INST_DOCN   := $(notdir $(INST_DOC))
INST_UNITS  := $(notdir $(wildcard dist/systemd/*.service))

install: $(PROGS)
	install -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(MANDIR)/man1 \
	    $(DESTDIR)$(MANDIR)/man5 $(DESTDIR)$(DOCDIR)/examples
	install -m 0755 $(INST_BIN:%=$(B)/bin/%) $(DESTDIR)$(BINDIR)/
	$(if $(INST_LIBEXEC),install -d $(DESTDIR)$(LIBEXECDIR))
	$(if $(INST_LIBEXEC),install -m 0755 $(B)/bin/muster-reporter $(DESTDIR)$(LIBEXECDIR)/)
	install -m 0644 $(INST_MAN1:%=docs/man/%) $(DESTDIR)$(MANDIR)/man1/
	install -m 0644 $(INST_MAN5:%=docs/man/%) $(DESTDIR)$(MANDIR)/man5/
	install -m 0644 $(INST_DOC) $(DESTDIR)$(DOCDIR)/
	install -m 0644 examples/server.cfg $(DESTDIR)$(DOCDIR)/examples/

# The units name /usr/bin and /usr/libexec/muster (the Debian packages'
# paths); installed, they name BINDIR and LIBEXECDIR.
install-units:
	install -d $(DESTDIR)$(UNITDIR)
	for u in $(INST_UNITS); do \
	    sed -e 's|/usr/bin/|$(BINDIR)/|g' \
	        -e 's|/usr/libexec/muster/|$(LIBEXECDIR)/|g' \
	        dist/systemd/$$u >$(DESTDIR)$(UNITDIR)/$$u.tmp && \
	    chmod 0644 $(DESTDIR)$(UNITDIR)/$$u.tmp && \
	    mv $(DESTDIR)$(UNITDIR)/$$u.tmp $(DESTDIR)$(UNITDIR)/$$u || exit 1; \
	done

# The server's configuration directory and its store (0700); give both
# to the server's user (docs/operations.md).  uninstall leaves them.
install-dirs:
	install -d -m 0755 $(DESTDIR)$(SYSCONFDIR)/muster
	install -d -m 0700 $(DESTDIR)$(LOCALSTATEDIR)/lib/muster-server

# Exactly the files install and install-units wrote, and the directories
# that are Muster's own once they are empty.
uninstall:
	rm -f $(INST_BIN:%=$(DESTDIR)$(BINDIR)/%) \
	    $(INST_LIBEXEC:%=$(DESTDIR)$(LIBEXECDIR)/%) \
	    $(INST_MAN1:%=$(DESTDIR)$(MANDIR)/man1/%) \
	    $(INST_MAN5:%=$(DESTDIR)$(MANDIR)/man5/%) \
	    $(INST_DOCN:%=$(DESTDIR)$(DOCDIR)/%) \
	    $(DESTDIR)$(DOCDIR)/examples/server.cfg \
	    $(INST_UNITS:%=$(DESTDIR)$(UNITDIR)/%)
	rmdir $(DESTDIR)$(LIBEXECDIR) $(DESTDIR)$(DOCDIR)/examples \
	    $(DESTDIR)$(DOCDIR) 2>/dev/null || :

# Debian packages (debian/), built from a copy of the tree under
# build-deb/ (beside build/, not in it: the build's dependency files are
# looked for in build/) so that nothing is written into the sources; the
# .debs land in build-deb/.
DEB_DIR     ?= build-deb
DEB_JOBS    ?= 2
deb:
	rm -rf $(DEB_DIR)
	mkdir -p $(DEB_DIR)/muster-$(VERSION)
	tar cf - --exclude-vcs --exclude='./build*' . | \
	    tar xf - -C $(DEB_DIR)/muster-$(VERSION)
	cd $(DEB_DIR)/muster-$(VERSION) && \
	    dpkg-buildpackage -us -uc -b -j$(DEB_JOBS)
	@ls $(DEB_DIR)/*.deb

# Benchmarks print figures and ratios to a baseline measured in the same
# run; they are not pass/fail tests.
bench: $(PROGS) $(TOOLS)
	@bash tests/bench/run.sh $(B)/bin

demo: deps
	@$(MAKE) --no-print-directory all
	@bash scripts/demo.sh $(B)/bin

clean:
	rm -rf build build-san build-deb
