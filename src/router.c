/* SPDX-License-Identifier: ISC */
/*
 * router.c: from method and path to a handler.  Patterns are paths whose
 * segments may be captures: {id} (a decimal id), {user} (an id or @me) or
 * any other {name} (kept as text).  Unknown paths get 404, known paths with
 * another method 405; then come the checks every route shares: body size,
 * authentication, ids in the path, and the JSON body.
 */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "sohbet.h"

static const struct route *router_tables[] = {
	api_health_routes,
	api_auth_routes,
	api_search_routes,
	api_users_routes,
	api_servers_routes,
	api_members_routes,
	api_bans_routes,
	api_invites_routes,
	api_roles_routes,
	api_channels_routes,
	api_overwrites_routes,
	api_events_routes,
	api_metrics_routes,
	api_messages_routes,
	api_dms_routes,
	api_typing_routes,
	api_presence_routes,
	api_readstate_routes,
	api_attachments_routes,
};

#define NTABLES	(sizeof router_tables / sizeof router_tables[0])

/* Match one pattern against a path, collecting captures; 1 if it matches. */
int
router_pattern_match(const char *pattern, const char *path, char **args,
    size_t *nargs)
{
	const char	*p = pattern, *s = path, *pe, *se;
	size_t		 n = 0;

	while (*p != '\0' && *s != '\0') {
		if (*p != '/' || *s != '/')
			goto nomatch;
		p++;
		s++;
		pe = p + strcspn(p, "/");
		se = s + strcspn(s, "/");
		if (*p == '{') {
			if (se == s || n == ROUTE_ARGS_MAX)
				goto nomatch;
			args[n++] = xstrndup(s, (size_t)(se - s));
		} else if (pe - p != se - s || memcmp(p, s, (size_t)(pe -
		    p)) != 0)
			goto nomatch;
		p = pe;
		s = se;
	}
	if (*p != '\0' || *s != '\0')
		goto nomatch;
	*nargs = n;
	return 1;
nomatch:
	while (n > 0)
		free(args[--n]);
	return 0;
}

/*
 * Find the route for method and path, filling args (the caller frees them).
 * When only the method is wrong, return NULL and list the methods that
 * would do in allow ("" when the path is unknown).
 */
const struct route *
router_match(const char *method, const char *path, char **args,
    size_t *nargs, char *allow, size_t allowsz)
{
	const struct route	*r;
	char			*tmp[ROUTE_ARGS_MAX];
	size_t			 i, n;

	allow[0] = '\0';
	for (i = 0; i < NTABLES; i++) {
		for (r = router_tables[i]; r->method != NULL; r++) {
			if (!router_pattern_match(r->pattern, path, tmp, &n))
				continue;
			if (strcmp(r->method, method) == 0) {
				memcpy(args, tmp, n * sizeof *tmp);
				*nargs = n;
				return r;
			}
			while (n > 0)
				free(tmp[--n]);
			if (strstr(allow, r->method) == NULL &&
			    strlen(allow) + strlen(r->method) + 3 < allowsz) {
				if (allow[0] != '\0')
					strcat(allow, ", ");
				strcat(allow, r->method);
			}
		}
	}
	return NULL;
}

/* The position of a route among all routes, for metrics; -1 if unknown. */
int
router_index(const struct route *route)
{
	const struct route	*r;
	size_t			 i;
	int			 n = 0;

	for (i = 0; i < NTABLES; i++) {
		for (r = router_tables[i]; r->method != NULL; r++, n++) {
			if (r == route)
				return n;
		}
	}
	return -1;
}

/* The route at a position, or NULL past the last. */
const struct route *
router_at(int index)
{
	const struct route	*r;
	size_t			 i;
	int			 n = 0;

	for (i = 0; i < NTABLES; i++) {
		for (r = router_tables[i]; r->method != NULL; r++, n++) {
			if (n == index)
				return r;
		}
	}
	return NULL;
}

/* Parse the captures {id} and {user} of the matched route into req->ids. */
static int
router_parse_args(struct request *req)
{
	const char	*p = req->route->pattern;
	size_t		 n = 0;

	while ((p = strchr(p, '{')) != NULL && n < req->nargs) {
		if (strncmp(p, "{user}", 6) == 0 &&
		    strcmp(req->args[n], "@me") == 0)
			req->ids[n] = req->user_id;
		else if ((strncmp(p, "{id}", 4) == 0 ||
		    strncmp(p, "{user}", 6) == 0) &&
		    param_parse_id(req->args[n], &req->ids[n]) == -1) {
			response_error(req, 400, "invalid_id", "\"%s\" is not a "
			    "valid id", req->args[n]);
			return -1;
		}
		n++;
		p++;
	}
	return 0;
}

/* Check the content type and parse the body as JSON, if there is one. */
static int
router_parse_body(struct request *req)
{
	const char	*ct;
	size_t		 len;

	if (req->body_len == 0)
		return 0;
	ct = request_param(req, "CONTENT_TYPE");
	len = strlen("application/json");
	if (ct == NULL || strncasecmp(ct, "application/json", len) != 0 ||
	    (ct[len] != '\0' && ct[len] != ';' && ct[len] != ' ')) {
		response_error(req, 415, "unsupported_media_type",
		    "The body must be application/json");
		return -1;
	}
	if (json_parse(req->body, req->body_len, &req->json) == -1) {
		response_error(req, 400, "invalid_json", "The body is not a "
		    "valid JSON object (UTF-8, nesting at most %d, no duplicate "
		    "keys)", JSON_DEPTH_MAX);
		return -1;
	}
	return 0;
}

/* Run the request's handler (through request_run(), which retries it). */
static void
router_run(struct request *req, void *unused)
{
	(void)unused;
	req->route->handler(req);
}

/* Route a request to its handler, answering every error on the way. */
void
router_dispatch(struct request *req)
{
	const char	*method;
	char		 allow[64];

	/* HEAD is GET without the body; nginx drops the body for us. */
	method = strcmp(req->method, "HEAD") == 0 ? "GET" : req->method;
	if (req->path != NULL)
		req->route = router_match(method, req->path, req->args,
		    &req->nargs, allow, sizeof allow);
	if (req->route != NULL)
		req->route_index = router_index(req->route) + 1;
	if (req->route == NULL) {
		if (req->path == NULL || allow[0] == '\0') {
			response_error(req, 404, "not_found", "No such endpoint");
			return;
		}
		response_header(req, "Allow: %s", allow);
		response_error(req, 405, "method_not_allowed", "%s is not "
		    "allowed here (allowed: %s)", req->method, allow);
		return;
	}
	if (req->body_too_large) {
		response_error(req, 413, "payload_too_large", "The body is "
		    "larger than %d bytes", BODY_MAX);
		return;
	}
	/* What the worker cached must reflect every change answered. */
	if (cache_on() || readcache_on())
		poll_sync();
	if ((req->route->flags & ROUTE_AUTH) && auth_request(req) == -1)
		return;
	if (router_parse_args(req) == -1 || router_parse_body(req) == -1)
		return;
	request_run(req, router_run, NULL);
}
