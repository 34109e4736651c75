/* SPDX-License-Identifier: ISC */
/*
 * json.c: request bodies parsed into a small tree with yajl's callback
 * parser under the limits of API.md (UTF-8, an object at the top, depth,
 * no duplicate keys), and helpers that write responses with yajl_gen.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <yajl/yajl_parse.h>

#include "sohbet.h"

#define JSON_SMALL_OBJECT	32	/* members compared pairwise */
#define JSON_TIME_LEN		24	/* "2026-11-27T08:19:50.123Z" */

/* An open array or object during a parse. */
struct json_frame {
	struct json	*node;
	size_t		 cap;		/* of items or members */
	char		*key;		/* the member key awaiting its value */
	size_t		 key_len;
};

/* The state of one json_parse(). */
struct json_parser {
	yajl_handle	 hand;
	const char	*buf;
	size_t		 len;
	struct json	*root;
	struct json_frame stack[JSON_DEPTH_MAX];
	size_t		 depth;		/* open containers */
	const char	*why;		/* why a callback stopped the parse */
};

/* Allocate for yajl, aborting on exhaustion as xmalloc does. */
static void *
json_yajl_malloc(void *ctx, size_t size)
{
	return xmalloc(size == 0 ? 1 : size);
}

/* Resize for yajl, aborting on exhaustion. */
static void *
json_yajl_realloc(void *ctx, void *p, size_t size)
{
	return xreallocarray(p, 1, size == 0 ? 1 : size);
}

/* Free for yajl. */
static void
json_yajl_free(void *ctx, void *p)
{
	free(p);
}

static yajl_alloc_funcs json_alloc_funcs = {
	json_yajl_malloc, json_yajl_realloc, json_yajl_free, NULL
};

/* Allocate a value of the given type. */
static struct json *
json_new(enum json_type type)
{
	struct json	*v;

	v = xcalloc(1, sizeof *v);
	v->type = type;
	return v;
}

/* Copy len bytes into a new NUL-terminated string. */
static char *
json_copy(const char *s, size_t len)
{
	char	*t;

	t = xmalloc(len + 1);
	memcpy(t, s, len);
	t[len] = '\0';
	return t;
}

/* Free a value and everything under it. */
void
json_free(struct json *v)
{
	size_t	i;

	/* Recursion is bounded: a tree is never deeper than JSON_DEPTH_MAX. */
	if (v == NULL)
		return;
	switch (v->type) {
	case JSON_ARRAY:
		for (i = 0; i < v->count; i++)
			json_free(v->items[i]);
		free(v->items);
		break;
	case JSON_OBJECT:
		for (i = 0; i < v->count; i++) {
			free(v->members[i].key);
			json_free(v->members[i].value);
		}
		free(v->members);
		break;
	default:
		break;
	}
	free(v->text);
	free(v);
}

/*
 * Attach a new value to the open container (or make it the root), so that
 * freeing the root on failure frees everything built so far.
 */
static int
json_parse_add(struct json_parser *p, struct json *v)
{
	struct json_frame	*f;
	struct json		*n;
	struct json_member	*m;

	if (p->depth == 0) {
		if (v->type != JSON_OBJECT || p->root != NULL) {
			p->why = "the top level is not an object";
			json_free(v);
			return -1;
		}
		p->root = v;
		return 0;
	}
	f = &p->stack[p->depth - 1];
	n = f->node;
	if (n->type == JSON_OBJECT && f->key == NULL) {
		p->why = "a member without a key";
		json_free(v);
		return -1;
	}
	if (n->count == f->cap) {
		f->cap = f->cap == 0 ? 4 : f->cap * 2;
		if (n->type == JSON_ARRAY)
			n->items = xreallocarray(n->items, f->cap,
			    sizeof *n->items);
		else
			n->members = xreallocarray(n->members, f->cap,
			    sizeof *n->members);
	}
	if (n->type == JSON_ARRAY) {
		n->items[n->count++] = v;
		return 0;
	}
	m = &n->members[n->count++];
	m->key = f->key;
	m->key_len = f->key_len;
	m->value = v;
	f->key = NULL;
	return 0;
}

