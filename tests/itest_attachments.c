/* SPDX-License-Identifier: ISC */
/*
 * itest_attachments.c: integration tests of attachments (API.md,
 * Attachments; issue 23): uploads through nginx's upload location, the
 * checks of names, types, sizes and image bytes, hostile files, messages
 * taking uploads, signed links (tampered, expired, of a deleted
 * message's file), who may upload where, and the store left clean by
 * refused, oversized and abandoned uploads and by the keeper.
 */
#include <sys/types.h>

#include <sys/stat.h>

#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <check.h>

#include "chat.h"
#include "check_run.h"
#include "forge.h"
#include "raw.h"

#define MIB		(1024 * 1024)
#define PNG_HTML	"<html><script>alert(document.cookie)</script></html>"

/* A byte string built by a test. */
struct blob {
	unsigned char	*data;
	size_t		 len;
};

/* Append len bytes to a blob. */
static void
blob_add(struct blob *b, const void *data, size_t len)
{
	b->data = xreallocarray(b->data, b->len + len + 1, 1);
	memcpy(b->data + b->len, data, len);
	b->len += len;
}

/* A PNG's signature and IHDR chunk for w x h, then tail (may be NULL). */
static struct blob
png(unsigned int w, unsigned int h, const char *tail)
{
	struct blob	b = { NULL, 0 };
	unsigned char	ihdr[25] = "\x89PNG\r\n\x1a\n\0\0\0\x0dIHDR";

	ihdr[16] = (unsigned char)(w >> 24);
	ihdr[17] = (unsigned char)(w >> 16);
	ihdr[18] = (unsigned char)(w >> 8);
	ihdr[19] = (unsigned char)w;
	ihdr[20] = (unsigned char)(h >> 24);
	ihdr[21] = (unsigned char)(h >> 16);
	ihdr[22] = (unsigned char)(h >> 8);
	ihdr[23] = (unsigned char)h;
	ihdr[24] = 8;
	blob_add(&b, ihdr, sizeof ihdr);
	blob_add(&b, "\x02\0\0\0\0\0\0\0\0IEND\xae\x42\x60\x82", 17);
	if (tail != NULL)
		blob_add(&b, tail, strlen(tail));
	return b;
}

/* A GIF89a header of w x h and a trailer. */
static struct blob
gif(unsigned int w, unsigned int h)
{
	struct blob	b = { NULL, 0 };
	unsigned char	head[13] = "GIF89a";

	head[6] = (unsigned char)w;
	head[7] = (unsigned char)(w >> 8);
	head[8] = (unsigned char)h;
	head[9] = (unsigned char)(h >> 8);
	blob_add(&b, head, sizeof head);
	blob_add(&b, ";", 1);
	return b;
}

/* A JPEG: SOI, a JFIF APP0 segment, an SOF0 of w x h, EOI. */
static struct blob
jpeg(unsigned int w, unsigned int h)
{
	struct blob	b = { NULL, 0 };
	unsigned char	sof[19] = "\xff\xc0\0\x11\x08";

	blob_add(&b, "\xff\xd8\xff\xe0\0\x10JFIF\0\x01\x01\0\0\x01\0\x01\0\0",
	    20);
	sof[5] = (unsigned char)(h >> 8);
	sof[6] = (unsigned char)h;
	sof[7] = (unsigned char)(w >> 8);
	sof[8] = (unsigned char)w;
	sof[9] = 3;
	blob_add(&b, sof, sizeof sof);
	blob_add(&b, "\xff\xd9", 2);
	return b;
}

/* A WebP whose first chunk is VP8X with a w x h canvas. */
static struct blob
webp(unsigned int w, unsigned int h)
{
	struct blob	b = { NULL, 0 };
	unsigned char	head[30] = "RIFF\x16\0\0\0WEBPVP8X\x0a\0\0\0";

	head[24] = (unsigned char)(w - 1);
	head[25] = (unsigned char)((w - 1) >> 8);
	head[26] = (unsigned char)((w - 1) >> 16);
	head[27] = (unsigned char)(h - 1);
	head[28] = (unsigned char)((h - 1) >> 8);
	head[29] = (unsigned char)((h - 1) >> 16);
	blob_add(&b, head, sizeof head);
	return b;
}

/* POST base/attachments?filename=name (already escaped) as token. */
static struct itest_response *
upload(const char *token, const char *base, const char *name,
    const char *type, const void *data, size_t len)
{
	struct itest_response	*r;
	char			*path;

	xasprintf(&path, "%s/attachments?filename=%s", base, name);
	r = itest_request("POST", path, token, type, data, len);
	free(path);
	return r;
}

/* Upload a blob, asserting 201; the attachment's id (free it). */
static char *
upload_ok(const char *token, const char *base, const char *name,
    const char *type, struct blob *b)
{
	struct itest_response	*r;
	char			*id;

	r = upload(token, base, name, type, b->data, b->len);
	itest_expect(r, 201);
	id = xstrdup(itest_str(r, "id"));
	itest_free(r);
	return id;
}

/* GET a link (a url of an attachment object), without a token. */
static struct itest_response *
fetch(const char *url)
{
	return itest_get(url, NULL);
}

