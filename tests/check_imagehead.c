/* SPDX-License-Identifier: ISC */
/*
 * check_imagehead.c: unit tests of imagehead.c: each image type's magic
 * number and size read from its header (PNG IHDR, JPEG SOFn after other
 * segments, GIF logical screen, WebP VP8, VP8L and VP8X), and what is
 * not that image: other bytes, a short file, a zero size, a JPEG whose
 * scan starts before any frame.  And text_is_filename() of text.c, the
 * name rule of uploads.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "sohbet.h"
#include "check_run.h"

/* Check bytes as type: imagehead_check()'s result, the size in *w, *h. */
static int
probe(const char *type, const void *bytes, size_t len, uint32_t *w,
    uint32_t *h)
{
	FILE	*f;
	int	 rc;

	f = tmpfile();
	ck_assert_ptr_nonnull(f);
	ck_assert_uint_eq(fwrite(bytes, 1, len, f), len);
	fflush(f);
	rc = imagehead_check(fileno(f), type, w, h);
	fclose(f);
	return rc;
}

START_TEST(test_png)
{
	static const unsigned char good[] = "\x89PNG\r\n\x1a\n\0\0\0\x0dIHDR"
	    "\0\0\x02\x80\0\0\x01\xe0\x08\x02\0\0\0";
	unsigned char	bad[sizeof good];
	uint32_t	w, h;

	ck_assert_int_eq(probe("image/png", good, sizeof good - 1, &w, &h), 1);
	ck_assert_uint_eq(w, 640);
	ck_assert_uint_eq(h, 480);
	/* Case of the type does not matter. */
	ck_assert_int_eq(probe("IMAGE/PNG", good, sizeof good - 1, &w, &h), 1);
	/* Cut short, another first chunk, a zero width. */
	ck_assert_int_eq(probe("image/png", good, 20, &w, &h), 0);
	memcpy(bad, good, sizeof good);
	memcpy(bad + 12, "IDAT", 4);
	ck_assert_int_eq(probe("image/png", bad, sizeof bad - 1, &w, &h), 0);
	memcpy(bad, good, sizeof good);
	memset(bad + 16, 0, 4);
	ck_assert_int_eq(probe("image/png", bad, sizeof bad - 1, &w, &h), 0);
	/* A PNG is not a GIF, nor HTML a PNG. */
	ck_assert_int_eq(probe("image/gif", good, sizeof good - 1, &w, &h), 0);
	ck_assert_int_eq(probe("image/png", "<html></html>", 13, &w, &h), 0);
}
END_TEST

START_TEST(test_jpeg)
{
	/* SOI, APP0 (JFIF), a COM segment, DQT-like filler, SOF2. */
	static const unsigned char good[] = "\xff\xd8"
	    "\xff\xe0\0\x10JFIF\0\x01\x01\0\0\x01\0\x01\0\0"
	    "\xff\xfe\0\x05hi!"
	    "\xff\xff\xff\xc2\0\x11\x08\x01\x2c\x02\x58\x03\x01\x22\0\x02"
	    "\x11\x01\x03\x11\x01"
	    "\xff\xd9";
	static const unsigned char scan_first[] = "\xff\xd8"
	    "\xff\xda\0\x08\x01\x01\0\0\x3f\0\xff\xd9";
	static const unsigned char dht_only[] = "\xff\xd8"
	    "\xff\xc4\0\x05\0\0\0\xff\xd9";
	uint32_t	w, h;

	ck_assert_int_eq(probe("image/jpeg", good, sizeof good - 1, &w, &h),
	    1);
	ck_assert_uint_eq(w, 600);
	ck_assert_uint_eq(h, 300);
	ck_assert_int_eq(probe("image/jpeg", scan_first, sizeof scan_first - 1,
	    &w, &h), 0);
	/* DHT (0xc4) is no frame, whatever its number. */
	ck_assert_int_eq(probe("image/jpeg", dht_only, sizeof dht_only - 1,
	    &w, &h), 0);
	ck_assert_int_eq(probe("image/jpeg", good, 10, &w, &h), 0);
}
END_TEST

START_TEST(test_gif)
{
	uint32_t	w, h;

	ck_assert_int_eq(probe("image/gif", "GIF89a\x2c\x01\x10\0\0\0\0;", 14,
	    &w, &h), 1);
	ck_assert_uint_eq(w, 300);
	ck_assert_uint_eq(h, 16);
	ck_assert_int_eq(probe("image/gif", "GIF87a\x01\0\x01\0", 10, &w, &h),
	    1);
	ck_assert_int_eq(probe("image/gif", "GIF88a\x01\0\x01\0", 10, &w, &h),
	    0);
	ck_assert_int_eq(probe("image/gif", "GIF89a\0\0\x01\0", 10, &w, &h),
	    0);
}
END_TEST

