/* SPDX-License-Identifier: ISC */
/*
 * token.c: access tokens, HS256 JSON Web Tokens carrying the user id (sub),
 * the user's token generation (gen), iat and exp.  The algorithm is fixed:
 * a header naming any other alg, "none" included, is refused.
 */
#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/params.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sohbet.h"

#define TOKEN_MAX	1024
#define SHA256_LEN	32

static const char token_header[] = "{\"alg\":\"HS256\",\"typ\":\"JWT\"}";

/* The HMAC key: the configured hex string, decoded once. */
static int
token_key(unsigned char **key, size_t *len)
{
	static unsigned char	*decoded;
	static size_t		 decoded_len;
	const char		*hex = cfg->token_key;
	unsigned char		*buf;
	size_t			 i, n;
	unsigned int		 byte;

	if (decoded == NULL) {
		/* Kept only once whole: a failure must not leave half a key. */
		n = strlen(hex) / 2;
		buf = xmalloc(n);
		for (i = 0; i < n; i++) {
			if (sscanf(hex + 2 * i, "%2x", &byte) != 1) {
				free(buf);
				return -1;
			}
			buf[i] = (unsigned char)byte;
		}
		decoded = buf;
		decoded_len = n;
	}
	*key = decoded;
	*len = decoded_len;
	return 0;
}

/* Encode bytes as unpadded base64url into out (4/3 len + 1 bytes). */
size_t
token_b64url_encode(const unsigned char *in, size_t len, char *out)
{
	static const char	 alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
	    "abcdefghijklmnopqrstuvwxyz0123456789-_";
	size_t			 i, o = 0;
	uint32_t		 v;

	for (i = 0; i + 2 < len; i += 3) {
		v = (uint32_t)in[i] << 16 | (uint32_t)in[i + 1] << 8 | in[i + 2];
		out[o++] = alphabet[v >> 18 & 63];
		out[o++] = alphabet[v >> 12 & 63];
		out[o++] = alphabet[v >> 6 & 63];
		out[o++] = alphabet[v & 63];
	}
	if (len - i == 1) {
		v = (uint32_t)in[i] << 16;
		out[o++] = alphabet[v >> 18 & 63];
		out[o++] = alphabet[v >> 12 & 63];
	} else if (len - i == 2) {
		v = (uint32_t)in[i] << 16 | (uint32_t)in[i + 1] << 8;
		out[o++] = alphabet[v >> 18 & 63];
		out[o++] = alphabet[v >> 12 & 63];
		out[o++] = alphabet[v >> 6 & 63];
	}
	out[o] = '\0';
	return o;
}

/* Value of one base64url character, or -1. */
static int
token_b64_value(char c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == '-')
		return 62;
	if (c == '_')
		return 63;
	return -1;
}

/* Decode unpadded base64url; the number of bytes, or -1 if malformed. */
long
token_b64url_decode(const char *in, size_t len, unsigned char *out,
    size_t outsz)
{
	size_t		i, o = 0;
	uint32_t	acc = 0;
	int		bits = 0, v;

	if (len % 4 == 1)
		return -1;
	for (i = 0; i < len; i++) {
		if ((v = token_b64_value(in[i])) == -1)
			return -1;
		acc = acc << 6 | (uint32_t)v;
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			if (o == outsz)
				return -1;
			out[o++] = (unsigned char)(acc >> bits);
		}
	}
	/* Leftover bits must be zero for a canonical encoding. */
	if ((acc & ((1u << bits) - 1)) != 0)
		return -1;
	return (long)o;
}

/*
 * The HMAC-SHA256 context holding the configured key, made once per
 * process: OpenSSL 3's one-shot HMAC() looks the algorithm up again on
 * every call, which cost a tenth of a request's CPU.  NULL on failure.
 */
static EVP_MAC_CTX *
token_mac_ctx(void)
{
	static EVP_MAC_CTX	*ctx;
	EVP_MAC			*mac;
	OSSL_PARAM		 params[2];
	unsigned char		*key;
	size_t			 keylen;

	if (ctx != NULL)
		return ctx;
	if (token_key(&key, &keylen) == -1 ||
	    (mac = EVP_MAC_fetch(NULL, "HMAC", NULL)) == NULL)
		return NULL;
	ctx = EVP_MAC_CTX_new(mac);
	EVP_MAC_free(mac);
	params[0] = OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST,
	    (char *)"SHA256", 0);
	params[1] = OSSL_PARAM_construct_end();
	if (ctx != NULL && EVP_MAC_init(ctx, key, keylen, params) != 1) {
		EVP_MAC_CTX_free(ctx);
		ctx = NULL;
	}
	return ctx;
}

