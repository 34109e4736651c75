/* api-health.c: GET /api/v1/health, whether sohbetd can reach its database. */
#include "sohbet.h"

static struct db_stmt q_ping = DB_STMT("SELECT 1");

/* Answer 200 when the database answers, else 503. */
static void
api_health(struct request *req)
{
	struct db_rows	*rows;
	yajl_gen	 g;
	int		 up;

	rows = db_query(&q_ping, "");
	up = rows != NULL && db_fetch(rows) == 1;
	db_rows_free(rows);
	g = json_gen_new();
	yajl_gen_map_open(g);
	json_gen_kstr(g, "status", up ? "ok" : "degraded");
	json_gen_kstr(g, "db", up ? "ok" : "down");
	yajl_gen_map_close(g);
	response_json(req, up ? 200 : 503, g);
}

const struct route api_health_routes[] = {
	{ "GET", API_PREFIX "/health", api_health, 0 },
	{ NULL, NULL, NULL, 0 }
};