START_TEST(test_webp)
{
	static const unsigned char vp8[] = "RIFF\0\0\0\0WEBPVP8 \0\0\0\0"
	    "\x10\x02\0\x9d\x01\x2a\x80\x02\xe0\x01";
	static const unsigned char vp8l[] = "RIFF\0\0\0\0WEBPVP8L\0\0\0\0"
	    "\x2f\x7f\xc0\x3b\0\0\0\0\0\0";
	static const unsigned char vp8x[] = "RIFF\0\0\0\0WEBPVP8X\x0a\0\0\0"
	    "\0\0\0\0\x7f\x07\0\x37\x04\0";
	unsigned char	bad[sizeof vp8];
	uint32_t	w, h;

	ck_assert_int_eq(probe("image/webp", vp8, sizeof vp8 - 1, &w, &h), 1);
	ck_assert_uint_eq(w, 640);
	ck_assert_uint_eq(h, 480);
	/* VP8L: 14 bits each, less one: 128 x 240. */
	ck_assert_int_eq(probe("image/webp", vp8l, sizeof vp8l - 1, &w, &h),
	    1);
	ck_assert_uint_eq(w, 128);
	ck_assert_uint_eq(h, 240);
	/* VP8X: 24 bits each, less one: 1920 x 1080. */
	ck_assert_int_eq(probe("image/webp", vp8x, sizeof vp8x - 1, &w, &h),
	    1);
	ck_assert_uint_eq(w, 1920);
	ck_assert_uint_eq(h, 1080);
	/* A key frame's start code is required. */
	memcpy(bad, vp8, sizeof vp8);
	bad[23] = 0;
	ck_assert_int_eq(probe("image/webp", bad, sizeof bad - 1, &w, &h), 0);
	ck_assert_int_eq(probe("image/webp", "RIFF\0\0\0\0WAVEfmt ", 16, &w,
	    &h), 0);
}
END_TEST

START_TEST(test_types)
{
	uint32_t	w, h;

	ck_assert(imagehead_is_image("image/png"));
	ck_assert(imagehead_is_image("image/JPEG"));
	ck_assert(imagehead_is_image("image/gif"));
	ck_assert(imagehead_is_image("image/webp"));
	ck_assert(!imagehead_is_image("image/svg+xml"));
	ck_assert(!imagehead_is_image("text/html"));
	/* Any other type is no image of these. */
	ck_assert_int_eq(probe("image/svg+xml", "<svg/>", 6, &w, &h), 0);
}
END_TEST

START_TEST(test_filename)
{
	char	long_name[257];

	ck_assert(text_is_filename("a.png", 5, 255));
	ck_assert(text_is_filename("..", 2, 255));
	ck_assert(text_is_filename("r\xc3\xa9sum\xc3\xa9.pdf", 12, 255));
	ck_assert(!text_is_filename("", 0, 255));
	ck_assert(!text_is_filename("../../etc/passwd", 16, 255));
	ck_assert(!text_is_filename("a\\b", 3, 255));
	ck_assert(!text_is_filename("a\0b", 3, 255));
	ck_assert(!text_is_filename("tab\there", 8, 255));
	ck_assert(!text_is_filename("a\xc2\x85z", 4, 255));	/* C1 NEL */
	ck_assert(!text_is_filename("photo\xe2\x80\xaegnp.exe", 15, 255));
	ck_assert(!text_is_filename("a\xe2\x81\xa6z", 5, 255));	/* LRI */
	ck_assert(!text_is_filename("\xff.txt", 5, 255));
	memset(long_name, 'x', 256);
	long_name[256] = '\0';
	ck_assert(text_is_filename(long_name, 255, 255));
	ck_assert(!text_is_filename(long_name, 256, 255));
}
END_TEST

/* Collect the tests into a suite. */
static Suite *
imagehead_suite(void)
{
	Suite	*s;
	TCase	*tc;

	s = suite_create("imagehead");
	tc = tcase_create("imagehead");
	tcase_add_test(tc, test_png);
	tcase_add_test(tc, test_jpeg);
	tcase_add_test(tc, test_gif);
	tcase_add_test(tc, test_webp);
	tcase_add_test(tc, test_types);
	tcase_add_test(tc, test_filename);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	return check_run(imagehead_suite());
}
