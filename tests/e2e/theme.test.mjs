/* SPDX-License-Identifier: ISC */
/*
 * theme.test.mjs: the light and the dark theme. The client follows the
 * system's (prefers-color-scheme) until the account settings choose one,
 * which holds over the system's and after a reload. In both themes every
 * piece of text on screen (the sign-in screen; the chat with rich text,
 * mentions, the member list, the settings dialog) has the contrast WCAG
 * AA asks for with what is behind it (4.5:1, 3:1 for large text),
 * measured from the computed styles.
 *
 * No page may log a console error.
 */

import {test} from 'node:test';
import assert from 'node:assert/strict';

import {
	run, consoleErrors, useBrowser, newUser, signIn, message, send, confirmed, openServer, step, apiCall,
	apiRegister,
} from './harness.mjs';

useBrowser();

/*
 * In the page: every visible element with text of its own whose contrast
 * with its background is under WCAG AA, as [{text, color, background,
 * ratio, need}]; and how many were measured.
 */
function contrastFailures() {
	const parse = (c) => {
		const m = /rgba?\(([\d.]+),? ([\d.]+),? ([\d.]+)(?:,? \/? ?([\d.]+%?))?\)/.exec(c);
		if (!m)
			return null;
		let a = m[4] === undefined ? 1 : parseFloat(m[4]);
		if (m[4] && m[4].endsWith('%'))
			a /= 100;
		return [+m[1], +m[2], +m[3], a];
	};
	const over = (top, below) => [0, 1, 2].map((i) => top[i] * top[3] + below[i] * (1 - top[3])).concat(1);
	const lum = (c) => {
		const [r, g, b] = c.slice(0, 3).map((v) => {
			v /= 255;
			return v <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4;
		});
		return 0.2126 * r + 0.7152 * g + 0.0722 * b;
	};
	/* What is behind el: its and its ancestors' backgrounds laid on each other; null when an image. */
	const backgroundOf = (el) => {
		const layers = [];
		for (let e = el; e; e = e.parentElement) {
			const s = getComputedStyle(e);
			if (s.backgroundImage !== 'none')
				return null;
			const c = parse(s.backgroundColor);
			if (c && c[3] > 0) {
				layers.push(c);
				if (c[3] >= 1)
					break;
			}
		}
		let bg = [255, 255, 255, 1];
		for (let i = layers.length - 1; i >= 0; i--)
			bg = over(layers[i], bg);
		return bg;
	};
	const out = [];
	let measured = 0;
	for (const el of document.querySelectorAll('body *')) {
		const own = [...el.childNodes].some((n) => n.nodeType === 3 && n.data.trim() !== '');
		if (!own || el.closest('.visually-hidden, [hidden], :disabled, option, script, style'))
			continue;
		const s = getComputedStyle(el);
		if (s.visibility !== 'visible' || el.getClientRects().length === 0 || parseFloat(s.opacity) < 1)
			continue;
		const bg = backgroundOf(el);
		const fg = parse(s.color);
		if (!bg || !fg)
			continue;
		const color = over(fg, bg);
		const [hi, lo] = [lum(color), lum(bg)].sort((a, b) => b - a);
		const ratio = (hi + 0.05) / (lo + 0.05);
		const size = parseFloat(s.fontSize);
		const large = size >= 24 || (size >= 18.66 && parseInt(s.fontWeight, 10) >= 700);
		const need = large ? 3 : 4.5;
		measured++;
		if (ratio < need) {
			out.push({text: el.textContent.trim().slice(0, 40), cls: el.className && String(el.className),
			    color: s.color, background: `rgb(${bg.slice(0, 3).map(Math.round).join(' ')})`,
			    ratio: Math.round(ratio * 100) / 100, need});
		}
	}
	return {failures: out, measured};
}

/* Assert the text on page's screen meets WCAG AA; what stands for where. */
async function assertContrast(t, page, where) {
	const {failures, measured} = await page.evaluate(contrastFailures);
	t.diagnostic(`${where}: ${measured} pieces of text measured`);
	assert.ok(measured >= 5, `${where}: only ${measured} pieces of text`);
	assert.deepEqual(failures, [], `${where}: text under WCAG AA contrast`);
}

/* The page's background colour. */
function pageBackground(page) {
	return page.evaluate(() => getComputedStyle(document.body).backgroundColor);
}

const WHITE = 'rgb(255, 255, 255)';
const DARK = 'rgb(49, 51, 56)';

test('light and dark themes', {timeout: 120000}, async (t) => {
	const U = await newUser('Theme');
	const server = `Themes ${run}`;

	await step(t, 'the sign-in screen in both themes', async () => {
		for (const scheme of ['light', 'dark']) {
			await U.page.emulateMedia({colorScheme: scheme});
			await U.page.goto('/');
			await U.page.getByLabel('Username or email').waitFor();
			assert.equal(await pageBackground(U.page), scheme === 'light' ? WHITE : DARK);
			await assertContrast(t, U.page, `sign-in, ${scheme}`);
		}
	});

	await step(t, 'a server with rich text, made over the API; the user signs in', async () => {
		const me = await apiRegister(U.name);
		const id = (await apiCall('POST', '/servers', me.token, {name: server})).id;
		const channel = (await apiCall('GET', `/servers/${id}/channels`, me.token))[0].id;
		await apiCall('POST', `/channels/${channel}/messages`, me.token, {content:
		    `**bold** _it_ \`code\` https://example.org <@${me.id}> ||hidden|| ${run}\n> quoted\n\`\`\`js\nlet a = 1;\n\`\`\``});
		await signIn(U);
		await openServer(U.page, server);
		await U.page.locator('.msg-body .mention').waitFor();
		await send(U.page, `and a reply ${run}`);
		await confirmed(U.page, `and a reply ${run}`);
	});

	await step(t, 'the chat follows the system\u2019s theme, and meets WCAG AA in both', async () => {
		for (const scheme of ['light', 'dark']) {
			await U.page.emulateMedia({colorScheme: scheme});
			assert.equal(await pageBackground(U.page), scheme === 'light' ? WHITE : DARK);
			await message(U.page, `and a reply ${run}`).hover();
			await assertContrast(t, U.page, `chat, ${scheme}`);
			await U.page.getByRole('button', {name: 'My account'}).click();
			await U.page.getByRole('dialog', {name: 'My account'}).waitFor();
			await assertContrast(t, U.page, `account settings, ${scheme}`);
			await U.page.keyboard.press('Escape');
		}
	});

	await step(t, 'a theme chosen in the settings holds over the system\u2019s, and after a reload', async () => {
		await U.page.emulateMedia({colorScheme: 'dark'});
		await U.page.getByRole('button', {name: 'My account'}).click();
		const dialog = U.page.getByRole('dialog', {name: 'My account'});
		await dialog.getByRole('radio', {name: 'Light'}).check();
		assert.equal(await pageBackground(U.page), WHITE);
		await U.page.keyboard.press('Escape');
		await U.page.reload();
		await message(U.page, `and a reply ${run}`).waitFor();
		assert.equal(await pageBackground(U.page), WHITE);
		await U.page.emulateMedia({colorScheme: 'light'});
		await U.page.getByRole('button', {name: 'My account'}).click();
		await dialog.getByRole('radio', {name: 'Dark'}).check();
		assert.equal(await pageBackground(U.page), DARK);
		await dialog.getByRole('radio', {name: 'As the system'}).check();
		assert.equal(await pageBackground(U.page), WHITE);
		await U.page.keyboard.press('Escape');
	});

	assert.deepEqual(consoleErrors, []);
});
