/* SPDX-License-Identifier: ISC */
/*
 * password.c: password hashing with scrypt through OpenSSL.  A stored hash
 * describes itself, "$scrypt$ln=17,r=8,p=1$<salt>$<key>" (base64url), so
 * the parameters can be raised later: a hash made with weaker ones than
 * the configured ones is upgraded at the next successful login.  One hash
 * costs 128 * N * r * p bytes (128 MiB at the default), so the hub bounds
 * how many run at once on this host.  In sohbetd these functions run in
 * the workers' hashing threads (hashpool.c), never in an event loop: they
 * may wait for the hub's permit and take a good part of a second.
 */
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sohbet.h"

#define SALT_LEN	16
#define KEY_LEN		32
#define HASH_WAIT_MS	3000

struct password_params {
	uint64_t	n;
	uint32_t	r;
	uint32_t	p;
};

/* log2 of a power of two. */
static unsigned int
password_log2(uint64_t n)
{
	unsigned int	l = 0;

	while (n > 1) {
		n >>= 1;
		l++;
	}
	return l;
}

/* Derive the key of a password with a salt and parameters. */
static int
password_derive(const char *pw, size_t len, const unsigned char *salt,
    const struct password_params *pp, unsigned char key[KEY_LEN])
{
	uint64_t	maxmem;
	int		rc;

	/* OpenSSL's default memory cap (32 MiB) is below N=2^17, r=8. */
	maxmem = 128 * pp->n * pp->r * (uint64_t)pp->p + 1024 * 1024 * 64;
	if (hub_hash_acquire(HASH_WAIT_MS) == -1) {
		log_warnx("%s: too many password hashes at once", __func__);
		return -1;
	}
	rc = EVP_PBE_scrypt(pw, len, salt, SALT_LEN, pp->n, pp->r, pp->p,
	    maxmem, key, KEY_LEN);
	hub_hash_release();
	if (rc != 1) {
		log_warnx("%s: EVP_PBE_scrypt failed", __func__);
		return -1;
	}
	return 0;
}

/* The configured parameters. */
static void
password_configured(struct password_params *pp)
{
	pp->n = cfg->scrypt_n;
	pp->r = cfg->scrypt_r;
	pp->p = cfg->scrypt_p;
}

/* Hash a password with the configured parameters; caller frees, NULL on error. */
char *
password_hash(const char *pw, size_t len)
{
	struct password_params	 pp;
	unsigned char		 salt[SALT_LEN], key[KEY_LEN];
	char			 salt64[32], key64[48], *out;

	password_configured(&pp);
	if (RAND_bytes(salt, sizeof salt) != 1)
		return NULL;
	if (password_derive(pw, len, salt, &pp, key) == -1)
		return NULL;
	token_b64url_encode(salt, sizeof salt, salt64);
	token_b64url_encode(key, sizeof key, key64);
	xasprintf(&out, "$scrypt$ln=%u,r=%u,p=%u$%s$%s", password_log2(pp.n),
	    pp.r, pp.p, salt64, key64);
	OPENSSL_cleanse(key, sizeof key);
	return out;
}

/* Parse a stored hash into its parameters, salt and key. */
static int
password_parse(const char *stored, struct password_params *pp,
    unsigned char salt[SALT_LEN], unsigned char key[KEY_LEN])
{
	unsigned int	ln, r, p;
	char		salt64[64], key64[64];
	int		used = 0;

	if (sscanf(stored, "$scrypt$ln=%u,r=%u,p=%u$%63[A-Za-z0-9_-]$"
	    "%63[A-Za-z0-9_-]%n", &ln, &r, &p, salt64, key64, &used) != 5 ||
	    stored[used] != '\0')
		return -1;
	if (ln < 1 || ln > 24 || r < 1 || r > 64 || p < 1 || p > 16)
		return -1;
	pp->n = (uint64_t)1 << ln;
	pp->r = r;
	pp->p = p;
	if (token_b64url_decode(salt64, strlen(salt64), salt, SALT_LEN) !=
	    SALT_LEN || token_b64url_decode(key64, strlen(key64), key,
	    KEY_LEN) != KEY_LEN)
		return -1;
	return 0;
}

/*
 * Check a password against a stored hash: 1 if it matches, 0 if not, -1
 * if hashing failed.  *upgrade is set when the stored parameters are
 * weaker than the configured ones.
 */
int
password_verify(const char *pw, size_t len, const char *stored, int *upgrade)
{
	struct password_params	pp, want;
	unsigned char		salt[SALT_LEN], key[KEY_LEN], got[KEY_LEN];
	int			match;

	*upgrade = 0;
	if (password_parse(stored, &pp, salt, key) == -1) {
		log_warnx("%s: unreadable stored hash", __func__);
		password_dummy(pw, len);
		return 0;
	}
	if (password_derive(pw, len, salt, &pp, got) == -1)
		return -1;
	match = CRYPTO_memcmp(key, got, KEY_LEN) == 0;
	password_configured(&want);
	*upgrade = match && (pp.n != want.n || pp.r != want.r ||
	    pp.p != want.p);
	OPENSSL_cleanse(got, sizeof got);
	return match;
}

/*
 * Do the work of one verification with nothing to compare, so a login for
 * an unknown user costs the same as a wrong password.
 */
void
password_dummy(const char *pw, size_t len)
{
	struct password_params	pp;
	unsigned char		salt[SALT_LEN] = { 0 }, key[KEY_LEN];

	password_configured(&pp);
	password_derive(pw, len, salt, &pp, key);
}
