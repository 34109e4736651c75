/* SPDX-License-Identifier: ISC */
/*
 * fuzz_request.c: libFuzzer harness of what a request's URI goes through:
 * percent-decoding, the query string, routing, and id and cursor parsing.
 * The input is "METHOD\nPATH?QUERY".
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "sohbet.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static const char *const fuzz_names[] = {
	"after", "before", "around", "limit", "timeout", "wait", "",
};

/* Route a method and raw path the way request.c and router.c do. */
static void
fuzz_route(const char *method, const char *raw, size_t len)
{
	char			*path, *args[ROUTE_ARGS_MAX], allow[64];
	const struct route	*r;
	size_t			 n = 0, i;
	uint64_t		 id;

	if ((path = request_decode(raw, len, 0)) == NULL)
		return;
	r = router_match(method, path, args, &n, allow, sizeof allow);
	if (r != NULL) {
		for (i = 0; i < n; i++) {
			param_parse_id(args[i], &id);
			free(args[i]);
		}
	}
	free(path);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct request	*req;
	char		*input, *nl, *q;
	const char	*v;
	uint64_t	 id;
	size_t		 i;

	input = xstrndup((const char *)data, size);
	if ((nl = strchr(input, '\n')) == NULL) {
		free(input);
		return 0;
	}
	*nl = '\0';
	q = strchr(nl + 1, '?');
	fuzz_route(input, nl + 1, q != NULL ? (size_t)(q - nl - 1) :
	    strlen(nl + 1));
	req = xcalloc(1, sizeof *req);
	if (q != NULL)
		req->query = xstrdup(q + 1);
	for (i = 0; i < sizeof fuzz_names / sizeof fuzz_names[0]; i++) {
		if ((v = request_query(req, fuzz_names[i])) != NULL)
			param_parse_id(v, &id);
	}
	request_free(req);
	free(input);
	return 0;
}
