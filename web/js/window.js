/* SPDX-License-Identifier: ISC */
/*
 * window.js: the loaded window of a conversation's history (store.js,
 * newConv) and how a page of GET …/messages (docs/api.md, Pagination)
 * changes it. Every page here is one stretch of the history without
 * gaps, and so is the window: a page that touches it widens it, any
 * other page takes its place. hasOlder and hasNewer say whether more
 * lies beyond either end. No DOM and no network: load.js asks for the
 * pages, node tests this file (tests/web/window.test.mjs).
 *
 * Live messages (apply.js) go in only where they fit (fitsWindow in
 * store.js): a window away from the live end does not take the newest
 * messages as if they followed its last one (apply.js counts those of
 * others in missedNewer, for the "Jump to latest" button).
 */

import {putMessage} from './apply.js';
import {cmpId} from './store.js';

/* Put the messages of page into c; the number that were not there. */
function putAll(c, page) {
	let n = 0;
	for (const m of page) {
		if (!c.byId.has(m.id))
			n++;
		putMessage(c, m);
	}
	return n;
}

/* Make page (with what lies beyond it) the whole window of c. */
function replaceWindow(c, page, hasOlder, hasNewer) {
	c.messages = [];
	c.byId = new Map();
	putAll(c, page);
	c.hasOlder = hasOlder;
	c.hasNewer = hasNewer;
	c.missedNewer = 0;
}

/* The ids of page's first and last messages in id order (any order given). */
function span(page) {
	let lo = page[0].id;
	let hi = lo;
	for (const m of page) {
		if (cmpId(m.id, lo) < 0)
			lo = m.id;
		if (cmpId(m.id, hi) > 0)
			hi = m.id;
	}
	return {lo, hi};
}

/*
 * Take page, a stretch of the history with hasOlder/hasNewer for what
 * lies beyond its ends: into the window when the two overlap (each end
 * of the union says what lies beyond it), else as the window.
 */
function takeStretch(c, page, hasOlder, hasNewer) {
	const n = c.messages.length;
	if (page.length === 0 || n === 0) {
		replaceWindow(c, page, hasOlder, hasNewer);
		return;
	}
	const p = span(page);
	const first = c.messages[0].id;
	const last = c.messages[n - 1].id;
	if (cmpId(p.hi, first) < 0 || cmpId(p.lo, last) > 0) {
		replaceWindow(c, page, hasOlder, hasNewer);
		return;
	}
	const lower = cmpId(p.lo, first);
	const upper = cmpId(p.hi, last);
	c.hasOlder = lower < 0 ? hasOlder : lower > 0 ? c.hasOlder : c.hasOlder && hasOlder;
	c.hasNewer = upper > 0 ? hasNewer : upper < 0 ? c.hasNewer : c.hasNewer && hasNewer;
	if (!c.hasNewer)
		c.missedNewer = 0;
	putAll(c, page);
}

/* The newest page (no cursor) of limit: the window at the live end. */
export function takeLatest(c, page, limit) {
	replaceWindow(c, page, page.length === limit, false);
}

/*
 * The page of limit before the oldest message of the window; the number
 * of messages it added.
 */
export function takeOlder(c, page, limit) {
	const n = putAll(c, page);
	c.hasOlder = page.length === limit;
	return n;
}

/*
 * The page of limit after the newest message of the window; the number
 * of messages it added. A short page reaches the live end: the gap is
 * closed and live messages go in from now on.
 */
export function takeNewer(c, page, limit) {
	const n = putAll(c, page);
	c.hasNewer = page.length === limit;
	if (!c.hasNewer)
		c.missedNewer = 0;
	return n;
}

/*
 * The page of limit around message id: at most limit/2 messages older
 * than id, then id and newer ones up to limit (the server fills the
 * page with newer ones when fewer older ones exist). It widens a window
 * it overlaps, or becomes the window.
 */
export function takeAround(c, page, id, limit) {
	const older = page.filter((m) => cmpId(m.id, id) < 0).length;
	takeStretch(c, page, older === Math.floor(limit / 2), page.length === limit);
}
