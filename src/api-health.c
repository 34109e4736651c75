/* SPDX-License-Identifier: ISC */
/*
 * api-health.c: GET /api/v1/health, whether sohbetd can reach its database
 * and the database's schema is recent enough for it.
 */
#include "sohbet.h"

static struct db_stmt q_ping = DB_STMT("SELECT 1");

/* Answer 200 when the database answers, else 503 saying why. */
static void
api_health(struct request *req)
{
	struct db_rows	*rows;
	yajl_gen	 g;
	unsigned int	 found;
	int		 up;

	rows = db_query(&q_ping, "");
	up = rows != NULL && db_fetch(rows) == 1;
	db_rows_free(rows);
	g = json_gen_new();
	yajl_gen_map_open(g);
	json_gen_kstr(g, "status", up ? "ok" : "degraded");
	if (!up && db_schema_outdated(&found)) {
		json_gen_kstr(g, "db", "schema_outdated");
		json_gen_kint(g, "schema_version", found);
		json_gen_kint(g, "schema_needed", SCHEMA_VERSION);
	} else
		json_gen_kstr(g, "db", up ? "ok" : "down");
	yajl_gen_map_close(g);
	response_json(req, up ? 200 : 503, g);
}

const struct route api_health_routes[] = {
	{ "GET", API_PREFIX "/health", api_health, 0 },
	{ NULL, NULL, NULL, 0 }
};
