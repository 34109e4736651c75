/* SPDX-License-Identifier: ISC */
/*
 * forge.h: making JSON Web Tokens for the tests, signed with OpenSSL's
 * HMAC directly rather than through token.c, so that token_verify() and
 * the server are tested against an independent signer.
 */
#ifndef FORGE_H
#define FORGE_H

#include <stddef.h>

/* Encode len bytes as unpadded base64url; the caller frees it. */
char		*forge_b64(const void *, size_t);
/* HMAC-SHA256 of a string with a hex key, as base64url; caller frees. */
char		*forge_sign(const char *, const char *);
/* "head64.pay64.signature" for encoded segments; the caller frees it. */
char		*forge_join(const char *, const char *, const char *);
/* A token of a header and a payload (JSON text) signed with a hex key. */
char		*forge_token(const char *, const char *, const char *);
/* Decode a segment of a token into a new NUL-terminated string, or NULL. */
char		*forge_segment(const char *, size_t);

#endif /* FORGE_H */
