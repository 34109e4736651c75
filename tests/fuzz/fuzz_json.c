/* SPDX-License-Identifier: ISC */
/* fuzz_json.c: libFuzzer harness of the JSON request layer and its limits. */
#include <stdint.h>
#include <string.h>

#include "sohbet.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct json	*j;
	const char	*text;
	size_t		 len;
	yajl_gen	 g;

	if (size > BODY_MAX)
		return 0;
	if (json_parse((const char *)data, size, &j) == -1)
		return 0;
	/* What parsed must be an object whose strings we can echo back. */
	if (j->type != JSON_OBJECT)
		__builtin_trap();
	g = json_gen_new();
	yajl_gen_map_open(g);
	for (len = 0; len < j->count; len++) {
		if (j->members[len].value->type == JSON_STRING) {
			json_gen_key(g, "k");
			json_gen_strn(g, j->members[len].value->text,
			    j->members[len].value->len);
		}
	}
	yajl_gen_map_close(g);
	text = json_gen_text(g, &len);
	if (len == 0 || text[0] != '{')
		__builtin_trap();
	yajl_gen_free(g);
	json_get(j, "content");
	json_free(j);
	return 0;
}