/* Read the 4 hex digits at s, which the lexer has checked. */
static uint32_t
json_hex(const char *s)
{
	uint32_t	v = 0;
	int		i;
	char		c;

	for (i = 0; i < 4; i++) {
		c = s[i];
		if (c >= '0' && c <= '9')
			v = (v << 4) | (uint32_t)(c - '0');
		else if (c >= 'a' && c <= 'f')
			v = (v << 4) | (uint32_t)(c - 'a' + 10);
		else
			v = (v << 4) | (uint32_t)(c - 'A' + 10);
	}
	return v;
}

/* Encode a code point (surrogates included) as UTF-8 at out. */
static size_t
json_utf8(uint32_t cp, char *out)
{
	if (cp < 0x80) {
		out[0] = (char)cp;
		return 1;
	}
	if (cp < 0x800) {
		out[0] = (char)(0xc0 | (cp >> 6));
		out[1] = (char)(0x80 | (cp & 0x3f));
		return 2;
	}
	if (cp < 0x10000) {
		out[0] = (char)(0xe0 | (cp >> 12));
		out[1] = (char)(0x80 | ((cp >> 6) & 0x3f));
		out[2] = (char)(0x80 | (cp & 0x3f));
		return 3;
	}
	out[0] = (char)(0xf0 | (cp >> 18));
	out[1] = (char)(0x80 | ((cp >> 12) & 0x3f));
	out[2] = (char)(0x80 | ((cp >> 6) & 0x3f));
	out[3] = (char)(0x80 | (cp & 0x3f));
	return 4;
}

/*
 * Decode the raw text of a string token (between its quotes) into a new
 * string, setting *out_len; NULL if an escape is not one JSON allows.
 */
static char *
json_unescape(const char *raw, size_t len, size_t *out_len)
{
	char		*out;
	size_t		 i = 0, o = 0;
	uint32_t	 cp, lo;

	/* Every escape is at least as long as what it decodes to. */
	out = xmalloc(len + 1);
	while (i < len) {
		if (raw[i] != '\\') {
			out[o++] = raw[i++];
			continue;
		}
		if (i + 1 >= len)
			goto fail;
		switch (raw[i + 1]) {
		case '"':
		case '\\':
		case '/':
			out[o++] = raw[i + 1];
			break;
		case 'b':
			out[o++] = '\b';
			break;
		case 'f':
			out[o++] = '\f';
			break;
		case 'n':
			out[o++] = '\n';
			break;
		case 'r':
			out[o++] = '\r';
			break;
		case 't':
			out[o++] = '\t';
			break;
		case 'u':
			if (len - i < 6)
				goto fail;
			cp = json_hex(raw + i + 2);
			i += 6;
			if (cp >= 0xd800 && cp <= 0xdbff && len - i >= 6 &&
			    raw[i] == '\\' && raw[i + 1] == 'u') {
				lo = json_hex(raw + i + 2);
				if (lo >= 0xdc00 && lo <= 0xdfff) {
					cp = 0x10000 + ((cp - 0xd800) << 10) +
					    (lo - 0xdc00);
					i += 6;
				}
			}
			/*
			 * A lone surrogate is kept as its three-byte form,
			 * which text_codepoints() refuses: the caller answers
			 * validation_failed, as for \u0000.
			 */
			o += json_utf8(cp, out + o);
			continue;
		default:
			goto fail;
		}
		i += 2;
	}
	out[o] = '\0';
	*out_len = o;
	return out;

fail:
	free(out);
	return NULL;
}

/*
 * Find the opening quote of the string token whose closing quote is at
 * close: the nearest quote before it not escaped by a backslash.
 */
static int
json_token_start(const char *buf, size_t close, size_t *start)
{
	size_t	i, n;

	for (i = close; i > 0;) {
		i--;
		if (buf[i] != '"')
			continue;
		for (n = 0; n < i && buf[i - n - 1] == '\\'; n++)
			;
		if (n % 2 == 0) {
			*start = i;
			return 0;
		}
	}
	return -1;
}

/*
 * Copy a string token yajl has decoded.  yajl turns a lone high surrogate
 * escape into '?' and pairs it with whatever escape follows, so when the
 * raw token holds a surrogate escape it is decoded here instead.
 */
