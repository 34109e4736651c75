/* SPDX-License-Identifier: ISC */
/*
 * history.test.mjs: a long history in a real browser against the sohbet
 * at $SOHBET_TEST_URL (tools/dev test starts one and runs tests/e2e/run).
 *
 * Day dividers: messages of three days (their times moved back in the
 * answers the browser gets: the server stamps every message now) show
 * "Today", "Yesterday" and the older day's date above each day's first
 * message, in the browser's time zone; message headers then carry only
 * the time, and a day's first message starts a new group.
 *
 * Scrolling up in a channel of 5,000 messages: the message on screen
 * does not move when "Loading older messages…" shows (the older page is
 * held back to look), nor when the page comes in above it, nor when
 * loaded messages come back into the list. All the way up to the first
 * message and back down, the list never holds more than MAX_IN_DOM
 * messages, and every message passes by once, in order. A live message
 * while at the top does not come in there (the "Jump to latest" button
 * counts it); the button shows the newest with it.
 *
 * No page may log a console error. No timings are asserted here: the
 * 5,000-message timings are measured by bench/webclient.
 */

import {test} from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';

import {
	ARTIFACTS, LIVE_MS, run, consoleErrors, useBrowser, newUser, signIn, message, openServer, step,
	apiCall, apiRegister, inPool,
} from './harness.mjs';

useBrowser();

const BIG = 5000;
/* The most messages the list holds (web/js/shown.js, SHOWN_MAX). */
const MAX_IN_DOM = 150;
const DAY_MS = 24 * 3600 * 1000;
/* Istanbul keeps UTC+3 all year: its days are easy to name here. */
const ZONE = 'Europe/Istanbul';
const ZONE_OFFSET_MS = 3 * 3600 * 1000;

/* Post count messages "<prefix> <i> <run>" as user to a conversation path. */
function fill(user, conv, prefix, count, from = 0) {
	return inPool(Array.from({length: count}, (_, i) => from + i), 8, (i) =>
		apiCall('POST', `${conv}/messages`, user.token, {content: `${prefix} ${i} ${run}`}));
}

/* Where message id is now (px below the list's top), or null when it is gone. */
function placeOf(page, id) {
	return page.evaluate((i) => {
		const el = document.querySelector(`.msg-list > li.msg[data-id="${i}"]`);
		return el ? el.getBoundingClientRect().top - document.querySelector('.messages')
		    .getBoundingClientRect().top : null;
	}, id);
}

/* The list's messages, top to bottom: [{id, text}]. */
function listed(page) {
	return page.locator('.msg-list > li.msg').evaluateAll((els) =>
	    els.map((el) => ({id: el.dataset.id, text: el.querySelector('.msg-body').textContent.trim()})));
}

/* Whether ids (decimal strings) go up. */
function ascending(ids) {
	return ids.every((id, i) => i === 0 || BigInt(ids[i - 1]) < BigInt(id));
}

/* Message id is where it was (px below the list's top), give or take a pixel's rounding. */
async function assertStill(page, was, what) {
	const now = await placeOf(page, was.id);
	assert.ok(now !== null && Math.abs(now - was.at) <= 1, `${what}: ${was.at} px, then ${now}`);
}

/* Whether url is the message history of channel id (GET …/messages with a query). */
function historyOf(id) {
	return (url) => url.pathname === `/api/v1/channels/${id}/messages`;
}

/*
 * Scroll the list (in the page, the way a wheel would) so that its top is
 * at px and say which message is on top then, before any scroll handler ran.
 */
function scrollListTo(page, px) {
	return page.evaluate((y) => {
		const s = document.querySelector('.messages');
		s.scrollTop = y;
		const box = s.getBoundingClientRect();
		for (const el of document.querySelectorAll('.msg-list > li.msg')) {
			const r = el.getBoundingClientRect();
			if (r.bottom > box.top)
				return {id: el.dataset.id, at: r.top - box.top};
		}
		return null;
	}, px);
}

/* Wait out the minutes around midnight in ZONE, so that "Today" stays today during the test. */
async function awayFromMidnight() {
	const sinceMidnight = (Date.now() + ZONE_OFFSET_MS) % DAY_MS;
	if (sinceMidnight > DAY_MS - 120000)
		await new Promise((r) => setTimeout(r, DAY_MS - sinceMidnight + 1000));
}

