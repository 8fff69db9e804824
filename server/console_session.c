/* console_session: sign-in sessions in memory; see console_session.h. */
#include <pthread.h>
#include <string.h>
#include <time.h>

#include <sodium.h>

#include "console_session.h"

#define B64URL	sodium_base64_VARIANT_URLSAFE_NO_PADDING
#define ID_HASH	crypto_generichash_BYTES	/* 32 */

struct console_sess {
	int		live;
	unsigned char	idhash[ID_HASH];
	unsigned char	cred[CONSOLE_CRED_BYTES];
	char		csrf[CONSOLE_SECRET_B64];
	time_t		created, used;
};

static struct console_sess sessions[CONSOLE_SESSIONS_MAX];
static pthread_mutex_t sessions_mu = PTHREAD_MUTEX_INITIALIZER;

static void
sess_end(struct console_sess *s)
{
	sodium_memzero(s, sizeof *s);
}

/* The hash of an id as given; -1 when it cannot be one. */
static int
id_hash(const char *id, unsigned char h[ID_HASH])
{
	size_t n;

	if (id == NULL || (n = strlen(id)) != CONSOLE_SECRET_B64 - 1)
		return -1;
	crypto_generichash(h, ID_HASH, (const unsigned char *)id, n, NULL, 0);
	return 0;
}

/* The live session with hash h, or NULL; every slot is compared. */
static struct console_sess *
sess_find(const unsigned char h[ID_HASH])
{
	struct console_sess *found = NULL;
	size_t i;

	for (i = 0; i < CONSOLE_SESSIONS_MAX; i++)
		if (sodium_memcmp(sessions[i].idhash, h, ID_HASH) == 0 &&
		    sessions[i].live)
			found = &sessions[i];
	return found;
}

static int
random_b64(char out[CONSOLE_SECRET_B64])
{
	unsigned char r[CONSOLE_SECRET_BYTES];

	randombytes_buf(r, sizeof r);
	sodium_bin2base64(out, CONSOLE_SECRET_B64, r, sizeof r, B64URL);
	sodium_memzero(r, sizeof r);
	return strlen(out) == CONSOLE_SECRET_B64 - 1 ? 0 : -1;
}

int
console_session_new(const unsigned char *cred, time_t now,
    char id[CONSOLE_SECRET_B64], char csrf[CONSOLE_SECRET_B64])
{
	struct console_sess *slot = NULL;
	unsigned char h[ID_HASH];
	size_t i;
	int rc = -1;

	if (random_b64(id) != 0 || random_b64(csrf) != 0 ||
	    id_hash(id, h) != 0)
		goto out;
	pthread_mutex_lock(&sessions_mu);
	for (i = 0; i < CONSOLE_SESSIONS_MAX; i++) {
		struct console_sess *s = &sessions[i];

		if (s->live && (now - s->used > CONSOLE_SESSION_IDLE ||
		    now - s->created > CONSOLE_SESSION_MAX_AGE))
			sess_end(s);
		if (!s->live) {
			if (slot == NULL || slot->live)
				slot = s;
		} else if (slot == NULL || (slot->live && s->used < slot->used))
			slot = s;
	}
	sess_end(slot);
	slot->live = 1;
	memcpy(slot->idhash, h, sizeof h);
	memcpy(slot->cred, cred, CONSOLE_CRED_BYTES);
	memcpy(slot->csrf, csrf, CONSOLE_SECRET_B64);
	slot->created = slot->used = now;
	pthread_mutex_unlock(&sessions_mu);
	rc = 0;
out:
	sodium_memzero(h, sizeof h);
	if (rc != 0) {
		sodium_memzero(id, CONSOLE_SECRET_B64);
		sodium_memzero(csrf, CONSOLE_SECRET_B64);
	}
	return rc;
}

int
console_session_check(const char *id, const unsigned char *cred, time_t now,
    char csrf[CONSOLE_SECRET_B64])
{
	struct console_sess *s;
	unsigned char h[ID_HASH];
	int ok = 0;

	if (id_hash(id, h) != 0)
		return 0;
	pthread_mutex_lock(&sessions_mu);
	if ((s = sess_find(h)) != NULL) {
		if (now - s->used > CONSOLE_SESSION_IDLE ||
		    now - s->created > CONSOLE_SESSION_MAX_AGE ||
		    now < s->created ||
		    sodium_memcmp(s->cred, cred, CONSOLE_CRED_BYTES) != 0)
			sess_end(s);
		else {
			s->used = now;
			if (csrf != NULL)
				memcpy(csrf, s->csrf, CONSOLE_SECRET_B64);
			ok = 1;
		}
	}
	pthread_mutex_unlock(&sessions_mu);
	sodium_memzero(h, sizeof h);
	return ok;
}

int
console_session_csrf_ok(const char *id, const char *token)
{
	struct console_sess *s;
	unsigned char h[ID_HASH];
	int ok = 0;

	if (token == NULL || strlen(token) != CONSOLE_SECRET_B64 - 1 ||
	    id_hash(id, h) != 0)
		return 0;
	pthread_mutex_lock(&sessions_mu);
	if ((s = sess_find(h)) != NULL)
		ok = sodium_memcmp(s->csrf, token, CONSOLE_SECRET_B64 - 1) == 0;
	pthread_mutex_unlock(&sessions_mu);
	sodium_memzero(h, sizeof h);
	return ok;
}

void
console_session_end(const char *id)
{
	struct console_sess *s;
	unsigned char h[ID_HASH];

	if (id_hash(id, h) != 0)
		return;
	pthread_mutex_lock(&sessions_mu);
	if ((s = sess_find(h)) != NULL)
		sess_end(s);
	pthread_mutex_unlock(&sessions_mu);
	sodium_memzero(h, sizeof h);
}

void
console_session_clear(void)
{
	size_t i;

	pthread_mutex_lock(&sessions_mu);
	for (i = 0; i < CONSOLE_SESSIONS_MAX; i++)
		sess_end(&sessions[i]);
	pthread_mutex_unlock(&sessions_mu);
}

int
console_session_cred(const char *id, unsigned char *cred)
{
	struct console_sess *s;
	unsigned char h[ID_HASH];
	int ok = 0;

	if (id == NULL || id_hash(id, h) != 0)
		return 0;
	pthread_mutex_lock(&sessions_mu);
	if ((s = sess_find(h)) != NULL) {
		memcpy(cred, s->cred, CONSOLE_CRED_BYTES);
		ok = 1;
	}
	pthread_mutex_unlock(&sessions_mu);
	sodium_memzero(h, sizeof h);
	return ok;
}
