/* SPDX-License-Identifier: ISC */
/*
 * change.c: finishing a change to a server, its members, roles, channels
 * or invites, as every endpoint that makes one does: its event appended
 * in the open transaction, the commit, and the answer; or the rollback
 * and the error.
 */
#include "sohbet.h"

/*
 * Append an event to the open transaction.  With key NULL, obj is the
 * data; otherwise the data is {"server_id": server_id, key: obj}, the
 * server_id left out when 0.  obj stays the caller's.  0 or -1.
 */
int
change_event(const char *type, const struct event_scope *scope,
    uint64_t server_id, const char *key, yajl_gen obj)
{
	yajl_gen	 data;
	const char	*text;
	size_t		 len;
	int		 rc;

	if (key == NULL)
		return events_append(type, scope, obj);
	text = json_gen_text(obj, &len);
	data = json_gen_new();
	yajl_gen_map_open(data);
	if (server_id != 0)
		json_gen_kid(data, "server_id", server_id);
	json_gen_kraw(data, key, text, len);
	yajl_gen_map_close(data);
	rc = events_append(type, scope, data);
	yajl_gen_free(data);
	return rc;
}

/* Roll the open transaction back and answer the database error. */
void
change_abort(struct request *req)
{
	db_rollback();
	response_db_error(req);
}

/*
 * Check the rows a statement of the open transaction changed (n, or -1
 * when it failed): 0 when it changed one; else -1 after rolling back and
 * answering 404 (no such what) or 500/503.
 */
int
change_check(struct request *req, long long n, const char *what)
{
	if (n > 0)
		return 0;
	if (n == 0) {
		db_rollback();
		response_not_found(req, what);
	} else
		change_abort(req);
	return -1;
}

/*
 * Finish a change: append its event (none without a type), commit, and
 * answer its status with its object (204: no body).  The object (NULL
 * for none, which only 204 allows) is freed.  A failure rolls back and
 * answers 500 or 503.
 */
void
change_commit(struct request *req, const struct change *c)
{
	if (c->object == NULL && c->status != 204) {
		change_abort(req);
		return;
	}
	if ((c->event != NULL && change_event(c->event, c->scope,
	    c->server_id, c->key, c->object) == -1) || db_commit() == -1) {
		if (c->object != NULL)
			yajl_gen_free(c->object);
		change_abort(req);
		return;
	}
	if (c->status == 204) {
		if (c->object != NULL)
			yajl_gen_free(c->object);
		response_empty(req, c->status);
	} else
		response_json(req, c->status, c->object);
}