/* The number of entries of $SOHBET_TEST_VAR/files/<sub> but . and .. */
static int
store_count(const char *sub)
{
	struct dirent	*e;
	DIR		*d;
	char		*path;
	int		 n = 0;

	xasprintf(&path, "%s/files/%s", getenv("SOHBET_TEST_VAR"), sub);
	d = opendir(path);
	ck_assert_msg(d != NULL, "cannot open %s", path);
	while ((e = readdir(d)) != NULL) {
		if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0)
			n++;
	}
	closedir(d);
	free(path);
	return n;
}

/* Whether the store holds the file of an attachment id. */
static int
store_has(const char *id)
{
	char	*path;
	int	 found;

	xasprintf(&path, "%s/files/%s", getenv("SOHBET_TEST_VAR"), id);
	found = access(path, F_OK) == 0;
	free(path);
	return found;
}

/* Wait up to seconds for incoming/ to be empty; whether it became so. */
static int
incoming_empties(double seconds)
{
	double	until = itest_now() + seconds;

	while (store_count("incoming") != 0) {
		if (itest_now() > until)
			return 0;
		itest_sleep_ms(50);
	}
	return 1;
}

/* A link to an attachment signed by the test with the server's key. */
static char *
forged_link(const char *id, long long ex)
{
	char	*key, *data, *sig, *url;

	key = itest_conf("auth", "token_key");
	ck_assert_msg(key != NULL, "no token_key in the configuration");
	xasprintf(&data, "attachment-link:%s:%lld", id, ex);
	sig = forge_sign(key, data);
	xasprintf(&url, API_PREFIX "/attachments/%s/f.png?ex=%lld&sig=%s",
	    id, ex, sig);
	free(key);
	free(data);
	free(sig);
	return url;
}

/* The first n ids as a JSON list of strings; the caller frees it. */
static char *
id_list(char *const *ids, size_t n)
{
	char	*list, *next;
	size_t	 i;

	list = xstrdup("[");
	for (i = 0; i < n; i++) {
		xasprintf(&next, "%s%s\"%s\"", list, i > 0 ? "," : "", ids[i]);
		free(list);
		list = next;
	}
	xasprintf(&next, "%s]", list);
	free(list);
	return next;
}

/* Post a message {content, attachments: [ids...]} (raw JSON list). */
static struct itest_response *
post_with(const struct chat_user *u, const char *base, const char *content,
    const char *list)
{
	struct itest_response	*r;
	char			*path, *quoted;

	path = chat_path(base, NULL, NULL);
	quoted = itest_quote(content);
	r = itest_send("POST", path, u->token, "{\"content\":%s,"
	    "\"attachments\":%s}", quoted, list);
	free(quoted);
	free(path);
	return r;
}

/* The four image types: size read from the header, served inline. */
START_TEST(test_images)
{
	static const struct {
		const char	*name;
		const char	*type;
		struct blob	(*make)(unsigned int, unsigned int);
	} kinds[] = {
		{ "a.gif", "image/gif", gif },
		{ "a.jpg", "image/jpeg", jpeg },
		{ "a.webp", "image/webp", webp },
	};
	struct itest_response	*r, *d;
	struct chat_room	 room;
	struct blob		 b;
	char			*url;
	size_t			 i;

	chat_room_open(&room, "att_img");
	b = png(640, 480, NULL);
	r = upload(room.member.token, room.base, "red%20dot.png",
	    "image/png", b.data, b.len);
	itest_expect(r, 201);
	itest_expect_str(r, "filename", "red dot.png");
	itest_expect_str(r, "content_type", "image/png");
	ck_assert_int_eq(itest_at(r->json, "size")->type, JSON_NUMBER);
	ck_assert_str_eq(itest_at(r->json, "size")->text, "42");
	ck_assert_str_eq(itest_at(r->json, "width")->text, "640");
	ck_assert_str_eq(itest_at(r->json, "height")->text, "480");
	url = xstrdup(itest_str(r, "url"));
	ck_assert_msg(strncmp(url, API_PREFIX "/attachments/", 20) == 0 &&
	    strstr(url, "/red%20dot.png?ex=") != NULL &&
	    strstr(url, "&sig=") != NULL, "url: %s", url);
	ck_assert_msg(store_has(itest_str(r, "id")), "no file in the store");
	itest_free(r);

	/* The bytes come back as they went, with the contract's headers. */
	d = fetch(url);
	ck_assert_msg(d->status == 200 && d->len == b.len &&
	    memcmp(d->body, b.data, b.len) == 0, "%s", itest_describe(d));
	ck_assert_str_eq(itest_header(d, "Content-Type"), "image/png");
	ck_assert_str_eq(itest_header(d, "X-Content-Type-Options"), "nosniff");
	ck_assert_str_eq(itest_header(d, "Content-Security-Policy"),
	    "sandbox");
	ck_assert_str_eq(itest_header(d, "Content-Disposition"),
	    "inline; filename=\"red dot.png\"; "
	    "filename*=UTF-8''red%20dot.png");
	ck_assert_msg(itest_header(d, "X-Accel-Redirect") == NULL,
	    "the internal redirect leaked");
	itest_free(d);
	free(b.data);
	free(url);

	for (i = 0; i < sizeof kinds / sizeof kinds[0]; i++) {
		b = kinds[i].make(300 + (unsigned int)i, 17);
		r = upload(room.owner.token, room.base, kinds[i].name,
		    kinds[i].type, b.data, b.len);
		itest_expect(r, 201);
		ck_assert_msg(strtol(itest_at(r->json, "width")->text, NULL,
		    10) == 300 + (long)i && strcmp(itest_at(r->json,
		    "height")->text, "17") == 0, "%s: %s", kinds[i].type,
		    itest_describe(r));
		d = fetch(itest_str(r, "url"));
		ck_assert_int_eq(d->status, 200);
		ck_assert_str_eq(itest_header(d, "Content-Type"),
		    kinds[i].type);
		ck_assert_msg(strncmp(itest_header(d, "Content-Disposition"),
		    "inline;", 7) == 0, "%s", itest_describe(d));
		itest_free(d);
		itest_free(r);
		free(b.data);
	}
	chat_room_close(&room);
}
END_TEST

