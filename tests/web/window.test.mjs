/* SPDX-License-Identifier: ISC */
/*
 * window.test.mjs: the loaded window of a conversation (web/js/window.js,
 * fitsWindow in store.js) and the loads that move it (web/js/load.js:
 * openConvAt, loadNewer, loadLatest) against answers given by the test
 * (fakeapi.mjs): a jump to a message far back loads the page around it
 * and nothing in between; the window is then away from the live end,
 * new messages do not show below it as if they followed it, scrolling
 * down closes the gap page by page, "Jump to latest" at once; a page
 * asked for before the window moved is dropped.
 */

import {fake, later, until} from './fakeapi.mjs';
import {beforeEach, describe, test} from 'node:test';
import assert from 'node:assert/strict';

import {takeLatest, takeOlder, takeNewer, takeAround} from '../../web/js/window.js';
import {applyEvent} from '../../web/js/apply.js';
import {applyEvents, openConv, openConvAt, loadNewer, loadOlder, loadLatest} from '../../web/js/load.js';
import {sendMessage, ackConv} from '../../web/js/send.js';
import {store, resetStore, newConv, channelKey, fitsWindow} from '../../web/js/store.js';
import {world, message, idsOf, ME} from './fixtures.mjs';

const C20 = channelKey('20');
const LIMIT = 50;

/* Messages of channel 20 with ids from..to (ascending), by bora. */
function range(from, to) {
	const out = [];
	for (let id = from; id <= to; id++)
		out.push(message(String(id)));
	return out;
}

/* The ids from..to as strings. */
function ids(from, to) {
	return range(from, to).map((m) => m.id);
}

/*
 * The API's answer to ?around=id&limit=50 over a history of the ids
 * 1..newest: at most 25 older than id, then id and newer ones up to 50
 * (docs/api.md, Pagination; src/history.c).
 */
function around(id, newest) {
	const older = Math.min(25, id - 1);
	return range(id - older, Math.min(newest, id - older + LIMIT - 1));
}

describe('the window (window.js)', () => {
	test('the newest page is the window at the live end', () => {
		const c = newConv(C20);
		takeLatest(c, range(151, 200), LIMIT);
		assert.deepEqual(idsOf(c), ids(151, 200));
		assert.equal(c.hasOlder, true);
		assert.equal(c.hasNewer, false);
		takeLatest(c, range(1, 7), LIMIT);
		assert.deepEqual(idsOf(c), ids(1, 7), 'it replaces what was there');
		assert.equal(c.hasOlder, false, 'a short newest page is the whole history');
	});

	test('a page around a message far back replaces the window, with gaps on both sides', () => {
		const c = newConv(C20);
		takeLatest(c, range(351, 400), LIMIT);
		takeAround(c, around(200, 400), '200', LIMIT);
		assert.deepEqual(idsOf(c), ids(175, 224));
		assert.equal(c.byId.has('400'), false, 'the newest page is gone');
		assert.equal(c.hasOlder, true);
		assert.equal(c.hasNewer, true);
	});

	test('a page around one of the first messages: nothing older, filled up with newer ones', () => {
		const c = newConv(C20);
		takeAround(c, around(3, 400), '3', LIMIT);
		assert.deepEqual(idsOf(c), ids(1, 50));
		assert.equal(c.hasOlder, false);
		assert.equal(c.hasNewer, true);
	});

	test('a page around one of the newest messages reaches the live end', () => {
		const c = newConv(C20);
		takeAround(c, around(390, 400), '390', LIMIT);
		assert.deepEqual(idsOf(c), ids(365, 400));
		assert.equal(c.hasOlder, true);
		assert.equal(c.hasNewer, false);
	});

	test('a page around a message just above the window widens it, keeping the live end', () => {
		const c = newConv(C20);
		takeLatest(c, range(151, 200), LIMIT);
		takeAround(c, around(140, 200), '140', LIMIT);
		assert.deepEqual(idsOf(c), ids(115, 200));
		assert.equal(c.hasOlder, true);
		assert.equal(c.hasNewer, false, 'still at the live end');
	});

	test('newer pages close the gap; a short one reaches the live end', () => {
		const c = newConv(C20);
		takeAround(c, around(200, 260), '200', LIMIT);
		assert.deepEqual(idsOf(c), ids(175, 224));
		c.missedNewer = 3;
		assert.equal(takeNewer(c, range(225, 274).filter((m) => Number(m.id) <= 260), LIMIT), 36);
		assert.deepEqual(idsOf(c), ids(175, 260));
		assert.equal(c.hasNewer, false);
		assert.equal(c.missedNewer, 0, 'the missed ones are in the window now');
	});

	test('an older page widens the window downwards in time only', () => {
		const c = newConv(C20);
		takeAround(c, around(200, 400), '200', LIMIT);
		assert.equal(takeOlder(c, range(125, 174), LIMIT), 50);
		assert.deepEqual(idsOf(c), ids(125, 224));
		assert.equal(c.hasOlder, true);
		assert.equal(c.hasNewer, true);
	});

	test('fitsWindow: nothing beyond an end that has more behind it', () => {
		const c = newConv(C20);
		takeAround(c, around(200, 400), '200', LIMIT);
		assert.equal(fitsWindow(c, '401'), false, 'a new message past a window of older ones');
		assert.equal(fitsWindow(c, '100'), false, 'an old one before it');
		assert.equal(fitsWindow(c, '210'), true, 'one inside it');
		takeLatest(c, range(351, 400), LIMIT);
		assert.equal(fitsWindow(c, '401'), true, 'at the live end, new messages go in');
	});
});

