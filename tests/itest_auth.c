/* SPDX-License-Identifier: ISC */
/*
 * itest_auth.c: integration tests of accounts and tokens (API.md, Auth and
 * Users; issue 3) against the real nginx + sohbetd + MariaDB: register and
 * its validation, login, access tokens (forged, expired, of a deleted
 * user), refresh rotation and reuse, the refresh race, logout, logout-all,
 * profiles and their changes, and the limits.  Every answer is checked for
 * password hashes and passwords; the server log is read for them last.
 */
#include <sys/mman.h>
#include <sys/wait.h>

#include <openssl/sha.h>

#include <check.h>
#include <curl/curl.h>
#include <pwd.h>
#include <regex.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "itest.h"
#include "forge.h"
#include "check_run.h"

#define REGISTER	API_PREFIX "/auth/register"
#define LOGIN		API_PREFIX "/auth/login"
#define REFRESH		API_PREFIX "/auth/refresh"
#define LOGOUT		API_PREFIX "/auth/logout"
#define LOGOUT_ALL	API_PREFIX "/auth/logout-all"
#define ME		API_PREFIX "/users/@me"
#define USERS		API_PREFIX "/users/"
#define HEALTH		API_PREFIX "/health"

/*
 * Every password this program sends holds SECRET (it is exactly the 7
 * characters of the too-short one), so no answer and no log line may.
 */
#define SECRET		"Sekr1t#"
#define SELF_MEMBERS	"id username email created_at updated_at"
#define TOKEN_MEMBERS	"access_token refresh_token expires_in"
#define RACERS		10	/* processes refreshing one token at once */
#define RACE_ROUNDS	4
#define TIMING_ROUNDS	25	/* logins timed of each kind */
#define TIMING_RATIO	0.6	/* the least unknown / wrong password */
#define FLOOD		1500	/* requests to trip nginx's limit_req */
#define FLOOD_CONNS	8
#define TIME_SLACK	600	/* seconds a fresh timestamp may be off */
#define GUESSES		100	/* wrong passwords of a stranger */

/*
 * The client addresses tests sign in from (127.0.0.N; throttle.c counts
 * failures per address): each test that fails sign-ins has its own.
 */
#define ADDR_TIMING	20	/* ... up to 20 + TIMING_ROUNDS - 1 */
#define ADDR_STRANGER	100
#define ADDR_OWNER	101
#define ADDR_NOBODY	102
#define ADDR_SPRAY	103
#define ADDR_PATCH	104
#define ADDR_GROWTH	105

struct account {
	char	*username;
	char	*email;
	char	*password;
	char	*id;
	char	*created_at;
	char	*access;
	char	*refresh;
};

/* --- requests ------------------------------------------------------------ */

/* Assert that an answer holds no password hash and no password. */
static void
expect_no_secrets(struct itest_response *r)
{
	static const char	*needles[] = { "password_hash", "$scrypt$",
	    SECRET };
	size_t			 i;

	for (i = 0; i < sizeof needles / sizeof needles[0]; i++)
		ck_assert_msg(memmem(r->body, r->len, needles[i],
		    strlen(needles[i])) == NULL, "the answer shows \"%s\": %s",
		    needles[i], itest_describe(r));
}

/*
 * Send a request with a printf-formatted JSON body (none when fmt is NULL)
 * and check that the answer shows no secret.  Every request goes here.
 */
static struct itest_response *
vcall(const char *method, const char *path, const char *token,
    const char *fmt, va_list ap)
{
	struct itest_response	*r;
	char			*body = NULL;
	int			 n = 0;

	if (fmt != NULL) {
		n = vasprintf(&body, fmt, ap);
		ck_assert(n >= 0);
	}
	r = itest_request(method, path, token, fmt != NULL ?
	    "application/json" : NULL, body, (size_t)n);
	free(body);
	expect_no_secrets(r);
	return r;
}

/* Send a request through vcall(). */
static struct itest_response *
call(const char *method, const char *path, const char *token,
    const char *fmt, ...)
{
	struct itest_response	*r;
	va_list			 ap;

	va_start(ap, fmt);
	r = vcall(method, path, token, fmt, ap);
	va_end(ap);
	return r;
}

/* GET a path. */
static struct itest_response *
get(const char *path, const char *token)
{
	return call("GET", path, token, NULL);
}

/* POST {"login": login, "password": password}. */
static struct itest_response *
login_as(const char *login, const char *password)
{
	return call("POST", LOGIN, NULL, "{\"login\":\"%s\",\"password\":"
	    "\"%s\"}", login, password);
}

/* POST a refresh token to /auth/refresh or /auth/logout. */
static struct itest_response *
post_refresh(const char *path, const char *refresh)
{
	return call("POST", path, NULL, "{\"refresh_token\":\"%s\"}", refresh);
}

/* Send a request and assert its status; for answers with no interest. */
static void
expect_call(long status, const char *method, const char *path,
    const char *token, const char *body)
{
	struct itest_response	*r;

	r = call(method, path, token, body != NULL ? "%s" : NULL, body);
	ck_assert_msg(r->status == status, "expected %ld: %s", status,
	    itest_describe(r));
	itest_free(r);
}

/* --- answers -------------------------------------------------------------- */

/* The string member of an object, or NULL. */
static const char *
member_str(const struct json *obj, const char *key)
{
	const struct json	*v;

	v = itest_at(obj, key);
	return v != NULL && v->type == JSON_STRING ? v->text : NULL;
}

/* Assert that obj is an object with exactly these (space-separated) keys. */
static void
expect_members(struct itest_response *r, const struct json *obj,
    const char *names)
{
	char	*copy, *name, *save;
	size_t	 n = 0;

	ck_assert_msg(obj != NULL && obj->type == JSON_OBJECT, "not an "
	    "object: %s", itest_describe(r));
	copy = xstrdup(names);
	for (name = strtok_r(copy, " ", &save); name != NULL;
	    name = strtok_r(NULL, " ", &save), n++)
		ck_assert_msg(json_get(obj, name) != NULL, "no member %s: %s",
		    name, itest_describe(r));
	free(copy);
	ck_assert_msg(obj->count == n, "members other than %s: %s", names,
	    itest_describe(r));
}

/* Assert that a member of obj is the string want. */
static void
expect_member(struct itest_response *r, const struct json *obj,
    const char *key, const char *want)
{
	const char	*got = member_str(obj, key);

	ck_assert_msg(got != NULL && strcmp(got, want) == 0, "expected %s "
	    "\"%s\": %s", key, want, itest_describe(r));
}

/* Assert that a member is an RFC 3339 UTC time with ms, close to now. */
static void
expect_time(struct itest_response *r, const struct json *obj, const char *key)
{
	regex_t		 re;
	struct tm	 tm;
	const char	*s = member_str(obj, key);
	time_t		 t;

	ck_assert_msg(s != NULL, "%s is not a string: %s", key,
	    itest_describe(r));
	ck_assert_int_eq(regcomp(&re, "^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:"
	    "[0-9]{2}:[0-9]{2}\\.[0-9]{3}Z$", REG_EXTENDED | REG_NOSUB), 0);
	ck_assert_msg(regexec(&re, s, 0, NULL, 0) == 0, "%s \"%s\" is not "
	    "YYYY-MM-DDTHH:MM:SS.mmmZ: %s", key, s, itest_describe(r));
	regfree(&re);
	memset(&tm, 0, sizeof tm);
	ck_assert(strptime(s, "%Y-%m-%dT%H:%M:%S", &tm) != NULL);
	t = timegm(&tm);
	ck_assert_msg(t > time(NULL) - TIME_SLACK && t < time(NULL) +
	    TIME_SLACK, "%s \"%s\" is not UTC now: %s", key, s,
	    itest_describe(r));
}

/* Assert that a member is an id: a canonical decimal string. */
static void
expect_id(struct itest_response *r, const struct json *obj, const char *key)
{
	const char	*s = member_str(obj, key);
	uint64_t	 id;

	ck_assert_msg(s != NULL && param_parse_id(s, &id) == 0, "%s is not "
	    "an id string: %s", key, itest_describe(r));
}

/* Assert the members of a user object as its owner sees it, for a. */
static void
expect_self_fields(struct itest_response *r, const struct json *user,
    const struct account *a)
{
	expect_id(r, user, "id");
	if (a->id != NULL)
		expect_member(r, user, "id", a->id);
	expect_member(r, user, "username", a->username);
	expect_member(r, user, "email", a->email);
	expect_time(r, user, "created_at");
	expect_time(r, user, "updated_at");
	if (a->created_at != NULL)
		expect_member(r, user, "created_at", a->created_at);
}

/* Assert a user object as its owner sees it, for a, and nothing else. */
static void
expect_self(struct itest_response *r, const struct json *user,
    const struct account *a)
{
	expect_members(r, user, SELF_MEMBERS);
	expect_self_fields(r, user, a);
}

/*
 * Assert the token members: an HS256 JWT, a 256-bit refresh token, the
 * lifetime; and that no cache keeps the answer.
 */