/* Byte ranges are honoured (nginx serves the file). */
START_TEST(test_ranges)
{
	struct itest_response	*r;
	struct chat_room	 room;
	struct blob		 b = { NULL, 0 };
	char			*cmd, *url;
	FILE			*p;
	char			 line[256] = "";

	chat_room_open(&room, "att_rng");
	blob_add(&b, "0123456789abcdefghij", 20);
	r = upload(room.member.token, room.base, "digits.txt", "text/plain",
	    b.data, b.len);
	itest_expect(r, 201);
	xasprintf(&url, "%s%s", itest_url(), itest_str(r, "url"));
	itest_free(r);
	xasprintf(&cmd, "curl -sk -r 10-13 -D - -o /dev/null '%s' | tr -d "
	    "'\\r' | grep -i '^content-range:'", url);
	p = popen(cmd, "r");
	ck_assert_msg(p != NULL, "popen");
	ck_assert_msg(fgets(line, sizeof line, p) != NULL, "no Content-Range");
	pclose(p);
	ck_assert_msg(strcasecmp(line, "content-range: bytes 10-13/20\n") ==
	    0, "got %s", line);
	free(cmd);
	xasprintf(&cmd, "curl -sk -r 10-13 '%s'", url);
	p = popen(cmd, "r");
	ck_assert_msg(fgets(line, sizeof line, p) != NULL, "no body");
	pclose(p);
	ck_assert_str_eq(line, "abcd");
	free(cmd);
	free(url);
	free(b.data);
	chat_room_close(&room);
}
END_TEST

/* Names: 1..255 code points, no / \ control or direction characters. */
START_TEST(test_names)
{
	static const char *const bad[] = {
		"", "..%2F..%2Fetc%2Fpasswd", "a%5Cb.txt", "nul%00.txt",
		"a%01b", "tab%09.txt", "photo%E2%80%AEgnp.exe",
		"x%E2%81%A6y", "%FF%FE.txt",
	};
	struct itest_response	*r;
	struct chat_room	 room;
	struct blob		 b = png(1, 1, NULL);
	char			 name[256 * 6 + 1], *path;
	size_t			 i;

	chat_room_open(&room, "att_name");
	for (i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		r = upload(room.member.token, room.base, bad[i], "image/png",
		    b.data, b.len);
		itest_expect_invalid(r, "filename");
		itest_free(r);
	}
	/* No name at all. */
	xasprintf(&path, "%s/attachments", room.base);
	r = itest_request("POST", path, room.member.token, "image/png",
	    (const char *)b.data, b.len);
	itest_expect_invalid(r, "filename");
	itest_free(r);
	free(path);

	/* 255 code points of two bytes each: taken; 256: not. */
	name[0] = '\0';
	for (i = 0; i < 255; i++)
		strcat(name, "%C3%BC");
	r = upload(room.member.token, room.base, name, "image/png", b.data,
	    b.len);
	itest_expect(r, 201);
	ck_assert_int_eq(strlen(itest_str(r, "filename")), 510);
	itest_free(r);
	strcat(name, "%C3%BC");
	r = upload(room.member.token, room.base, name, "image/png", b.data,
	    b.len);
	itest_expect_invalid(r, "filename");
	itest_free(r);

	/* A dot-dot name without a slash is only a name: stored by id. */
	r = upload(room.member.token, room.base, "..", "image/png", b.data,
	    b.len);
	itest_expect(r, 201);
	ck_assert_msg(store_has(itest_str(r, "id")), "not stored by its id");
	itest_free(r);
	ck_assert_msg(incoming_empties(5), "refused uploads left files");
	free(b.data);
	chat_room_close(&room);
}
END_TEST

/*
 * Hostile files: an image type whose bytes are not that image is refused;
 * a real PNG header followed by HTML stays a PNG (image/png, nosniff,
 * sandbox: never HTML); SVG and HTML are served as downloads, never
 * inline, never with their own type.
 */
