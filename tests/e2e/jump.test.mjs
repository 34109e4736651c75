/* SPDX-License-Identifier: ISC */
/*
 * jump.test.mjs: jumping to a message that is not loaded, in a real
 * browser against the sohbet at $SOHBET_TEST_URL (tools/dev test starts
 * one and runs tests/e2e/run).
 *
 * A reply to a message 200 messages back (with more before it): a
 * click on its quote shows the original highlighted after loading only
 * the page around it (the history requests are counted), not the pages
 * in between. While that window of older messages is shown, a new
 * message from someone else does not appear inside it: the "Jump to
 * latest" button counts it. Scrolling down loads the newer messages in
 * order; "Jump to latest" shows the newest page with the new message
 * last. A search result in another channel of the server, and one in a
 * DM, far back in their history: a click opens the conversation at the
 * message, highlighted.
 *
 * No page may log a console error.
 */

import {test} from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';

import {
	ARTIFACTS, LIVE_MS, run, consoleErrors, useBrowser, newUser, signIn, message, openServer, heading,
	step, apiCall, apiRegister, inPool, placeInMessages,
} from './harness.mjs';

useBrowser();

/* Messages between the original and its reply. */
const BETWEEN = 200;

/* Post count messages "<prefix> <i> <run>" as user to a conversation path. */
function fill(user, conv, prefix, count) {
	return inPool(Array.from({length: count}, (_, i) => i), 4, (i) =>
		apiCall('POST', `${conv}/messages`, user.token, {content: `${prefix} ${i} ${run}`}));
}

/* The data-id of the message list's items, top to bottom. */
function listedIds(page) {
	return page.locator('.msg-list > li.msg').evaluateAll((els) => els.map((el) => el.dataset.id));
}

/* Whether ids (decimal strings) go up. */
function ascending(ids) {
	return ids.every((id, i) => i === 0 || BigInt(ids[i - 1]) < BigInt(id));
}

