/* SPDX-License-Identifier: ISC */
/*
 * bench.mjs: the web client with a long history (issue 25, item 3), in
 * Debian's Chromium driven by playwright-core; bench/webclient/run starts
 * it (read that for the options).
 *
 * A channel of BIG messages and one of SMALL. For each client under test
 * (this tree's web/, and a peer's, e.g. an earlier commit's, taken in
 * turns round by round so that both see the same box), a fresh browser
 * signs in, opens the big channel and scrolls up until LOADED messages
 * are loaded, then measures:
 *   older page   scrolling to the top until the next older page of 50 is
 *                drawn: the renderer's script time and its main-thread
 *                task time (Chromium's Performance metrics, the request's
 *                wait excluded), PAGES times;
 *   switch       a click on the other channel until its newest message
 *                is drawn and the frame after it ran (wall time in the
 *                page, rAF resolution), to the small channel and back to
 *                the big one, SWITCHES times each;
 *   DOM          the message elements in the list after all that.
 * Prints a table and, unless --no-append, appends it to
 * docs/benchmarks.md.
 */

import fs from 'node:fs';
import path from 'node:path';
import os from 'node:os';
import {createRequire} from 'node:module';

const opt = JSON.parse(process.env.WEBBENCH || '{}');
/* playwright-core as the browser tests install it (tests/e2e/node_modules). */
const {chromium, request} = createRequire(path.join(opt.root, 'tests/e2e/package.json'))('playwright-core');
const BASE = opt.url;
const BIG = opt.big || 5300;
const LOADED = opt.loaded || 5000;
const SMALL = 60;
const PAGE = 50;
const PAGES = opt.pages || 5;
const SWITCHES = opt.switches || 5;
const PASSWORD = 'password123';
const TYPES = {'.js': 'text/javascript', '.mjs': 'text/javascript', '.css': 'text/css',
	'.html': 'text/html', '.svg': 'image/svg+xml', '.json': 'application/json'};

function say(s) {
	process.stderr.write(`==> ${s}\n`);
}

/* One API call; waits out 429s. */
async function api(http, method, p, token, body) {
	for (let i = 0; i < 100; i++) {
		const res = await http.fetch(`/api/v1${p}`, {method, data: body,
		    headers: token ? {Authorization: `Bearer ${token}`} : {}});
		if (res.status() === 429) {
			await new Promise((r) => setTimeout(r, 1000));
			continue;
		}
		if (!res.ok())
			throw new Error(`${method} ${p} -> ${res.status()} ${await res.text()}`);
		return res.status() === 204 ? null : res.json();
	}
	throw new Error(`${method} ${p}: still 429`);
}

/* Post count messages to channel id, 8 at a time. */
async function fill(http, token, id, count, prefix) {
	let next = 0;
	const worker = async () => {
		while (next < count) {
			const i = next++;
			await api(http, 'POST', `/channels/${id}/messages`, token, {content: `${prefix} ${i}: ` +
			    'a line of history as long as a usual chat message, give or take'});
		}
	};
	await Promise.all(Array.from({length: 8}, worker));
}

/* The bench's server (made the first time): {name, big, small}. */
async function setUp(http) {
	const name = `webbench${BIG}`;
	let token;
	try {
		token = (await api(http, 'POST', '/auth/login', null, {login: name, password: PASSWORD}))
		    .access_token;
	} catch {
		token = (await api(http, 'POST', '/auth/register', null, {username: name,
		    email: `${name}@example.org`, password: PASSWORD})).access_token;
	}
	const servers = await api(http, 'GET', '/users/@me/servers?limit=200', token);
	let server = servers.find((s) => s.name === 'web client bench');
	if (!server) {
		say(`seeding a channel of ${BIG} messages and one of ${SMALL}`);
		server = await api(http, 'POST', '/servers', token, {name: 'web client bench'});
		const general = (await api(http, 'GET', `/servers/${server.id}/channels`, token))[0];
		const small = await api(http, 'POST', `/servers/${server.id}/channels`, token, {name: 'small'});
		await fill(http, token, general.id, BIG, 'big');
		await fill(http, token, small.id, SMALL, 'small');
	}
	const channels = await api(http, 'GET', `/servers/${server.id}/channels`, token);
	return {name, big: channels.find((c) => c.name !== 'small').id,
	    small: channels.find((c) => c.name === 'small').id};
}