static char *
json_parse_string(struct json_parser *p, const unsigned char *s, size_t len,
    size_t *out_len)
{
	const char	*raw;
	size_t		 end, start, n, i;

	/* The body is parsed as one chunk: the token ends where yajl stands. */
	end = yajl_get_bytes_consumed(p->hand);
	if (end < 2 || end > p->len || p->buf[end - 1] != '"' ||
	    json_token_start(p->buf, end - 1, &start) == -1) {
		log_warnx("%s: cannot find the string token", __func__);
		return NULL;
	}
	raw = p->buf + start + 1;
	n = end - 1 - (start + 1);

	for (i = 0; i + 1 < n; i++) {
		if (raw[i] != '\\')
			continue;
		if (raw[i + 1] == 'u' && n - i >= 6 &&
		    (json_hex(raw + i + 2) & 0xf800) == 0xd800)
			return json_unescape(raw, n, out_len);
		i++;
	}
	*out_len = len;
	return json_copy((const char *)s, len);
}

/* yajl callback: null. */
static int
json_cb_null(void *ctx)
{
	return json_parse_add(ctx, json_new(JSON_NULL)) == 0;
}

/* yajl callback: true or false. */
static int
json_cb_boolean(void *ctx, int b)
{
	struct json	*v;

	v = json_new(JSON_BOOL);
	v->boolean = b != 0;
	return json_parse_add(ctx, v) == 0;
}

/* yajl callback: a number, kept as its literal text. */
static int
json_cb_number(void *ctx, const char *s, size_t len)
{
	struct json	*v;

	v = json_new(JSON_NUMBER);
	v->text = json_copy(s, len);
	v->len = len;
	return json_parse_add(ctx, v) == 0;
}

/* yajl callback: a string value. */
static int
json_cb_string(void *ctx, const unsigned char *s, size_t len)
{
	struct json_parser	*p = ctx;
	struct json		*v;
	char			*text;
	size_t			 text_len;

	if ((text = json_parse_string(p, s, len, &text_len)) == NULL)
		return 0;
	v = json_new(JSON_STRING);
	v->text = text;
	v->len = text_len;
	return json_parse_add(p, v) == 0;
}

/* yajl callback: the key of an object member. */
static int
json_cb_map_key(void *ctx, const unsigned char *s, size_t len)
{
	struct json_parser	*p = ctx;
	struct json_frame	*f;

	f = &p->stack[p->depth - 1];
	free(f->key);
	f->key = json_parse_string(p, s, len, &f->key_len);
	return f->key != NULL;
}

/* Open an array or object, refusing it beyond JSON_DEPTH_MAX. */
static int
json_parse_open(struct json_parser *p, enum json_type type)
{
	struct json	*v;

	if (p->depth >= JSON_DEPTH_MAX) {
		p->why = "nested too deep";
		return 0;
	}
	v = json_new(type);
	if (json_parse_add(p, v) == -1)
		return 0;
	p->stack[p->depth].node = v;
	p->stack[p->depth].cap = 0;
	p->stack[p->depth].key = NULL;
	p->stack[p->depth].key_len = 0;
	p->depth++;
	return 1;
}

/* yajl callback: '{'. */
static int
json_cb_start_map(void *ctx)
{
	return json_parse_open(ctx, JSON_OBJECT);
}

/* yajl callback: '['. */
static int
json_cb_start_array(void *ctx)
{
	return json_parse_open(ctx, JSON_ARRAY);
}

/* Order two members by key length, then key bytes. */
static int
json_key_cmp(const struct json_member *x, const struct json_member *y)
{
	if (x->key_len != y->key_len)
		return x->key_len < y->key_len ? -1 : 1;
	return memcmp(x->key, y->key, x->key_len);
}

/* qsort() comparison of two pointers to members. */
static int
json_member_cmp(const void *a, const void *b)
{
	return json_key_cmp(*(const struct json_member *const *)a,
	    *(const struct json_member *const *)b);
}

/*
 * Say whether two members of an object have the same key: pairwise for
 * small objects, by sorting for large ones so that a body of thousands of
 * keys is not quadratic.
 */
static int
json_has_duplicates(const struct json *obj)
{
	const struct json_member	**sorted;
	size_t				  i, j;
	int				  dup = 0;

	if (obj->count <= JSON_SMALL_OBJECT) {
		for (i = 0; i < obj->count; i++) {
			for (j = i + 1; j < obj->count; j++) {
				if (json_key_cmp(&obj->members[i],
				    &obj->members[j]) == 0)
					return 1;
			}
		}
		return 0;
	}
	sorted = xreallocarray(NULL, obj->count, sizeof *sorted);
	for (i = 0; i < obj->count; i++)
		sorted[i] = &obj->members[i];
	qsort(sorted, obj->count, sizeof *sorted, json_member_cmp);
	for (i = 1; i < obj->count && !dup; i++)
		dup = json_key_cmp(sorted[i - 1], sorted[i]) == 0;
	free(sorted);
	return dup;
}