START_TEST(test_hostile_files)
{
	static const char	svg[] = "<svg xmlns=\"http://www.w3.org/2000/"
	    "svg\"><script>alert(1)</script></svg>";
	struct itest_response	*r, *d;
	struct chat_room	 room;
	struct blob		 b;

	chat_room_open(&room, "att_host");
	/* HTML sent as each image type: 400, field file. */
	r = upload(room.member.token, room.base, "x.png", "image/png",
	    PNG_HTML, strlen(PNG_HTML));
	itest_expect_invalid(r, "file");
	itest_free(r);
	r = upload(room.member.token, room.base, "x.jpg", "image/jpeg",
	    PNG_HTML, strlen(PNG_HTML));
	itest_expect_invalid(r, "file");
	itest_free(r);
	r = upload(room.member.token, room.base, "x.gif", "IMAGE/GIF",
	    PNG_HTML, strlen(PNG_HTML));
	itest_expect_invalid(r, "file");
	itest_free(r);
	r = upload(room.member.token, room.base, "x.webp", "image/webp",
	    "RIFF\0\0\0\0WEBPVP8 junk", 20);
	itest_expect_invalid(r, "file");
	itest_free(r);
	/* A PNG signature with an IHDR of zero width. */
	b = png(0, 5, NULL);
	r = upload(room.member.token, room.base, "z.png", "image/png", b.data,
	    b.len);
	itest_expect_invalid(r, "file");
	itest_free(r);
	free(b.data);

	/* A PNG header followed by HTML: a PNG it is, and stays. */
	b = png(2, 2, PNG_HTML);
	r = upload(room.member.token, room.base, "poly.html", "image/png",
	    b.data, b.len);
	itest_expect(r, 201);
	d = fetch(itest_str(r, "url"));
	ck_assert_int_eq(d->status, 200);
	ck_assert_str_eq(itest_header(d, "Content-Type"), "image/png");
	ck_assert_str_eq(itest_header(d, "X-Content-Type-Options"), "nosniff");
	ck_assert_str_eq(itest_header(d, "Content-Security-Policy"),
	    "sandbox");
	itest_free(d);
	itest_free(r);
	free(b.data);

	/* SVG with a script: kept, but only ever a download. */
	r = upload(room.member.token, room.base, "x.svg", "image/svg+xml",
	    svg, strlen(svg));
	itest_expect(r, 201);
	itest_expect_str(r, "content_type", "image/svg+xml");
	ck_assert_int_eq(itest_at(r->json, "width")->type, JSON_NULL);
	ck_assert_int_eq(itest_at(r->json, "height")->type, JSON_NULL);
	d = fetch(itest_str(r, "url"));
	ck_assert_int_eq(d->status, 200);
	ck_assert_str_eq(itest_header(d, "Content-Type"),
	    "application/octet-stream");
	ck_assert_msg(strncmp(itest_header(d, "Content-Disposition"),
	    "attachment;", 11) == 0, "%s", itest_header(d,
	    "Content-Disposition"));
	ck_assert_str_eq(itest_header(d, "Content-Security-Policy"),
	    "sandbox");
	itest_free(d);
	itest_free(r);

	/* HTML as text/html, a quote in its name: a download as well. */
	r = upload(room.member.token, room.base, "a%22b.html", "text/html; "
	    "charset=utf-8", PNG_HTML, strlen(PNG_HTML));
	itest_expect(r, 201);
	itest_expect_str(r, "content_type", "text/html");
	d = fetch(itest_str(r, "url"));
	ck_assert_str_eq(itest_header(d, "Content-Type"),
	    "application/octet-stream");
	ck_assert_str_eq(itest_header(d, "Content-Disposition"),
	    "attachment; filename=\"a_b.html\"; "
	    "filename*=UTF-8''a%22b.html");
	itest_free(d);
	itest_free(r);

	/* A content type that is not one. */
	r = upload(room.member.token, room.base, "x.bin", "not a type",
	    "x", 1);
	itest_expect_invalid(r, "content_type");
	itest_free(r);
	/* An empty file. */
	r = upload(room.member.token, room.base, "empty.txt", "text/plain",
	    "", 0);
	itest_expect_invalid(r, "file");
	itest_free(r);
	ck_assert_msg(incoming_empties(5), "refused uploads left files");
	chat_room_close(&room);
}
END_TEST

/* 25 MiB is taken; one byte more is 413 and leaves no file behind. */
START_TEST(test_too_large)
{
	struct itest_response	*r;
	struct chat_room	 room;
	char			*big;
	long			 max;
	long long		 rows;

	max = itest_conf_int("files", "max_size", 25 * MIB);
	ck_assert_int_eq(max, 25 * MIB);
	chat_room_open(&room, "att_big");
	big = xcalloc(1, (size_t)max + 1);
	memcpy(big, "plain bytes", 11);
	r = upload(room.member.token, room.base, "big.bin",
	    "application/octet-stream", big, (size_t)max + 1);
	itest_expect_error(r, 413, "payload_too_large");
	itest_free(r);
	rows = itest_sql_number("SELECT COUNT(*) FROM attachments"
	    " WHERE filename = 'big.bin'");
	ck_assert_int_eq(rows, 0);
	ck_assert_msg(incoming_empties(5), "a refused upload left a file");

	r = upload(room.member.token, room.base, "big.bin",
	    "application/octet-stream", big, (size_t)max);
	itest_expect(r, 201);
	ck_assert_int_eq(strtol(itest_at(r->json, "size")->text, NULL, 10),
	    max);
	itest_free(r);
	free(big);
	chat_room_close(&room);
}
END_TEST

