/* SPDX-License-Identifier: ISC */
/*
 * imagehead.c: telling whether a file is the image its content type says
 * (PNG, JPEG, GIF or WebP), and reading its width and height, from the
 * header alone: the magic number and the few bytes that hold the size
 * (PNG's IHDR, JPEG's SOFn, GIF's logical screen, WebP's VP8, VP8L or
 * VP8X chunk).  A file is read with a handful of small pread()s at known
 * offsets and never loaded whole: a JPEG's segments before its SOFn are
 * skipped by their lengths, not read.
 */
#include <stdint.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "sohbet.h"

/* The JPEG markers looked at before an SOFn. */
#define IMAGEHEAD_JPEG_SEGMENTS	1024

/* Read exactly len bytes at off: 1, 0 when the file is shorter, -1. */
static int
imagehead_read(int fd, off_t off, unsigned char *buf, size_t len)
{
	ssize_t	n;
	size_t	got = 0;

	while (got < len) {
		n = pread(fd, buf + got, len - got, off + (off_t)got);
		if (n == -1) {
			log_warn("%s: pread", __func__);
			return -1;
		}
		if (n == 0)
			return 0;
		got += (size_t)n;
	}
	return 1;
}

/* A big-endian 16-bit number. */
static uint32_t
imagehead_be16(const unsigned char *p)
{
	return (uint32_t)p[0] << 8 | p[1];
}

/* A little-endian 16-bit number. */
static uint32_t
imagehead_le16(const unsigned char *p)
{
	return (uint32_t)p[1] << 8 | p[0];
}

/* A little-endian 24-bit number. */
static uint32_t
imagehead_le24(const unsigned char *p)
{
	return (uint32_t)p[2] << 16 | imagehead_le16(p);
}

/* A big-endian 32-bit number. */
static uint32_t
imagehead_be32(const unsigned char *p)
{
	return imagehead_be16(p) << 16 | imagehead_be16(p + 2);
}

/* PNG: the signature, then the IHDR chunk (width, height). */
static int
imagehead_png(int fd, uint32_t *w, uint32_t *h)
{
	static const unsigned char	sig[] =
	    "\x89PNG\r\n\x1a\n\0\0\0\x0dIHDR";
	unsigned char			b[24];
	int				rc;

	if ((rc = imagehead_read(fd, 0, b, sizeof b)) != 1)
		return rc;
	if (memcmp(b, sig, 16) != 0)
		return 0;
	*w = imagehead_be32(b + 16);
	*h = imagehead_be32(b + 20);
	return *w <= INT32_MAX && *h <= INT32_MAX;
}

/* GIF: "GIF87a" or "GIF89a", then the logical screen's width, height. */
static int
imagehead_gif(int fd, uint32_t *w, uint32_t *h)
{
	unsigned char	b[10];
	int		rc;

	if ((rc = imagehead_read(fd, 0, b, sizeof b)) != 1)
		return rc;
	if (memcmp(b, "GIF87a", 6) != 0 && memcmp(b, "GIF89a", 6) != 0)
		return 0;
	*w = imagehead_le16(b + 6);
	*h = imagehead_le16(b + 8);
	return 1;
}

/*
 * WebP: a RIFF "WEBP" container whose first chunk is VP8 (lossy: a key
 * frame's start code, then 14-bit sizes), VP8L (lossless: a signature
 * byte, then two 14-bit sizes less one) or VP8X (extended: 24-bit canvas
 * sizes less one).
 */