/* yajl callback: '}', where duplicate keys are refused. */
static int
json_cb_end_map(void *ctx)
{
	struct json_parser	*p = ctx;

	if (json_has_duplicates(p->stack[p->depth - 1].node)) {
		p->why = "duplicate key";
		return 0;
	}
	p->depth--;
	return 1;
}

/* yajl callback: ']'. */
static int
json_cb_end_array(void *ctx)
{
	struct json_parser	*p = ctx;

	p->depth--;
	return 1;
}

static const yajl_callbacks json_callbacks = {
	.yajl_null = json_cb_null,
	.yajl_boolean = json_cb_boolean,
	.yajl_number = json_cb_number,
	.yajl_string = json_cb_string,
	.yajl_start_map = json_cb_start_map,
	.yajl_map_key = json_cb_map_key,
	.yajl_end_map = json_cb_end_map,
	.yajl_start_array = json_cb_start_array,
	.yajl_end_array = json_cb_end_array
};

/*
 * Parse a request body into a tree the caller frees with json_free(); -1
 * (answered 400 invalid_json) for anything API.md calls invalid JSON.
 */
int
json_parse(const char *buf, size_t len, struct json **out)
{
	struct json_parser	 p;
	yajl_status		 st = yajl_status_ok;
	unsigned char		*err;
	size_t			 i;

	*out = NULL;
	memset(&p, 0, sizeof p);

	/*
	 * Outside strings JSON is ASCII, so checking the whole body checks
	 * every string strictly: yajl lets overlong forms, surrogates and
	 * code points above U+10FFFF through.
	 */
	if (len == 0) {
		p.why = "empty body";
		goto fail;
	}
	if (text_codepoints(buf, len) == -1) {
		p.why = "not UTF-8";
		goto fail;
	}

	p.buf = buf;
	p.len = len;
	if ((p.hand = yajl_alloc(&json_callbacks, &json_alloc_funcs,
	    &p)) == NULL)
		fatalx("%s: yajl_alloc", __func__);
	yajl_config(p.hand, yajl_allow_comments, 0);
	yajl_config(p.hand, yajl_dont_validate_strings, 0);
	yajl_config(p.hand, yajl_allow_trailing_garbage, 0);
	yajl_config(p.hand, yajl_allow_multiple_values, 0);
	yajl_config(p.hand, yajl_allow_partial_values, 0);

	st = yajl_parse(p.hand, (const unsigned char *)buf, len);
	if (st == yajl_status_ok)
		st = yajl_complete_parse(p.hand);
	if (st != yajl_status_ok || p.root == NULL || p.depth != 0)
		goto fail;
	yajl_free(p.hand);
	*out = p.root;
	return 0;

fail:
	if (st == yajl_status_error) {
		err = yajl_get_error(p.hand, 0, NULL, 0);
		if (err != NULL) {
			err[strcspn((char *)err, "\n")] = '\0';
			log_debug("%s: %s", __func__, err);
			yajl_free_error(p.hand, err);
		}
	} else if (p.why != NULL)
		log_debug("%s: %s", __func__, p.why);
	for (i = 0; i < p.depth; i++)
		free(p.stack[i].key);
	json_free(p.root);
	if (p.hand != NULL)
		yajl_free(p.hand);
	return -1;
}

/* Find the member of an object with this key; NULL if absent. */
struct json *
json_get(const struct json *obj, const char *key)
{
	size_t	i, len;

	if (obj == NULL || obj->type != JSON_OBJECT)
		return NULL;
	len = strlen(key);
	for (i = 0; i < obj->count; i++) {
		if (obj->members[i].key_len == len &&
		    memcmp(obj->members[i].key, key, len) == 0)
			return obj->members[i].value;
	}
	return NULL;
}

/* Read a number written as an integer that fits in a long long. */
int
json_integer(const struct json *v, long long *out)
{
	const char	*s;
	char		*end;
	long long	 n;
	size_t		 i;

	if (v == NULL || v->type != JSON_NUMBER || v->len == 0)
		return -1;
	s = v->text;
	for (i = (s[0] == '-'); i < v->len; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
	}
	errno = 0;
	n = strtoll(s, &end, 10);
	if (errno != 0 || end != s + v->len)
		return -1;
	*out = n;
	return 0;
}

