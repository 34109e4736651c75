/* SPDX-License-Identifier: ISC */
/*
 * shown.test.mjs: the stretch of a conversation's loaded messages that the
 * message list keeps in the DOM (web/js/shown.js): at most SHOWN_MAX of
 * 5,000 loaded ones, widened towards the end the user scrolls to and cut
 * at the other; an end at the window's end follows it (older pages, live
 * messages), an end inside does not; a deleted message at an end keeps
 * the stretch where it was.
 */

import {test} from 'node:test';
import assert from 'node:assert/strict';

import {SHOWN_MAX, SHOWN_STEP, SHOWN_FIRST, locate, newest, around, widenOlder, widenNewer, bound, atOldest,
    atNewest} from '../../web/js/shown.js';

/* Messages with ids from..to (ascending). */
function loaded(from, to) {
	const out = [];
	for (let id = from; id <= to; id++)
		out.push({id: String(id)});
	return out;
}

/* The ids of stretch s in messages. */
function idsIn(messages, s) {
	const {start, end} = locate(messages, s);
	return messages.slice(start, end).map((m) => m.id);
}

test('a short conversation is shown whole and follows both ends', () => {
	const ms = loaded(1, 40);
	const s = newest(ms);
	assert.deepEqual(s, {first: null, last: null});
	assert.equal(idsIn(ms, s).length, 40);
	ms.push({id: '41'});
	ms.unshift({id: '0'});
	assert.deepEqual(idsIn(ms, s), loaded(0, 41).map((m) => m.id));
});

test('of 5,000 loaded messages the newest SHOWN_FIRST are shown, and live ones come in below', () => {
	const ms = loaded(1, 5000);
	const s = newest(ms);
	assert.equal(s.last, null);
	assert.equal(s.first, String(5000 - SHOWN_FIRST + 1));
	assert.equal(idsIn(ms, s).length, SHOWN_FIRST);
	for (let id = 5001; id <= 5000 + SHOWN_MAX; id++)
		ms.push({id: String(id)});
	assert.equal(idsIn(ms, s).at(-1), String(5000 + SHOWN_MAX));
	/* Bound again at the bottom: the oldest one goes. */
	const b = bound(ms, s, true);
	assert.equal(idsIn(ms, b).length, SHOWN_MAX);
	assert.equal(idsIn(ms, b)[0], String(5000 + 1));
	assert.ok(atNewest(ms, b));
	assert.ok(!atOldest(ms, b));
});

test('scrolling up to the oldest keeps at most SHOWN_MAX, and the newest drop out', () => {
	const ms = loaded(1001, 6000);
	let s = newest(ms, SHOWN_MAX);
	let steps = 0;
	while (!atOldest(ms, s)) {
		const before = idsIn(ms, s);
		s = widenOlder(ms, s);
		const after = idsIn(ms, s);
		assert.ok(after.length <= SHOWN_MAX);
		assert.equal(Number(after[0]), Math.max(1001, Number(before[0]) - SHOWN_STEP));
		steps++;
		assert.ok(steps < 200, 'the stretch reaches the oldest');
	}
	assert.equal(steps, Math.ceil((5000 - SHOWN_MAX) / SHOWN_STEP));
	assert.equal(s.first, null, 'an older page that loads comes in at the top');
	assert.equal(s.last, String(1000 + SHOWN_MAX));
	assert.ok(!atNewest(ms, s));
	/* Live messages do not come in at a cut bottom. */
	ms.push({id: '6001'});
	assert.equal(idsIn(ms, s).at(-1), String(1000 + SHOWN_MAX));
	/* An older page comes in above; bound at the top cuts the bottom. */
	ms.unshift(...loaded(951, 1000));
	assert.equal(idsIn(ms, s)[0], '951');
	const b = bound(ms, s, false);
	assert.deepEqual(idsIn(ms, b), loaded(951, 1000 + SHOWN_MAX - 50).map((m) => m.id));
});

test('scrolling back down widens at the bottom until it follows the live end again', () => {
	const ms = loaded(1, 1000);
	let s = {first: null, last: '150'};
	s = widenNewer(ms, s);
	assert.deepEqual([idsIn(ms, s)[0], idsIn(ms, s).at(-1)], ['51', '200']);
	while (!atNewest(ms, s))
		s = widenNewer(ms, s);
	assert.equal(s.last, null);
	assert.equal(idsIn(ms, s).length, SHOWN_MAX);
	assert.equal(idsIn(ms, s).at(-1), '1000');
});

test('the stretch around a message has it in its middle, clamped at the ends', () => {
	const ms = loaded(1, 1000);
	const mid = idsIn(ms, around(ms, '500'));
	assert.equal(mid.length, SHOWN_MAX);
	assert.equal(mid.indexOf('500'), SHOWN_MAX / 2);
	const early = around(ms, '3');
	assert.equal(early.first, null);
	assert.equal(idsIn(ms, early).length, SHOWN_MAX);
	const late = around(ms, '999');
	assert.equal(late.last, null);
	assert.ok(idsIn(ms, late).includes('999'));
});

test('a deleted message at an end of the stretch leaves it where it was', () => {
	const ms = loaded(1, 1000);
	const s = {first: '300', last: '449'};
	ms.splice(ms.findIndex((m) => m.id === '300'), 1);
	ms.splice(ms.findIndex((m) => m.id === '449'), 1);
	const got = idsIn(ms, s);
	assert.equal(got[0], '301');
	assert.equal(got.at(-1), '448');
	assert.equal(got.length, 148);
});

test('an empty conversation has an empty stretch at both ends', () => {
	assert.deepEqual(newest([]), {first: null, last: null});
	assert.deepEqual(locate([], {first: null, last: null}), {start: 0, end: 0});
	assert.ok(atOldest([], newest([])) && atNewest([], newest([])));
});
