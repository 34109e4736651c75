/* SPDX-License-Identifier: ISC */
/*
 * param.c: reading ids, query parameters and body fields, each checked
 * against API.md's rules.  A function that finds the input bad answers the
 * request itself and returns -1; PARAM_ABSENT means not given.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "sohbet.h"

/* Parse a canonical decimal id (1 .. 2^64-1); 0, or -1 if malformed. */
int
param_parse_id(const char *s, uint64_t *id)
{
	uint64_t	v = 0;
	size_t		i, len;

	len = strlen(s);
	if (len == 0 || len > 20 || s[0] == '0')
		return -1;
	for (i = 0; i < len; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		if (v > (UINT64_MAX - (uint64_t)(s[i] - '0')) / 10)
			return -1;
		v = v * 10 + (uint64_t)(s[i] - '0');
	}
	*id = v;
	return 0;
}

/* Read an id from the query string. */
int
param_query_id(struct request *req, const char *name, uint64_t *id)
{
	const char	*v;

	if ((v = request_query(req, name)) == NULL)
		return PARAM_ABSENT;
	if (param_parse_id(v, id) == -1) {
		response_error(req, 400, "invalid_id",
		    "%s must be an id (a decimal string)", name);
		return -1;
	}
	return 0;
}

/* Parse a decimal integer within min..max; 0 or -1. */
static int
param_parse_long(const char *s, long min, long max, long *out)
{
	char	*end;
	long	 v;

	if (*s == '\0' || strlen(s) > 20 || (*s != '-' && (*s < '0' ||
	    *s > '9')))
		return -1;
	errno = 0;
	v = strtol(s, &end, 10);
	if (*end != '\0' || errno != 0 || v < min || v > max)
		return -1;
	*out = v;
	return 0;
}

/* Read an integer between min and max from the query string. */
int
param_query_int(struct request *req, const char *name, long min, long max,
    long *out)
{
	const char	*v;

	if ((v = request_query(req, name)) == NULL)
		return PARAM_ABSENT;
	if (param_parse_long(v, min, max, out) == -1) {
		response_invalid(req, name, "%s must be an integer from %ld to "
		    "%ld", name, min, max);
		return -1;
	}
	return 0;
}

/*
 * Read the ?after=<id>&limit=1..max of a list in id order into *after
 * and *limit, which keep their defaults when absent; 0 or -1 (answered).
 */
int
param_query_page(struct request *req, long max, uint64_t *after, long *limit)
{
	if (param_query_id(req, "after", after) == -1 ||
	    param_query_int(req, "limit", 1, max, limit) == -1)
		return -1;
	return 0;
}

/* Require a JSON object body; -1 (answered) when there is none. */
int
param_body(struct request *req)
{
	if (req->json != NULL)
		return 0;
	response_error(req, 400, "invalid_json", "A JSON object body is "
	    "required");
	return -1;
}

/* The body's field, or NULL when absent or null. */
static struct json *
param_field(struct request *req, const char *field)
{
	struct json	*v;

	if (req->json == NULL || (v = json_get(req->json, field)) == NULL ||
	    v->type == JSON_NULL)
		return NULL;
	return v;
}

/*
 * Read a text field of min..max code points (flags: TEXT_NO_CONTROL,
 * TEXT_NOT_BLANK).  The string stays owned by the request.
 */
int
param_text(struct request *req, const char *field, long min, long max,
    int flags, const char **out, size_t *lenp)
{
	struct json	*v;
	long		 n;

	if ((v = param_field(req, field)) == NULL)
		return PARAM_ABSENT;
	if (v->type != JSON_STRING) {
		response_invalid(req, field, "%s must be a string", field);
		return -1;
	}
	if ((n = text_codepoints(v->text, v->len)) == -1) {
		response_invalid(req, field, "%s must be valid text without NUL "
		    "characters", field);
		return -1;
	}
	if (n < min || n > max) {
		response_invalid(req, field, "%s must be %ld to %ld characters "
		    "long", field, min, max);
		return -1;
	}
	if ((flags & TEXT_NO_CONTROL) && text_has_control(v->text, v->len)) {
		response_invalid(req, field, "%s must not contain control "
		    "characters", field);
		return -1;
	}
	if ((flags & TEXT_NOT_BLANK) && text_is_blank(v->text, v->len)) {
		response_invalid(req, field, "%s must not be only white space",
		    field);
		return -1;
	}
	*out = v->text;
	if (lenp != NULL)
		*lenp = v->len;
	return 0;
}