describe('live messages and a window of older messages (apply.js)', () => {
	/* Ada's state with channel 20's window around 200 of 400. */
	function away() {
		const {state, c} = world();
		takeAround(c, around(200, 400), '200', LIMIT);
		state.view = {kind: 'server', serverId: '10', channelId: '20'};
		return {state, c};
	}

	test('a new message does not show below the window, and counts as missed', () => {
		const {state, c} = away();
		applyEvent(state, {type: 'message.create', data: {message: message('401')}});
		assert.deepEqual(idsOf(c), ids(175, 224));
		assert.equal(c.missedNewer, 1);
		/* One of the user's own (sent elsewhere) is no news to them. */
		applyEvent(state, {type: 'message.create', data: {message: message('402', ME)}});
		assert.equal(c.missedNewer, 1);
		assert.deepEqual(idsOf(c), ids(175, 224));
	});

	test('edits and deletes inside the window still apply', () => {
		const {state, c} = away();
		applyEvent(state, {type: 'message.update', data: {message: {...message('200'), content: 'new'}}});
		applyEvent(state, {type: 'message.delete', data: {id: '201', channel_id: '20', dm_channel_id: null}});
		assert.equal(c.byId.get('200').content, 'new');
		assert.equal(c.byId.has('201'), false);
	});

	test('at the live end new messages go in as before', () => {
		const {state, c} = world({ids: ['5', '6']});
		applyEvent(state, {type: 'message.create', data: {message: message('7')}});
		assert.deepEqual(idsOf(c), ['5', '6', '7']);
		assert.equal(c.missedNewer, 0);
	});
});