static void
expect_tokens(struct itest_response *r, const struct json *obj)
{
	const struct json	*ttl;
	const char		*access, *refresh, *cc;
	long long		 n;

	cc = itest_header(r, "Cache-Control");
	ck_assert_msg(cc != NULL && strstr(cc, "no-store") != NULL, "tokens "
	    "without Cache-Control: no-store: %s\n%s", itest_describe(r),
	    r->headers);
	access = member_str(obj, "access_token");
	ck_assert_msg(access != NULL && strchr(access, '.') != NULL &&
	    strchr(strchr(access, '.') + 1, '.') != NULL, "access_token is "
	    "not a JWT: %s", itest_describe(r));
	refresh = member_str(obj, "refresh_token");
	ck_assert_msg(refresh != NULL && strlen(refresh) == 43 &&
	    strspn(refresh, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
	    "0123456789-_") == 43, "refresh_token is not 256 bits of "
	    "base64url: %s", itest_describe(r));
	ttl = itest_at(obj, "expires_in");
	ck_assert_msg(ttl != NULL && json_integer(ttl, &n) == 0 && n ==
	    itest_conf_int("auth", "access_ttl", 900), "expires_in is not "
	    "the access token's lifetime: %s", itest_describe(r));
}

/* Take the tokens of an answer into the account. */
static void
take_tokens(struct account *a, struct itest_response *r)
{
	free(a->access);
	free(a->refresh);
	a->access = xstrdup(itest_str(r, "access_token"));
	a->refresh = xstrdup(itest_str(r, "refresh_token"));
}

/* Assert {user, access_token, refresh_token, expires_in} for a. */
static void
expect_session(struct itest_response *r, long status, struct account *a)
{
	itest_expect(r, status);
	expect_members(r, r->json, "user " TOKEN_MEMBERS);
	expect_self(r, itest_at(r->json, "user"), a);
	expect_tokens(r, r->json);
}

/* Assert 429 rate_limited with Retry-After and the same retry_after. */
static void
expect_rate_limited(struct itest_response *r)
{
	itest_expect_rate_limited(r, 3600);
}

/* Send the later requests of this test from 127.0.0.n. */
static void
use_address(int n)
{
	char	addr[32];

	snprintf(addr, sizeof addr, "127.0.0.%d", n);
	itest_use_source(addr);
}

/* --- accounts ------------------------------------------------------------- */

/* A new password holding SECRET; the caller frees it. */
static char *
password_new(void)
{
	char	*u, *pw;

	u = itest_unique("pw");
	xasprintf(&pw, SECRET "%s", u);
	free(u);
	return pw;
}

/* Replace a string with a copy of value, unless value is NULL. */
static void
replace(char **field, const char *value)
{
	if (value == NULL)
		return;
	free(*field);
	*field = xstrdup(value);
}

/* Fill a with a fresh, valid, unregistered username, email and password. */
static void
account_init(struct account *a)
{
	memset(a, 0, sizeof *a);
	a->username = itest_unique("u");
	xasprintf(&a->email, "%s@Example.com", a->username);
	a->password = password_new();
}

/* Register a; assert the 201 answer and keep the id and the tokens. */
static void
account_register(struct account *a)
{
	struct itest_response	*r;

	r = call("POST", REGISTER, NULL, "{\"username\":\"%s\",\"email\":"
	    "\"%s\",\"password\":\"%s\"}", a->username, a->email, a->password);
	expect_session(r, 201, a);
	a->id = xstrdup(itest_str(r, "user.id"));
	a->created_at = xstrdup(itest_str(r, "user.created_at"));
	take_tokens(a, r);
	itest_free(r);
}

/* Make a new registered account. */
static void
account_new(struct account *a)
{
	account_init(a);
	account_register(a);
}

/* Log a in by username; assert the 200 answer and take its tokens. */
static void
account_login(struct account *a)
{
	struct itest_response	*r;

	r = login_as(a->username, a->password);
	expect_session(r, 200, a);
	take_tokens(a, r);
	itest_free(r);
}

/* Another session of a: a copy of a, logged in anew. */
static void
account_session(struct account *copy, const struct account *a)
{
	memset(copy, 0, sizeof *copy);
	copy->username = xstrdup(a->username);
	copy->email = xstrdup(a->email);
	copy->password = xstrdup(a->password);
	copy->id = xstrdup(a->id);
	copy->created_at = xstrdup(a->created_at);
	account_login(copy);
}

/* Free what an account holds. */
static void
account_free(struct account *a)
{
	free(a->username);
	free(a->email);
	free(a->password);
	free(a->id);
	free(a->created_at);
	free(a->access);
	free(a->refresh);
}

/* Assert that an access token is taken: GET /users/@me answers 200. */
static void
expect_access_ok(const char *token)
{
	expect_call(200, "GET", ME, token, NULL);
}

/* Assert that an access token is refused with 401 unauthorized. */
static void
expect_access_refused(const char *token)
{
	struct itest_response	*r;

	r = get(ME, token);
	itest_expect_error(r, 401, "unauthorized");
	ck_assert_msg(itest_header(r, "WWW-Authenticate") != NULL, "401 "
	    "without WWW-Authenticate: %s", itest_describe(r));
	itest_free(r);
}

/* Refresh a's session; assert 200 {tokens} and take them. */
static void
account_refresh(struct account *a)
{
	struct itest_response	*r;

	r = post_refresh(REFRESH, a->refresh);
	itest_expect(r, 200);
	expect_members(r, r->json, TOKEN_MEMBERS);
	expect_tokens(r, r->json);
	ck_assert_msg(strcmp(itest_str(r, "refresh_token"), a->refresh) != 0,
	    "the refresh token did not rotate: %s", itest_describe(r));
	take_tokens(a, r);
	itest_free(r);
}

/* Assert that a refresh token is refused with 401 and this code. */
static void
expect_refresh_refused(const char *refresh, const char *code)
{
	struct itest_response	*r;

	r = post_refresh(REFRESH, refresh);
	itest_expect_error(r, 401, code);
	itest_free(r);
}

/* --- the database and the configuration ----------------------------------- */

/*
 * Run SQL as MariaDB's root through the mariadb client (unix_socket
 * authentication as this user, as tools/dev does); its output, tab
 * separated and without headers, as a new string.
 */
static char *
db_run(const char *fmt, ...)
{
	va_list		 ap;
	FILE		*f;
	char		 path[] = "/tmp/itest_auth.XXXXXX";
	char		*sql, *cmd, *dbname, *out = NULL;
	size_t		 size = 0;
	int		 fd, status;

	va_start(ap, fmt);
	ck_assert(vasprintf(&sql, fmt, ap) >= 0);
	va_end(ap);
	ck_assert_int_ne(fd = mkstemp(path), -1);
	ck_assert_int_eq(write(fd, sql, strlen(sql)), (ssize_t)strlen(sql));
	close(fd);
	dbname = itest_conf("database", "name");
	ck_assert_ptr_nonnull(dbname);
	xasprintf(&cmd, "mariadb --no-defaults --socket='%s/run/mysqld.sock' "
	    "--user='%s' -N -B '%s' <'%s'", getenv("SOHBET_TEST_VAR"),
	    getpwuid(getuid())->pw_name, dbname, path);
	ck_assert_ptr_nonnull(f = popen(cmd, "r"));
	if (getdelim(&out, &size, '\0', f) == -1) {
		free(out);
		out = xstrdup("");
	}
	status = pclose(f);
	unlink(path);
	ck_assert_msg(status == 0, "mariadb failed (%d): %s", status, sql);
	free(sql);
	free(cmd);
	free(dbname);
	return out;
}

/* The configured token key (hex). */
static char *
token_key(void)
{
	char	*key;

	key = itest_conf("auth", "token_key");
	ck_assert_msg(key != NULL, "no token_key in $SOHBET_TEST_CONF");
	return key;
}

/* The generation an access token carries. */
static long long
token_gen(const char *access)
{
	const char	*dot1, *dot2;
	char		*payload;
	struct json	*j;
	long long	 gen;

	dot1 = strchr(access, '.');
	dot2 = strrchr(access, '.');
	payload = forge_segment(dot1 + 1, (size_t)(dot2 - dot1 - 1));
	ck_assert_ptr_nonnull(payload);
	ck_assert_int_eq(json_parse(payload, strlen(payload), &j), 0);
	ck_assert_int_eq(json_integer(json_get(j, "gen"), &gen), 0);
	json_free(j);
	free(payload);
	return gen;
}

/* A token for a user with the real key, any header, expiring at exp. */
static char *
forge_for(const struct account *a, const char *header, long long exp)
{
	char	*key, *payload, *t;

	key = token_key();
	xasprintf(&payload, "{\"sub\":\"%s\",\"gen\":%lld,\"iat\":%lld,"
	    "\"exp\":%lld}", a->id, token_gen(a->access),
	    (long long)time(NULL) - 60, exp);
	t = forge_token(key, header, payload);
	free(payload);
	free(key);
	return t;
}

/* --- register ------------------------------------------------------------- */

START_TEST(test_register_shape)
{
	struct itest_response	*r;
	struct account		 a;

	account_new(&a);
	/* The access token works at once, for this user. */
	r = get(ME, a.access);
	itest_expect(r, 200);
	expect_self(r, r->json, &a);
	itest_free(r);
	/* And the refresh token too. */
	account_refresh(&a);
	expect_access_ok(a.access);
	account_free(&a);
}
END_TEST

