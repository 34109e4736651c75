/* SPDX-License-Identifier: ISC */
/*
 * details.test.mjs: the small things a person notices in a day of use.
 * On a phone one message's buttons open at a time, under its text, and
 * the time beside a message stays on one line. "Skip to the message box"
 * is offered only where there is one. A message over 4,000 characters
 * says why it cannot go, with Send off. Servers whose names start alike
 * get different icons. "Leave server" has its own icon, and signing out
 * asks first. Icons drawn while offline show.
 *
 * No page may log a console error but those of the offline requests.
 */

import {test} from 'node:test';
import assert from 'node:assert/strict';

import {
	run, consoleErrors, expectConsoleErrors, useBrowser, newUser, signIn, message, send, confirmed,
	openServer, step, apiCall, apiRegister, PASSWORD,
} from './harness.mjs';

useBrowser();

/* The rectangle of the element locator finds. */
function box(locator) {
	return locator.evaluate((e) => {
		const r = e.getBoundingClientRect();
		return {top: r.top, bottom: r.bottom, left: r.left, right: r.right, height: r.height};
	});
}

/* Whether two rectangles overlap. */
function overlap(a, b) {
	return a.left < b.right && b.left < a.right && a.top < b.bottom && b.top < a.bottom;
}

test('the small things of daily use', {timeout: 150000}, async (t) => {
	const D = await newUser('Desk');
	const P = await newUser('Phone', {width: 390, height: 844}, {hasTouch: true, isMobile: true});
	const north = `Book Club North ${run}`;
	const south = `Book Club South ${run}`;
	let channelId;

	await step(t, 'two servers named alike, made over the API; the member signs in twice', async () => {
		const owner = await apiRegister(`owner_${run}`);
		const me = await apiRegister(D.name);
		P.name = D.name;
		for (const name of [north, south]) {
			const id = (await apiCall('POST', '/servers', owner.token, {name})).id;
			const code = (await apiCall('POST', `/servers/${id}/invites`, owner.token, {})).code;
			await apiCall('POST', `/invites/${code}`, me.token);
			if (name === north)
				channelId = (await apiCall('GET', `/servers/${id}/channels`, owner.token))[0].id;
		}
		for (let i = 1; i <= 3; i++) {
			await apiCall('POST', `/channels/${channelId}/messages`, me.token,
			    {content: `line ${i} of a few words that fill the width of a phone ${run}`});
		}
		await signIn(D);
		/* On a phone the user bar is in the closed drawer. */
		await P.page.goto('/');
		await P.page.getByLabel('Username or email').fill(P.name);
		await P.page.getByLabel('Password').fill(PASSWORD);
		await P.page.getByRole('button', {name: 'Sign in'}).tap();
		await P.page.getByRole('button', {name: 'Channels and servers'}).waitFor();
	});

	await step(t, 'servers whose names start alike have different icons', async () => {
		const rail = D.page.getByRole('navigation', {name: 'Servers'});
		assert.equal((await rail.getByRole('button', {name: north}).textContent()).trim(), 'BCN');
		assert.equal((await rail.getByRole('button', {name: south}).textContent()).trim(), 'BCS');
	});

	await step(t, '"Skip to the message box" only where there is a message box', async () => {
		const skip = D.page.locator('.skip');
		assert.equal(await skip.evaluate((e) => e.hidden), true, 'no conversation on the home screen');
		await openServer(D.page, north);
		await message(D.page, `line 3 of`).waitFor();
		assert.equal(await skip.evaluate((e) => e.hidden), false);
		await skip.focus();
		assert.equal(await skip.textContent(), 'Skip to the message box');
		await skip.click();
		assert.equal(await D.page.evaluate(() => document.activeElement.tagName), 'TEXTAREA');
	});

	await step(t, 'a message over 4,000 characters says why it cannot go; Send is off', async () => {
		const box = D.page.locator('.composer textarea');
		const sendButton = D.page.getByRole('button', {name: 'Send'});
		let posts = 0;
		D.page.on('request', (req) => {
			if (req.method() === 'POST' && /\/messages$/.test(req.url()))
				posts++;
		});
		await box.fill('a'.repeat(4001));
		const note = D.page.locator('.composer-note');
		assert.match(await note.textContent(), /4,001 \/ 4,000 characters: too long to send\. Take out 1 character\./);
		assert.equal(await sendButton.isDisabled(), true);
		await box.press('Enter');
		await D.page.waitForTimeout(300);
		assert.equal(posts, 0);
		assert.match(await note.textContent(), /too long to send/);
		await box.press('Backspace');
		assert.equal(await sendButton.isDisabled(), false);
		assert.equal(await note.textContent(), '4,000 / 4,000 characters');
		await box.fill('');
	});

	await step(t, '"Leave server" has its own icon; signing out asks first', async () => {
		const leave = D.page.getByRole('button', {name: 'Leave server'});
		assert.equal(await leave.locator('use').getAttribute('href'), '#icon-leave');
		const signOut = D.page.getByRole('button', {name: 'Sign out'});
		assert.equal(await signOut.locator('use').getAttribute('href'), '#icon-logout');
		await signOut.click();
		const ask = D.page.getByRole('dialog', {name: 'Sign out'});
		await ask.getByRole('button', {name: 'Cancel'}).click();
		await ask.waitFor({state: 'hidden'});
		await D.page.getByRole('button', {name: 'My account'}).waitFor();
	});

	await step(t, 'icons drawn while offline show', async () => {
		expectConsoleErrors(/ERR_INTERNET_DISCONNECTED/);
		const text = `offline ${run}`;
		try {
			await D.context.setOffline(true);
			await send(D.page, text);
			const retry = message(D.page, text).getByRole('button', {name: 'Retry'});
			await retry.waitFor();
			const width = await retry.locator('use').evaluate((u) => u.getBBox().width);
			assert.ok(width > 0, `the retry icon is drawn (${width})`);
		} finally {
			await D.context.setOffline(false);
			expectConsoleErrors(null);
		}
		await confirmed(D.page, text);
	});

	await step(t, 'on a phone one message\u2019s buttons open at a time, under its text', async () => {
		await P.page.getByRole('button', {name: 'Channels and servers'}).tap();
		/* The server's channel opens, and the drawer closes. */
		await P.page.getByRole('navigation', {name: 'Servers'}).getByRole('button', {name: north}).tap();
		const first = message(P.page, `line 1 of`);
		const second = message(P.page, `line 2 of`);
		await second.waitFor();
		await first.locator('.msg-body').tap();
		await second.locator('.msg-body').tap();
		const open = P.page.locator('.msg-actions:visible');
		assert.equal(await open.count(), 1);
		const bar = await box(second.locator('.msg-actions'));
		const text = await box(second.locator('.msg-body'));
		assert.ok(!overlap(bar, text), `the bar ${JSON.stringify(bar)} covers the text ${JSON.stringify(text)}`);
	});

	await step(t, 'on a phone the time beside a message stays on one line', async () => {
		const second = message(P.page, `line 2 of`);
		const time = second.locator('.msg-side-time');
		await time.waitFor();
		/* A line box per line the text takes. */
		const lines = await time.evaluate((e) => {
			const range = document.createRange();
			range.selectNodeContents(e);
			return new Set([...range.getClientRects()].map((r) => Math.round(r.top))).size;
		});
		assert.equal(lines, 1, `"${await time.textContent()}" takes ${lines} lines`);
	});

	assert.deepEqual(consoleErrors, []);
});
