/*
 * timefmt: the one time format Muster reads and writes everywhere
 * (profiles, tokens, reports, consent receipts, logs, the roll-up):
 * RFC 3339 UTC with seconds, YYYY-MM-DDTHH:MM:SSZ, and nothing else.
 */
#ifndef MUSTER_TIMEFMT_H
#define MUSTER_TIMEFMT_H

#include <stdint.h>
#include <time.h>

/* Characters of a formatted time, without the NUL. */
#define TIMEFMT_CHARS	20
/* Bytes of a buffer that holds one formatted time and its NUL (like
 * INET6_ADDRSTRLEN, the terminator counts). */
#define TIMEFMT_LEN	(TIMEFMT_CHARS + 1)

/*
 * Parses an RFC 3339 UTC time of the form YYYY-MM-DDTHH:MM:SSZ (only that
 * form: "Z", no offset, no fraction) with every field range-checked:
 * years 1970 to 9999, seconds 00 to 59 (no leap second).  Returns 0 and
 * the time in *t, or -1 (s or t NULL included); *t is untouched on -1.
 */
int	timefmt_parse(const char *s, time_t *t);

/*
 * Formats t as YYYY-MM-DDTHH:MM:SSZ into buf, which the caller owns.  A
 * time outside years 0000 to 9999 (which timefmt_parse never returns) is
 * written as "0000-00-00T00:00:00Z", which timefmt_parse refuses.
 */
void	timefmt_format(time_t t, char buf[TIMEFMT_LEN]);

/*
 * Formats t like timefmt_format; returns 0 if the text parses back to t,
 * -1 (buf still written) if t is outside what timefmt_parse accepts.
 */
int	timefmt_format_exact(time_t t, char buf[TIMEFMT_LEN]);

/*
 * The monotonic clock (CLOCK_MONOTONIC) in milliseconds, for deadlines
 * and durations; never a date.
 */
int64_t	timefmt_mono_ms(void);

#endif
