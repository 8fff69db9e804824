# rrsim: the family randomized response at scale (lib/rr.c and the
# agent's rrmemo.c), for tests/e2e/test_privacy_rr.sh and
# tests/bench/privacy.sh; writes stores through the store's loader.
TOOLS += $(B)/tests/tools/rrsim
$(B)/tests/tools/rrsim: tests/tools/rrsim.c $(B)/agent.a $(B)/server.a $(B)/libmuster.a
	@mkdir -p $(dir $@)
	$(Q)$(CC) $(ALL_CFLAGS) $(DEPFLAGS) $(ALL_LDFLAGS) -o $@ $< $(B)/agent.a \
	    $(B)/server.a $(B)/libmuster.a $(LIBS_SERVER)
