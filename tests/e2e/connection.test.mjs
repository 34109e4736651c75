/* SPDX-License-Identifier: ISC */
/*
 * connection.test.mjs: what the web client says about its connection,
 * and how fast. The browser going offline shows at once, and the banner
 * is gone within a second of it coming back. With the server
 * unreachable (every API request refused) a message fails to send; once
 * the server answers again the banner is gone within a second, however
 * long the poll's back-off has grown, and the message goes by itself
 * with its nonce (shown once). "Sign out everywhere" on one device ends
 * the session of another within a second, which says why.
 *
 * No page may log a console error but those of the refused requests.
 */

import {test} from 'node:test';
import assert from 'node:assert/strict';

import {
	run, consoleErrors, expectConsoleErrors, useBrowser, newUser, signIn, message, send, confirmed,
	openServer, step, apiCall, apiRegister,
} from './harness.mjs';

useBrowser();

/* Milliseconds until locator is hidden, failing after limit ms. */
async function msUntilHidden(locator, limit) {
	const start = Date.now();
	await locator.waitFor({state: 'hidden', timeout: limit});
	return Date.now() - start;
}

test('connection state', {timeout: 120000}, async (t) => {
	const A = await newUser('Conn');
	const server = `Conn ${run}`;
	const banner = A.page.locator('.banner');

	await step(t, 'a server made over the API; the user signs in', async () => {
		const me = await apiRegister(A.name);
		await apiCall('POST', '/servers', me.token, {name: server});
		await signIn(A);
		await openServer(A.page, server);
		await send(A.page, `hello ${run}`);
		await confirmed(A.page, `hello ${run}`);
	});

	await step(t, 'the browser going offline shows at once; back online the banner goes within 1 s', async () => {
		expectConsoleErrors(/ERR_INTERNET_DISCONNECTED|ERR_NETWORK_CHANGED/);
		try {
			await A.context.setOffline(true);
			await banner.filter({hasText: 'You are offline'}).waitFor({timeout: 500});
			await A.page.waitForTimeout(1500);
			await A.context.setOffline(false);
			const ms = await msUntilHidden(banner, 1000);
			t.diagnostic(`banner gone ${ms} ms after coming back online`);
		} finally {
			expectConsoleErrors(null);
		}
	});

	await step(t, 'a send while the server is unreachable goes by itself when it answers again', async () => {
		const text = `sent when back ${run}`;
		const posts = [];
		A.page.on('request', (req) => {
			if (req.method() === 'POST' && /\/channels\/[0-9]+\/messages$/.test(req.url()))
				posts.push(req.postDataJSON());
		});
		expectConsoleErrors(/ERR_CONNECTION_REFUSED|ERR_FAILED/);
		try {
			await A.page.route('**/api/v1/**', (route) => route.abort('connectionrefused'));
			await send(A.page, text);
			await message(A.page, text).and(A.page.locator('.msg--failed')).waitFor();
			await banner.filter({hasText: 'Connection lost'}).waitFor({timeout: 1000});
			/* Long enough for the poll's back-off to pass a few seconds. */
			await A.page.waitForTimeout(6000);
			await A.page.unroute('**/api/v1/**');
			const ms = await msUntilHidden(banner, 1000);
			t.diagnostic(`banner gone ${ms} ms after the server answered again`);
			await confirmed(A.page, text);
		} finally {
			expectConsoleErrors(null);
			await A.page.unroute('**/api/v1/**');
		}
		assert.ok(posts.length >= 2, `${posts.length} POSTs`);
		assert.ok(posts.every((p) => p.nonce === posts[0].nonce), 'every try with the one nonce');
		assert.equal(await message(A.page, text).count(), 1);
	});

	await step(t, '"Sign out everywhere" elsewhere ends this session within a second, saying why', async () => {
		const B = await newUser('ConnOther');
		B.name = A.name;
		await signIn(B);
		await openServer(B.page, server);
		await A.page.getByRole('button', {name: 'My account'}).click();
		await A.page.getByRole('button', {name: 'Sign out everywhere'}).click();
		const answer = A.page.waitForResponse((res) => res.url().endsWith('/auth/logout-all'));
		/*
		 * Every session of the account ends, this one too: each page's
		 * parked poll and refresh are answered 401, in any order, until
		 * both show the sign-in screen and their polls have been answered
		 * (a poll not parked at that moment is not made again: 2 s at most).
		 */
		const polls = [A.page, B.page].map((page) => page.waitForResponse((res) =>
		    res.url().includes('/events') && res.status() === 401, {timeout: 0})
		    .catch(() => null));
		expectConsoleErrors(/status of 401/);
		try {
			await A.page.getByRole('dialog', {name: 'Sign out everywhere'})
			    .getByRole('button', {name: 'Sign out everywhere'}).click();
			assert.equal((await answer).status(), 204);
			const start = Date.now();
			const notice = B.page.locator('.notice', {hasText: 'Sign out everywhere'});
			await notice.waitFor({timeout: 1000});
			t.diagnostic(`the other device knew in ${Date.now() - start} ms`);
			await B.page.getByRole('button', {name: 'Sign in'}).waitFor();
			await A.page.getByRole('button', {name: 'Sign in'}).waitFor();
			await Promise.race([Promise.all(polls), new Promise((r) => setTimeout(r, 2000))]);
		} finally {
			expectConsoleErrors(null);
		}
	});

	assert.deepEqual(consoleErrors, []);
});