/* A client gone in the middle of its body leaves no file. */
START_TEST(test_disconnect)
{
	struct chat_room	 room;
	char			*head, *chunk;
	int			 fd, before;
	long long		 rows;

	chat_room_open(&room, "att_cut");
	before = store_count("");
	xasprintf(&head, "POST %s/attachments?filename=cut.bin HTTP/1.1\r\n"
	    "Host: localhost\r\nAuthorization: Bearer %s\r\n"
	    "Content-Type: application/octet-stream\r\n"
	    "Content-Length: %d\r\n\r\n", room.base, room.member.token,
	    10 * MIB);
	fd = raw_connect(0);
	ck_assert_msg(fd != -1, "cannot connect");
	ck_assert_int_eq(raw_write(fd, head, strlen(head)), 0);
	chunk = xcalloc(1, MIB);
	ck_assert_int_eq(raw_write(fd, chunk, MIB), 0);
	/* nginx has started its file in incoming/. */
	itest_sleep_ms(300);
	close(fd);
	ck_assert_msg(incoming_empties(10), "an abandoned upload left a "
	    "file in incoming/");
	ck_assert_int_eq(store_count(""), before);
	rows = itest_sql_number("SELECT COUNT(*) FROM attachments"
	    " WHERE filename = 'cut.bin'");
	ck_assert_int_eq(rows, 0);
	free(chunk);
	free(head);
	chat_room_close(&room);
}
END_TEST

/*
 * Messages take up to 10 of their sender's unused uploads to that
 * conversation; content may then be empty; every read signs afresh.
 */
START_TEST(test_messages)
{
	struct itest_response	*r;
	struct chat_room	 room;
	struct blob		 b = png(4, 3, NULL);
	char			*ids[11], *list, *other, *mine, *page1;
	char			*other_channel, *msg, *path;
	size_t			 i;

	chat_room_open(&room, "att_msg");
	for (i = 0; i < 11; i++)
		ids[i] = upload_ok(room.member.token, room.base, "p.png",
		    "image/png", &b);
	/* Eleven: too many. */
	list = id_list(ids, 11);
	r = post_with(&room.member, room.base, "", list);
	itest_expect_invalid(r, "attachments");
	itest_free(r);
	free(list);

	/* Empty content without attachments stays refused. */
	r = post_with(&room.member, room.base, "", "[]");
	itest_expect_invalid(r, "content");
	itest_free(r);
	/* One id twice; an unknown id; not a list. */
	xasprintf(&list, "[\"%s\",\"%s\"]", ids[0], ids[0]);
	r = post_with(&room.member, room.base, "", list);
	itest_expect_invalid(r, "attachments");
	itest_free(r);
	free(list);
	r = post_with(&room.member, room.base, "", "[\"999999999\"]");
	itest_expect_invalid(r, "attachments");
	itest_free(r);
	r = post_with(&room.member, room.base, "", "\"1\"");
	itest_expect_invalid(r, "attachments");
	itest_free(r);
	/* Another user's upload. */
	mine = upload_ok(room.owner.token, room.base, "o.png", "image/png",
	    &b);
	xasprintf(&list, "[\"%s\"]", mine);
	r = post_with(&room.member, room.base, "", list);
	itest_expect_invalid(r, "attachments");
	itest_free(r);
	free(list);
	/* An upload to another conversation. */
	other = chat_server(&room.owner, &other_channel);
	xasprintf(&path, API_PREFIX "/channels/%s", other_channel);
	free(mine);
	mine = upload_ok(room.owner.token, path, "o.png", "image/png", &b);
	xasprintf(&list, "[\"%s\"]", mine);
	r = post_with(&room.owner, room.base, "", list);
	itest_expect_invalid(r, "attachments");
	itest_free(r);
	free(list);

	/* Ten, with empty content: posted, in upload order. */
	list = id_list(ids, 10);
	r = post_with(&room.member, room.base, "", list);
	itest_expect(r, 201);
	itest_expect_str(r, "content", "");
	ck_assert_int_eq(itest_at(r->json, "attachments")->count, 10);
	itest_expect_str(r, "attachments.0.id", ids[0]);
	itest_expect_str(r, "attachments.9.id", ids[9]);
	msg = xstrdup(itest_str(r, "id"));
	itest_free(r);
	/* Used once only, even by the same sender. */
	r = post_with(&room.member, room.base, "again", list);
	itest_expect_invalid(r, "attachments");
	itest_free(r);
	free(list);

	/* History and the message itself carry them, freshly signed. */
	r = chat_history(&room.owner, room.base, NULL);
	page1 = xstrdup(itest_str(r, "0.attachments.3.url"));
	itest_expect_str(r, "0.attachments.3.id", ids[3]);
	ck_assert_str_eq(itest_at(r->json, "0.attachments.3.width")->text,
	    "4");
	itest_free(r);
	sleep(1);
	free(path);
	path = chat_path(room.base, msg, NULL);
	r = itest_get(path, room.owner.token);
	itest_expect(r, 200);
	ck_assert_msg(strcmp(itest_str(r, "attachments.3.url"), page1) != 0,
	    "a later read handed out the same link: %s", page1);
	itest_free(r);
	r = fetch(page1);
	ck_assert_int_eq(r->status, 200);
	itest_free(r);
	/* Edits keep them. */
	r = itest_send("PATCH", path, room.member.token,
	    "{\"content\":\"now with words\"}");
	itest_expect(r, 200);
	ck_assert_int_eq(itest_at(r->json, "attachments")->count, 10);
	itest_free(r);
	/* An older page (before=, never cached) carries them too. */
	r = chat_history(&room.owner, room.base, "before=999999999999");
	ck_assert_msg(chat_holds(r, msg), "before= lost the message: %s",
	    itest_describe(r));
	itest_expect_str(r, "0.attachments.9.id", ids[9]);
	itest_free(r);
	free(page1);
	free(msg);
	free(path);
	free(mine);
	free(other);
	free(other_channel);
	for (i = 0; i < 11; i++)
		free(ids[i]);
	free(b.data);
	chat_room_close(&room);
}
END_TEST

