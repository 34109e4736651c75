/* SPDX-License-Identifier: ISC */
/* fuzz_token.c: libFuzzer harness of the access-token (JWT) parser. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "sohbet.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static struct config	fuzz_cfg;

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char		*token;
	uint64_t	 user;
	unsigned int	 gen;
	unsigned char	 out[2048];

	if (cfg == NULL) {
		config_init(&fuzz_cfg);
		fuzz_cfg.token_key = xstrdup("00112233445566778899aabbccddeeff"
		    "00112233445566778899aabbccddeeff");
		cfg = &fuzz_cfg;
	}
	token = xstrndup((const char *)data, size);
	if (token_verify(token, &user, &gen) == 0 && user == 0)
		__builtin_trap();
	token_b64url_decode(token, strlen(token), out, sizeof out);
	free(token);
	return 0;
}