/* Serve the client's static files from dir (the API goes to the server). */
async function serveClient(context, dir) {
	await context.route((url) => !url.pathname.startsWith('/api/'), async (route) => {
		const u = new URL(route.request().url());
		const rel = u.pathname === '/' ? 'index.html' : u.pathname.slice(1);
		const file = path.join(dir, rel);
		if (!file.startsWith(dir) || !fs.existsSync(file) || !fs.statSync(file).isFile())
			return route.continue();
		return route.fulfill({body: fs.readFileSync(file),
		    contentType: TYPES[path.extname(file)] || 'application/octet-stream'});
	});
}

/* In the page: scroll the list to its top and resolve once its first message changed and a frame ran. */
function olderPageInPage() {
	const list = document.querySelector('.msg-list');
	const first = () => list.querySelector('li.msg') && list.querySelector('li.msg').dataset.id;
	const was = first();
	return new Promise((resolve) => {
		const obs = new MutationObserver(() => {
			if (first() !== was) {
				obs.disconnect();
				requestAnimationFrame(() => setTimeout(resolve, 0));
			}
		});
		obs.observe(list, {childList: true});
		document.querySelector('.messages').scrollTop = 0;
	});
}

/* In the page: click channel id's button; the ms until its newest message is drawn and painted. */
function switchInPage({id, last}) {
	const t0 = performance.now();
	document.querySelector(`button.side-item[data-focus-key="ch-${id}"]`).click();
	return new Promise((resolve) => {
		const check = () => {
			const msgs = document.querySelectorAll('.msg-list > li.msg');
			const body = msgs.length > 0 && msgs[msgs.length - 1].querySelector('.msg-body');
			if (body && body.textContent.startsWith(last))
				requestAnimationFrame(() => setTimeout(() => resolve(performance.now() - t0), 0));
			else
				requestAnimationFrame(check);
		};
		check();
	});
}

async function metrics(cdp) {
	const m = {};
	for (const x of (await cdp.send('Performance.getMetrics')).metrics)
		m[x.name] = x.value;
	return m;
}

function median(xs) {
	const s = [...xs].sort((a, b) => a - b);
	return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
}

/* One client (served from dir) measured in a fresh browser context. */
async function measure(browser, dir, bench) {
	const context = await browser.newContext({ignoreHTTPSErrors: true, viewport: {width: 1280, height: 800},
	    baseURL: BASE});
	await serveClient(context, dir);
	const page = await context.newPage();
	const errors = [];
	page.on('pageerror', (e) => errors.push(e.message));
	await page.goto('/');
	await page.getByLabel('Username or email').fill(bench.name);
	await page.getByLabel('Password').fill(PASSWORD);
	await page.getByRole('button', {name: 'Sign in'}).click();
	await page.getByRole('button', {name: 'My account'}).waitFor();
	await page.getByRole('navigation', {name: 'Servers'}).getByRole('button', {name: 'web client bench'}).click();
	await page.locator(`button.side-item[data-focus-key="ch-${bench.big}"]`).click();
	await page.locator('.msg-list > li.msg').first().waitFor();
	/* Up until LOADED are loaded: one older page per scroll to the top. */
	let loaded = PAGE;
	const older = () => Promise.all([
		page.waitForResponse((r) => r.url().includes(`/channels/${bench.big}/messages?before=`)),
		page.evaluate(olderPageInPage)]);
	while (loaded < LOADED) {
		await older();
		loaded += PAGE;
	}
	const cdp = await context.newCDPSession(page);
	await cdp.send('Performance.enable');
	const olderScript = [];
	const olderTask = [];
	for (let i = 0; i < PAGES; i++) {
		const a = await metrics(cdp);
		await older();
		const b = await metrics(cdp);
		loaded += PAGE;
		olderScript.push((b.ScriptDuration - a.ScriptDuration) * 1000);
		olderTask.push((b.TaskDuration - a.TaskDuration) * 1000);
	}
	const toSmall = [];
	const toBig = [];
	const smallLast = `small ${SMALL - 1}:`;
	const bigNewest = (await api(bench.http, 'GET', `/channels/${bench.big}/messages?limit=1`, bench.token))[0]
	    .content.split(':')[0] + ':';
	for (let i = 0; i < SWITCHES; i++) {
		toSmall.push(await page.evaluate(switchInPage, {id: bench.small, last: smallLast}));
		toBig.push(await page.evaluate(switchInPage, {id: bench.big, last: bigNewest}));
	}
	const dom = await page.locator('.msg-list > li.msg').count();
	await context.close();
	if (errors.length > 0)
		throw new Error(`page errors: ${errors.join('; ')}`);
	return {loaded, olderScript, olderTask, toSmall, toBig, dom};
}

