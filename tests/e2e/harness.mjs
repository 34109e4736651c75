/* SPDX-License-Identifier: ISC */
/*
 * harness.mjs: what the browser tests share: Chromium (Debian's, headless,
 * driven by playwright-core) against the sohbet at $SOHBET_TEST_URL, users
 * each in a browser context of their own with their console errors
 * collected, the steps of a test with screenshots when one fails, and
 * the API without a browser for setting things up.
 */

import {before, after} from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import {fileURLToPath} from 'node:url';
import {chromium, request} from 'playwright-core';

export const BASE = (process.env.SOHBET_TEST_URL || '').replace(/\/+$/, '');
const CHROMIUM = process.env.SOHBET_CHROMIUM || '/usr/bin/chromium';
const HERE = path.dirname(fileURLToPath(import.meta.url));
export const ARTIFACTS = process.env.SOHBET_ARTIFACTS || path.resolve(HERE, '../artifacts');
/* "Sees it appear without reloading within 2 s." */
export const LIVE_MS = 2000;
export const PASSWORD = 'correct horse battery';

/* Part of every name made, so that runs against one instance do not clash. */
export const run = Date.now().toString(36) + Math.random().toString(36).slice(2, 6);
let browser;
/* The API without a browser, for setting up large servers. */
let http;
const users = {};
/* Console errors of every page, and the ones a step expects. */
export const consoleErrors = [];
let expectedError = null;

/* Console errors matching re are expected from now on (null: none are). */
export function expectConsoleErrors(re) {
	expectedError = re;
}

/*
 * Launch Chromium before the tests of the file that calls this (at its
 * top level) and close it after them.
 */
export function useBrowser() {
	before(launch);
	after(close);
}

async function launch() {
	assert.ok(BASE, 'SOHBET_TEST_URL must name the sohbet under test (tools/dev test sets it)');
	fs.mkdirSync(ARTIFACTS, {recursive: true});
	browser = await chromium.launch({
		executablePath: CHROMIUM,
		headless: true,
		/* playwright-core gives each launch a fresh temporary profile
		 * (--user-data-dir). The network here is closed: nothing may
		 * try to reach Google's services. */
		args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
			'--disable-background-networking', '--disable-component-update', '--disable-sync',
			'--disable-default-apps', '--disable-features=Translate,MediaRouter,OptimizationHints'],
	});
	http = await request.newContext({baseURL: BASE, ignoreHTTPSErrors: true});
}

async function close() {
	if (http)
		await http.dispose();
	if (browser)
		await browser.close();
}

/*
 * A browser context with one page, its console errors collected; more
 * holds more options of the context (hasTouch and isMobile for a phone).
 */
export async function newUser(label, viewport = {width: 1280, height: 800}, more = {}) {
	const context = await browser.newContext({ignoreHTTPSErrors: true, viewport, baseURL: BASE, ...more});
	const page = await context.newPage();
	page.on('console', (msg) => {
		if (msg.type() !== 'error')
			return;
		const text = `${label}: ${msg.text()} (${msg.location().url || '?'})`;
		if (expectedError && expectedError.test(msg.text()))
			return;
		consoleErrors.push(text);
	});
	page.on('pageerror', (err) => consoleErrors.push(`${label}: uncaught ${err.stack || err.message}`));
	/* Error answers of the API, shown when a step fails. */
	const failures = [];
	page.on('response', async (res) => {
		if (res.status() >= 400 && res.url().includes('/api/')) {
			const body = await res.text().catch(() => '');
			failures.push(`${res.request().method()} ${res.url()} -> ${res.status()} ${body.slice(0, 200)}`);
		}
	});
	const name = `${label.toLowerCase()}_${run}`;
	const u = {label, name, context, page, failures};
	users[label] = u;
	return u;
}

