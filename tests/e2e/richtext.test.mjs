/* SPDX-License-Identifier: ISC */
/*
 * richtext.test.mjs: rich text in the web client (web/js/markup.js) as a
 * reader sees it: a message written with every kind of markup shows
 * bold, italics, underline, strike, inline code, a block quote, a link
 * that opens safely, a spoiler that shows only when clicked, and a code
 * block that scrolls sideways and copies its code; HTML in a message is
 * text; a mention in bold is still a pill that opens the profile;
 * :shortcodes: turn into emoji as they are typed; and a 4,000-character
 * message of markup that never closes shows as written.  How long such
 * messages take to render is measured by bench/markup, not here.
 *
 * No page may log a console error.
 */

import {test} from 'node:test';
import assert from 'node:assert/strict';

import {
	run, consoleErrors, useBrowser, newUser, signIn, message, confirmed, openServer, step, apiCall,
	apiRegister,
} from './harness.mjs';

useBrowser();

test('rich text in messages', {timeout: 120000}, async (t) => {
	const A = await newUser('Writer');
	const server = `Markup ${run}`;
	let me;
	const code = `const answer = 42; // ${'a long line that does not fit '.repeat(8)}`;
	const tag = `markup ${run}`;

	await step(t, 'a server made over the API; the writer signs in', async () => {
		me = await apiRegister(A.name);
		await apiCall('POST', '/servers', me.token, {name: server});
		await A.context.grantPermissions(['clipboard-read', 'clipboard-write']);
		await signIn(A);
		await openServer(A.page, server);
	});

	await step(t, 'every kind of markup, written in the message box', async () => {
		const box = A.page.locator('.composer textarea');
		const text = `${tag} **bold** *italic* __under__ ~~gone~~ \`x = 1\` ||the butler|| ` +
		    `https://example.org/docs?a=1 <script>window.pwned = 1</script><img src=x onerror="window.pwned=2">\n` +
		    `> quoted **words**\n\`\`\`js\n${code}\n\`\`\``;
		await box.fill(text);
		await box.press('Enter');
		await confirmed(A.page, tag);
		const body = message(A.page, tag).locator('.msg-body');
		assert.equal(await body.locator('strong').first().textContent(), 'bold');
		assert.equal(await body.locator('em').textContent(), 'italic');
		assert.equal(await body.locator('u').textContent(), 'under');
		assert.equal(await body.locator('s').textContent(), 'gone');
		assert.equal(await body.locator('code.md-code').textContent(), 'x = 1');
		assert.equal(await body.locator('blockquote strong').textContent(), 'words');
		const link = body.getByRole('link');
		assert.equal(await link.getAttribute('href'), 'https://example.org/docs?a=1');
		assert.equal(await link.getAttribute('rel'), 'noopener noreferrer');
		assert.equal(await link.getAttribute('target'), '_blank');
		/* The HTML is text: no element made, nothing run. */
		assert.equal(await A.page.locator('.msg-list script, .msg-list img').count(), 0);
		assert.match(await body.textContent(), /<script>window\.pwned = 1<\/script><img src=x/);
		assert.equal(await A.page.evaluate(() => window.pwned), undefined);
	});

	await step(t, 'a spoiler shows when clicked', async () => {
		const body = message(A.page, tag).locator('.msg-body');
		const spoiler = body.getByRole('button', {name: 'Spoiler, press to show'});
		const hidden = body.locator('.spoiler-text');
		assert.equal(await hidden.evaluate((e) => getComputedStyle(e).visibility), 'hidden');
		await spoiler.click();
		assert.equal(await hidden.evaluate((e) => getComputedStyle(e).visibility), 'visible');
		assert.equal(await hidden.textContent(), 'the butler');
		assert.equal(await body.getByRole('button', {name: 'Spoiler, press to show'}).count(), 0);
	});

	await step(t, 'a code block: monospace, scrolls sideways, copies its code', async () => {
		const block = message(A.page, tag).locator('.md-pre');
		const pre = block.locator('pre');
		assert.equal(await pre.textContent(), code);
		assert.match(await pre.evaluate((e) => getComputedStyle(e).fontFamily), /mono/i);
		const fit = await pre.evaluate((e) => ({scroll: e.scrollWidth, client: e.clientWidth,
		    overflow: getComputedStyle(e).overflowX}));
		assert.equal(fit.overflow, 'auto');
		assert.ok(fit.scroll > fit.client, `the long line scrolls (${fit.scroll} > ${fit.client})`);
		assert.equal(await block.locator('.md-lang').textContent(), 'js');
		await block.getByRole('button', {name: 'Copy code'}).click();
		await block.getByRole('button', {name: 'Copy code'}).filter({hasText: 'Copied'}).waitFor();
		assert.equal(await A.page.evaluate(() => navigator.clipboard.readText()), code);
	});

	await step(t, 'a mention in bold is a pill that opens the profile', async () => {
		const box = A.page.locator('.composer textarea');
		await box.fill(`pill ${run} **<@${me.id}>**`);
		await box.press('Enter');
		await confirmed(A.page, `pill ${run}`);
		const pill = message(A.page, `pill ${run}`).locator('.msg-body strong button.mention');
		assert.equal(await pill.textContent(), `@${A.name}`);
		await pill.click();
		await A.page.getByRole('dialog', {name: 'Profile'}).waitFor();
		await A.page.keyboard.press('Escape');
		await A.page.getByRole('dialog', {name: 'Profile'}).waitFor({state: 'detached'});
	});

	await step(t, ':shortcodes: become emoji as they are typed', async () => {
		const box = A.page.locator('.composer textarea');
		await box.fill('');
		await box.pressSequentially('so good :thumbs_up: and :red_heart: but 12:30:45 stays');
		assert.equal(await box.inputValue(), 'so good \u{1f44d} and \u2764\ufe0f but 12:30:45 stays');
		await box.fill('');
	});

	await step(t, 'a 4,000-character message of markup that never closes shows as it was written', async () => {
		/* 1,333 italics opened, none closed: the text, nothing else. */
		const mark = `unclosed ${run}`;
		const text = `${'*a '.repeat(1334).slice(0, 3999 - mark.length)} ${mark}`;
		assert.equal(text.length, 4000);
		const box = A.page.locator('.composer textarea');
		await box.fill(text);
		await box.press('Enter');
		await confirmed(A.page, mark);
		const body = message(A.page, mark).locator('.msg-body');
		assert.equal(await body.textContent(), text);
		assert.equal(await body.locator('em, strong, u, s, code').count(), 0);
	});

	assert.deepEqual(consoleErrors, []);
});
