/*
 * signrate [SECONDS]: signs a 200-byte message with raw Ed25519
 * (crypto_sign_detached) on one core for about SECONDS (default 1) and
 * prints "signs_per_s=N": the baseline the roster benchmark compares
 * bundles per second against.
 */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include <sodium.h>

#define MSG_BYTES	200
#define BATCH		256

static double
now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int
main(int argc, char **argv)
{
	unsigned char pk[crypto_sign_PUBLICKEYBYTES];
	unsigned char sk[crypto_sign_SECRETKEYBYTES];
	unsigned char msg[MSG_BYTES], sig[crypto_sign_BYTES];
	double secs = argc > 1 ? atof(argv[1]) : 1.0, start, t;
	unsigned long n = 0;
	int i;

	if (sodium_init() < 0 || secs <= 0) {
		fprintf(stderr, "usage: signrate [SECONDS]\n");
		return 64;
	}
	crypto_sign_keypair(pk, sk);
	randombytes_buf(msg, sizeof msg);
	sodium_memzero(sig, sizeof sig);
	start = now();
	do {
		for (i = 0; i < BATCH; i++) {
			/* A new message each time, as each token differs. */
			msg[n % MSG_BYTES] ^= sig[i % crypto_sign_BYTES];
			crypto_sign_detached(sig, NULL, msg, sizeof msg, sk);
			n++;
		}
		t = now() - start;
	} while (t < secs);
	printf("signs_per_s=%.0f\n", (double)n / t);
	sodium_memzero(sk, sizeof sk);
	return 0;
}