/* Register u from the start page; the chat opens. */
export async function register(u) {
	const {page} = u;
	await page.goto('/');
	await page.getByRole('button', {name: 'Register'}).click();
	await page.getByLabel('Username').fill(u.name);
	await page.getByLabel('Email').fill(`${u.name}@example.org`);
	await page.getByLabel('Password').fill(PASSWORD);
	await page.getByRole('button', {name: 'Create account'}).click();
	await page.getByRole('button', {name: 'My account'}).waitFor();
}

/* The <li> of the message with this text (visible in the list). */
export function message(page, text) {
	return page.locator('.msg-list > li.msg').filter({has: page.locator('.msg-body', {hasText: text})});
}

/* Send text from the composer of the open conversation. */
export async function send(page, text) {
	const box = page.locator('.composer textarea');
	await box.fill(text);
	await box.press('Enter');
}

/* Wait until the message with text is confirmed by the server (not pending). */
export async function confirmed(page, text) {
	await message(page, text).and(page.locator(':not(.msg--pending):not(.msg--failed)')).waitFor();
}

/* Sign in from the start page with a name and the common password. */
export async function signIn(u) {
	const {page} = u;
	await page.goto('/');
	await page.getByLabel('Username or email').fill(u.name);
	await page.getByLabel('Password').fill(PASSWORD);
	await page.getByRole('button', {name: 'Sign in'}).click();
	await page.getByRole('button', {name: 'My account'}).waitFor();
}

/* Open the server called name from the server rail. */
export async function openServer(page, name) {
	await page.getByRole('navigation', {name: 'Servers'}).getByRole('button', {name}).click();
}

/* The heading of the conversation on screen. */
export async function heading(page) {
	return (await page.locator('.main-head h1').textContent()).trim();
}

/* Run a sub-test; when it fails, keep screenshots of every page for a post-mortem. */
export async function step(t, name, fn) {
	await t.test(name, async () => {
		try {
			await fn();
		} catch (err) {
			const slug = name.replace(/[^A-Za-z0-9]+/g, '-').slice(0, 40);
			for (const u of Object.values(users)) {
				await u.page.screenshot({path: path.join(ARTIFACTS, `failed-${slug}-${u.label}.png`)})
				    .catch(() => {});
				for (const f of u.failures)
					t.diagnostic(`${u.label}: ${f}`);
			}
			throw err;
		}
	});
}

/* One API request as the user with this access token (or none); resolves the response. */
export function apiFetch(method, path, token, body) {
	return http.fetch(`/api/v1${path}`, {method, data: body,
	    headers: token ? {Authorization: `Bearer ${token}`} : {}});
}

/*
 * One API call as the user with this access token (or none); resolves
 * the decoded answer. Waits out the auth rate limit (429) and retries.
 */
export async function apiCall(method, path, token, body) {
	for (;;) {
		const res = await apiFetch(method, path, token, body);
		if (res.status() === 429) {
			await new Promise((r) => setTimeout(r, 1000 * (Number(res.headers()['retry-after']) || 1)));
			continue;
		}
		assert.ok(res.ok(), `${method} ${path} -> ${res.status()} ${await res.text()}`);
		return res.status() === 204 ? null : res.json();
	}
}

/* Register name over the API; resolves {id, name, token}. */
export async function apiRegister(name) {
	const r = await apiCall('POST', '/auth/register', null,
	    {username: name, email: `${name}@example.org`, password: PASSWORD});
	return {id: r.user.id, name, token: r.access_token};
}

/* Run fn over items, at most n at a time; resolves the results in order. */
export async function inPool(items, n, fn) {
	const out = new Array(items.length);
	let next = 0;
	const worker = async () => {
		while (next < items.length) {
			const i = next++;
			out[i] = await fn(items[i], i);
		}
	};
	await Promise.all(Array.from({length: Math.min(n, items.length)}, worker));
	return out;
}

/* Where the element of locator sits in the message list's visible area. */
export function placeInMessages(locator) {
	return locator.evaluate((el) => {
		const box = el.closest('.messages').getBoundingClientRect();
		const r = el.getBoundingClientRect();
		return {inView: r.bottom > box.top && r.top < box.bottom, bottomGap: box.bottom - r.bottom};
	});
}