/* Deleting a message deletes its files: their links answer 404. */
START_TEST(test_delete)
{
	struct itest_response	*r;
	struct chat_room	 room;
	struct blob		 b = png(8, 8, NULL);
	char			*id, *list, *msg, *url, *path;
	int			 i;

	chat_room_open(&room, "att_del");
	id = upload_ok(room.member.token, room.base, "gone.png", "image/png",
	    &b);
	xasprintf(&list, "[\"%s\"]", id);
	r = post_with(&room.member, room.base, "bye", list);
	itest_expect(r, 201);
	msg = xstrdup(itest_str(r, "id"));
	url = xstrdup(itest_str(r, "attachments.0.url"));
	itest_free(r);
	ck_assert_msg(store_has(id), "no file before the delete");
	/* Loaded first: the workers keep what downloads need of its row. */
	for (i = 0; i < 6; i++) {
		r = fetch(url);
		ck_assert_msg(r->status == 200, "%s", itest_describe(r));
		itest_free(r);
	}
	/* A moderator (the owner) deletes it. */
	path = chat_path(room.base, msg, NULL);
	r = itest_delete(path, room.owner.token);
	ck_assert_msg(r->status == 204, "%s", itest_describe(r));
	itest_free(r);
	ck_assert_msg(!store_has(id), "the file outlived its message");
	for (i = 0; i < 6; i++) {
		r = fetch(url);
		itest_expect_error(r, 404, "not_found");
		itest_free(r);
	}
	free(path);
	xasprintf(&path, "SELECT COUNT(*) FROM attachments WHERE id = %s", id);
	ck_assert_int_eq(itest_sql_number(path), 0);
	free(path);
	free(url);
	free(msg);
	free(list);
	free(id);
	free(b.data);
	chat_room_close(&room);
}
END_TEST

/* Links: tampered, for another id, expired, missing: all 404. */
START_TEST(test_links)
{
	struct itest_response	*r;
	struct chat_room	 room;
	struct blob		 b = png(3, 3, NULL);
	char			*id, *url, *bad, *p;
	long long		 now = (long long)time(NULL);

	chat_room_open(&room, "att_link");
	r = upload(room.member.token, room.base, "l.png", "image/png", b.data,
	    b.len);
	itest_expect(r, 201);
	id = xstrdup(itest_str(r, "id"));
	url = xstrdup(itest_str(r, "url"));
	itest_free(r);

	/* The test's own signer agrees with the server's. */
	bad = forged_link(id, now + 600);
	r = fetch(bad);
	ck_assert_msg(r->status == 200, "%s", itest_describe(r));
	itest_free(r);
	free(bad);
	/* Expired a second ago. */
	bad = forged_link(id, now - 1);
	r = fetch(bad);
	itest_expect_error(r, 404, "not_found");
	itest_free(r);
	free(bad);
	/* One character of the signature changed. */
	bad = xstrdup(url);
	p = bad + strlen(bad) - 1;
	*p = *p == 'A' ? 'B' : 'A';
	r = fetch(bad);
	itest_expect_error(r, 404, "not_found");
	itest_free(r);
	free(bad);
	/* A later expiry with the old signature. */
	bad = xstrdup(url);
	p = strstr(bad, "?ex=") + 4;
	*p = *p == '9' ? '8' : (char)(*p + 1);
	r = fetch(bad);
	itest_expect_error(r, 404, "not_found");
	itest_free(r);
	free(bad);
	/* The signature of this id on another id. */
	xasprintf(&bad, API_PREFIX "/attachments/%llu/l.png%s",
	    strtoull(id, NULL, 10) + 1, strchr(url, '?'));
	r = fetch(bad);
	itest_expect_error(r, 404, "not_found");
	itest_free(r);
	free(bad);
	/* No signature; the internal location from outside. */
	*strchr(url, '?') = '\0';
	r = fetch(url);
	itest_expect_error(r, 404, "not_found");
	itest_free(r);
	xasprintf(&bad, "/api/.sohbet-files/%s", id);
	r = fetch(bad);
	itest_expect_error(r, 404, "not_found");
	itest_free(r);
	free(bad);
	free(url);
	free(id);
	free(b.data);
	chat_room_close(&room);
}
END_TEST

/*
 * Who may upload: not into a hidden channel (404), not without
 * attach_files (403), not after a kick (404), not into others' DMs
 * (404), not with a token revoked by logout-all (401).
 */