static int
imagehead_webp(int fd, uint32_t *w, uint32_t *h)
{
	unsigned char	b[30];
	uint32_t	bits;
	int		rc;

	if ((rc = imagehead_read(fd, 0, b, sizeof b)) != 1)
		return rc;
	if (memcmp(b, "RIFF", 4) != 0 || memcmp(b + 8, "WEBP", 4) != 0)
		return 0;
	if (memcmp(b + 12, "VP8 ", 4) == 0) {
		if (memcmp(b + 23, "\x9d\x01\x2a", 3) != 0)
			return 0;
		*w = imagehead_le16(b + 26) & 0x3fff;
		*h = imagehead_le16(b + 28) & 0x3fff;
		return 1;
	}
	if (memcmp(b + 12, "VP8L", 4) == 0) {
		if (b[20] != 0x2f)
			return 0;
		bits = imagehead_le16(b + 21) | imagehead_le16(b + 23) << 16;
		*w = (bits & 0x3fff) + 1;
		*h = (bits >> 14 & 0x3fff) + 1;
		return 1;
	}
	if (memcmp(b + 12, "VP8X", 4) == 0) {
		*w = imagehead_le24(b + 24) + 1;
		*h = imagehead_le24(b + 27) + 1;
		return 1;
	}
	return 0;
}

/* Say whether a JPEG marker starts a frame (SOF0-3, 5-7, 9-11, 13-15). */
static int
imagehead_jpeg_sof(unsigned char marker)
{
	return marker >= 0xc0 && marker <= 0xcf && marker != 0xc4 &&
	    marker != 0xc8 && marker != 0xcc;
}

/*
 * JPEG: SOI, then segments, each a marker and a length, up to the first
 * SOFn, whose body holds the height and the width.  Stand-alone markers
 * (RSTn, TEM) have no length; reaching SOS or EOI first means no frame.
 */
static int
imagehead_jpeg(int fd, uint32_t *w, uint32_t *h)
{
	unsigned char	b[9];
	off_t		off = 2;
	int		i, rc;

	if ((rc = imagehead_read(fd, 0, b, 2)) != 1)
		return rc;
	if (b[0] != 0xff || b[1] != 0xd8)
		return 0;
	for (i = 0; i < IMAGEHEAD_JPEG_SEGMENTS; i++) {
		if ((rc = imagehead_read(fd, off, b, 4)) != 1)
			return rc;
		if (b[0] != 0xff)
			return 0;
		if (b[1] == 0xff) {		/* fill byte */
			off++;
			continue;
		}
		if ((b[1] >= 0xd0 && b[1] <= 0xd7) || b[1] == 0x01) {
			off += 2;
			continue;
		}
		if (b[1] == 0xda || b[1] == 0xd9 || b[1] == 0xd8)
			return 0;
		if (imagehead_be16(b + 2) < 2)
			return 0;
		if (imagehead_jpeg_sof(b[1])) {
			if ((rc = imagehead_read(fd, off, b, sizeof b)) != 1)
				return rc;
			*h = imagehead_be16(b + 5);
			*w = imagehead_be16(b + 7);
			return 1;
		}
		off += 2 + (off_t)imagehead_be16(b + 2);
	}
	return 0;
}

static const struct {
	const char	*type;
	int		(*check)(int, uint32_t *, uint32_t *);
} imagehead_types[] = {
	{ "image/png", imagehead_png },
	{ "image/jpeg", imagehead_jpeg },
	{ "image/gif", imagehead_gif },
	{ "image/webp", imagehead_webp },
};

#define NTYPES	(sizeof imagehead_types / sizeof imagehead_types[0])

/* Say whether a content type is one of the image types checked here. */
int
imagehead_is_image(const char *type)
{
	size_t	i;

	for (i = 0; i < NTYPES; i++) {
		if (strcasecmp(type, imagehead_types[i].type) == 0)
			return 1;
	}
	return 0;
}

/*
 * Check that the file open on fd is an image of the given type and read
 * its size: 1 it is (*w and *h set, both above zero), 0 it is not (or the
 * type is not an image type of imagehead_is_image()), -1 a read failed.
 */
int
imagehead_check(int fd, const char *type, uint32_t *w, uint32_t *h)
{
	size_t	i;
	int	rc;

	for (i = 0; i < NTYPES; i++) {
		if (strcasecmp(type, imagehead_types[i].type) != 0)
			continue;
		*w = *h = 0;
		if ((rc = imagehead_types[i].check(fd, w, h)) != 1)
			return rc;
		return *w > 0 && *h > 0;
	}
	return 0;
}