describe('the loads of a jump (load.js)', () => {
	/* Ada, in server 10 with channel 20 of 400 messages, and on screen. */
	function signedIn() {
		const {state} = world();
		state.convs = new Map();
		Object.assign(store, state);
		store.view = {kind: 'server', serverId: '10', channelId: '20'};
		fake.on('GET /channels/20/messages?limit=50', () => range(351, 400).reverse());
		fake.on('GET /channels/20/messages?around=200&limit=50', () => around(200, 400));
	}

	beforeEach(() => {
		fake.clear();
		resetStore();
		signedIn();
	});

	test('a message far back loads with one request, the page around it', async () => {
		openConv(C20);
		await until(() => store.convs.get(C20).loaded, 'the newest page is in');
		const before = fake.paths('GET').length;
		assert.equal(await openConvAt(C20, '200'), true);
		assert.deepEqual(fake.paths('GET').slice(before), ['/channels/20/messages?around=200&limit=50']);
		const c = store.convs.get(C20);
		assert.deepEqual(idsOf(c), ids(175, 224));
		assert.equal(c.hasNewer, true);
	});

	test('a loaded message needs no request', async () => {
		openConv(C20);
		await until(() => store.convs.get(C20).loaded, 'the newest page is in');
		const before = fake.requests.length;
		assert.equal(await openConvAt(C20, '380'), true);
		assert.equal(fake.requests.length, before);
	});

	test('a conversation not open yet opens at the message, without its newest page', async () => {
		assert.equal(await openConvAt(C20, '200'), true);
		assert.deepEqual(fake.paths('GET'), ['/channels/20/messages?around=200&limit=50']);
		assert.equal(store.convs.get(C20).loaded, true);
	});

	test('a deleted message: not found', async () => {
		fake.on('GET /channels/20/messages?around=300&limit=50',
		    () => around(300, 400).filter((m) => m.id !== '300'));
		assert.equal(await openConvAt(C20, '300'), false);
	});

	test('scrolling down loads newer pages after the window until it reaches the newest', async () => {
		await openConvAt(C20, '200');
		const c = store.convs.get(C20);
		for (let from = 225; from <= 400; from += LIMIT) {
			const last = String(from - 1);
			fake.on(`GET /channels/20/messages?after=${last}&limit=50`,
			    () => range(from, Math.min(400, from + LIMIT - 1)));
		}
		let pages = 0;
		while (c.hasNewer && pages < 10) {
			await loadNewer(c);
			pages++;
		}
		assert.equal(pages, 4, '225-274, 275-324, 325-374, 375-400');
		assert.deepEqual(idsOf(c), ids(175, 400));
		assert.equal(c.hasOlder, true);
		applyEvents([{type: 'message.create', data: {message: message('401')}}]);
		assert.equal(c.byId.has('401'), true, 'joined: live messages go in again');
	});

	test('a message that comes while the last newer page loads goes in after it', async () => {
		/* A window ending at 224 of a history that ends at 240 by now. */
		await openConvAt(C20, '200');
		const c = store.convs.get(C20);
		fake.on('GET /channels/20/messages?after=224&limit=50', () => range(225, 240));
		const newer = loadNewer(c);
		applyEvents([{type: 'message.create', data: {message: message('241')}}]);
		assert.equal(c.byId.has('241'), false, 'held while the page loads');
		await newer;
		assert.deepEqual(idsOf(c).slice(-3), ['239', '240', '241']);
	});

	test('Jump to latest: the newest page at once, not page by page', async () => {
		await openConvAt(C20, '200');
		const c = store.convs.get(C20);
		applyEvents([{type: 'message.create', data: {message: message('401')}}]);
		assert.equal(c.missedNewer, 1);
		fake.on('GET /channels/20/messages?limit=50', () => range(352, 401).reverse());
		const before = fake.paths('GET').length;
		await loadLatest(c);
		assert.deepEqual(fake.paths('GET').slice(before), ['/channels/20/messages?limit=50']);
		assert.deepEqual(idsOf(c), ids(352, 401));
		assert.equal(c.hasNewer, false);
		assert.equal(c.missedNewer, 0);
	});

	test('an older page asked for before a jump is dropped when it comes', async () => {
		openConv(C20);
		const c = store.convs.get(C20);
		await until(() => c.loaded, 'the newest page is in');
		const held = later();
		fake.on('GET /channels/20/messages?before=351&limit=50', () => held.promise);
		const older = loadOlder(c);
		await until(() => fake.paths('GET').includes('/channels/20/messages?before=351&limit=50'),
		    'the older page is asked for');
		await openConvAt(C20, '200');
		held.resolve(range(301, 350).reverse());
		assert.equal(await older, 0);
		assert.deepEqual(idsOf(c), ids(175, 224), 'the window around 200, without a gap');
	});

	test('a newest page asked for before a jump is dropped when it comes', async () => {
		const held = later();
		fake.on('GET /channels/20/messages?limit=50', () => held.promise);
		openConv(C20);
		await until(() => fake.paths('GET').includes('/channels/20/messages?limit=50'), 'asked for');
		const jumped = openConvAt(C20, '200');
		held.resolve(range(351, 400).reverse());
		assert.equal(await jumped, true);
		assert.deepEqual(idsOf(store.convs.get(C20)), ids(175, 224));
	});

	test('the user\u2019s own send does not land below a window of older messages', async () => {
		await openConvAt(C20, '200');
		const c = store.convs.get(C20);
		fake.on('POST /channels/20/messages', (body) => ({...message('401', ME, body.content),
		    nonce: body.nonce}));
		const m = await sendMessage(C20, 'hello');
		assert.equal(m.id, '401');
		assert.equal(c.byId.has('401'), false);
		assert.deepEqual(idsOf(c), ids(175, 224));
	});

	test('a window of older messages is not acknowledged as read; the newest page is', async () => {
		fake.on('PUT /channels/20/ack', (body) => ({channel_id: '20', dm_channel_id: null,
		    server_id: '10', last_read_id: body.message_id, last_message_id: '400',
		    unread_count: 0, mention_count: 0}));
		await openConvAt(C20, '200');
		await ackConv(C20);
		assert.deepEqual(fake.paths('PUT'), []);
		await loadLatest(store.convs.get(C20));
		await ackConv(C20);
		assert.deepEqual(fake.requests.filter((r) => r.method === 'PUT').map((r) => r.body),
		    [{message_id: '400'}]);
	});
});
