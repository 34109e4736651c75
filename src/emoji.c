/* SPDX-License-Identifier: ISC */
/*
 * emoji.c: whether a text is one emoji (API.md, Replies, reactions and
 * pins): one RGI emoji of Unicode's data, with or without its variation
 * selectors, at most EMOJI_BYTES_MAX bytes.  The table (emoji-table.c) is
 * generated at build time by tools/emoji-table from Debian's unicode-data;
 * nothing here knows a code point.
 */
#include <string.h>

#include "sohbet.h"

#define EMOJI_VS16	"\357\270\217"	/* U+FE0F, in UTF-8 */
#define EMOJI_VS16_LEN	3

/* The byte at *i of s[len] with U+FE0F skipped; -1 at the end. */
static int
emoji_next(const char *s, size_t len, size_t *i)
{
	while (*i + EMOJI_VS16_LEN <= len &&
	    memcmp(s + *i, EMOJI_VS16, EMOJI_VS16_LEN) == 0)
		*i += EMOJI_VS16_LEN;
	if (*i == len)
		return -1;
	return (unsigned char)s[(*i)++];
}

/* Compare two texts as if neither held U+FE0F, like strcmp(). */
static int
emoji_compare(const char *a, size_t alen, const char *b, size_t blen)
{
	size_t	i = 0, j = 0;
	int	ca, cb;

	do {
		ca = emoji_next(a, alen, &i);
		cb = emoji_next(b, blen, &j);
	} while (ca == cb && ca != -1);
	return ca - cb;
}

/* Whether s[len] starts with U+FE0F at *i. */
static int
emoji_vs16_at(const char *s, size_t len, size_t i)
{
	return i + EMOJI_VS16_LEN <= len &&
	    memcmp(s + i, EMOJI_VS16, EMOJI_VS16_LEN) == 0;
}

/*
 * Whether s[len] is the fully-qualified emoji e, some of its variation
 * selectors left out (as keyboards do), and none added.
 */
static int
emoji_fits(const char *s, size_t len, const char *e)
{
	size_t	i = 0, j = 0, elen = strlen(e);

	while (i < len && j < elen) {
		if (emoji_vs16_at(e, elen, j) && !emoji_vs16_at(s, len, i))
			j += EMOJI_VS16_LEN;
		else if (s[i++] != e[j++])
			return 0;
	}
	while (emoji_vs16_at(e, elen, j))
		j += EMOJI_VS16_LEN;
	return i == len && j == elen;
}

/*
 * The emoji s[len] is, in its fully-qualified form (a NUL-terminated
 * string of the table), or NULL when it is not exactly one emoji.  The
 * table is sorted as if no emoji held U+FE0F, so the search finds the
 * emoji whatever selectors s left out; emoji_fits() then refuses any it
 * added.
 */
const char *
emoji_lookup(const char *s, size_t len)
{
	const char	*e;
	size_t		 lo = 0, hi = emoji_table_count, mid;
	int		 cmp;

	if (len == 0 || len > EMOJI_BYTES_MAX)
		return NULL;
	while (lo < hi) {
		mid = lo + (hi - lo) / 2;
		e = emoji_table_text + emoji_table_starts[mid];
		if ((cmp = emoji_compare(s, len, e, strlen(e))) == 0)
			return emoji_fits(s, len, e) ? e : NULL;
		if (cmp < 0)
			hi = mid;
		else
			lo = mid + 1;
	}
	return NULL;
}
