/* SPDX-License-Identifier: ISC */
/*
 * text.c: checks on the UTF-8 text clients send: strict decoding, code
 * point counts, control characters, blank text, user names and emails.
 */
#include <stdint.h>
#include <string.h>

#include "sohbet.h"

#define TEXT_USERNAME_MIN	2
#define TEXT_USERNAME_MAX	32
#define TEXT_EMAIL_MIN		3
#define TEXT_EMAIL_MAX		254

/*
 * Decode the code point at *i, advancing *i past it; -1 if the bytes there
 * are not well-formed UTF-8 (RFC 3629: no overlong forms, no surrogates,
 * nothing above U+10FFFF).
 */
static int
text_decode(const unsigned char *s, size_t len, size_t *i, uint32_t *cp)
{
	size_t		 n, k;
	uint32_t	 c;
	unsigned char	 b, lo = 0x80, hi = 0xbf;

	b = s[*i];
	if (b < 0x80) {
		*cp = b;
		(*i)++;
		return 0;
	}
	if (b >= 0xc2 && b <= 0xdf) {
		n = 1;
		c = b & 0x1f;
	} else if (b >= 0xe0 && b <= 0xef) {
		n = 2;
		c = b & 0x0f;
		if (b == 0xe0)
			lo = 0xa0;	/* overlong */
		else if (b == 0xed)
			hi = 0x9f;	/* surrogates */
	} else if (b >= 0xf0 && b <= 0xf4) {
		n = 3;
		c = b & 0x07;
		if (b == 0xf0)
			lo = 0x90;	/* overlong */
		else if (b == 0xf4)
			hi = 0x8f;	/* above U+10FFFF */
	} else
		return -1;
	if (len - *i <= n)
		return -1;
	for (k = 1; k <= n; k++) {
		b = s[*i + k];
		if (b < lo || b > hi)
			return -1;
		lo = 0x80;
		hi = 0xbf;
		c = (c << 6) | (b & 0x3f);
	}
	*cp = c;
	*i += n + 1;
	return 0;
}

/* Say whether a code point is a C0 or C1 control character or DEL. */
static int
text_is_control(uint32_t cp)
{
	return cp < 0x20 || (cp >= 0x7f && cp <= 0x9f);
}

/* Say whether a code point is white space or an invisible separator. */
static int
text_is_space(uint32_t cp)
{
	switch (cp) {
	case ' ':
	case '\t':
	case '\n':
	case '\v':
	case '\f':
	case '\r':
	case 0x0085:
	case 0x00a0:
	case 0x1680:
	case 0x180e:
	case 0x2028:
	case 0x2029:
	case 0x202f:
	case 0x205f:
	case 0x2060:
	case 0x3000:
	case 0xfeff:
		return 1;
	}
	return cp >= 0x2000 && cp <= 0x200d;
}

/* Count the code points of valid UTF-8 without NUL bytes; -1 otherwise. */
long
text_codepoints(const char *s, size_t len)
{
	const unsigned char	*u = (const unsigned char *)s;
	size_t			 i = 0;
	uint32_t		 cp;
	long			 n = 0;

	while (i < len) {
		if (text_decode(u, len, &i, &cp) == -1 || cp == 0)
			return -1;
		n++;
	}
	return n;
}

/*
 * Say whether the text holds a C0 or C1 control character or DEL; text that
 * is not valid UTF-8 counts as holding one.
 */
int
text_has_control(const char *s, size_t len)
{
	const unsigned char	*u = (const unsigned char *)s;
	size_t			 i = 0;
	uint32_t		 cp;

	while (i < len) {
		if (text_decode(u, len, &i, &cp) == -1)
			return 1;
		if (text_is_control(cp))
			return 1;
	}
	return 0;
}

/*
 * Say whether a code point changes the direction of the text around it
 * (the bidirectional embeddings, overrides, isolates and marks): in a file
 * name, "photo\u202Egnp.exe" shows as "photoexe.png".
 */
static int
text_is_bidi_control(uint32_t cp)
{
	return cp == 0x061c || cp == 0x200e || cp == 0x200f ||
	    (cp >= 0x202a && cp <= 0x202e) || (cp >= 0x2066 && cp <= 0x2069);
}

/*
 * Say whether the text is a file name as uploads take it: valid UTF-8 of
 * 1 to max code points, without '/', '\\', control characters or
 * direction controls.
 */
int
text_is_filename(const char *s, size_t len, long max)
{
	const unsigned char	*u = (const unsigned char *)s;
	size_t			 i = 0;
	uint32_t		 cp;
	long			 n = 0;

	while (i < len) {
		if (text_decode(u, len, &i, &cp) == -1 || cp == '/' ||
		    cp == '\\' || text_is_control(cp) ||
		    text_is_bidi_control(cp) || ++n > max)
			return 0;
	}
	return n > 0;
}

/*
 * Say whether the text is empty or only white space and zero-width
 * characters; text that is not valid UTF-8 is not blank.
 */
int
text_is_blank(const char *s, size_t len)
{
	const unsigned char	*u = (const unsigned char *)s;
	size_t			 i = 0;
	uint32_t		 cp;

	while (i < len) {
		if (text_decode(u, len, &i, &cp) == -1)
			return 0;
		if (!text_is_space(cp))
			return 0;
	}
	return 1;
}

/* Say whether the text is a user name: 2 to 32 of [A-Za-z0-9_.-]. */
int
text_is_username(const char *s, size_t len)
{
	size_t	i;
	char	c;

	if (len < TEXT_USERNAME_MIN || len > TEXT_USERNAME_MAX)
		return 0;
	for (i = 0; i < len; i++) {
		c = s[i];
		if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		    (c >= '0' && c <= '9') || c == '_' || c == '.' || c == '-')
			continue;
		return 0;
	}
	return 1;
}

/*
 * Say whether the text looks like an email address: 3 to 254 bytes of
 * valid UTF-8, one '@' with text on both sides, no white space or
 * control characters.
 */
int
text_is_email(const char *s, size_t len)
{
	const unsigned char	*u = (const unsigned char *)s;
	const char		*at;
	size_t			 i = 0;
	uint32_t		 cp;

	if (len < TEXT_EMAIL_MIN || len > TEXT_EMAIL_MAX)
		return 0;
	while (i < len) {
		if (text_decode(u, len, &i, &cp) == -1)
			return 0;
		if (text_is_control(cp) || text_is_space(cp))
			return 0;
	}
	if ((at = memchr(s, '@', len)) == NULL)
		return 0;
	if (at == s || at == s + len - 1)
		return 0;
	if (memchr(at + 1, '@', len - (size_t)(at - s) - 1) != NULL)
		return 0;
	return 1;
}