/* Append "key": value (raw JSON) to an object being built; NULL: not. */
static void
body_add(char **body, const char *key, const char *value)
{
	char	*next;

	if (value == NULL)
		return;
	xasprintf(&next, "%s%s\"%s\":%s", *body, (*body)[1] != '\0' ? "," :
	    "", key, value);
	free(*body);
	*body = next;
}

/* POST register with raw JSON values (NULL: leave the member out). */
static struct itest_response *
register_raw(const char *username, const char *email, const char *password)
{
	char			*body;
	struct itest_response	*r;

	body = xstrdup("{");
	body_add(&body, "username", username);
	body_add(&body, "email", email);
	body_add(&body, "password", password);
	r = call("POST", REGISTER, NULL, "%s}", body);
	free(body);
	return r;
}

/* A value of a register case: its raw JSON, or "" for a fresh valid one. */
#define FRESH	""
struct register_case {
	const char	*username;	/* raw JSON; NULL: absent */
	const char	*email;
	const char	*password;
	const char	*field;		/* the field the 400 names */
};

/* Send one register case and assert its 400. */
static void
register_refused(const struct register_case *c)
{
	struct itest_response	*r;
	struct account		 a;
	char			*u, *e, *p;

	account_init(&a);
	u = itest_quote(a.username);
	e = itest_quote(a.email);
	p = itest_quote(a.password);
	r = register_raw(c->username == NULL || *c->username != '\0' ?
	    c->username : u, c->email == NULL || *c->email != '\0' ?
	    c->email : e, c->password == NULL || *c->password != '\0' ?
	    c->password : p);
	itest_expect_invalid(r, c->field);
	itest_free(r);
	free(u);
	free(e);
	free(p);
	account_free(&a);
}

START_TEST(test_register_validation)
{
	static const struct register_case cases[] = {
		{ NULL, FRESH, FRESH, "username" },
		{ FRESH, NULL, FRESH, "email" },
		{ FRESH, FRESH, NULL, "password" },
		{ "null", FRESH, FRESH, "username" },
		{ "42", FRESH, FRESH, "username" },
		{ "[\"alice\"]", FRESH, FRESH, "username" },
		{ "\"\"", FRESH, FRESH, "username" },
		{ "\"a\"", FRESH, FRESH, "username" },
		{ "\"al ice\"", FRESH, FRESH, "username" },
		{ "\"al!ce\"", FRESH, FRESH, "username" },
		{ "\"al@ice\"", FRESH, FRESH, "username" },
		{ "\"al\\tice\"", FRESH, FRESH, "username" },
		{ "\"\\u00e4lice\"", FRESH, FRESH, "username" },
		{ "\"ab\\u0000cd\"", FRESH, FRESH, "username" },
		{ "\"ab\\ud800cd\"", FRESH, FRESH, "username" },
		{ FRESH, "true", FRESH, "email" },
		{ FRESH, "\"\"", FRESH, "email" },
		{ FRESH, "\"a@\"", FRESH, "email" },
		{ FRESH, "\"alice.example.com\"", FRESH, "email" },
		{ FRESH, "\"a@b@example.com\"", FRESH, "email" },
		{ FRESH, "\"@example.com\"", FRESH, "email" },
		{ FRESH, "\"alice@\"", FRESH, "email" },
		{ FRESH, "\"al ice@example.com\"", FRESH, "email" },
		{ FRESH, "\"al\\u0000ice@example.com\"", FRESH, "email" },
		{ FRESH, FRESH, "12345678", "password" },
		{ FRESH, FRESH, "\"\"", "password" },
		{ FRESH, FRESH, "\"" SECRET "\"", "password" },	/* 7 */
		{ FRESH, FRESH, "\"" SECRET "\\u0000xyz\"", "password" },
	};
	size_t			 i;

	for (i = 0; i < sizeof cases / sizeof cases[0]; i++)
		register_refused(&cases[i]);
}
END_TEST

/* A JSON string of n copies of unit (quotes included); caller frees. */
static char *
repeat_json(const char *prefix, const char *unit, size_t n,
    const char *suffix)
{
	char	*s;
	size_t	 i, len = strlen(unit);

	s = xmalloc(strlen(prefix) + len * n + strlen(suffix) + 3);
	s[0] = '"';
	strcpy(s + 1, prefix);
	for (i = 0; i < n; i++)
		memcpy(s + 1 + strlen(prefix) + i * len, unit, len);
	strcpy(s + 1 + strlen(prefix) + n * len, suffix);
	strcat(s, "\"");
	return s;
}

START_TEST(test_register_too_long)
{
	static const struct {
		const char	*field;
		const char	*prefix;
		const char	*unit;	/* repeated n times */
		size_t		 n;
		const char	*suffix;
	} cases[] = {
		{ "username", "", "a", 33, "" },
		{ "username", "", "a", 1000, "" },
		{ "email", "", "a", 255 - 12, "@example.com" },
		{ "email", "", "a", 5000, "@example.com" },
		{ "password", SECRET, "\xc3\xa9", 129 - 7, "" },	/* 251 bytes */
		{ "password", SECRET, "x", 20000, "" },
	};
	struct register_case	 c;
	char			*v;
	size_t			 i;

	for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		c = (struct register_case){ FRESH, FRESH, FRESH,
		    cases[i].field };
		v = repeat_json(cases[i].prefix, cases[i].unit, cases[i].n,
		    cases[i].suffix);
		if (strcmp(c.field, "username") == 0)
			c.username = v;
		else if (strcmp(c.field, "email") == 0)
			c.email = v;
		else
			c.password = v;
		register_refused(&c);
		free(v);
	}
}
END_TEST

/* Register with a fresh account whose fields are replaced where non-NULL. */
static void
register_edge(const char *username, const char *email, const char *password)
{
	struct account	a;

	account_init(&a);
	replace(&a.username, username);
	replace(&a.email, email);
	replace(&a.password, password);
	account_register(&a);
	/* What was stored is what was sent: logging in with it works. */
	account_login(&a);
	expect_access_ok(a.access);
	account_free(&a);
}

/* A JSON string's inside: repeat_json() without the quotes; caller frees. */
static char *
repeat_text(const char *prefix, const char *unit, size_t n,
    const char *suffix)
{
	char	*s;
	size_t	 len;

	s = repeat_json(prefix, unit, n, suffix);
	len = strlen(s);
	memmove(s, s + 1, len - 2);
	s[len - 2] = '\0';
	return s;
}

START_TEST(test_register_limits)
{
	char	*name, *v, *u, two[3];

	/* A name of 2 characters (random). */
	u = itest_unique("x");
	snprintf(two, sizeof two, "%c%c", u[2], u[3]);
	register_edge(two, NULL, NULL);
	free(u);

	/* 32 characters, with every allowed kind of character. */
	u = itest_unique("A.b-C_9");
	v = repeat_text(u, "z", 32 - strlen(u), "");
	register_edge(v, NULL, NULL);
	free(v);
	free(u);

	/* An email of 254 characters. */
	name = itest_unique("e");
	v = repeat_text(name, "e", 254 - strlen(name) - 12, "@example.com");
	ck_assert_uint_eq(strlen(v), 254);
	register_edge(NULL, v, NULL);
	free(v);
	free(name);

	/* Passwords of 8 and of 128 characters (counted, not bytes). */
	register_edge(NULL, NULL, SECRET "8");
	v = repeat_text(SECRET, "\xc3\xa9", 128 - 7, "");
	register_edge(NULL, NULL, v);
	free(v);
}
END_TEST

START_TEST(test_register_invalid_utf8)
{
	static const char	*bad[] = {
		"\"ab\xff\"",
		"\"ab\xc3\x28\"",		/* a broken sequence */
		"\"ab\xc0\xaf\"",		/* overlong */
		"\"ab\xed\xa0\x80\"",		/* an encoded surrogate */
		"\"ab\xf4\x90\x80\x80\"",	/* above U+10FFFF */
	};
	struct itest_response	*r;
	struct account		 a;
	char			*u, *e, *p;
	size_t			 i;

	/* The bytes are refused by the JSON layer, in any field. */
	for (i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		account_init(&a);
		u = itest_quote(a.username);
		e = itest_quote(a.email);
		p = itest_quote(a.password);
		r = register_raw(bad[i], e, p);
		itest_expect_error(r, 400, "invalid_json");
		itest_free(r);
		r = register_raw(u, bad[i], p);
		itest_expect_error(r, 400, "invalid_json");
		itest_free(r);
		r = register_raw(u, e, bad[i]);
		itest_expect_error(r, 400, "invalid_json");
		itest_free(r);
		free(u);
		free(e);
		free(p);
		account_free(&a);
	}
}
END_TEST

/* Register b's fields with one changed; assert 409 and the code. */
static void
register_taken(struct account *b, const char *code)
{
	struct itest_response	*r;

	r = call("POST", REGISTER, NULL, "{\"username\":\"%s\",\"email\":"
	    "\"%s\",\"password\":\"%s\"}", b->username, b->email, b->password);
	itest_expect_error(r, 409, code);
	itest_free(r);
}

/* Upper-case an ASCII string in place. */
static void
upcase(char *s)
{
	for (; *s != '\0'; s++) {
		if (*s >= 'a' && *s <= 'z')
			*s = (char)(*s - 'a' + 'A');
	}
}