/* Read a JSON value as an id: a decimal string, or an integer below 2^53. */
static int
param_json_id(const struct json *v, uint64_t *id)
{
	long long	n;

	if (v->type == JSON_STRING && strlen(v->text) == v->len &&
	    param_parse_id(v->text, id) == 0)
		return 0;
	if (v->type == JSON_NUMBER && json_integer(v, &n) == 0 && n > 0 &&
	    (uint64_t)n < ID_JSON_MAX) {
		*id = (uint64_t)n;
		return 0;
	}
	return -1;
}

/* Read an id field: a decimal string, or a JSON integer below 2^53. */
int
param_id(struct request *req, const char *field, uint64_t *id)
{
	struct json	*v;

	if ((v = param_field(req, field)) == NULL)
		return PARAM_ABSENT;
	if (param_json_id(v, id) == 0)
		return 0;
	response_error(req, 400, "invalid_id", "%s must be an id (a decimal "
	    "string)", field);
	return -1;
}

/*
 * Read a field holding an array of at most max distinct ids into ids (*n
 * of them; 0 when the field is absent or null).  0, or -1 answered (400
 * validation_failed).
 */
int
param_ids(struct request *req, const char *field, size_t max, uint64_t *ids,
    size_t *n)
{
	struct json	*v;
	size_t		 i, j;

	*n = 0;
	if ((v = param_field(req, field)) == NULL)
		return 0;
	if (v->type != JSON_ARRAY || v->count > max) {
		response_invalid(req, field, "%s must be a list of at most %zu "
		    "ids", field, max);
		return -1;
	}
	for (i = 0; i < v->count; i++) {
		if (param_json_id(v->items[i], &ids[i]) == -1) {
			response_invalid(req, field, "%s must hold ids "
			    "(decimal strings)", field);
			return -1;
		}
		for (j = 0; j < i; j++) {
			if (ids[j] == ids[i]) {
				response_invalid(req, field, "%s names one id "
				    "twice", field);
				return -1;
			}
		}
	}
	*n = v->count;
	return 0;
}

/* Read an integer field between min and max. */
int
param_int(struct request *req, const char *field, long min, long max,
    long *out)
{
	struct json	*v;
	long long	 n;

	if ((v = param_field(req, field)) == NULL)
		return PARAM_ABSENT;
	if (v->type != JSON_NUMBER || json_integer(v, &n) == -1 || n < min ||
	    n > max) {
		response_invalid(req, field, "%s must be an integer from %ld to "
		    "%ld", field, min, max);
		return -1;
	}
	*out = (long)n;
	return 0;
}

/* 1 if the body holds the field with the value null. */
int
param_is_null(struct request *req, const char *field)
{
	struct json	*v;

	if (req->json == NULL || (v = json_get(req->json, field)) == NULL)
		return 0;
	return v->type == JSON_NULL;
}

/*
 * Read a name field (server, role or channel: 1..100 code points, no
 * control characters).  0, PARAM_ABSENT when optional and absent, or -1
 * when answered; null is refused.
 */
int
param_name(struct request *req, const char *field, int required,
    const char **out)
{
	int	rc;

	if (param_is_null(req, field)) {
		response_invalid(req, field, "%s must be a string", field);
		return -1;
	}
	rc = param_text(req, field, 1, 100, TEXT_NO_CONTROL, out, NULL);
	if (rc == PARAM_ABSENT && required) {
		response_invalid(req, field, "%s is required", field);
		return -1;
	}
	return rc;
}