/* Log a generator error: a broken invariant in the code writing JSON. */
static void
json_gen_check(yajl_gen_status st, const char *func)
{
	if (st != yajl_gen_status_ok)
		log_warnx("%s: yajl_gen error %d", func, (int)st);
}

/* Make a generator for a response body: compact, UTF-8 checked. */
yajl_gen
json_gen_new(void)
{
	yajl_gen	g;

	if ((g = yajl_gen_alloc(&json_alloc_funcs)) == NULL)
		fatalx("%s: yajl_gen_alloc", __func__);
	yajl_gen_config(g, yajl_gen_beautify, 0);
	yajl_gen_config(g, yajl_gen_validate_utf8, 1);
	return g;
}

/* Write an object key. */
void
json_gen_key(yajl_gen g, const char *key)
{
	json_gen_check(yajl_gen_string(g, (const unsigned char *)key,
	    strlen(key)), __func__);
}

/*
 * Say whether len bytes are strict UTF-8, NUL bytes allowed: yajl_gen's own
 * check lets overlong forms and surrogates through.
 */
static int
json_is_utf8(const char *s, size_t len)
{
	const char	*nul;
	size_t		 n;

	while (len > 0) {
		nul = memchr(s, '\0', len);
		n = nul == NULL ? len : (size_t)(nul - s);
		if (text_codepoints(s, n) == -1)
			return 0;
		if (nul == NULL)
			break;
		s += n + 1;
		len -= n + 1;
	}
	return 1;
}

/* Write len bytes as a string; NULL, or text that is not UTF-8, as null. */
void
json_gen_strn(yajl_gen g, const char *s, size_t len)
{
	if (s != NULL && !json_is_utf8(s, len)) {
		log_warnx("%s: not UTF-8, written as null", __func__);
		s = NULL;
	}
	if (s == NULL)
		json_gen_check(yajl_gen_null(g), __func__);
	else
		json_gen_check(yajl_gen_string(g, (const unsigned char *)s,
		    len), __func__);
}

/* Write a C string, or null. */
void
json_gen_str(yajl_gen g, const char *s)
{
	json_gen_strn(g, s, s == NULL ? 0 : strlen(s));
}

/* Write an id as a decimal string, or null for 0. */
void
json_gen_id(yajl_gen g, uint64_t id)
{
	char	buf[24];
	int	n;

	if (id == 0) {
		json_gen_check(yajl_gen_null(g), __func__);
		return;
	}
	n = snprintf(buf, sizeof buf, "%" PRIu64, id);
	json_gen_check(yajl_gen_string(g, (const unsigned char *)buf,
	    (size_t)n), __func__);
}

/* Write an id or cursor as a decimal string, 0 included ("0"). */
void
json_gen_id_or_zero(yajl_gen g, uint64_t id)
{
	char	buf[24];
	int	n;

	n = snprintf(buf, sizeof buf, "%" PRIu64, id);
	json_gen_check(yajl_gen_string(g, (const unsigned char *)buf,
	    (size_t)n), __func__);
}

/* Write a key and a string (or null). */
void
json_gen_kstr(yajl_gen g, const char *key, const char *s)
{
	json_gen_key(g, key);
	json_gen_str(g, s);
}

/* Write a key and an id (or null for 0). */
void
json_gen_kid(yajl_gen g, const char *key, uint64_t id)
{
	json_gen_key(g, key);
	json_gen_id(g, id);
}

/* Write a key and an integer. */
void
json_gen_kint(yajl_gen g, const char *key, long long n)
{
	json_gen_key(g, key);
	json_gen_check(yajl_gen_integer(g, n), __func__);
}

/* Write a key and a boolean. */
void
json_gen_kbool(yajl_gen g, const char *key, int b)
{
	json_gen_key(g, key);
	json_gen_check(yajl_gen_bool(g, b != 0), __func__);
}

/* Write a key and null. */
void
json_gen_knull(yajl_gen g, const char *key)
{
	json_gen_key(g, key);
	json_gen_check(yajl_gen_null(g), __func__);
}