test('day dividers name the days of the messages', {timeout: 300000}, async (t) => {
	const D = await newUser('D', {width: 1280, height: 800}, {timezoneId: ZONE, locale: 'en-US'});
	const server = `Days ${run}`;
	let channel;
	const moved = new Map();	/* message id -> the time the browser is told */
	let today;	/* set once away from midnight */
	/* Noon in ZONE of the day n days before today (there). */
	const noon = (n) => new Date(Math.floor((today.getTime() + ZONE_OFFSET_MS) / DAY_MS) * DAY_MS -
	    ZONE_OFFSET_MS - n * DAY_MS + 12 * 3600 * 1000);

	await step(t, 'a channel with messages of five days ago, yesterday and today', async () => {
		await awayFromMidnight();
		today = new Date();
		const owner = await apiRegister(D.name);
		const serverId = (await apiCall('POST', '/servers', owner.token, {name: server})).id;
		channel = (await apiCall('GET', `/servers/${serverId}/channels`, owner.token))[0].id;
		const sent = [];
		for (let i = 0; i < 12; i++)
			sent.push(await apiCall('POST', `/channels/${channel}/messages`, owner.token,
			    {content: `day message ${i} ${run}`}));
		/* 0-3 five days ago, 4-7 yesterday, 8-11 today, a minute apart. */
		for (let i = 0; i < 8; i++)
			moved.set(sent[i].id, new Date(noon(i < 4 ? 5 : 1).getTime() + (i % 4) * 60000).toISOString());
		await D.page.route(historyOf(channel), async (route) => {
			if (route.request().method() !== 'GET')
				return route.continue();
			const res = await route.fetch();
			const page = await res.json();
			for (const m of page)
				m.created_at = moved.get(m.id) || m.created_at;
			await route.fulfill({response: res, json: page});
		});
		await signIn(D);
		await openServer(D.page, server);
		await message(D.page, `day message 11 ${run}`).waitFor();
	});

	await step(t, 'each day\'s first message has its day above it: a date, Yesterday, Today', async () => {
		const rows = await D.page.locator('.msg-list > li').evaluateAll((els) => els.map((el) =>
		    el.classList.contains('day-divider') ? `day: ${el.textContent}` :
			el.classList.contains('msg') ? el.querySelector('.msg-body').textContent.trim() : null)
		    .filter(Boolean));
		const older = new Intl.DateTimeFormat('en-US', {dateStyle: 'full', timeZone: ZONE}).format(noon(5));
		const want = [`day: ${older}`, ...[0, 1, 2, 3].map((i) => `day message ${i} ${run}`),
			'day: Yesterday', ...[4, 5, 6, 7].map((i) => `day message ${i} ${run}`),
			'day: Today', ...[8, 9, 10, 11].map((i) => `day message ${i} ${run}`)];
		assert.deepEqual(rows, want);
		assert.match(older, new RegExp(`\\b${new Date(noon(5).getTime() + ZONE_OFFSET_MS).getUTCDate()}\\b`));
		const divider = D.page.locator('.day-divider').first();
		assert.equal(await divider.getAttribute('role'), 'separator');
		await D.page.screenshot({path: path.join(ARTIFACTS, 'day-dividers.png')});
	});

	await step(t, 'headers carry only the time, and a new day starts a new group', async () => {
		for (const i of [0, 4, 8]) {
			const li = message(D.page, `day message ${i} ${run}`);
			assert.ok(!(await li.getAttribute('class')).includes('msg--cont'), `message ${i} has a header`);
			const time = (await li.locator('.msg-time').textContent()).trim();
			assert.match(time, /^\d{1,2}:\d{2}( [AP]M)?$/, `only the time: ${time}`);
		}
		assert.equal((await message(D.page, `day message 0 ${run}`).locator('.msg-time').textContent()).trim(),
		    '12:00 PM', 'noon in the browser\'s time zone');
		for (const i of [1, 5, 9])
			assert.ok((await message(D.page, `day message ${i} ${run}`).getAttribute('class'))
			    .includes('msg--cont'), `message ${i} continues its group`);
	});

	await step(t, 'a message sent now goes under Today without another divider', async () => {
		const box = D.page.locator('.composer textarea');
		await box.fill(`day message now ${run}`);
		await box.press('Enter');
		await message(D.page, `day message now ${run}`).waitFor();
		assert.equal(await D.page.locator('.day-divider').count(), 3);
		assert.equal(await D.page.locator('.day-divider').last().textContent(), 'Today');
		await D.context.close();
	});
});