START_TEST(test_register_unique_ignoring_case)
{
	struct account	a, b;

	account_new(&a);

	/* The same username in capitals, with another email. */
	account_init(&b);
	replace(&b.username, a.username);
	upcase(b.username);
	register_taken(&b, "username_taken");
	account_free(&b);

	/* The same email in capitals, with another username. */
	account_init(&b);
	replace(&b.email, a.email);
	upcase(b.email);
	register_taken(&b, "email_taken");

	/* Nothing was made: b registers with its own email afterwards. */
	free(b.email);
	xasprintf(&b.email, "%s@example.org", b.username);
	account_register(&b);
	account_free(&b);
	account_free(&a);
}
END_TEST

/* SHA-256 of a string, in lower-case hex. */
static void
sha256_hex(const char *s, char out[2 * SHA256_DIGEST_LENGTH + 1])
{
	unsigned char	d[SHA256_DIGEST_LENGTH];
	size_t		i;

	SHA256((const unsigned char *)s, strlen(s), d);
	for (i = 0; i < sizeof d; i++)
		snprintf(out + 2 * i, 3, "%02x", d[i]);
}

/* The expected start of a stored hash: the configured parameters. */
static char *
hash_prefix(void)
{
	char		*p;
	unsigned long	 n;
	int		 ln = 0;

	n = (unsigned long)itest_conf_int("auth", "scrypt_n", 131072);
	while (n > 1) {
		n >>= 1;
		ln++;
	}
	xasprintf(&p, "$scrypt$ln=%d,r=%ld,p=%ld$", ln, itest_conf_int("auth",
	    "scrypt_r", 8), itest_conf_int("auth", "scrypt_p", 1));
	return p;
}

START_TEST(test_stored_secrets)
{
	struct account	 a;
	char		*out, *prefix, digest[2 * SHA256_DIGEST_LENGTH + 2];

	account_new(&a);
	/* The password is stored as an scrypt hash with the parameters. */
	out = db_run("SELECT password_hash FROM users WHERE id = %s", a.id);
	prefix = hash_prefix();
	ck_assert_msg(strncmp(out, prefix, strlen(prefix)) == 0 &&
	    strstr(out, SECRET) == NULL, "stored hash \"%s\" (want %s...)",
	    out, prefix);
	free(out);
	free(prefix);

	/* The refresh token is stored only as its SHA-256. */
	out = db_run("SELECT LOWER(HEX(token)) FROM refresh_tokens WHERE "
	    "user_id = %s", a.id);
	sha256_hex(a.refresh, digest);
	strcat(digest, "\n");
	ck_assert_msg(strcmp(out, digest) == 0, "refresh_tokens holds \"%s\", "
	    "not the SHA-256 of the token", out);
	free(out);
	account_free(&a);
}
END_TEST

/* --- login ---------------------------------------------------------------- */

START_TEST(test_login)
{
	struct itest_response	*r;
	struct account		 a;
	char			*first, *logins[3];
	int			 i;

	account_new(&a);
	first = xstrdup(a.refresh);
	account_login(&a);
	ck_assert_str_ne(a.refresh, first);
	expect_access_ok(a.access);

	/* By email, and by either in another case. */
	logins[0] = xstrdup(a.email);
	logins[1] = xstrdup(a.username);
	upcase(logins[1]);
	logins[2] = xstrdup(a.email);
	upcase(logins[2]);
	for (i = 0; i < 3; i++) {
		r = login_as(logins[i], a.password);
		expect_session(r, 200, &a);
		itest_free(r);
		free(logins[i]);
	}

	/* Each login is a session of its own: the first still refreshes. */
	free(a.refresh);
	a.refresh = first;
	account_refresh(&a);
	account_free(&a);
}
END_TEST

START_TEST(test_login_failures_identical)
{
	struct itest_response	*wrong, *r;
	struct account		 a;
	char			*unknown, *pw, *mail;

	account_new(&a);
	pw = password_new();
	wrong = login_as(a.username, pw);
	itest_expect_error(wrong, 401, "invalid_credentials");

	/* An unknown user, an unknown email, a wrong password by email. */
	unknown = itest_unique("nobody");
	xasprintf(&mail, "%s@example.com", unknown);
	r = login_as(unknown, pw);
	itest_expect_error(r, 401, "invalid_credentials");
	ck_assert_msg(r->len == wrong->len && memcmp(r->body, wrong->body,
	    r->len) == 0, "unknown user and wrong password differ:\n%s\n%s",
	    itest_describe(r), itest_describe(wrong));
	itest_free(r);
	r = login_as(mail, pw);
	ck_assert_msg(r->len == wrong->len && memcmp(r->body, wrong->body,
	    r->len) == 0, "unknown email and wrong password differ:\n%s\n%s",
	    itest_describe(r), itest_describe(wrong));
	itest_free(r);
	r = login_as(a.email, pw);
	itest_expect_error(r, 401, "invalid_credentials");
	itest_free(r);

	/* The password with a character more, or in other case. */
	free(pw);
	xasprintf(&pw, "%s ", a.password);
	r = login_as(a.username, pw);
	itest_expect_error(r, 401, "invalid_credentials");
	itest_free(r);
	free(pw);
	pw = xstrdup(a.password);
	pw[strlen(SECRET)] = 'P';	/* "pw_..." */
	r = login_as(a.username, pw);
	itest_expect_error(r, 401, "invalid_credentials");
	itest_free(r);
	itest_free(wrong);
	free(unknown);
	free(mail);
	free(pw);
	account_free(&a);
}
END_TEST

