/* rereg: the enrollment receipt and re-registration; rereg.h. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "muster/fs.h"
#include "muster/log.h"
#include "muster/proto.h"
#include "call.h"
#include "devkey.h"
#include "net.h"
#include "rereg.h"
#include "state.h"

int
rereg_store(const char *dir, json_t *receipt, struct muster_err *e)
{
	const char *k;
	json_t *v;
	char *text = NULL, *path = NULL;
	size_t n = 0;
	int rc;

	if (receipt == NULL)
		return 0;
	if (!json_is_object(receipt) || json_object_size(receipt) != 2)
		return err_set(e, MUSTER_EDATA, "server: malformed enrollment "
		    "receipt");
	json_object_foreach(receipt, k, v)
		if ((strcmp(k, "body") != 0 && strcmp(k, "sig") != 0) ||
		    !json_is_string(v))
			return err_set(e, MUSTER_EDATA, "server: malformed "
			    "enrollment receipt");
	if ((text = json_dumps(receipt, JSON_COMPACT | JSON_SORT_KEYS)) ==
	    NULL || (path = fs_path(dir, REREG_FILE)) == NULL) {
		rc = err_set(e, MUSTER_EINTERNAL, "out of memory");
		goto out;
	}
	n = strlen(text);
	if (n > PROTO_RECEIPT_JSON_MAX) {
		rc = err_set(e, MUSTER_EDATA, "server: enrollment receipt of "
		    "%zu bytes (at most %d)", n, PROTO_RECEIPT_JSON_MAX);
		goto out;
	}
	rc = fs_write_atomic(path, text, n, 0600, e);
out:
	free(text);
	free(path);
	return rc;
}

int
rereg_try(const char *dir)
{
	char server[URL_MAX + 1], pins[ROOT_PINS_CURL_MAX], *path = NULL;
	char *buf = NULL, *body = NULL;
	struct sig_seckey *sk = NULL;
	struct net_response rs;
	struct state_cfg c;
	struct muster_err e;
	size_t len = 0;
	int rc = -1;

	memset(&rs, 0, sizeof rs);
	if ((path = fs_path(dir, REREG_FILE)) == NULL)
		goto out;
	if (fs_read_private(path, PROTO_RECEIPT_JSON_MAX, &buf, &len,
	    &e) != 0) {
		log_debug("no enrollment receipt to present: %s", e.msg);
		goto out;
	}
	if (state_cfg_load(dir, &c, &e) != 0 || c.device_id[0] == '\0' ||
	    state_endpoint(dir, &c, server, pins, &e) != 0 ||
	    devkey_load(dir, &sk, &e) != 0) {
		log_warn("cannot present the enrollment receipt: %s", e.msg);
		goto out;
	}
	if (asprintf(&body, "{\"receipt\":%.*s}", (int)len, buf) == -1) {
		body = NULL;
		goto out;
	}
	if (call_post(server, pins, c.device_id, sk, PROTO_PATH_REREGISTER,
	    body, strlen(body), &rs, &e) != 0 ||
	    net_outcome_rc(&rs, &e) != 0) {
		log_warn("re-registration: %s", e.msg);
		goto out;
	}
	if (rs.status == 201) {
		log_info("the server did not know this device (its store was "
		    "restored from an older backup); re-registered it with "
		    "the enrollment receipt");
		rc = 0;
	} else if (rs.status == 200 || rs.status == 401 || rs.status == 403)
		/* Known (so revoked), or refused: the refusal stands. */
		log_debug("re-registration: HTTP %u", rs.status);
	else
		log_warn("re-registration: server answered HTTP %u",
		    rs.status);
out:
	net_response_free(&rs);
	sig_seckey_free(sk);
	free(body);
	free(buf);
	free(path);
	return rc;
}
