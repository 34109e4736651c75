/* SPDX-License-Identifier: ISC */
/*
 * fakeapi.mjs: a stand-in for the browser around web/js/api.js (window,
 * localStorage, fetch), so that node can run load.js and send.js against
 * answers a test gives. Import it before the modules under test.
 *
 * fake.on('GET /servers/10/roles', handler) answers that request (the
 * path after /api/v1, query included); handler(body, path) returns the
 * JSON answer, or {status, body} via reply(), or a promise of either, to
 * hold the answer back. Every request is recorded in fake.requests; one
 * nobody answers fails the test that made it.
 */

import {after} from 'node:test';

const storage = new Map([['sohbet.refresh_token', 'refresh-1']]);
globalThis.window = new EventTarget();
globalThis.localStorage = {
	getItem: (k) => (storage.has(k) ? storage.get(k) : null),
	setItem: (k, v) => storage.set(k, String(v)),
	removeItem: (k) => storage.delete(k),
};
if (typeof globalThis.navigator === 'undefined')
	globalThis.navigator = {};

const REPLY = Symbol('reply');

/* An answer with a status other than 200 (an API error: code, message). */
export function reply(status, body = null) {
	return {[REPLY]: true, status, body};
}

/* An API error answer: {error: {code, message}}. */
export function apiError(status, code) {
	return reply(status, {error: {code, message: code}});
}

/* A promise with its resolve function: an answer held back. */
export function later() {
	let resolve;
	const promise = new Promise((r) => {
		resolve = r;
	});
	return {promise, resolve};
}

/* The answers every test has: the access token api.js asks for first. */
const BASE_ROUTES = [
	['POST /auth/refresh', () => ({access_token: 'access-1', refresh_token: 'refresh-1', expires_in: 900})],
	['POST /auth/logout', () => reply(204)],
];

export const fake = {
	routes: new Map(BASE_ROUTES),
	requests: [],
	unanswered: [],
	/* Answer method and path (e.g. 'GET /dms') with handler. */
	on(route, handler) {
		this.routes.set(route, handler);
	},
	/* Forget the answers and requests of the last test. */
	clear() {
		this.routes = new Map(BASE_ROUTES);
		this.requests = [];
		this.unanswered = [];
	},
	/* The paths of the requests made so far with this method. */
	paths(method) {
		return this.requests.filter((r) => r.method === method).map((r) => r.path);
	},
};

globalThis.fetch = async (url, init) => {
	const path = url.replace(/^\/api\/v1/, '');
	const body = init.body === undefined ? undefined : JSON.parse(init.body);
	fake.requests.push({method: init.method, path, body});
	const handler = fake.routes.get(`${init.method} ${path}`);
	let answer;
	if (handler) {
		answer = await handler(body, path);
	} else {
		fake.unanswered.push(`${init.method} ${path}`);
		answer = apiError(404, 'not_found');
	}
	if (answer && answer[REPLY])
		return new Response(answer.body === null ? null : JSON.stringify(answer.body), {status: answer.status});
	return new Response(JSON.stringify(answer), {status: 200});
};

/* Resolve once cond() is true; fail after two seconds. */
export async function until(cond, what) {
	for (let waited = 0; !cond(); waited += 5) {
		if (waited >= 2000)
			throw new Error(`still not true after 2 s: ${what}`);
		await new Promise((resolve) => setTimeout(resolve, 5));
	}
}

/* Sign out at the end, which stops api.js's refresh timer. */
after(async () => {
	const {signOut} = await import('../../web/js/api.js');
	await signOut();
});
