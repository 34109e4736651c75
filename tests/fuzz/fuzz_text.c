/* SPDX-License-Identifier: ISC */
/* fuzz_text.c: libFuzzer harness of UTF-8 and length validation. */
#include <stdint.h>
#include <string.h>

#include "sohbet.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char	*s = (const char *)data;
	long		 n;

	n = text_codepoints(s, size);
	if (n > (long)size)
		__builtin_trap();
	/* Valid text has no NUL byte, and ASCII counts one per byte. */
	if (n != -1 && memchr(s, '\0', size) != NULL)
		__builtin_trap();
	text_has_control(s, size);
	text_is_blank(s, size);
	if (text_is_username(s, size) && n != (long)size)
		__builtin_trap();
	text_is_email(s, size);
	perm_parse_text(s, size);
	return 0;
}
