# Fault-injection tools for tests/e2e/test_fault_*.sh (included by the
# Makefile).  Built without sanitizers in every build directory: the
# failinject.so shim is preloaded into plain binaries only (ASan must be
# the first object loaded), and the others only drive and kill processes.

FAULT_CFLAGS := -std=c11 -D_GNU_SOURCE $(WARN) -O2 -g $(PKG_CFLAGS)
FAULT_DIR    := $(B)/tests/faults

TOOLS += $(FAULT_DIR)/failinject.so $(FAULT_DIR)/killat \
         $(FAULT_DIR)/slowloris

$(FAULT_DIR)/failinject.so: tests/faults/failinject.c tests/faults/faults.mk
	@mkdir -p $(dir $@)
	$(Q)$(CC) $(FAULT_CFLAGS) -fPIC -shared -o $@ $< -ldl -lpthread

$(FAULT_DIR)/killat: tests/faults/killat.c tests/faults/faults.mk
	@mkdir -p $(dir $@)
	$(Q)$(CC) $(FAULT_CFLAGS) -o $@ $<

$(FAULT_DIR)/slowloris: tests/faults/slowloris.c tests/faults/faults.mk
	@mkdir -p $(dir $@)
	$(Q)$(CC) $(FAULT_CFLAGS) -o $@ $< \
	    $(shell pkg-config --libs libssl libcrypto 2>/dev/null)