test('a channel of 5,000 messages scrolls without moving and keeps the list small', {timeout: 600000},
    async (t) => {
	const B = await newUser('B');
	const server = `Long history ${run}`;
	let channel;
	let poster;
	let olderGate = null;	/* while set, the older pages wait for it */
	let firstId = null;	/* the channel's first message */
	const jump = B.page.getByRole('button', {name: /Jump to latest/});
	const list = B.page.locator('.msg-list > li.msg');

	await step(t, `a channel with ${BIG.toLocaleString('en')} messages`, async () => {
		const owner = await apiRegister(B.name);
		poster = await apiRegister(`historian_${run}`);
		const serverId = (await apiCall('POST', '/servers', owner.token, {name: server})).id;
		const code = (await apiCall('POST', `/servers/${serverId}/invites`, owner.token, {})).code;
		await apiCall('POST', `/invites/${code}`, poster.token);
		channel = (await apiCall('GET', `/servers/${serverId}/channels`, owner.token))[0].id;
		/* In order: the numbers go up with the ids. */
		for (let i = 0; i < BIG; i += 500) {
			for (const m of await fill(poster, `/channels/${channel}`, 'big', 500, i)) {
				if (firstId === null || BigInt(m.id) < BigInt(firstId))
					firstId = m.id;
			}
		}
		await B.page.route(historyOf(channel), async (route) => {
			if (olderGate && new URL(route.request().url()).searchParams.has('before'))
				await olderGate.promise;
			await route.continue();
		});
		await signIn(B);
		await openServer(B.page, server);
		await message(B.page, `big ${BIG - 1} ${run}`).waitFor();
	});

	await step(t, 'the message on screen stays put while "Loading older messages…" shows and after',
	    async () => {
		/* No older page on its way (the list fills the screen: none should be). */
		await B.page.getByText('Loading older messages\u2026').waitFor({state: 'detached'});
		let release;
		olderGate = {promise: new Promise((r) => {
			release = r;
		})};
		const before = await scrollListTo(B.page, 0);
		await B.page.getByText('Loading older messages\u2026').waitFor();
		await assertStill(B.page, before, 'the loading line');
		const firstBefore = await list.first().getAttribute('data-id');
		olderGate = null;
		release();
		await B.page.waitForFunction((id) => document.querySelector('.msg-list > li.msg').dataset.id !== id,
		    firstBefore);
		await assertStill(B.page, before, 'the page above it');
		assert.ok(await list.count() <= MAX_IN_DOM);
	});

	await step(t, `up to the first message: every one in order, never more than ${MAX_IN_DOM} in the list`,
	    async () => {
		const passed = new Set();
		const intro = B.page.locator('.conv-start');
		let rounds = 0;
		for (;;) {
			const shown = await listed(B.page);
			assert.ok(shown.length <= MAX_IN_DOM, `round ${rounds}: ${shown.length} messages in the list`);
			assert.ok(ascending(shown.map((m) => m.id)), `round ${rounds}: in order`);
			for (const m of shown)
				passed.add(m.text);
			if (await intro.isVisible())
				break;
			assert.ok(++rounds < 400, 'the first message is reached');
			const on = await scrollListTo(B.page, 0);
			/* Wait until more came in above, or the start shows. */
			await B.page.waitForFunction((id) => document.querySelector('.conv-start') ||
			    document.querySelector('.msg-list > li.msg').dataset.id !== id, shown[0].id);
			await assertStill(B.page, on, `round ${rounds}`);
		}
		assert.equal([...passed].filter((text) => /^big \d+ /.test(text)).length, BIG,
		    'every message passed by');
		assert.equal((await listed(B.page))[0].id, firstId, 'the first message is at the top');
		await B.page.screenshot({path: path.join(ARTIFACTS, 'history-start.png')});
	});

	await step(t, 'a live message while at the top waits behind "Jump to latest"', async () => {
		const text = `news from today ${run}`;
		await apiCall('POST', `/channels/${channel}/messages`, poster.token, {content: text});
		await jump.filter({hasText: '1 new message'}).waitFor({timeout: LIVE_MS});
		assert.equal(await message(B.page, text).count(), 0);
		assert.ok(await list.count() <= MAX_IN_DOM);
	});

	await step(t, 'back down by scrolling: in order, bounded, the list follows the newest again', async () => {
		const text = `news from today ${run}`;
		let rounds = 0;
		for (;;) {
			const shown = await listed(B.page);
			assert.ok(shown.length <= MAX_IN_DOM, `round ${rounds} down: ${shown.length} in the list`);
			assert.ok(ascending(shown.map((m) => m.id)), `round ${rounds} down: in order`);
			if (shown.at(-1).text === text)
				break;
			assert.ok(++rounds < 400, 'the newest message is reached');
			const on = await scrollListTo(B.page, 1e9);
			await B.page.waitForFunction((id) => {
				const all = document.querySelectorAll('.msg-list > li.msg');
				return all[all.length - 1].dataset.id !== id;
			}, shown.at(-1).id);
			await assertStill(B.page, on, `round ${rounds} down`);
		}
		await scrollListTo(B.page, 1e9);
		await jump.waitFor({state: 'hidden'});
		const more = `more news ${run}`;
		await apiCall('POST', `/channels/${channel}/messages`, poster.token, {content: more});
		await message(B.page, more).waitFor({timeout: LIVE_MS});
		assert.equal((await listed(B.page)).at(-1).text, more);
		assert.ok(await list.count() <= MAX_IN_DOM);
	});

	await step(t, 'up again and "Jump to latest": the newest at the bottom, the list small', async () => {
		for (let i = 0; i < 8; i++) {
			const first = await list.first().getAttribute('data-id');
			await scrollListTo(B.page, 0);
			await B.page.waitForFunction((id) => document.querySelector('.msg-list > li.msg').dataset.id !== id,
			    first);
		}
		assert.equal(await message(B.page, `more news ${run}`).count(), 0, 'the newest left the list');
		await jump.click();
		await message(B.page, `more news ${run}`).waitFor();
		assert.ok(await list.count() <= MAX_IN_DOM);
		await B.context.close();
	});
});

test('no page logged a console error', () => {
	assert.deepEqual(consoleErrors, []);
});
