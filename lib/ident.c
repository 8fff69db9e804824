/* ident: the deny-list of identifying settings and properties; ident.h. */
#include <stddef.h>
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

/* 1 if s contains the lowercase needle, ASCII case ignored. */
static int
has_marker(const char *s, const char *needle)
{
	size_t i, j;

	for (i = 0; s[i] != '\0'; i++) {
		for (j = 0; needle[j] != '\0'; j++)
			if (lower((unsigned char)s[i + j]) != needle[j])
				break;
		if (needle[j] == '\0')
			return 1;
	}
	return 0;
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
	size_t i;

	if (s == NULL)
		return NULL;
	for (i = 0; ident_markers[i] != NULL; i++)
		if (has_marker(s, ident_markers[i]))
			return ident_markers[i];
	return NULL;
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
