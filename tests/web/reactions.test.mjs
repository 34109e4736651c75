/* SPDX-License-Identifier: ISC */
/*
 * reactions.test.mjs: the reducer (web/js/apply.js) for replies,
 * reactions and pins (docs/api.md, Replies, reactions and pins): counts
 * and the user's own reactions as reaction events come, "me" kept when a
 * message.update carries reactions without it, pins from message.update,
 * and replies following their original's edit and delete.
 */

import {describe, test} from 'node:test';
import assert from 'node:assert/strict';

import {applyEvent} from '../../web/js/apply.js';
import {channelKey} from '../../web/js/store.js';
import {world, message, watch, ME, BORA, CEM} from './fixtures.mjs';

const THUMBS = '\u{1f44d}';
const HEART = '\u2764\ufe0f';

/* A reaction event on a message of channel 20. */
function reaction(type, id, user, emoji = THUMBS) {
	return {type: `reaction.${type}`, data: {message_id: id, channel_id: '20',
	    dm_channel_id: null, user_id: user.id, emoji}};
}

/* The reactions of message id as [emoji, count, me] triples. */
function shown(c, id) {
	return c.byId.get(id).reactions.map((r) => [r.emoji, r.count, r.me]);
}

describe('reaction events', () => {
	test('count others\u2019 reactions and mark the user\u2019s own, in the order they came', async () => {
		const {state, c} = world({ids: ['5']});
		const {topics} = await watch(() => {
			applyEvent(state, reaction('add', '5', BORA));
			applyEvent(state, reaction('add', '5', ME, HEART));
			applyEvent(state, reaction('add', '5', ME));
			applyEvent(state, reaction('add', '5', CEM, HEART));
		});
		assert.deepEqual(shown(c, '5'), [[THUMBS, 2, true], [HEART, 2, true]]);
		assert.ok(topics.has(`conv:${channelKey('20')}`), 'the conversation is redrawn');
	});

	test('a removal lowers the count; the last one takes the emoji away', () => {
		const {state, c} = world({ids: ['5']});
		applyEvent(state, reaction('add', '5', BORA));
		applyEvent(state, reaction('add', '5', ME));
		applyEvent(state, reaction('remove', '5', ME));
		assert.deepEqual(shown(c, '5'), [[THUMBS, 1, false]]);
		applyEvent(state, reaction('remove', '5', BORA));
		assert.deepEqual(shown(c, '5'), []);
	});

	test('the user\u2019s own reaction counts once, also when the answer came first', () => {
		const {state, c} = world({ids: ['5']});
		c.byId.get('5').reactions = [{emoji: THUMBS, count: 1, me: true}];
		applyEvent(state, reaction('add', '5', ME));
		assert.deepEqual(shown(c, '5'), [[THUMBS, 1, true]]);
		applyEvent(state, reaction('remove', '5', ME));
		applyEvent(state, reaction('remove', '5', ME));
		assert.deepEqual(shown(c, '5'), []);
	});

	test('a message not loaded, or a conversation not loaded, is left alone', () => {
		const {state, c} = world({ids: ['5']});
		applyEvent(state, reaction('add', '6', BORA));
		applyEvent(state, {type: 'reaction.add', data: {message_id: '7', channel_id: '21',
		    dm_channel_id: null, user_id: BORA.id, emoji: THUMBS}});
		assert.deepEqual(shown(c, '5'), []);
		assert.equal(state.convs.has(channelKey('21')), false);
	});

	test('wait, like other events, while a page of the conversation loads', () => {
		const {state, c} = world({ids: ['5']});
		c.loads = 1;
		c.queue = [];
		applyEvent(state, reaction('add', '5', BORA));
		assert.deepEqual(shown(c, '5'), []);
		assert.equal(c.queue.length, 1);
	});
});

describe('message.update with reactions and pins', () => {
	test('keeps the user\u2019s own "me", which event messages do not carry', () => {
		const {state, c} = world({ids: ['5']});
		c.byId.get('5').reactions = [{emoji: THUMBS, count: 2, me: true}];
		const m = message('5', BORA, 'pinned now', {pinned: true,
		    reactions: [{emoji: THUMBS, count: 2}, {emoji: HEART, count: 1}]});
		applyEvent(state, {type: 'message.update', data: {message: m}});
		assert.deepEqual(shown(c, '5'), [[THUMBS, 2, true], [HEART, 1, false]]);
		assert.equal(c.byId.get('5').pinned, true);
	});
});

describe('replies', () => {
	test('follow their original\u2019s edit, and show it deleted', () => {
		const {state, c} = world({ids: ['5']});
		const quote = {id: '5', author: BORA, content: 'text 5'};
		applyEvent(state, {type: 'message.create', data: {message: message('6', CEM, 'answer',
		    {reply_to: quote})}});
		const long = 'x'.repeat(150);
		applyEvent(state, {type: 'message.update', data: {message: message('5', BORA, long)}});
		assert.equal(c.byId.get('6').reply_to.content, 'x'.repeat(100));
		applyEvent(state, {type: 'message.delete', data: {id: '5', channel_id: '20',
		    dm_channel_id: null}});
		assert.deepEqual(c.byId.get('6').reply_to, {id: '5', author: null, content: null});
	});
});