/* Order doubles for qsort. */
static int
double_cmp(const void *a, const void *b)
{
	double	x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

/* The median of n times (sorted in place). */
static double
median(double *t, size_t n)
{
	qsort(t, n, sizeof *t, double_cmp);
	return t[n / 2];
}

/* Time one failed login, in seconds. */
static double
login_seconds(const char *login, const char *password)
{
	struct itest_response	*r;
	double			 s;

	r = login_as(login, password);
	itest_expect_error(r, 401, "invalid_credentials");
	s = r->seconds;
	itest_free(r);
	return s;
}

START_TEST(test_login_timing)
{
	struct account	 a;
	char		*unknown, *pw;
	double		 known[TIMING_ROUNDS], nobody[TIMING_ROUNDS], k, u;
	int		 i;

	/*
	 * An unknown user costs a hash as a wrong password does.  Interleaved
	 * medians, so that the load of the machine falls on both alike.
	 */
	account_new(&a);
	unknown = itest_unique("nobody");
	pw = password_new();
	for (i = 0; i < TIMING_ROUNDS; i++) {
		/*
		 * From a fresh address each round, so that no delay comes
		 * in; its connection is made before the timing starts.
		 */
		use_address(ADDR_TIMING + i);
		expect_call(200, "GET", HEALTH, NULL, NULL);
		known[i] = login_seconds(a.username, pw);
		nobody[i] = login_seconds(unknown, pw);
	}
	k = median(known, TIMING_ROUNDS);
	u = median(nobody, TIMING_ROUNDS);
	fprintf(stderr, "login timing: wrong password %.2f ms, unknown user "
	    "%.2f ms (medians)\n", k * 1000, u * 1000);
	ck_assert_msg(u > k * TIMING_RATIO, "an unknown user's login takes "
	    "%.2f ms, a wrong password's %.2f ms", u * 1000, k * 1000);
	free(unknown);
	free(pw);
	account_free(&a);
}
END_TEST

START_TEST(test_login_validation)
{
	struct itest_response	*r;

	r = call("POST", LOGIN, NULL, "{\"password\":\"%s\"}", SECRET "xyz");
	itest_expect_invalid(r, "login");
	itest_free(r);
	r = call("POST", LOGIN, NULL, "{\"login\":\"someone\"}");
	itest_expect_invalid(r, "password");
	itest_free(r);
	r = call("POST", LOGIN, NULL, "{\"login\":42,\"password\":\"%s\"}",
	    SECRET "xyz");
	itest_expect_invalid(r, "login");
	itest_free(r);
	r = call("POST", LOGIN, NULL, "[]");
	itest_expect_error(r, 400, "invalid_json");
	itest_free(r);
}
END_TEST

START_TEST(test_hash_upgrade)
{
	struct config	 weak;
	struct account	 a;
	char		*hash, *out, *prefix;

	/* Store a hash made with weaker parameters than the configured. */
	account_new(&a);
	config_init(&weak);
	weak.scrypt_n = 16;
	weak.scrypt_r = 1;
	cfg = &weak;
	hash = password_hash(a.password, strlen(a.password));
	ck_assert_ptr_nonnull(hash);
	free(db_run("UPDATE users SET password_hash = '%s' WHERE id = %s",
	    hash, a.id));

	/* It still verifies, and the next login stores a new one. */
	account_login(&a);
	out = db_run("SELECT password_hash FROM users WHERE id = %s", a.id);
	prefix = hash_prefix();
	ck_assert_msg(strncmp(out, prefix, strlen(prefix)) == 0, "after login "
	    "the hash is \"%s\", not upgraded to %s...", out, prefix);
	account_login(&a);
	free(out);
	free(prefix);
	free(hash);
	account_free(&a);
}
END_TEST

/* --- access tokens -------------------------------------------------------- */

START_TEST(test_bearer_required)
{
	static const char	*tokens[] = { NULL, "", "x", "a.b.c",
	    "Bearer", "null" };
	struct account		 a;
	char			*path;
	size_t			 i;

	account_new(&a);
	xasprintf(&path, USERS "%s", a.id);
	for (i = 0; i < sizeof tokens / sizeof tokens[0]; i++) {
		expect_access_refused(tokens[i]);
		expect_call(401, "GET", path, tokens[i], NULL);
		expect_call(401, "PATCH", ME, tokens[i], "{}");
		expect_call(401, "POST", LOGOUT_ALL, tokens[i], NULL);
	}
	/* The refresh token is no access token. */
	expect_access_refused(a.refresh);
	expect_access_ok(a.access);
	free(path);
	account_free(&a);
}
END_TEST

START_TEST(test_tampered_token)
{
	struct account	 a, b;
	char		*t, *dot1, *dot2, *swapped, *other;
	size_t		 i;

	account_new(&a);
	account_new(&b);

	/* One character of the signature changed. */
	t = xstrdup(a.access);
	i = strlen(t) - 10;
	t[i] = t[i] == 'A' ? 'B' : 'A';
	expect_access_refused(t);

	/* b's payload under a's header and signature. */
	dot1 = strchr(a.access, '.');
	dot2 = strrchr(a.access, '.');
	other = strchr(b.access, '.') + 1;
	xasprintf(&swapped, "%.*s.%.*s%s", (int)(dot1 - a.access), a.access,
	    (int)(strrchr(b.access, '.') - other), other, dot2);
	expect_access_refused(swapped);
	free(swapped);
	/* A header changed (the same claims) under the old signature. */
	t = forge_b64("{\"alg\":\"HS256\"}", 15);
	xasprintf(&swapped, "%s%.*s", t, (int)strlen(dot1), dot1);
	expect_access_refused(swapped);
	free(swapped);

	/* Neither key works with another key's signature. */
	free(t);
	t = forge_token("00112233445566778899aabbccddeeff00112233445566778899"
	    "aabbccddeeff", "{\"alg\":\"HS256\",\"typ\":\"JWT\"}", "{\"sub\":"
	    "\"1\",\"gen\":0,\"exp\":99999999999}");
	expect_access_refused(t);
	free(t);

	/* The originals still work. */
	expect_access_ok(a.access);
	expect_access_ok(b.access);
	account_free(&a);
	account_free(&b);
}
END_TEST

START_TEST(test_forged_algorithms)
{
	static const char	*headers[] = {
		"{\"alg\":\"none\",\"typ\":\"JWT\"}",
		"{\"alg\":\"HS512\",\"typ\":\"JWT\"}",
		"{\"typ\":\"JWT\"}",
	};
	struct account		 a;
	char			*t, *h, *p, *good;
	size_t			 i;

	account_new(&a);
	/* A control: the forger's HS256 tokens are taken. */
	good = forge_for(&a, "{\"alg\":\"HS256\",\"typ\":\"JWT\"}",
	    (long long)time(NULL) + 300);
	expect_access_ok(good);

	/* Signed with the real key, but naming another alg (or none). */
	for (i = 0; i < sizeof headers / sizeof headers[0]; i++) {
		t = forge_for(&a, headers[i], (long long)time(NULL) + 300);
		expect_access_refused(t);
		free(t);
	}

	/* "alg": "none" with no signature, as such tokens come. */
	h = forge_b64(headers[0], strlen(headers[0]));
	p = strchr(good, '.') + 1;
	xasprintf(&t, "%s.%.*s.", h, (int)(strrchr(good, '.') - p), p);
	expect_access_refused(t);
	free(t);
	free(h);
	free(good);
	account_free(&a);
}
END_TEST

START_TEST(test_expired_token)
{
	struct account	 a;
	char		*t;

	account_new(&a);
	t = forge_for(&a, "{\"alg\":\"HS256\",\"typ\":\"JWT\"}",
	    (long long)time(NULL) - 1);
	expect_access_refused(t);
	free(t);
	t = forge_for(&a, "{\"alg\":\"HS256\",\"typ\":\"JWT\"}",
	    (long long)time(NULL) - 3600);
	expect_access_refused(t);
	free(t);
	/* The same forger with exp ahead: taken (so the above is exp). */
	t = forge_for(&a, "{\"alg\":\"HS256\",\"typ\":\"JWT\"}",
	    (long long)time(NULL) + 60);
	expect_access_ok(t);
	free(t);
	account_free(&a);
}
END_TEST

START_TEST(test_deleted_user)
{
	struct itest_response	*r;
	struct account		 a;
	char			*path;

	account_new(&a);
	expect_access_ok(a.access);
	free(db_run("DELETE FROM users WHERE id = %s", a.id));
	itest_settle_cache();

	expect_access_refused(a.access);
	expect_refresh_refused(a.refresh, "invalid_token");
	r = login_as(a.username, a.password);
	itest_expect_error(r, 401, "invalid_credentials");
	itest_free(r);
	xasprintf(&path, USERS "%s", a.id);
	expect_call(401, "GET", path, a.access, NULL);
	free(path);
	account_free(&a);
}
END_TEST

/* --- refresh, logout ------------------------------------------------------ */

/*
 * Move the use of a's consumed refresh tokens an hour back, past the
 * grace in which a second use of one still refreshes.
 */
static void
age_consumed(const struct account *a)
{
	free(db_run("UPDATE refresh_tokens SET consumed_at = consumed_at - "
	    "INTERVAL 1 HOUR WHERE user_id = %s AND consumed_at IS NOT NULL",
	    a->id));
}

START_TEST(test_refresh_rotation)
{
	struct account	 a;
	char		*r1;

	account_new(&a);
	r1 = xstrdup(a.refresh);
	account_refresh(&a);
	expect_access_ok(a.access);
	/* The chain goes on. */
	account_refresh(&a);
	account_refresh(&a);
	expect_access_ok(a.access);

	/* The consumed first token again, later: theft, the family goes. */
	age_consumed(&a);
	expect_refresh_refused(r1, "token_reused");
	expect_refresh_refused(a.refresh, "invalid_token");
	expect_refresh_refused(r1, "invalid_token");
	free(r1);
	account_free(&a);
}
END_TEST

START_TEST(test_reuse_revokes_one_family)
{
	struct account	 a, other;
	char		*old;

	account_new(&a);
	account_session(&other, &a);
	old = xstrdup(a.refresh);
	account_refresh(&a);
	age_consumed(&a);
	expect_refresh_refused(old, "token_reused");
	expect_refresh_refused(a.refresh, "invalid_token");
	/* Another login of the same user is another family. */
	account_refresh(&other);
	expect_access_ok(other.access);
	free(old);
	account_free(&a);
	account_free(&other);
}
END_TEST

START_TEST(test_refresh_invalid)
{
	struct itest_response	*r;
	struct account		 a;
	char			*long_token;

	r = call("POST", REFRESH, NULL, "{}");
	itest_expect_invalid(r, "refresh_token");
	itest_free(r);
	r = call("POST", REFRESH, NULL, "{\"refresh_token\":7}");
	itest_expect_invalid(r, "refresh_token");
	itest_free(r);
	expect_refresh_refused("AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
	    "invalid_token");
	long_token = repeat_text("", "A", 1000, "");
	expect_refresh_refused(long_token, "invalid_token");
	free(long_token);

	/* An access token is no refresh token. */
	account_new(&a);
	expect_refresh_refused(a.access, "invalid_token");

	/* An expired one. */
	free(db_run("UPDATE refresh_tokens SET expires_at = NOW(3) - INTERVAL "
	    "1 SECOND WHERE user_id = %s", a.id));
	expect_refresh_refused(a.refresh, "invalid_token");
	account_free(&a);
}
END_TEST

/* What each racer saw. */
struct racer {
	long	status;
	char	code[32];
	char	refresh[64];
};

/* One racer: warm its connection, wait for the start, refresh. */
static void
racer_run(int start, const char *refresh, struct racer *out)
{
	struct itest_response	*r;
	const char		*code, *next;
	char			 c;

	r = itest_get(HEALTH, NULL);
	itest_free(r);
	if (read(start, &c, 1) != 0)
		_exit(1);
	r = itest_send("POST", REFRESH, NULL, "{\"refresh_token\":\"%s\"}",
	    refresh);
	out->status = r->status;
	code = itest_str(r, "error.code");
	snprintf(out->code, sizeof out->code, "%s", code != NULL ? code : "");
	next = itest_str(r, "refresh_token");
	snprintf(out->refresh, sizeof out->refresh, "%s", next != NULL ?
	    next : "");
	itest_free(r);
	_exit(0);
}

/*
 * Refresh one token from RACERS processes at once (two tabs of one
 * client, many times over): assert that every one got 200 and the same
 * new refresh token, and return it (the caller frees it).
 */
static char *
race(const char *refresh)
{
	struct racer	*racers;
	pid_t		 pids[RACERS];
	char		*next;
	int		 fds[2], i;

	racers = mmap(NULL, sizeof *racers * RACERS, PROT_READ | PROT_WRITE,
	    MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	ck_assert(racers != MAP_FAILED);
	ck_assert_int_eq(pipe(fds), 0);
	for (i = 0; i < RACERS; i++) {
		ck_assert_int_ne(pids[i] = fork(), -1);
		if (pids[i] == 0) {
			close(fds[1]);
			racer_run(fds[0], refresh, &racers[i]);
		}
	}
	/* Closing the pipe starts them all at once. */
	close(fds[0]);
	itest_sleep_ms(300);
	close(fds[1]);
	for (i = 0; i < RACERS; i++)
		ck_assert_int_eq(waitpid(pids[i], NULL, 0), pids[i]);
	for (i = 0; i < RACERS; i++) {
		ck_assert_msg(racers[i].status == 200, "racer %d of %d got %ld "
		    "%s", i, RACERS, racers[i].status, racers[i].code);
		ck_assert_msg(strcmp(racers[i].refresh, racers[0].refresh) ==
		    0 && strlen(racers[i].refresh) == 43, "racers got other "
		    "refresh tokens: \"%s\" and \"%s\"", racers[0].refresh,
		    racers[i].refresh);
	}
	ck_assert_str_ne(racers[0].refresh, refresh);
	next = xstrdup(racers[0].refresh);
	munmap(racers, sizeof *racers * RACERS);
	return next;
}

START_TEST(test_refresh_race)
{
	struct account	 a;
	char		*next;
	int		 round;

	account_new(&a);
	for (round = 0; round < RACE_ROUNDS; round++) {
		account_login(&a);
		next = race(a.refresh);
		/* The token they share goes on as any successor does. */
		free(a.refresh);
		a.refresh = next;
		account_refresh(&a);
		expect_access_ok(a.access);
	}
	account_free(&a);
}
END_TEST

START_TEST(test_refresh_grace)
{
	struct itest_response	*r;
	struct account		 a;
	char			*first, *second;

	/* A second use at once: the same successor, a working access. */
	account_new(&a);
	first = xstrdup(a.refresh);
	account_refresh(&a);
	second = xstrdup(a.refresh);
	r = post_refresh(REFRESH, first);
	itest_expect(r, 200);
	expect_members(r, r->json, TOKEN_MEMBERS);
	expect_tokens(r, r->json);
	expect_member(r, r->json, "refresh_token", second);
	expect_access_ok(itest_str(r, "access_token"));
	itest_free(r);

	/* After the grace: theft; the family, successor included, goes. */
	age_consumed(&a);
	expect_refresh_refused(first, "token_reused");
	expect_refresh_refused(second, "invalid_token");
	expect_refresh_refused(first, "invalid_token");
	free(first);
	free(second);
	account_free(&a);
}
END_TEST

START_TEST(test_logout)
{
	struct itest_response	*r;
	struct account		 a, other;

	account_new(&a);
	account_session(&other, &a);
	r = post_refresh(LOGOUT, a.refresh);
	ck_assert_msg(r->status == 204 && r->len == 0, "logout: %s",
	    itest_describe(r));
	itest_free(r);
	expect_refresh_refused(a.refresh, "invalid_token");
	/* Again, and with tokens never issued: 204 all the same. */
	expect_call(204, "POST", LOGOUT, NULL, "{\"refresh_token\":"
	    "\"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA\"}");
	r = post_refresh(LOGOUT, a.refresh);
	ck_assert_msg(r->status == 204, "logout again: %s", itest_describe(r));
	itest_free(r);
	r = call("POST", LOGOUT, NULL, "{}");
	itest_expect_invalid(r, "refresh_token");
	itest_free(r);
	/* The other session lives on. */
	account_refresh(&other);
	account_free(&a);
	account_free(&other);
}
END_TEST

START_TEST(test_logout_all)
{
	struct itest_response	*r;
	struct account		 a, other, rotated, bystander;
	char			*old_access;

	account_new(&a);
	account_new(&bystander);
	account_session(&other, &a);
	account_session(&rotated, &a);
	old_access = xstrdup(rotated.access);
	account_refresh(&rotated);

	r = call("POST", LOGOUT_ALL, a.access, NULL);
	ck_assert_msg(r->status == 204 && r->len == 0, "logout-all: %s",
	    itest_describe(r));
	itest_free(r);

	/* Every access token, at once, and every refresh token. */
	expect_access_refused(a.access);
	expect_access_refused(other.access);
	expect_access_refused(rotated.access);
	expect_access_refused(old_access);
	expect_refresh_refused(a.refresh, "invalid_token");
	expect_refresh_refused(other.refresh, "invalid_token");
	expect_refresh_refused(rotated.refresh, "invalid_token");

	/* Another user is not touched; a new login works. */
	expect_access_ok(bystander.access);
	account_refresh(&bystander);
	account_login(&a);
	expect_access_ok(a.access);
	account_refresh(&a);
	free(old_access);
	account_free(&a);
	account_free(&other);
	account_free(&rotated);
	account_free(&bystander);
}
END_TEST

/* --- users ---------------------------------------------------------------- */

START_TEST(test_get_user)
{
	static const char	*bad[] = { "abc", "0", "-1", "01", "1.5",
	    "18446744073709551616" };
	struct itest_response	*r;
	struct account		 a, b;
	char			*path;
	size_t			 i;

	account_new(&a);
	account_new(&b);
	xasprintf(&path, USERS "%s", a.id);
	r = get(path, b.access);
	itest_expect(r, 200);
	expect_members(r, r->json, "id username created_at");
	expect_member(r, r->json, "id", a.id);
	expect_member(r, r->json, "username", a.username);
	expect_member(r, r->json, "created_at", a.created_at);
	itest_free(r);
	free(path);

	r = get(USERS "18446744073709551615", b.access);
	itest_expect_error(r, 404, "not_found");
	itest_free(r);
	for (i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		xasprintf(&path, USERS "%s", bad[i]);
		r = get(path, b.access);
		itest_expect_error(r, 400, "invalid_id");
		itest_free(r);
		free(path);
	}
	account_free(&a);
	account_free(&b);
}
END_TEST

/* PATCH /users/@me as a with a printf-formatted body. */
static struct itest_response *
patch_me(const struct account *a, const char *fmt, ...)
{
	struct itest_response	*r;
	va_list			 ap;

	va_start(ap, fmt);
	r = vcall("PATCH", ME, a->access, fmt, ap);
	va_end(ap);
	return r;
}

/* Assert a PATCH answer: the whole updated user, updated_at moved on. */
static void
expect_patched(struct itest_response *r, struct account *a,
    const char *members)
{
	itest_expect(r, 200);
	expect_members(r, r->json, members);
	expect_self_fields(r, r->json, a);
	ck_assert_msg(strcmp(itest_str(r, "updated_at"), a->created_at) >= 0,
	    "updated_at before created_at: %s", itest_describe(r));
}

/*
 * Assert that changing field to value needs current_password: 400 naming
 * it when missing, 403 invalid_credentials when wrong.
 */
static void
expect_current_required(const struct account *a, const char *field,
    const char *value)
{
	struct itest_response	*r;
	char			*wrong;

	r = patch_me(a, "{\"%s\":\"%s\"}", field, value);
	itest_expect_invalid(r, "current_password");
	itest_free(r);
	wrong = password_new();
	r = patch_me(a, "{\"%s\":\"%s\",\"current_password\":\"%s\"}", field,
	    value, wrong);
	itest_expect_error(r, 403, "invalid_credentials");
	itest_free(r);
	free(wrong);
}

START_TEST(test_patch_username)
{
	struct itest_response	*r;
	struct account		 a, b;
	char			*old, *taken;

	account_new(&a);
	account_new(&b);
	old = a.username;
	a.username = itest_unique("renamed");
	r = patch_me(&a, "{\"username\":\"%s\"}", a.username);
	expect_patched(r, &a, SELF_MEMBERS);
	itest_free(r);
	r = get(ME, a.access);
	expect_self(r, r->json, &a);
	itest_free(r);
	account_login(&a);
	r = login_as(old, a.password);
	itest_expect_error(r, 401, "invalid_credentials");
	itest_free(r);

	/* Another's name, in any case, is taken; one's own is not. */
	taken = xstrdup(b.username);
	upcase(taken);
	r = patch_me(&a, "{\"username\":\"%s\"}", taken);
	itest_expect_error(r, 409, "username_taken");
	itest_free(r);
	upcase(a.username);
	r = patch_me(&a, "{\"username\":\"%s\"}", a.username);
	expect_patched(r, &a, SELF_MEMBERS);
	itest_free(r);

	r = patch_me(&a, "{\"username\":\"a\"}");
	itest_expect_invalid(r, "username");
	itest_free(r);
	r = patch_me(&a, "{\"username\":\"a b\"}");
	itest_expect_invalid(r, "username");
	itest_free(r);
	/* Nothing to change: the user as it is. */
	r = patch_me(&a, "{}");
	expect_patched(r, &a, SELF_MEMBERS);
	itest_free(r);
	free(old);
	free(taken);
	account_free(&a);
	account_free(&b);
}
END_TEST

START_TEST(test_patch_email)
{
	struct itest_response	*r;
	struct account		 a, b;
	char			*email, *taken;

	account_new(&a);
	account_new(&b);
	xasprintf(&email, "new.%s@example.net", a.username);
	expect_current_required(&a, "email", email);
	r = patch_me(&a, "{\"email\":\"bad\",\"current_password\":\"%s\"}",
	    a.password);
	itest_expect_invalid(r, "email");
	itest_free(r);
	/* None of that changed anything. */
	r = get(ME, a.access);
	expect_self(r, r->json, &a);
	itest_free(r);

	free(a.email);
	a.email = email;
	r = patch_me(&a, "{\"email\":\"%s\",\"current_password\":\"%s\"}",
	    a.email, a.password);
	expect_patched(r, &a, SELF_MEMBERS);
	itest_free(r);
	r = login_as(a.email, a.password);
	expect_session(r, 200, &a);
	itest_free(r);
	/* Sessions live on after an email change. */
	account_refresh(&a);

	/* Another's email, in any case, even with one's own username. */
	taken = xstrdup(b.email);
	upcase(taken);
	r = patch_me(&a, "{\"email\":\"%s\",\"current_password\":\"%s\"}",
	    taken, a.password);
	itest_expect_error(r, 409, "email_taken");
	itest_free(r);
	r = patch_me(&a, "{\"username\":\"%s\",\"email\":\"%s\","
	    "\"current_password\":\"%s\"}", a.username, taken, a.password);
	itest_expect_error(r, 409, "email_taken");
	itest_free(r);
	free(taken);
	account_free(&a);
	account_free(&b);
}
END_TEST

START_TEST(test_patch_password)
{
	struct itest_response	*r;
	struct account		 a, other;
	char			*next, *old_access, *old_refresh;

	account_new(&a);
	account_session(&other, &a);
	next = password_new();
	expect_current_required(&a, "password", next);
	r = patch_me(&a, "{\"password\":\"" SECRET "\",\"current_password\":"
	    "\"%s\"}", a.password);
	itest_expect_invalid(r, "password");
	itest_free(r);
	/* Refused changes left every session alive. */
	expect_access_ok(a.access);
	expect_access_ok(other.access);

	r = patch_me(&a, "{\"password\":\"%s\",\"current_password\":\"%s\"}",
	    next, a.password);
	expect_patched(r, &a, SELF_MEMBERS " " TOKEN_MEMBERS);
	expect_tokens(r, r->json);
	old_access = a.access;
	old_refresh = a.refresh;
	a.access = a.refresh = NULL;
	take_tokens(&a, r);
	itest_free(r);

	/* Every earlier token is dead at once; the new ones work. */
	expect_access_refused(old_access);
	expect_access_refused(other.access);
	expect_refresh_refused(old_refresh, "invalid_token");
	expect_refresh_refused(other.refresh, "invalid_token");
	expect_access_ok(a.access);
	account_refresh(&a);
	expect_access_ok(a.access);

	/* The new password logs in; the old one no longer does. */
	r = login_as(a.username, a.password);
	itest_expect_error(r, 401, "invalid_credentials");
	itest_free(r);
	free(a.password);
	a.password = next;
	account_login(&a);
	free(old_access);
	free(old_refresh);
	account_free(&a);
	account_free(&other);
}
END_TEST

/* --- limits (last: they may throttle this address) ------------------------ */

/*
 * Sign in as login with password from the current address; its status,
 * and into *wait the 429's retry_after (asserted as Retry-After too).
 */
static long
try_login(const char *login, const char *password, long *wait)
{
	struct itest_response	*r;
	long			 status;

	r = login_as(login, password);
	status = r->status;
	*wait = 0;
	if (status == 429) {
		expect_rate_limited(r);
		*wait = strtol(itest_header(r, "Retry-After"), NULL, 10);
		ck_assert_msg(*wait <= itest_conf_int("auth", "login_delay_max",
		    300), "a delay longer than login_delay_max: %s",
		    itest_describe(r));
	} else
		itest_expect_error(r, 401, "invalid_credentials");
	itest_free(r);
	return status;
}

/*
 * Guess n wrong passwords for login from the current address; each
 * status goes into statuses (n of them), retry_after into waits.
 */
static void
guess(const char *login, int n, long *statuses, long *waits)
{
	char	*wrong;
	int	 i;

	wrong = password_new();
	for (i = 0; i < n; i++)
		statuses[i] = try_login(login, wrong, &waits[i]);
	free(wrong);
}

START_TEST(test_stranger_cannot_lock_out)
{
	struct account	 a;
	long		 statuses[GUESSES], waits[GUESSES], wait, free_failures;
	int		 i, refused = 0;

	/* A stranger guesses a hundred times: delayed after a few. */
	free_failures = itest_conf_int("auth", "login_free", 5);
	account_new(&a);
	use_address(ADDR_STRANGER);
	guess(a.username, GUESSES, statuses, waits);
	for (i = 0; i < GUESSES; i++)
		refused += statuses[i] == 401;
	ck_assert_msg(refused >= free_failures && refused < GUESSES / 2,
	    "%d of %d wrong passwords answered 401 (login_free %ld)", refused,
	    GUESSES, free_failures);
	ck_assert_msg(statuses[GUESSES - 1] == 429, "the last guess got %ld",
	    statuses[GUESSES - 1]);
	/* Even the right password waits, from the stranger's address. */
	ck_assert_int_eq(try_login(a.username, a.password, &wait), 429);

	/* The owner, from an address that has not been guessing: in. */
	use_address(ADDR_OWNER);
	account_login(&a);
	expect_access_ok(a.access);
	account_free(&a);
}
END_TEST

START_TEST(test_unknown_throttled_alike)
{
	struct account	 a;
	long		 known[GUESSES], known_waits[GUESSES];
	long		 nobody[GUESSES], nobody_waits[GUESSES];
	char		*unknown;
	int		 i;

	/*
	 * A known and an unknown login, each guessed from its own address:
	 * the same answers, 429 from the same attempt on, the same delays.
	 */
	account_new(&a);
	unknown = itest_unique("nobody");
	use_address(ADDR_STRANGER + 50);
	guess(a.username, GUESSES / 4, known, known_waits);
	use_address(ADDR_NOBODY);
	guess(unknown, GUESSES / 4, nobody, nobody_waits);
	for (i = 0; i < GUESSES / 4; i++)
		ck_assert_msg(known[i] == nobody[i] &&
		    known_waits[i] == nobody_waits[i], "attempt %d: a known "
		    "login got %ld (retry_after %ld), an unknown one %ld (%ld)",
		    i, known[i], known_waits[i], nobody[i], nobody_waits[i]);
	ck_assert_int_eq(known[GUESSES / 4 - 1], 429);
	free(unknown);
	account_free(&a);
}
END_TEST

START_TEST(test_throttle_delays_grow)
{
	struct account	 a;
	long		 statuses[GUESSES], waits[GUESSES], wait;
	int		 n, i;

	/* login_free failures: the next attempt waits one second. */
	n = (int)itest_conf_int("auth", "login_free", 5);
	ck_assert_int_lt(n, GUESSES);
	account_new(&a);
	use_address(ADDR_GROWTH);
	guess(a.username, n + 1, statuses, waits);
	for (i = 0; i < n; i++)
		ck_assert_int_eq(statuses[i], 401);
	ck_assert_int_eq(statuses[n], 429);
	ck_assert_int_eq(waits[n], 1);

	/* Once it passed, one more wrong password: two seconds. */
	itest_sleep_ms(1100);
	guess(a.username, 2, statuses, waits);
	ck_assert_int_eq(statuses[0], 401);
	ck_assert_int_eq(statuses[1], 429);
	ck_assert_int_eq(waits[1], 2);

	/* The right password after the wait lets in, and clears the count. */
	itest_sleep_ms(2100);
	account_login(&a);
	ck_assert_int_eq(try_login(a.username, "wrong-" SECRET, &wait), 401);
	account_free(&a);
}
END_TEST

START_TEST(test_address_budget)
{
	struct account	 a;
	long		 status, wait, budget;
	char		*unknown;
	int		 i;

	/* One address trying many logins is slowed down by its own count. */
	budget = itest_conf_int("auth", "address_free", 100);
	account_new(&a);
	use_address(ADDR_SPRAY);
	for (i = 0, status = 401; i <= budget && status == 401; i++) {
		unknown = itest_unique("spray");
		status = try_login(unknown, "spray-" SECRET, &wait);
		free(unknown);
	}
	ck_assert_msg(status == 429 && i == budget + 1, "the %d-th login "
	    "of another name from one address got %ld (address_free %ld)", i,
	    status, budget);
	/* Any login from there now waits; elsewhere nothing changed. */
	ck_assert_int_eq(try_login(a.username, a.password, &wait), 429);
	use_address(ADDR_OWNER + 50);
	account_login(&a);
	account_free(&a);
}
END_TEST

START_TEST(test_current_password_throttled)
{
	struct itest_response	*r;
	struct account		 a;
	char			*wrong;
	long			 n, i;

	/* Wrong current passwords count as guesses at the username. */
	n = itest_conf_int("auth", "login_free", 5);
	account_new(&a);
	use_address(ADDR_PATCH);
	wrong = password_new();
	for (i = 0; i < n; i++) {
		r = patch_me(&a, "{\"password\":\"%s\",\"current_password\":"
		    "\"%s\"}", wrong, wrong);
		itest_expect_error(r, 403, "invalid_credentials");
		itest_free(r);
	}
	r = patch_me(&a, "{\"password\":\"%s\",\"current_password\":"
	    "\"%s\"}", wrong, a.password);
	expect_rate_limited(r);
	itest_free(r);
	/* So does a login by username from there, but not from elsewhere. */
	r = login_as(a.username, a.password);
	expect_rate_limited(r);
	itest_free(r);
	use_address(ADDR_PATCH + 50);
	account_login(&a);
	free(wrong);
	account_free(&a);
}
END_TEST

/* A growing buffer for one flood answer. */
struct flood_buf {
	char	*data;
	size_t	 len;
};

/* One request of a flood. */
struct flood_req {
	CURL		*curl;
	struct flood_buf body;
	struct flood_buf headers;
};

/* libcurl's write callback for both buffers. */
static size_t
flood_write(char *p, size_t size, size_t n, void *arg)
{
	struct flood_buf	*b = arg;

	b->data = xreallocarray(b->data, 1, b->len + size * n + 1);
	memcpy(b->data + b->len, p, size * n);
	b->len += size * n;
	b->data[b->len] = '\0';
	return size * n;
}

/* Make the easy handle of one flood request. */
static void
flood_setup(struct flood_req *q, const char *url)
{
	CURL	*c;

	ck_assert_ptr_nonnull(c = q->curl = curl_easy_init());
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_NOPROXY, "*");
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(c, CURLOPT_SSL_VERIFYPEER, 0L);
	curl_easy_setopt(c, CURLOPT_SSL_VERIFYHOST, 0L);
	curl_easy_setopt(c, CURLOPT_HTTP_VERSION, (long)CURL_HTTP_VERSION_2TLS);
	curl_easy_setopt(c, CURLOPT_PIPEWAIT, 1L);
	curl_easy_setopt(c, CURLOPT_TIMEOUT, 60L);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, flood_write);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, &q->body);
	curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, flood_write);
	curl_easy_setopt(c, CURLOPT_HEADERDATA, &q->headers);
}

