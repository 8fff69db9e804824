# storegrow: bytes of store growth per report through the real store and
# its retention, with a simulated clock (tests/e2e/test_retention.sh,
# tests/bench/storage.sh).
TOOLS += $(B)/tests/tools/storegrow
$(B)/tests/tools/storegrow: tests/tools/storegrow.c $(B)/server.a $(B)/libmuster.a
	@mkdir -p $(dir $@)
	$(Q)$(CC) $(ALL_CFLAGS) $(DEPFLAGS) $(ALL_LDFLAGS) -o $@ $< $(B)/server.a \
	    $(B)/libmuster.a $(LIBS_SERVER)
