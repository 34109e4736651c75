/* SPDX-License-Identifier: ISC */
/*
 * forge.c: JSON Web Tokens made for the tests: any header, any payload,
 * signed with a key the test knows (see forge.h).
 */
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sohbet.h"
#include "forge.h"

#define FORGE_KEY_MAX	256

/* Encode len bytes as unpadded base64url; the caller frees it. */
char *
forge_b64(const void *data, size_t len)
{
	char	*out;

	out = xmalloc(len / 3 * 4 + 5);
	token_b64url_encode(data, len, out);
	return out;
}

/* HMAC-SHA256 of data with a hex key, as base64url; the caller frees it. */
char *
forge_sign(const char *key_hex, const char *data)
{
	unsigned char	key[FORGE_KEY_MAX], mac[EVP_MAX_MD_SIZE];
	unsigned int	maclen = 0, byte;
	size_t		i, len = strlen(key_hex) / 2;

	if (len > sizeof key)
		abort();
	for (i = 0; i < len; i++) {
		if (sscanf(key_hex + 2 * i, "%2x", &byte) != 1)
			abort();
		key[i] = (unsigned char)byte;
	}
	if (HMAC(EVP_sha256(), key, (int)len, (const unsigned char *)data,
	    strlen(data), mac, &maclen) == NULL)
		abort();
	return forge_b64(mac, maclen);
}

/* Sign encoded header and payload segments into a token; caller frees. */
char *
forge_join(const char *key_hex, const char *head64, const char *pay64)
{
	char	*signing, *sig, *token;

	xasprintf(&signing, "%s.%s", head64, pay64);
	sig = forge_sign(key_hex, signing);
	xasprintf(&token, "%s.%s", signing, sig);
	free(signing);
	free(sig);
	return token;
}

/* A token of a header and a payload (JSON text); the caller frees it. */
char *
forge_token(const char *key_hex, const char *header, const char *payload)
{
	char	*h, *p, *token;

	h = forge_b64(header, strlen(header));
	p = forge_b64(payload, strlen(payload));
	token = forge_join(key_hex, h, p);
	free(h);
	free(p);
	return token;
}

/* Decode len characters of base64url into a new string, or NULL. */
char *
forge_segment(const char *s, size_t len)
{
	char	*out;
	long	 n;

	out = xmalloc(len + 1);
	if ((n = token_b64url_decode(s, len, (unsigned char *)out, len)) < 0) {
		free(out);
		return NULL;
	}
	out[n] = '\0';
	return out;
}