/* Turn a flood answer into an itest_response (taking its buffers). */
static struct itest_response *
flood_response(struct flood_req *q, const char *path, long status)
{
	struct itest_response	*r;

	r = xcalloc(1, sizeof *r);
	r->status = status;
	r->body = q->body.data != NULL ? q->body.data : xstrdup("");
	r->len = q->body.len;
	r->headers = q->headers.data != NULL ? q->headers.data : xstrdup("");
	xasprintf(&r->what, "GET %s (in a flood)", path);
	if (json_parse(r->body, r->len, &r->root) == 0)
		r->json = r->root;
	q->body.data = q->headers.data = NULL;
	return r;
}

/*
 * Send n GETs to path at once over a few HTTP/2 connections.  Count the
 * 429s into *limited and the answers with status pass into *passed; the
 * first 429 comes back (NULL if there was none).
 */
static struct itest_response *
flood(const char *path, int n, long pass, int *limited, int *passed)
{
	struct itest_response	*first = NULL;
	struct flood_req	*reqs;
	CURLM			*m;
	char			*url;
	long			 status;
	int			 i, running;

	*limited = *passed = 0;
	reqs = xcalloc((size_t)n, sizeof *reqs);
	xasprintf(&url, "%s%s", itest_url(), path);
	ck_assert_ptr_nonnull(m = curl_multi_init());
	curl_multi_setopt(m, CURLMOPT_PIPELINING, CURLPIPE_MULTIPLEX);
	curl_multi_setopt(m, CURLMOPT_MAX_HOST_CONNECTIONS, (long)FLOOD_CONNS);
	for (i = 0; i < n; i++) {
		flood_setup(&reqs[i], url);
		curl_multi_add_handle(m, reqs[i].curl);
	}
	do {
		ck_assert_int_eq(curl_multi_perform(m, &running), CURLM_OK);
		if (running > 0)
			curl_multi_poll(m, NULL, 0, 1000, NULL);
	} while (running > 0);
	for (i = 0; i < n; i++) {
		status = 0;
		curl_easy_getinfo(reqs[i].curl, CURLINFO_RESPONSE_CODE, &status);
		if (status == 429) {
			if (first == NULL)
				first = flood_response(&reqs[i], path, status);
			(*limited)++;
		} else
			*passed += status == pass;
		curl_multi_remove_handle(m, reqs[i].curl);
		curl_easy_cleanup(reqs[i].curl);
		free(reqs[i].body.data);
		free(reqs[i].headers.data);
	}
	curl_multi_cleanup(m);
	free(reqs);
	free(url);
	return first;
}