/* HMAC-SHA256 of data with the configured key into mac. */
int
token_mac(const char *data, size_t len, unsigned char mac[SHA256_LEN])
{
	EVP_MAC_CTX	*ctx;
	size_t		 maclen = 0;

	/* Initialised again with no key: the one set first is kept. */
	if ((ctx = token_mac_ctx()) == NULL ||
	    EVP_MAC_init(ctx, NULL, 0, NULL) != 1 ||
	    EVP_MAC_update(ctx, (const unsigned char *)data, len) != 1 ||
	    EVP_MAC_final(ctx, mac, &maclen, SHA256_LEN) != 1 ||
	    maclen != SHA256_LEN)
		return -1;
	return 0;
}

/*
 * Issue an access token for a user at a token generation, valid ttl
 * seconds from now.  The caller frees the string.
 */
char *
token_issue(uint64_t user_id, unsigned int generation, int ttl)
{
	char		 payload[160], head64[64], pay64[224], sig64[48];
	char		*signing, *token;
	unsigned char	 mac[SHA256_LEN];
	time_t		 now = time(NULL);

	snprintf(payload, sizeof payload, "{\"sub\":\"%llu\",\"gen\":%u,"
	    "\"iat\":%lld,\"exp\":%lld}", (unsigned long long)user_id,
	    generation, (long long)now, (long long)now + ttl);
	token_b64url_encode((const unsigned char *)token_header,
	    strlen(token_header), head64);
	token_b64url_encode((const unsigned char *)payload, strlen(payload),
	    pay64);
	xasprintf(&signing, "%s.%s", head64, pay64);
	if (token_mac(signing, strlen(signing), mac) == -1)
		fatalx("token: HMAC failed");
	token_b64url_encode(mac, sizeof mac, sig64);
	xasprintf(&token, "%s.%s", signing, sig64);
	free(signing);
	return token;
}

/* Decode one base64url JSON part of a token into a parsed object. */
static struct json *
token_part(const char *s, size_t len)
{
	unsigned char	 buf[TOKEN_MAX];
	struct json	*j;
	long		 n;

	if ((n = token_b64url_decode(s, len, buf, sizeof buf)) <= 0)
		return NULL;
	if (json_parse((const char *)buf, (size_t)n, &j) == -1)
		return NULL;
	return j;
}

/* Check the header names HS256 and nothing else. */
static int
token_check_header(const char *s, size_t len)
{
	struct json	*h, *alg;
	int		 ok;

	if ((h = token_part(s, len)) == NULL)
		return -1;
	alg = json_get(h, "alg");
	ok = alg != NULL && alg->type == JSON_STRING &&
	    strcmp(alg->text, "HS256") == 0 && alg->len == 5 &&
	    json_get(h, "crit") == NULL;
	json_free(h);
	return ok ? 0 : -1;
}

/* Read sub, gen and exp from the payload; -1 if missing or expired. */
static int
token_check_payload(const char *s, size_t len, uint64_t *user_id,
    unsigned int *generation)
{
	struct json	*p, *sub;
	long long	 exp, gen;
	int		 rc = -1;

	if ((p = token_part(s, len)) == NULL)
		return -1;
	sub = json_get(p, "sub");
	if (sub == NULL || sub->type != JSON_STRING ||
	    strlen(sub->text) != sub->len ||
	    param_parse_id(sub->text, user_id) == -1)
		goto fail;
	if (json_get(p, "exp") == NULL ||
	    json_integer(json_get(p, "exp"), &exp) == -1 ||
	    exp <= (long long)time(NULL))
		goto fail;
	if (json_get(p, "gen") == NULL ||
	    json_integer(json_get(p, "gen"), &gen) == -1 || gen < 0 ||
	    gen > UINT32_MAX)
		goto fail;
	*generation = (unsigned int)gen;
	rc = 0;
fail:
	json_free(p);
	return rc;
}

/*
 * Verify an access token: signature, algorithm and expiry.  Fills the user
 * id and token generation; 0, or -1 for any fault.
 */
int
token_verify(const char *token, uint64_t *user_id, unsigned int *generation)
{
	const char	*dot1, *dot2;
	unsigned char	 mac[SHA256_LEN], sig[SHA256_LEN + 4];
	size_t		 len = strlen(token);

	if (len > TOKEN_MAX || (dot1 = strchr(token, '.')) == NULL ||
	    (dot2 = strchr(dot1 + 1, '.')) == NULL ||
	    strchr(dot2 + 1, '.') != NULL)
		return -1;
	if (token_b64url_decode(dot2 + 1, strlen(dot2 + 1), sig,
	    sizeof sig) != SHA256_LEN)
		return -1;
	if (token_mac(token, (size_t)(dot2 - token), mac) == -1 ||
	    CRYPTO_memcmp(mac, sig, SHA256_LEN) != 0)
		return -1;
	if (token_check_header(token, (size_t)(dot1 - token)) == -1)
		return -1;
	return token_check_payload(dot1 + 1, (size_t)(dot2 - dot1 - 1),
	    user_id, generation);
}
