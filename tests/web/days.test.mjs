/* SPDX-License-Identifier: ISC */
/*
 * days.test.mjs: the day dividers' words (web/js/days.js): "Today" and
 * "Yesterday" by the calendar in the local time zone (not 24 hours back,
 * and across a month's and a year's end), else the full date.
 */

import {test} from 'node:test';
import assert from 'node:assert/strict';

import {dayKey, dayLabel} from '../../web/js/days.js';

/* A local time as an ISO string. */
function local(y, mo, d, h = 12, mi = 0) {
	return new Date(y, mo - 1, d, h, mi).toISOString();
}

test('the times of one local day share its key, and the next day has another', () => {
	assert.equal(dayKey(local(2026, 3, 1, 0, 0)), '2026-03-01');
	assert.equal(dayKey(local(2026, 3, 1, 23, 59)), '2026-03-01');
	assert.equal(dayKey(local(2026, 3, 2, 0, 0)), '2026-03-02');
});

test('today, yesterday by the calendar, and a date before', () => {
	const now = new Date(2026, 11, 6, 0, 30);
	assert.equal(dayLabel(local(2026, 12, 6, 0, 5), now), 'Today');
	/* An hour back, but the day before. */
	assert.equal(dayLabel(local(2026, 12, 5, 23, 30), now), 'Yesterday');
	assert.equal(dayLabel(local(2026, 12, 5, 0, 1), now), 'Yesterday');
	const before = dayLabel(local(2026, 12, 4, 23, 59), now);
	assert.notEqual(before, 'Yesterday');
	assert.match(before, /2026/);
	assert.match(before, /\b4\b/);
	assert.equal(before, new Intl.DateTimeFormat(undefined, {dateStyle: 'full'})
	    .format(new Date(2026, 11, 4, 23, 59)));
});

test('yesterday across the end of a month and of a year', () => {
	assert.equal(dayLabel(local(2026, 2, 28, 22), new Date(2026, 2, 1, 8)), 'Yesterday');
	assert.equal(dayLabel(local(2026, 12, 31, 22), new Date(2027, 0, 1, 8)), 'Yesterday');
	assert.match(dayLabel(local(2026, 12, 30, 22), new Date(2027, 0, 1, 8)), /2026/);
});

test('a later day (a clock behind the server) is a date, not today', () => {
	const label = dayLabel(local(2026, 12, 7, 9), new Date(2026, 11, 6, 12));
	assert.match(label, /2026/);
	assert.notEqual(label, 'Today');
});