START_TEST(test_nginx_rate_limit)
{
	struct itest_response	*r;
	int			 limited, passed;

	/* GET on an auth path: sohbetd answers 405 at once if let through. */
	r = flood(LOGIN, FLOOD, 405, &limited, &passed);
	fprintf(stderr, "flood: %d limited, %d passed\n", limited, passed);
	ck_assert_msg(r != NULL, "no 429 in %d requests to %s at once (%d "
	    "were answered 405)", FLOOD, LOGIN, passed);
	ck_assert_msg(passed > 0 && limited + passed == FLOOD, "of %d "
	    "requests %d were limited and %d answered 405", FLOOD, limited,
	    passed);
	expect_no_secrets(r);
	expect_rate_limited(r);
	itest_free(r);

	/* Other paths are not limited. */
	expect_call(200, "GET", HEALTH, NULL, NULL);
	/* Leave the limit drained for the programs that follow. */
	itest_sleep_ms(3000);
	expect_call(405, "GET", LOGIN, NULL, NULL);
}
END_TEST

START_TEST(test_log_has_no_secrets)
{
	static const char	*needles[] = { SECRET, "$scrypt$" };
	FILE			*f;
	char			*path, *log = NULL;
	size_t			 size = 0, len, i;

	xasprintf(&path, "%s/log/sohbetd.log", getenv("SOHBET_TEST_VAR"));
	ck_assert_msg((f = fopen(path, "r")) != NULL, "cannot read %s", path);
	len = getdelim(&log, &size, '\0', f) == -1 ? 0 : strlen(log);
	fclose(f);
	ck_assert_msg(len > 0, "%s is empty", path);
	for (i = 0; i < sizeof needles / sizeof needles[0]; i++)
		ck_assert_msg(memmem(log, len, needles[i],
		    strlen(needles[i])) == NULL, "%s shows \"%s\"", path,
		    needles[i]);
	free(log);
	free(path);
}
END_TEST

