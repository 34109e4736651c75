/* SPDX-License-Identifier: ISC */
/*
 * shown.js: which stretch of a conversation's loaded messages (the
 * window of window.js, c.messages in ascending id order) the message
 * list has in the DOM (ui/messages.js). A conversation may hold
 * thousands of loaded messages; the list draws at most SHOWN_MAX of
 * them around what is on screen, widens the stretch by SHOWN_STEP as the
 * user scrolls towards one of its ends, and drops as many from the
 * other, far end.
 *
 * A stretch is {first, last}: the ids of its oldest and newest message,
 * or null for an end that lies at the end of the loaded window and
 * follows it: with first null the older pages take their place in the
 * list as they load, with last null the live messages (and the sends)
 * do. Ids, not indexes, since pages and live messages move the indexes.
 * Pure: node tests it (tests/web/shown.test.mjs).
 */

import {cmpId} from './store.js';

/*
 * The most messages the list draws, how many it adds at a time, and how
 * many it draws of a conversation entered (fewer: entering is quicker).
 */
export const SHOWN_MAX = 150;
export const SHOWN_STEP = 50;
export const SHOWN_FIRST = 100;

/* The index of the first message whose id is above id (after: or not below). */
function search(messages, id, after) {
	let lo = 0;
	let hi = messages.length;
	while (lo < hi) {
		const mid = (lo + hi) >> 1;
		const c = cmpId(messages[mid].id, id);
		if (c < 0 || (after && c === 0))
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

/* Where stretch s lies in messages: the indexes [start, end). */
export function locate(messages, s) {
	const start = s.first === null ? 0 : search(messages, s.first, false);
	const end = s.last === null ? messages.length : search(messages, s.last, true);
	return {start, end: Math.max(start, end)};
}

/* The stretch of messages[start, end); an end at the window's end follows it. */
function stretchOf(messages, start, end) {
	return {
		first: start <= 0 ? null : messages[start].id,
		last: end >= messages.length ? null : messages[Math.max(start, end - 1)].id,
	};
}

/* The newest max messages, following the live end. */
export function newest(messages, max = SHOWN_FIRST) {
	return stretchOf(messages, messages.length - max, messages.length);
}

/* At most max messages with message id in their middle. */
export function around(messages, id, max = SHOWN_MAX) {
	const at = search(messages, id, false);
	const start = Math.max(0, Math.min(at - (max >> 1), messages.length - max));
	return stretchOf(messages, start, start + max);
}

/* Stretch s with up to step older loaded messages, cut to max at its newer end. */
export function widenOlder(messages, s, step = SHOWN_STEP, max = SHOWN_MAX) {
	const {start, end} = locate(messages, s);
	const from = Math.max(0, start - step);
	return stretchOf(messages, from, Math.min(end, from + max));
}

/* Stretch s with up to step newer loaded messages, cut to max at its older end. */
export function widenNewer(messages, s, step = SHOWN_STEP, max = SHOWN_MAX) {
	const {start, end} = locate(messages, s);
	const to = Math.min(messages.length, end + step);
	return stretchOf(messages, Math.max(start, to - max), to);
}

/*
 * Stretch s cut to at most max messages: its older ones dropped when
 * keepNewer (the user is at its newer end), else its newer ones.
 */
export function bound(messages, s, keepNewer, max = SHOWN_MAX) {
	const {start, end} = locate(messages, s);
	if (end - start <= max)
		return s;
	return keepNewer ? stretchOf(messages, end - max, end) : stretchOf(messages, start, start + max);
}

/* Whether the stretch begins at the oldest loaded message, or ends at the newest. */
export function atOldest(messages, s) {
	return locate(messages, s).start === 0;
}

export function atNewest(messages, s) {
	return locate(messages, s).end === messages.length;
}
