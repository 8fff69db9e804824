#!/bin/sh
# Installs the Debian packages Muster needs to build and test, when any are
# missing.  As root it runs apt-get and says what it installs; otherwise it
# names the missing packages and fails.
set -eu

PKGS="gcc make pkg-config libsodium-dev libssl-dev libconfig-dev
libcurl4-openssl-dev libjansson-dev libcmocka-dev libmicrohttpd-dev
libsqlite3-dev libqrencode-dev libpng-dev minisign openssl curl sqlite3
valgrind clang libclang-rt-14-dev zbar-tools
debhelper dpkg-dev fakeroot systemd strace python3
prometheus postgresql libpq-dev haproxy"
# The console's browser test (tests/e2e/test_console.sh): headless
# Chromium driven by Selenium; npm (with nodejs here) fetches axe-core
# into a cache outside the tree.
PKGS="$PKGS chromium chromium-driver python3-selenium nodejs"

missing=""
for p in $PKGS; do
	st=$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)
	case "$st" in
	*"install ok installed"*) ;;
	*) missing="$missing $p" ;;
	esac
done
[ -z "$missing" ] && exit 0

if [ "$(id -u)" -ne 0 ]; then
	echo "deps: missing Debian packages:$missing" >&2
	echo "deps: run as root, or: apt-get install$missing" >&2
	exit 1
fi
echo "deps: installing missing Debian packages:$missing"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
# shellcheck disable=SC2086
apt-get install -y -qq --no-install-recommends $missing