static Suite *
auth_suite(void)
{
	Suite	*s;
	TCase	*tc;

	s = suite_create("auth");

	tc = tcase_create("register");
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, test_register_shape);
	tcase_add_test(tc, test_register_validation);
	tcase_add_test(tc, test_register_too_long);
	tcase_add_test(tc, test_register_limits);
	tcase_add_test(tc, test_register_invalid_utf8);
	tcase_add_test(tc, test_register_unique_ignoring_case);
	tcase_add_test(tc, test_stored_secrets);
	suite_add_tcase(s, tc);

	tc = tcase_create("login");
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, test_login);
	tcase_add_test(tc, test_login_failures_identical);
	tcase_add_test(tc, test_login_timing);
	tcase_add_test(tc, test_login_validation);
	tcase_add_test(tc, test_hash_upgrade);
	suite_add_tcase(s, tc);

	tc = tcase_create("access");
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, test_bearer_required);
	tcase_add_test(tc, test_tampered_token);
	tcase_add_test(tc, test_forged_algorithms);
	tcase_add_test(tc, test_expired_token);
	tcase_add_test(tc, test_deleted_user);
	suite_add_tcase(s, tc);

	tc = tcase_create("refresh");
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, test_refresh_rotation);
	tcase_add_test(tc, test_reuse_revokes_one_family);
	tcase_add_test(tc, test_refresh_invalid);
	tcase_add_test(tc, test_refresh_race);
	tcase_add_test(tc, test_refresh_grace);
	tcase_add_test(tc, test_logout);
	tcase_add_test(tc, test_logout_all);
	suite_add_tcase(s, tc);

	tc = tcase_create("throttle");
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, test_stranger_cannot_lock_out);
	tcase_add_test(tc, test_unknown_throttled_alike);
	tcase_add_test(tc, test_throttle_delays_grow);
	tcase_add_test(tc, test_address_budget);
	tcase_add_test(tc, test_current_password_throttled);
	suite_add_tcase(s, tc);

	tc = tcase_create("users");
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, test_get_user);
	tcase_add_test(tc, test_patch_username);
	tcase_add_test(tc, test_patch_email);
	tcase_add_test(tc, test_patch_password);
	suite_add_tcase(s, tc);

	/*
	 * Last: these may throttle this address for a moment.  They have the
	 * stack alone, as flooding the auth location throttles every client
	 * of this address.
	 */
	tc = tcase_create("limits");
	tcase_set_timeout(tc, 180);
	tcase_add_unchecked_fixture(tc, itest_exclusive, NULL);
	tcase_add_test(tc, test_nginx_rate_limit);
	tcase_add_test(tc, test_log_has_no_secrets);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	itest_init();
	return check_run(auth_suite());
}