START_TEST(test_access)
{
	struct itest_response	*r;
	struct chat_room	 room;
	struct chat_user	 stranger;
	struct blob		 b = png(1, 1, NULL);
	char			*path, *dm, *dmbase, *token;

	chat_room_open(&room, "att_acc");
	chat_user(&stranger, "att_accs");
	/* Without a token. */
	r = upload(NULL, room.base, "a.png", "image/png", b.data, b.len);
	itest_expect_error(r, 401, "unauthorized");
	itest_free(r);
	/* Not a member of the server. */
	r = upload(stranger.token, room.base, "a.png", "image/png", b.data,
	    b.len);
	itest_expect_error(r, 404, "not_found");
	itest_free(r);

	/* attach_files denied to the member in this channel: 403. */
	xasprintf(&path, API_PREFIX "/channels/%s/overwrites/member/%s",
	    room.channel, room.member.id);
	r = itest_send("PUT", path, room.owner.token,
	    "{\"allow\":[],\"deny\":[\"attach_files\"]}");
	itest_expect(r, 200);
	itest_free(r);
	r = upload(room.member.token, room.base, "a.png", "image/png",
	    b.data, b.len);
	itest_expect_error(r, 403, "missing_permission");
	itest_free(r);
	/* The channel hidden from the member: 404, as if it did not exist. */
	r = itest_send("PUT", path, room.owner.token,
	    "{\"allow\":[],\"deny\":[\"view_channels\"]}");
	itest_expect(r, 200);
	itest_free(r);
	r = upload(room.member.token, room.base, "a.png", "image/png",
	    b.data, b.len);
	itest_expect_error(r, 404, "not_found");
	itest_free(r);
	r = itest_delete(path, room.owner.token);
	ck_assert_msg(r->status == 204, "%s", itest_describe(r));
	itest_free(r);
	free(path);

	/* Kicked: 404. */
	xasprintf(&path, API_PREFIX "/servers/%s/members/%s", room.server,
	    room.member.id);
	r = itest_delete(path, room.owner.token);
	ck_assert_msg(r->status == 204, "%s", itest_describe(r));
	itest_free(r);
	free(path);
	r = upload(room.member.token, room.base, "a.png", "image/png",
	    b.data, b.len);
	itest_expect_error(r, 404, "not_found");
	itest_free(r);

	/* A DM: its two participants only. */
	dm = chat_dm(&room.owner, &room.member);
	xasprintf(&dmbase, API_PREFIX "/dms/%s", dm);
	r = upload(room.member.token, dmbase, "d.png", "image/png", b.data,
	    b.len);
	itest_expect(r, 201);
	itest_free(r);
	r = upload(stranger.token, dmbase, "d.png", "image/png", b.data,
	    b.len);
	itest_expect_error(r, 404, "not_found");
	itest_free(r);

	/* A token of a session ended by logout-all. */
	token = chat_login(&room.owner);
	r = itest_request("POST", API_PREFIX "/auth/logout-all", token, NULL,
	    NULL, 0);
	ck_assert_msg(r->status == 204 || r->status == 200, "%s",
	    itest_describe(r));
	itest_free(r);
	r = upload(token, dmbase, "d.png", "image/png", b.data, b.len);
	itest_expect_error(r, 401, "unauthorized");
	itest_free(r);
	ck_assert_msg(incoming_empties(5), "refused uploads left files");
	free(token);
	free(dmbase);
	free(dm);
	free(b.data);
	chat_user_free(&stranger);
	chat_room_close(&room);
}
END_TEST

/* A DM's uploads go with its messages, as a channel's do. */
START_TEST(test_dm_messages)
{
	struct itest_response	*r;
	struct chat_room	 room;
	struct blob		 b = gif(5, 6);
	char			*dm, *dmbase, *id, *list;

	chat_room_open(&room, "att_dm");
	dm = chat_dm(&room.owner, &room.member);
	xasprintf(&dmbase, API_PREFIX "/dms/%s", dm);
	id = upload_ok(room.owner.token, dmbase, "g.gif", "image/gif", &b);
	xasprintf(&list, "[\"%s\"]", id);
	/* The other participant cannot use it. */
	r = post_with(&room.member, dmbase, "", list);
	itest_expect_invalid(r, "attachments");
	itest_free(r);
	/* Nor can its uploader in the server's channel. */
	r = post_with(&room.owner, room.base, "", list);
	itest_expect_invalid(r, "attachments");
	itest_free(r);
	r = post_with(&room.owner, dmbase, "", list);
	itest_expect(r, 201);
	itest_expect_str(r, "attachments.0.content_type", "image/gif");
	itest_free(r);
	r = chat_history(&room.member, dmbase, NULL);
	itest_expect_str(r, "0.attachments.0.id", id);
	itest_free(r);
	free(list);
	free(id);
	free(dmbase);
	free(dm);
	free(b.data);
	chat_room_close(&room);
}
END_TEST

