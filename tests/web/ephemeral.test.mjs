/* SPDX-License-Identifier: ISC */
/*
 * ephemeral.test.mjs: typing hints and presence in the web client's state
 * (web/js/ephemeral.js, through applyEvent as the events arrive): who is
 * shown typing where and for how long, the line that says so, a message
 * ending its author's hint, and the status shown for a user.
 */

import {describe, test} from 'node:test';
import assert from 'node:assert/strict';

import {applyEvent} from '../../web/js/apply.js';
import {typists, typingText, presenceOf, nextTypingEnd, isOnline, idleDue, IDLE_AFTER_MS, TYPING_SHOWN_MS}
    from '../../web/js/ephemeral.js';
import {channelKey, dmKey} from '../../web/js/store.js';
import {world, message, watch, ME, BORA, CEM} from './fixtures.mjs';

const C20 = channelKey('20');

/*
 * A typing.start event of a user in channel 20 (or DM 30 with dm), sent
 * at 10:00:00 (or at sent).
 */
function typing(user, dm = false, sent = '2026-12-01T10:00:00.000Z') {
	return {type: 'typing.start', data: {channel_id: dm ? null : '20',
	    dm_channel_id: dm ? '30' : null, user_id: user.id,
	    expires_at: new Date(Date.parse(sent) + TYPING_SHOWN_MS).toISOString()}};
}

describe('typing.start', () => {
	test('shows the typist in that conversation, and announces it', async () => {
		const {state} = world();
		const {topics} = await watch(() => applyEvent(state, typing(BORA)));
		assert.deepEqual(typists(state, C20), [BORA.id]);
		assert.deepEqual(typists(state, dmKey('30')), []);
		assert.ok(topics.has(`typing:${C20}`));
	});

	test('a DM hint is the DM\u2019s', () => {
		const {state} = world();
		applyEvent(state, typing(BORA, true));
		assert.deepEqual(typists(state, dmKey('30')), [BORA.id]);
		assert.deepEqual(typists(state, C20), []);
	});

	test('never shows the user themself', () => {
		const {state} = world();
		applyEvent(state, typing(ME));
		assert.deepEqual(typists(state, C20), []);
	});

	test('ends 10 seconds after it came, unless renewed', () => {
		const {state} = world();
		const t0 = Date.now();
		applyEvent(state, typing(BORA));
		applyEvent(state, typing(CEM));
		assert.deepEqual(typists(state, C20, t0 + TYPING_SHOWN_MS - 50), [BORA.id, CEM.id]);
		assert.ok(nextTypingEnd(state, C20) <= Date.now() + TYPING_SHOWN_MS);
		assert.deepEqual(typists(state, C20, t0 + TYPING_SHOWN_MS + 1000), []);
		assert.equal(nextTypingEnd(state, C20), null);
	});

	test('the author\u2019s message ends their hint, not the others\u2019', async () => {
		const {state} = world({ids: ['5']});
		applyEvent(state, typing(BORA));
		applyEvent(state, typing(CEM));
		const {topics} = await watch(() => applyEvent(state,
		    {type: 'message.create', data: {message: message('7', BORA)}}));
		assert.deepEqual(typists(state, C20), [CEM.id]);
		assert.ok(topics.has(`typing:${C20}`));
	});

	test('a hint that arrives after the author\u2019s later message is not shown; a newer one is', () => {
		const {state} = world({ids: ['5']});
		applyEvent(state, {type: 'message.create', data: {message: message('7', BORA)}});
		applyEvent(state, typing(BORA, false, '2026-12-01T09:59:59.700Z'));
		assert.deepEqual(typists(state, C20), []);
		applyEvent(state, typing(CEM, false, '2026-12-01T09:59:59.700Z'));
		assert.deepEqual(typists(state, C20), [CEM.id]);
		applyEvent(state, typing(BORA, false, '2026-12-01T10:00:06.000Z'));
		assert.deepEqual(typists(state, C20), [CEM.id, BORA.id]);
	});
});

describe('typingText', () => {
	test('one, two, and several typists', () => {
		assert.equal(typingText([]), '');
		assert.equal(typingText(['alice']), 'alice is typing\u2026');
		assert.equal(typingText(['alice', 'bob']), 'alice and bob are typing\u2026');
		assert.equal(typingText(['alice', 'bob', 'cem']), 'Several people are typing\u2026');
	});
});

describe('presence.update', () => {
	test('what was loaded counts until an update comes', async () => {
		const {state} = world();
		assert.equal(presenceOf(state, BORA.id, 'idle'), 'idle');
		assert.equal(presenceOf(state, BORA.id, undefined), 'offline');
		const {topics} = await watch(() => applyEvent(state,
		    {type: 'presence.update', data: {user_id: BORA.id, status: 'dnd'}}));
		assert.equal(presenceOf(state, BORA.id, 'idle'), 'dnd');
		assert.ok(topics.has('presence'));
	});

	test('the same status again announces nothing', async () => {
		const {state} = world();
		const ev = {type: 'presence.update', data: {user_id: BORA.id, status: 'online'}};
		await watch(() => applyEvent(state, ev));
		const {topics} = await watch(() => applyEvent(state, ev));
		assert.equal(topics.has('presence'), false);
	});

	test('the user\u2019s own is the status they chose', () => {
		const {state} = world();
		state.myStatus = 'invisible';
		assert.equal(presenceOf(state, ME.id, 'offline'), 'invisible');
	});

	test('only offline and invisible count as offline in the lists', () => {
		assert.deepEqual(['online', 'idle', 'dnd', 'offline', 'invisible'].map(isOnline),
		    [true, true, true, false, false]);
	});
});

describe('idle', () => {
	test('online goes idle after ten minutes without input; other statuses stay', () => {
		const t0 = 1_000_000;
		assert.equal(idleDue('online', t0, t0 + IDLE_AFTER_MS - 1), false);
		assert.equal(idleDue('online', t0, t0 + IDLE_AFTER_MS), true);
		for (const s of ['idle', 'dnd', 'invisible'])
			assert.equal(idleDue(s, t0, t0 + 2 * IDLE_AFTER_MS), false, s);
	});
});
