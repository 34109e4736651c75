/* SPDX-License-Identifier: ISC */
/*
 * events.test.mjs: the connection state of the /events loop
 * (web/js/events.js) against answers given by the test (fakeapi.mjs):
 * any request that finds the server gone starts asking GET /health, a
 * probe that finds nothing shows "offline", the first answer shows
 * "live" again and the messages that failed for want of a server are
 * sent again with their nonces; the browser's offline and online events
 * are followed at once.
 */

import {fake, later, until} from './fakeapi.mjs';
import {beforeEach, afterEach, describe, test} from 'node:test';
import assert from 'node:assert/strict';

import {startEvents} from '../../web/js/events.js';
import {openConv} from '../../web/js/load.js';
import {sendMessage, retryUnsent} from '../../web/js/send.js';
import {store, resetStore, channelKey, pendingOf} from '../../web/js/store.js';
import {message, ME} from './fixtures.mjs';

const KEY = channelKey('20');
let events = null;
let statuses = [];
let parked = null;

/* Start the loop: the head cursor c1, then a poll the server holds. */
async function started() {
	fake.on('GET /events', () => ({cursor: 'c1', events: []}));
	parked = later();
	fake.on('GET /events?after=c1&timeout=30', () => parked.promise);
	events = startEvents({reset: async () => {}, apply: () => {},
	    status: (s) => statuses.push(s), reconnected: retryUnsent});
	await until(() => statuses.at(-1) === 'live', 'the loop is live');
}

/* A handler that fails like a network error while down() is true, else answers with ok(). */
function unless(down, ok) {
	return (body, path) => {
		if (down())
			throw new TypeError('Failed to fetch');
		return ok(body, path);
	};
}

beforeEach(() => {
	fake.clear();
	resetStore();
	store.me = {...ME};
	statuses = [];
});

afterEach(() => {
	events.stop();
	parked.resolve({cursor: 'c1', events: []});
});

describe('connection state', () => {
	test('a send that finds the server gone: offline, then live at its first answer, and sent again', async () => {
		fake.on('GET /channels/20/messages?limit=50', () => [message('1')]);
		const c = openConv(KEY);
		await until(() => c.loaded, 'the conversation is loaded');
		await started();
		let down = true;
		fake.on('GET /health', unless(() => down, () => ({status: 'ok', db: 'ok'})));
		fake.on('POST /channels/20/messages', unless(() => down,
		    (body) => ({...message('9', {id: ME.id, username: ME.username}, body.content), nonce: body.nonce})));
		await sendMessage(KEY, 'while down');
		assert.equal(pendingOf(KEY)[0].state, 'failed');
		await until(() => statuses.at(-1) === 'offline', 'a failed probe shows offline');
		const probes = fake.paths('GET').filter((p) => p === '/health').length;
		assert.ok(probes >= 1);
		/* The server is back: the next probe (within 700 ms) makes it live. */
		down = false;
		const back = Date.now();
		await until(() => statuses.at(-1) === 'live', 'live again');
		assert.ok(Date.now() - back < 1000, `live after ${Date.now() - back} ms`);
		await until(() => c.byId.has('9'), 'the message was sent again');
		const posts = fake.requests.filter((r) => r.method === 'POST' && r.path === '/channels/20/messages');
		assert.equal(posts.length, 2);
		assert.equal(posts[0].body.nonce, posts[1].body.nonce);
		assert.equal(pendingOf(KEY).length, 0);
	});

	test('any request answered after a failure is enough: no probe needed to be live', async () => {
		await started();
		let down = true;
		fake.on('GET /health', unless(() => down, () => ({status: 'ok', db: 'ok'})));
		fake.on('GET /users/@me', unless(() => false, () => ME));
		fake.on('POST /channels/20/typing', unless(() => down, () => null));
		const {api} = await import('../../web/js/api.js');
		await api.post('/channels/20/typing').catch(() => {});
		await until(() => statuses.at(-1) === 'offline', 'offline');
		/* The probes still fail; another request is answered. */
		await api.get('/users/@me');
		assert.equal(statuses.at(-1), 'live');
		down = false;
	});

	test('the browser going offline shows at once; coming back online probes at once', async () => {
		await started();
		fake.on('GET /health', () => ({status: 'ok', db: 'ok'}));
		window.dispatchEvent(new Event('offline'));
		assert.equal(statuses.at(-1), 'offline');
		const before = fake.paths('GET').length;
		window.dispatchEvent(new Event('online'));
		assert.ok(fake.paths('GET').length > before, 'a probe went out at once');
		await until(() => statuses.at(-1) === 'live', 'live again');
	});

	test('once the server answers, the probes stop', async () => {
		await started();
		fake.on('POST /channels/20/typing', () => {
			throw new TypeError('Failed to fetch');
		});
		const {api, ApiError} = await import('../../web/js/api.js');
		const e = await api.post('/channels/20/typing').catch((x) => x);
		assert.ok(e instanceof ApiError && e.status === 0);
		fake.on('GET /health', () => ({status: 'ok', db: 'ok'}));
		await until(() => fake.paths('GET').includes('/health'), 'a probe');
		assert.equal(statuses.at(-1), 'live');
		const n = fake.paths('GET').filter((p) => p === '/health').length;
		await new Promise((r) => setTimeout(r, 800));
		assert.equal(fake.paths('GET').filter((p) => p === '/health').length, n, 'no more probes once answered');
	});
});
