# The terminal renderer of the QR test (tests/e2e/test_token.sh): text as a
# terminal draws it, to an image zbarimg decodes.  Built by the generic
# tests/tools rule of the top Makefile.
TOOLS += $(B)/tests/tools/termqr
