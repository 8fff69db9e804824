# trustgen: roots, manifests, signatures and v2 bundles from libmuster's
# own formats, for the agent's trust tests (tests/e2e/test_trust_agent.sh).
TOOLS += $(B)/tests/tools/trustgen
$(B)/tests/tools/trustgen: tests/tools/trustgen.c $(B)/libmuster.a
	@mkdir -p $(dir $@)
	$(Q)$(CC) $(ALL_CFLAGS) $(DEPFLAGS) $(ALL_LDFLAGS) -o $@ $< $(B)/libmuster.a \
	    $(LIBS_CORE)
