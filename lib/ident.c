/* ident: the deny-list of identifying settings and properties; ident.h. */
#include <pthread.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "muster/ident.h"

/*
 * Settings that name the device or its owner, as "namespace/key".  Every
 * one also holds a marker below; the list is what the documentation
 * names and what a reader checks first.
 */
const char *const ident_settings[] = {
	"secure/android_id",
	"secure/bluetooth_address",
	"secure/bluetooth_name",
	"global/bluetooth_name",
	"global/device_name",
	"system/device_name",
	"secure/device_name",
	"global/wifi_mac_address",
	"secure/wifi_mac_address",
	"secure/advertising_id",
	"system/lock_screen_owner_info",
	"secure/lock_screen_owner_info",
	NULL,
};

/* System properties (getprop) that name the device, its SIM or owner. */
const char *const ident_props[] = {
	"ro.serialno",
	"ro.boot.serialno",
	"ril.serialnumber",
	"ro.ril.oem.imei",
	"ro.ril.oem.meid",
	"persist.radio.imei",
	"persist.radio.meid",
	"gsm.sim.msisdn",
	"ro.boot.btmacaddr",
	"ro.boot.wifimacaddr",
	"persist.sys.device_name",
	"net.hostname",
	NULL,
};

/*
 * Substrings that make any setting key or property name an identifier,
 * lowercase.  Hardware and network addresses, serial numbers, the
 * telephony identities (IMEI, MEID, ICCID, IMSI, MSISDN, the line-1
 * number), accounts and the names a person gives a device or a network.
 */
const char *const ident_markers[] = {
	"android_id",
	"advertising_id",
	"bluetooth_addr",
	"bluetooth_name",
	"btmac",
	"bt_addr",
	"bdaddr",
	"device_name",
	"mac_address",
	"macaddr",
	"wifi_mac",
	"wifimac",
	"serial",
	"imei",
	"meid",
	"iccid",
	"imsi",
	"msisdn",
	"phone_number",
	"line1",
	"account",
	"email",
	"owner_info",
	"owner_name",
	"user_name",
	"username",
	"hostname",
	"ssid",
	NULL,
};

static int
lower(int ch)
{
	return ch >= 'A' && ch <= 'Z' ? ch - 'A' + 'a' : ch;
}

#define NMARKERS	(sizeof ident_markers / sizeof ident_markers[0] - 1)
_Static_assert(NMARKERS <= 64, "ident_markers outgrew first_mask's bits");

/*
 * For each byte, the markers (bit k: ident_markers[k]) that start with
 * it, made from the list on first use: a key is read once, not once a
 * marker (three reads of each setting rule's key per agent check).
 */
static uint64_t		first_mask[256];
static pthread_once_t	first_once = PTHREAD_ONCE_INIT;

static void
first_build(void)
{
	size_t k;

	for (k = 0; k < NMARKERS; k++)
		first_mask[(unsigned char)ident_markers[k][0]] |=
		    (uint64_t)1 << k;
}

/* 1 if s starts with the lowercase needle, ASCII case ignored. */
static int
starts_with(const char *s, const char *needle)
{
	for (; *needle != '\0'; s++, needle++)
		if (lower((unsigned char)*s) != *needle)
			return 0;
	return 1;
}

/* 1 if a equals b, ASCII case ignored. */
static int
caseeq(const char *a, const char *b)
{
	for (; *a != '\0' && *b != '\0'; a++, b++)
		if (lower((unsigned char)*a) != lower((unsigned char)*b))
			return 0;
	return *a == *b;
}

const char *
ident_marker(const char *s)
{
	uint64_t found = 0, m;
	size_t i;
	int k;

	if (s == NULL)
		return NULL;
	pthread_once(&first_once, first_build);
	for (i = 0; s[i] != '\0'; i++) {
		m = first_mask[(unsigned char)lower((unsigned char)s[i])] &
		    ~found;
		for (; m != 0; m &= m - 1) {
			k = __builtin_ctzll(m);
			if (starts_with(s + i, ident_markers[k]))
				found |= (uint64_t)1 << k;
		}
	}
	/* The marker the list names first, wherever it is in s. */
	return found != 0 ? ident_markers[__builtin_ctzll(found)] : NULL;
}

int
ident_setting_denied(const char *ns, const char *key)
{
	size_t i, n;

	if (key == NULL)
		return 1;
	if (ident_marker(key) != NULL)
		return 1;
	if (ns == NULL)
		return 0;
	n = strlen(ns);
	for (i = 0; ident_settings[i] != NULL; i++)
		if (strncmp(ident_settings[i], ns, n) == 0 &&
		    ident_settings[i][n] == '/' &&
		    caseeq(ident_settings[i] + n + 1, key))
			return 1;
	return 0;
}

int
ident_prop_denied(const char *name)
{
	size_t i;

	if (name == NULL)
		return 1;
	if (ident_marker(name) != NULL)
		return 1;
	for (i = 0; ident_props[i] != NULL; i++)
		if (caseeq(ident_props[i], name))
			return 1;
	return 0;
}