test('jump to a message that is not loaded', {timeout: 240000}, async (t) => {
	const J = await newUser('J');
	const server = `Jumps ${run}`;
	const ids = {};
	let owner;
	let poster;
	let general;
	let archive;
	/* The history requests of J's page (GET …/messages), path and query. */
	const history = [];
	J.page.on('request', (r) => {
		const u = new URL(r.url());
		if (r.method() === 'GET' && /^\/api\/v1\/(channels|dms)\/\d+\/messages$/.test(u.pathname))
			history.push(`${u.pathname}${u.search}`);
	});
	const jump = J.page.getByRole('button', {name: /Jump to latest/});
	const highlighted = (text) => message(J.page, text).and(J.page.locator('.msg--highlight'));

	await step(t, `a channel with ${BETWEEN} messages between a message and its reply`, async () => {
		owner = await apiRegister(J.name);
		poster = await apiRegister(`poster_${run}`);
		const serverId = (await apiCall('POST', '/servers', owner.token, {name: server})).id;
		const code = (await apiCall('POST', `/servers/${serverId}/invites`, owner.token, {})).code;
		await apiCall('POST', `/invites/${code}`, poster.token);
		general = `/channels/${(await apiCall('GET', `/servers/${serverId}/channels`, owner.token))[0].id}`;
		archive = `/channels/${(await apiCall('POST', `/servers/${serverId}/channels`, owner.token,
		    {name: 'archive'})).id}`;
		await fill(poster, general, 'early', 30);
		ids.original = (await apiCall('POST', `${general}/messages`, poster.token,
		    {content: `the original far back ${run}`})).id;
		await fill(poster, general, 'filler', BETWEEN);
		ids.reply = (await apiCall('POST', `${general}/messages`, owner.token,
		    {content: `replying to the far one ${run}`, reply_to: ids.original})).id;
		await signIn(J);
		await openServer(J.page, server);
		await message(J.page, `replying to the far one ${run}`).waitFor();
	});

	await step(t, 'a click on the quote shows the original highlighted, loading only the page around it',
	    async () => {
		const before = history.length;
		await message(J.page, `replying to the far one ${run}`).locator('.msg-quote').click();
		const original = highlighted(`the original far back ${run}`);
		await original.waitFor();
		assert.ok((await placeInMessages(original)).inView, 'the original is in view');
		const asked = history.slice(before);
		assert.ok(asked.includes(`/api/v1${general}/messages?around=${ids.original}&limit=50`),
		    `the page around it was asked for: ${asked.join(', ')}`);
		/* Loading the pages in between would take four "before" pages. */
		assert.ok(asked.length <= 3, `at most 3 history requests, not ${asked.length}: ${asked.join(', ')}`);
		assert.ok(asked.filter((p) => p.includes('before=')).length <= 1, asked.join(', '));
		assert.equal(await message(J.page, `replying to the far one ${run}`).count(), 0,
		    'the newest messages are not shown below the old ones');
		await jump.waitFor();
		await J.page.screenshot({path: path.join(ARTIFACTS, 'jump-to-message.png')});
	});

	await step(t, 'a new message while the old messages are shown does not appear among them', async () => {
		const text = `news while away ${run}`;
		await apiCall('POST', `${general}/messages`, poster.token, {content: text});
		await jump.filter({hasText: '1 new message'}).waitFor({timeout: LIVE_MS});
		assert.equal(await message(J.page, text).count(), 0, 'not shown below the old messages');
		assert.ok(ascending(await listedIds(J.page)));
	});

	await step(t, 'scrolling down loads newer messages in order; Jump to latest shows the newest', async () => {
		const shown = (await listedIds(J.page)).length;
		const before = history.length;
		for (let i = 0; i < 10 && !history.slice(before).some((p) => p.includes('after=')); i++) {
			await J.page.locator('.messages').hover();
			await J.page.mouse.wheel(0, 100000);
			await J.page.waitForTimeout(200);
		}
		assert.ok(history.slice(before).some((p) => p.includes('after=')), 'a newer page was asked for');
		await J.page.waitForFunction((n) => document.querySelectorAll('.msg-list > li.msg').length > n,
		    shown);
		const listed = await listedIds(J.page);
		assert.ok(ascending(listed), 'newer pages go below, in order');
		assert.ok(listed.includes(ids.original));
		const newest = `news while away ${run}`;
		assert.equal(await message(J.page, newest).count(), 0, 'the gap is not closed yet');
		await jump.click();
		await message(J.page, newest).waitFor();
		await jump.waitFor({state: 'hidden'});
		const last = J.page.locator('.msg-list > li.msg').last();
		assert.equal((await last.locator('.msg-body').textContent()).trim(), newest);
		assert.ok((await placeInMessages(last)).inView, 'the newest message is in view');
		assert.equal(await message(J.page, `the original far back ${run}`).count(), 0,
		    'the old window is gone');
		assert.ok(ascending(await listedIds(J.page)));
	});

	await step(t, 'a search result in another channel opens it there, highlighted', async () => {
		const target = `the archived launch plan ${run}`;
		await apiCall('POST', `${archive}/messages`, poster.token, {content: target});
		await fill(poster, archive, 'archive filler', 80);
		assert.equal(await heading(J.page), 'general');
		const box = J.page.getByRole('searchbox', {name: 'Search messages'});
		await box.fill('archived launch');
		await box.press('Enter');
		const dialog = J.page.getByRole('dialog', {name: 'Search'});
		/* The search starts in the channel on screen. */
		await dialog.getByRole('status').filter({hasText: 'No messages found.'}).waitFor();
		await dialog.getByLabel('In').selectOption({label: 'in: all channels'});
		await dialog.getByRole('status').filter({hasText: '1 result'}).waitFor();
		await dialog.locator('.search-item').click();
		await dialog.waitFor({state: 'detached'});
		const li = highlighted(target);
		await li.waitFor();
		assert.equal(await heading(J.page), 'archive');
		assert.ok((await placeInMessages(li)).inView, 'the result is in view');
	});

	await step(t, 'a search result in a DM opens the DM at it, highlighted', async () => {
		const dm = await apiCall('POST', '/dms', poster.token, {user_id: (await apiCall('GET',
		    '/users/@me', owner.token)).id});
		const target = `a secret recipe ${run}`;
		await apiCall('POST', `/dms/${dm.id}/messages`, poster.token, {content: target});
		await fill(poster, `/dms/${dm.id}`, 'dm filler', 80);
		await J.page.getByRole('button', {name: /^Direct messages/}).click();
		await J.page.getByRole('button', {name: poster.name}).click();
		await message(J.page, `dm filler 79 ${run}`).waitFor();
		const box = J.page.getByRole('searchbox', {name: 'Search messages'});
		await box.fill('secret recipe');
		await box.press('Enter');
		const dialog = J.page.getByRole('dialog', {name: 'Search'});
		await dialog.getByRole('status').filter({hasText: '1 result'}).waitFor();
		await dialog.locator('.search-item').click();
		await dialog.waitFor({state: 'detached'});
		const li = highlighted(target);
		await li.waitFor();
		assert.equal(await heading(J.page), poster.name);
		assert.ok((await placeInMessages(li)).inView, 'the result is in view');
		await J.context.close();
	});
});

test('no page logged a console error', () => {
	assert.deepEqual(consoleErrors, []);
});
