/* SPDX-License-Identifier: ISC */
/*
 * static.test.mjs: how the web client's files travel. With a cold cache
 * the sign-in screen costs at most 60 KB, its text files compressed, and
 * it loads none of the signed-in app's modules (how soon it is usable is
 * measured by bench/signin, not here). The files say how to cache them (revalidate: no-cache with
 * an ETag), and a session fetches icons.svg once however many icons it
 * draws.
 *
 * No page may log a console error.
 */

import {test} from 'node:test';
import assert from 'node:assert/strict';

import {
	run, consoleErrors, useBrowser, newUser, signIn, openServer, step, apiCall, apiRegister,
} from './harness.mjs';

useBrowser();

const BUDGET_BYTES = 60 * 1024;

test('the web client\u2019s files', {timeout: 120000}, async (t) => {
	const loads = [];

	await step(t, 'the sign-in screen, cold cache: at most 60 KB, compressed, none of the app', async () => {
		for (let i = 0; i < 3; i++) {
			const U = await newUser(`Cold${i}`);
			const encodings = new Map();
			U.page.on('response', (res) => encodings.set(new URL(res.url()).pathname,
			    res.headers()['content-encoding'] || null));
			await U.page.goto('/');
			await U.page.getByLabel('Username or email').waitFor();
			await U.page.waitForLoadState('load');
			const m = await U.page.evaluate(() => ({
				bytes: performance.getEntriesByType('navigation').concat(performance.getEntriesByType('resource'))
				    .reduce((sum, e) => sum + e.transferSize, 0),
				files: performance.getEntriesByType('resource').map((e) => new URL(e.name).pathname),
			}));
			loads.push({...m, encodings});
			await U.context.close();
		}
		const bytes = loads.map((l) => l.bytes);
		t.diagnostic(`${bytes.join(', ')} bytes; files: ${loads[0].files.join(' ')}`);
		for (const b of bytes)
			assert.ok(b <= BUDGET_BYTES, `${b} bytes`);
		const {files, encodings} = loads[0];
		for (const app of ['/js/app.js', '/js/ui/shell.js', '/js/ui/messages.js', '/js/store.js', '/icons.svg'])
			assert.ok(!files.includes(app), `the sign-in screen loaded ${app}`);
		assert.ok(files.filter((f) => f.endsWith('.js')).length <= 8, files.join(' '));
		for (const [file, encoding] of encodings) {
			if (/\.(js|css|svg)$|\/$/.test(file))
				assert.equal(encoding, 'gzip', `${file} is not compressed`);
		}
	});

	await step(t, 'files are cached with validation; a session fetches icons.svg once', async () => {
		const U = await newUser('Icons');
		const headers = new Map();
		let icons = 0;
		U.page.on('response', (res) => {
			const path = new URL(res.url()).pathname;
			if (path === '/icons.svg')
				icons++;
			if (!path.startsWith('/api/'))
				headers.set(path, res.headers());
		});
		const me = await apiRegister(U.name);
		const server = `Static ${run}`;
		await apiCall('POST', '/servers', me.token, {name: server});
		await signIn(U);
		await openServer(U.page, server);
		await U.page.getByRole('button', {name: 'Member list'}).click();
		await U.page.getByRole('button', {name: 'My account'}).click();
		await U.page.keyboard.press('Escape');
		await U.page.getByRole('button', {name: /^Direct messages/}).click();
		await U.page.getByRole('button', {name: 'New direct message'}).waitFor();
		assert.ok(await U.page.locator('svg.icon').count() > 5);
		assert.equal(icons, 1, 'icons.svg fetched once');
		for (const path of ['/js/app.js', '/js/ui/shell.js', '/css/app.css', '/icons.svg']) {
			const h = headers.get(path);
			assert.ok(h, `${path} was loaded`);
			assert.equal(h['cache-control'], 'no-cache', path);
			assert.ok(h.etag, `${path} has an ETag`);
		}
	});

	assert.deepEqual(consoleErrors, []);
});
