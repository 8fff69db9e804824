/*
 * store_retain: retention's schedule, shared by both backends; see
 * store_retain.h.
 */
#include "store_retain.h"

#define RETAIN_RESCAN_S		86400	/* the cursor starts over daily */
#define RETAIN_PERIOD_MAX	300	/* seconds between passes, at most */

void
store_retain_set(struct store_retain *r, int64_t seconds)
{
	r->seconds = seconds > 0 ? seconds : 0;
	r->next = 0;
}

int
store_retain_wait(const struct store_retain *r, time_t now)
{
	if (r->seconds == 0)
		return -1;
	if (now >= r->next)
		return 0;
	return (int)(r->next - now);
}

int64_t
store_retain_batch(struct store_retain *r, time_t now)
{
	if (now >= r->rescan) {
		r->cursor = 0;
		r->rescan = now + RETAIN_RESCAN_S;
	}
	return (int64_t)now - r->seconds;
}

void
store_retain_done(struct store_retain *r, time_t now)
{
	int64_t period = r->seconds / 16;

	if (period < 1)
		period = 1;
	if (period > RETAIN_PERIOD_MAX)
		period = RETAIN_PERIOD_MAX;
	r->next = now + (time_t)period;
}
