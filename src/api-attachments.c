/* SPDX-License-Identifier: ISC */
/*
 * api-attachments.c: the attachment endpoints (API.md, Attachments).
 *
 * POST /channels/{id}/attachments and /dms/{id}/attachments take a file
 * whose body never reaches sohbetd: nginx's upload location writes it to
 * a file in the store's incoming/ directory and passes its path in the
 * REQUEST_UPLOAD_FILE parameter (nginx/sohbet.conf, the "Uploads"
 * location); attachments.c checks it and moves it into the store.
 *
 * GET /attachments/{id}/{filename}?ex=&sig= is the signed link of
 * attachments_gen(): no Authorization header, so that <img src> works.
 * sohbetd checks the signature and answers with X-Accel-Redirect to the
 * internal location API_ATTACHMENTS_INTERNAL, where nginx serves the
 * file with sendfile and byte ranges and the headers of the contract.
 */
#include <ctype.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sohbet.h"

#define API_ATTACHMENTS_INTERNAL	"/api/.sohbet-files/"
#define API_ATTACHMENTS_NAME_MAX	255	/* code points */
#define API_ATTACHMENTS_TYPE_MAX	127

/*
 * Read the upload's Content-Type into type (lower case, without
 * parameters): application/octet-stream when there is none.  0, or -1
 * answered (400) when it is not a type/subtype of token characters.
 */
static int
api_attachments_type(struct request *req, char *type, size_t size)
{
	const char	*ct = request_param(req, "CONTENT_TYPE");
	size_t		 len, i, slashes = 0;

	if (ct == NULL || *ct == '\0')
		ct = "application/octet-stream";
	len = strcspn(ct, ";");
	while (len > 0 && ct[len - 1] == ' ')
		len--;
	if (len == 0 || len >= size || len > API_ATTACHMENTS_TYPE_MAX)
		goto bad;
	for (i = 0; i < len; i++) {
		if (ct[i] == '/')
			slashes++;
		else if (!isalnum((unsigned char)ct[i]) &&
		    strchr("!#$&^_.+-", ct[i]) == NULL)
			goto bad;
		type[i] = (char)tolower((unsigned char)ct[i]);
	}
	type[len] = '\0';
	if (slashes != 1 || type[0] == '/' || type[len - 1] == '/')
		goto bad;
	return 0;
bad:
	response_invalid(req, "content_type", "The Content-Type must be a "
	    "media type such as image/png");
	return -1;
}

/*
 * Take an upload into a conversation the caller may attach files to:
 * the file name of the query, the content type, then attachments.c.
 */
static void
api_attachments_upload(struct request *req, const struct conversation *c)
{
	const char	*file, *name;
	char		 type[API_ATTACHMENTS_TYPE_MAX + 1];

	if (cfg->files_dir == NULL || (file = request_param(req,
	    REQUEST_UPLOAD_FILE)) == NULL) {
		log_warnx("%s: an upload reached sohbetd without nginx's "
		    "upload location or without [files] directory", __func__);
		response_error(req, 500, "internal_error", "Uploads are not "
		    "set up on this server");
		return;
	}
	name = request_query(req, "filename");
	if (name == NULL) {
		response_invalid(req, "filename", "filename is required");
		return;
	}
	if (!text_is_filename(name, strlen(name), API_ATTACHMENTS_NAME_MAX)) {
		response_invalid(req, "filename", "filename must be 1 to %d "
		    "characters without /, \\, control or direction "
		    "characters", API_ATTACHMENTS_NAME_MAX);
		return;
	}
	if (api_attachments_type(req, type, sizeof type) == -1)
		return;
	if (*file == '\0') {
		response_invalid(req, "file", "The file is empty");
		return;
	}
	attachments_upload(req, c, file, name, type);
}

/* POST /channels/{id}/attachments: attach_files in that channel. */
static void
api_attachments_channel(struct request *req)
{
	struct conversation	c;
	struct member		m;

	memset(&c, 0, sizeof c);
	c.channel_id = req->ids[0];
	if (channels_access(req, c.channel_id, PERM_VIEW_CHANNELS |
	    PERM_ATTACH_FILES, &m, &c.server_id) == -1)
		return;
	api_attachments_upload(req, &c);
}

/* POST /dms/{id}/attachments: either participant. */
static void
api_attachments_dm(struct request *req)
{
	struct conversation	c;
	struct dm		d;
	int			rc;

	memset(&c, 0, sizeof c);
	c.dm_channel_id = req->ids[0];
	if ((rc = dms_load(req->user_id, c.dm_channel_id, &d)) == 1)
		api_attachments_upload(req, &c);
	else if (rc == 0)
		response_not_found(req, "DM channel");
	else
		response_db_error(req);
}

/*
 * GET /attachments/{id}/{filename}?ex=&sig=: a valid, unexpired link to
 * an attachment that exists is handed to nginx; anything else is 404,
 * the same answer for a bad signature and a deleted file (whose row a
 * worker may still keep: nginx then finds no file and answers 404).
 */
static void
api_attachments_get(struct request *req)
{
	struct attachment	 a;
	char			 uri[sizeof API_ATTACHMENTS_INTERNAL + 24];
	char			*disposition;
	int			 rc;

	if (!attachments_link_valid(req->ids[0], request_query(req, "ex"),
	    request_query(req, "sig"))) {
		response_not_found(req, "attachment");
		return;
	}
	if ((rc = attachments_load_kept(req->ids[0], &a)) == -1) {
		response_db_error(req);
		return;
	}
	if (rc == 0) {
		response_not_found(req, "attachment");
		return;
	}
	snprintf(uri, sizeof uri, API_ATTACHMENTS_INTERNAL "%" PRIu64, a.id);
	disposition = attachments_disposition(&a);
	response_accel(req, uri, attachments_served_type(&a), disposition);
	free(disposition);
	free(a.filename);
	free(a.content_type);
}

const struct route api_attachments_routes[] = {
	{ "POST", API_PREFIX "/channels/{id}/attachments",
	    api_attachments_channel, ROUTE_AUTH },
	{ "POST", API_PREFIX "/dms/{id}/attachments", api_attachments_dm,
	    ROUTE_AUTH },
	{ "GET", API_PREFIX "/attachments/{id}/{filename}",
	    api_attachments_get, 0 },
	{ NULL, NULL, NULL, 0 }
};
