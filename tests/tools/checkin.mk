# The check-in tests' tools (tests/e2e/test_checkin*.sh, tests/bench/
# checkin.sh): tcpcut, the counting and cutting TCP proxy, is built by the
# top Makefile's generic tests/tools rule; skewclock.so, the wall-clock
# shift for the clock-skew test, is a preloaded library and is built
# without the sanitizer (it is loaded ahead of any runtime).
TOOLS += $(B)/tests/tools/tcpcut $(B)/tests/tools/skewclock.so
$(B)/tests/tools/skewclock.so: tests/tools/skewclock.c
	@mkdir -p $(dir $@)
	$(Q)$(CC) -shared -fPIC -O2 -Wall -Wextra -Werror -o $@ $< -ldl

# checkin, the fleet load tool of tests/bench/checkin.sh, signs like a
# device (libmuster) and checks in like one (libcurl).
TOOLS += $(B)/tests/tools/checkin
$(B)/tests/tools/checkin: tests/tools/checkin.c $(B)/libmuster.a $(B)/reporter.a
	@mkdir -p $(dir $@)
	$(Q)$(CC) $(ALL_CFLAGS) $(DEPFLAGS) $(ALL_LDFLAGS) -o $@ $< \
	    $(B)/reporter.a $(B)/libmuster.a $(LIBS_CORE) $(LIBS_REPORTER) -lpthread