/*
 * Turn a DATETIME as MariaDB writes it, "2026-11-27 08:19:50.123" with 0 to
 * 6 fraction digits, into RFC 3339 UTC with milliseconds.
 */
int
json_time_format(const char *dbtime, char *buf, size_t size)
{
	static const char	 pattern[] = "dddd-dd-dd dd:dd:dd";
	char			 frac[3] = { '0', '0', '0' };
	const char		*p;
	size_t			 i, n;
	char			 c;

	if (dbtime == NULL || size < JSON_TIME_LEN + 1)
		return -1;
	for (i = 0; i < sizeof pattern - 1; i++) {
		c = dbtime[i];
		if (pattern[i] == 'd') {
			if (c < '0' || c > '9')
				return -1;
		} else if (i == 10) {
			if (c != ' ' && c != 'T')
				return -1;
		} else if (c != pattern[i])
			return -1;
	}
	p = dbtime + sizeof pattern - 1;
	if (*p == '.') {
		p++;
		for (n = 0; p[n] >= '0' && p[n] <= '9'; n++) {
			if (n == 6)
				return -1;
			if (n < 3)
				frac[n] = p[n];
		}
		p += n;
	}
	if (*p != '\0')
		return -1;
	memcpy(buf, dbtime, 10);
	buf[10] = 'T';
	memcpy(buf + 11, dbtime + 11, 8);
	buf[19] = '.';
	memcpy(buf + 20, frac, 3);
	buf[23] = 'Z';
	buf[24] = '\0';
	return 0;
}

/* Write a key and a DATETIME as an RFC 3339 string (or null). */
void
json_gen_ktime(yajl_gen g, const char *key, const char *dbtime)
{
	char	buf[JSON_TIME_LEN + 1];

	json_gen_key(g, key);
	if (dbtime == NULL) {
		json_gen_check(yajl_gen_null(g), __func__);
		return;
	}
	if (json_time_format(dbtime, buf, sizeof buf) == -1) {
		log_warnx("%s: bad time \"%s\", written as null", __func__,
		    dbtime);
		json_gen_check(yajl_gen_null(g), __func__);
		return;
	}
	json_gen_check(yajl_gen_string(g, (const unsigned char *)buf,
	    JSON_TIME_LEN), __func__);
}

/*
 * Write already serialised JSON as one value.  yajl_gen_number() prints
 * its text as-is and then counts it as a single value, so the commas and
 * colons around it come out right; the text must be valid JSON.
 */
void
json_gen_raw(yajl_gen g, const char *text, size_t len)
{
	if (text == NULL || len == 0) {
		if (text != NULL)
			log_warnx("%s: empty text, written as null", __func__);
		json_gen_check(yajl_gen_null(g), __func__);
		return;
	}
	json_gen_check(yajl_gen_number(g, text, len), __func__);
}

/* Write a key and already serialised JSON. */
void
json_gen_kraw(yajl_gen g, const char *key, const char *text, size_t len)
{
	json_gen_key(g, key);
	json_gen_raw(g, text, len);
}

/* Return the text written so far and its length (not a copy). */
const char *
json_gen_text(yajl_gen g, size_t *len)
{
	const unsigned char	*buf = NULL;
	size_t			 n = 0;

	if (yajl_gen_get_buf(g, &buf, &n) != yajl_gen_status_ok ||
	    buf == NULL) {
		buf = (const unsigned char *)"";
		n = 0;
	}
	if (len != NULL)
		*len = n;
	return (const char *)buf;
}

/*
 * A new generator holding n ids as a JSON array of decimal strings, as
 * statements read them with JSON_TABLE.
 */
yajl_gen
json_id_list(const uint64_t *ids, size_t n)
{
	yajl_gen	g;
	size_t		i;

	g = json_gen_new();
	yajl_gen_array_open(g);
	for (i = 0; i < n; i++)
		json_gen_id_or_zero(g, ids[i]);
	yajl_gen_array_close(g);
	return g;
}

/* A new generator holding {k1: v1, k2: v2} (k2 NULL: one member). */
yajl_gen
json_ids(const char *k1, uint64_t v1, const char *k2, uint64_t v2)
{
	yajl_gen	g;

	g = json_gen_new();
	yajl_gen_map_open(g);
	json_gen_kid(g, k1, v1);
	if (k2 != NULL)
		json_gen_kid(g, k2, v2);
	yajl_gen_map_close(g);
	return g;
}