async function main() {
	const http = await request.newContext({baseURL: BASE, ignoreHTTPSErrors: true});
	const bench = await setUp(http);
	bench.http = http;
	bench.token = (await api(http, 'POST', '/auth/login', null, {login: bench.name, password: PASSWORD}))
	    .access_token;
	const browser = await chromium.launch({executablePath: opt.chromium, headless: true,
	    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
		'--disable-background-networking', '--disable-component-update', '--disable-sync',
		'--disable-default-apps', '--disable-features=Translate,MediaRouter,OptimizationHints']});
	const clients = [{label: opt.label || 'this tree', dir: opt.web}];
	if (opt.peer)
		clients.unshift({label: opt.peerLabel || 'peer', dir: opt.peer});
	const results = clients.map(() => []);
	for (let round = 1; round <= (opt.rounds || 2); round++) {
		for (const [i, c] of clients.entries()) {
			say(`round ${round}: ${c.label}`);
			const r = await measure(browser, c.dir, bench);
			results[i].push(r);
			say(`  older page script ${r.olderScript.map((x) => x.toFixed(1)).join(' ')} ms; ` +
			    `switch to small ${r.toSmall.map((x) => x.toFixed(0)).join(' ')}, back ` +
			    `${r.toBig.map((x) => x.toFixed(0)).join(' ')} ms; ${r.dom} in the list`);
		}
	}
	await browser.close();
	await http.dispose();
	const fmt = (xs) => `${median(xs).toFixed(1)} (${Math.min(...xs).toFixed(1)}–${Math.max(...xs).toFixed(1)})`;
	const load = os.loadavg().map((x) => x.toFixed(1)).join(' ');
	const lines = [
		'',
		`## ${new Date().toISOString().slice(0, 16).replace('T', ' ')} UTC — web client with ` +
		    `${LOADED.toLocaleString('en')} messages loaded (bench/webclient)`,
		'',
		`**What ran.** \`${opt.command}\` against a \`tools/dev bench-up\` instance. ` +
		    `Chromium headless, 1280×800; a channel of ${BIG.toLocaleString('en')} messages scrolled ` +
		    `up to ${LOADED.toLocaleString('en')} loaded, then ${PAGES} older pages of ${PAGE} and ` +
		    `${SWITCHES} switches each way to a channel of ${SMALL}; clients in turns, ` +
		    `${opt.rounds || 2} rounds; load average at the end ${load} (2 cores, shared with other work).`,
		'Median (min–max) over all rounds, ms.',
		'',
		'| client | older page: script | older page: main-thread tasks | switch to the small channel | ' +
		    'switch back to the big one | messages in the DOM |',
		'| --- | --: | --: | --: | --: | --: |',
	];
	for (const [i, c] of clients.entries()) {
		const rs = results[i];
		const all = (k) => rs.flatMap((r) => r[k]);
		lines.push(`| ${c.label} | ${fmt(all('olderScript'))} | ${fmt(all('olderTask'))} | ` +
		    `${fmt(all('toSmall'))} | ${fmt(all('toBig'))} | ${rs.map((r) => r.dom).join(', ')} |`);
	}
	const text = `${lines.join('\n')}\n`;
	process.stdout.write(text);
	if (opt.append)
		fs.appendFileSync(opt.doc, text);
}

main().catch((e) => {
	process.stderr.write(`bench/webclient: ${e.stack || e}\n`);
	process.exit(1);
});