/* The keeper deletes an upload no message took within an hour. */
START_TEST(test_prune)
{
	struct chat_room	 room;
	struct blob		 b = png(1, 1, NULL);
	char			*old, *fresh, *sql;
	double			 until;

	chat_room_open(&room, "att_prune");
	old = upload_ok(room.member.token, room.base, "old.png", "image/png",
	    &b);
	fresh = upload_ok(room.member.token, room.base, "new.png",
	    "image/png", &b);
	xasprintf(&sql, "UPDATE attachments SET created_at = NOW(3) -"
	    " INTERVAL 61 MINUTE WHERE id = %s", old);
	ck_assert_int_eq(itest_sql(sql), 0);
	free(sql);
	/* The keeper's jobs run every minute. */
	until = itest_now() + 75;
	while (store_has(old) && itest_now() < until)
		itest_sleep_ms(500);
	ck_assert_msg(!store_has(old), "the stale upload was kept");
	xasprintf(&sql, "SELECT COUNT(*) FROM attachments WHERE id = %s", old);
	ck_assert_int_eq(itest_sql_number(sql), 0);
	free(sql);
	ck_assert_msg(store_has(fresh), "a fresh upload was deleted");
	free(old);
	free(fresh);
	free(b.data);
	chat_room_close(&room);
}
END_TEST

/* Run sohbetctl files with arguments; its output (free it). */
static char *
ctl_files(const char *args)
{
	char	*cmd, *out = NULL;
	size_t	 len = 0, n;
	char	 buf[4096];
	FILE	*p;

	xasprintf(&cmd, "'%s/src/sohbetctl' -c '%s' files %s 2>&1",
	    getenv("SOHBET_TEST_BUILD"), getenv("SOHBET_TEST_CONF"), args);
	p = popen(cmd, "r");
	ck_assert_msg(p != NULL, "popen %s", cmd);
	while ((n = fread(buf, 1, sizeof buf, p)) > 0) {
		out = xreallocarray(out, len + n + 1, 1);
		memcpy(out + len, buf, n);
		len += n;
	}
	ck_assert_msg(pclose(p) == 0, "%s failed: %s", cmd, out ? out : "");
	free(cmd);
	return out != NULL ? (out[len] = '\0', out) : xstrdup("");
}

/*
 * sohbetctl files: the store's size, an orphan found (and deleted once
 * older than an hour), a row without its file found, attached files kept.
 */
START_TEST(test_sohbetctl_files)
{
	struct chat_room	 room;
	struct blob		 b = png(2, 2, NULL);
	struct timespec		 old[2];
	char			*id, *out, *orphan, *want;
	FILE			*f;

	chat_room_open(&room, "att_ctl");
	id = upload_ok(room.member.token, room.base, "keep.png", "image/png",
	    &b);
	xasprintf(&orphan, "%s/files/987654321", getenv("SOHBET_TEST_VAR"));
	f = fopen(orphan, "w");
	ck_assert_msg(f != NULL, "cannot write %s", orphan);
	fputs("left over", f);
	fclose(f);
	out = ctl_files("");
	xasprintf(&want, "orphan: %s (9 bytes, younger than an hour)",
	    orphan);
	ck_assert_msg(strstr(out, want) != NULL, "%s", out);
	ck_assert_msg(strstr(out, "files: ") != NULL, "%s", out);
	free(out);
	free(want);
	/* Younger than an hour: kept even with --delete-orphans. */
	out = ctl_files("--delete-orphans");
	ck_assert_msg(strstr(out, "deleted: 0") != NULL, "%s", out);
	free(out);
	ck_assert_int_eq(access(orphan, F_OK), 0);
	old[0].tv_sec = old[1].tv_sec = time(NULL) - 7200;
	old[0].tv_nsec = old[1].tv_nsec = 0;
	ck_assert_int_eq(utimensat(AT_FDCWD, orphan, old, 0), 0);
	out = ctl_files("--delete-orphans");
	ck_assert_msg(strstr(out, "deleted: 1") != NULL, "%s", out);
	free(out);
	ck_assert_msg(access(orphan, F_OK) == -1, "the orphan is still there");
	ck_assert_msg(store_has(id), "an attachment's file was deleted");
	/* A row whose file is gone. */
	free(orphan);
	xasprintf(&orphan, "%s/files/%s", getenv("SOHBET_TEST_VAR"), id);
	ck_assert_int_eq(unlink(orphan), 0);
	out = ctl_files("");
	xasprintf(&want, "missing: attachment %s has no file", id);
	ck_assert_msg(strstr(out, want) != NULL, "%s", out);
	free(want);
	free(out);
	free(orphan);
	free(id);
	free(b.data);
	chat_room_close(&room);
}
END_TEST

/* Build the suite. */
static Suite *
attachments_suite(void)
{
	Suite	*s;
	TCase	*tc;

	s = suite_create("attachments");
	tc = tcase_create("attachments");
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, test_images);
	tcase_add_test(tc, test_ranges);
	tcase_add_test(tc, test_names);
	tcase_add_test(tc, test_hostile_files);
	tcase_add_test(tc, test_too_large);
	tcase_add_test(tc, test_disconnect);
	tcase_add_test(tc, test_messages);
	tcase_add_test(tc, test_delete);
	tcase_add_test(tc, test_links);
	tcase_add_test(tc, test_access);
	tcase_add_test(tc, test_dm_messages);
	tcase_add_test(tc, test_prune);
	tcase_add_test(tc, test_sohbetctl_files);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	itest_init();
	return check_run(attachments_suite());
}
