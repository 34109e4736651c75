/* SPDX-License-Identifier: ISC */
/*
 * readstate.test.mjs: read states and mentions in the web client
 * (docs/api.md, Mentions and read state): the counts the reducer
 * (web/js/apply.js) keeps from read states and new messages, the
 * selectors that add them up for the rail and the tab's title, and the
 * pure parts of web/js/mentions.js (a message's content as parts, the @
 * autocomplete).
 */

import {describe, test} from 'node:test';
import assert from 'node:assert/strict';

import {applyEvent, putReadState} from '../../web/js/apply.js';
import {channelKey, dmKey, readStateOf, serverMentions, dmMentions, totalMentions,
    mentionsMe} from '../../web/js/store.js';
import {mentionPart, mentionQuery, mentionCandidates, insertMention} from '../../web/js/mentions.js';
import {world, message, watch, ME, BORA, CEM} from './fixtures.mjs';

const C20 = channelKey('20');
const C21 = channelKey('21');
const D30 = dmKey('30');

/* A read state object of the API for channel 20 (or DM 30). */
function readState(extra = {}) {
	return {channel_id: extra.dm ? null : '20', dm_channel_id: extra.dm ? '30' : null,
	    server_id: extra.dm ? null : '10', last_read_id: '5', last_message_id: '9',
	    unread_count: 3, mention_count: 1, ...extra};
}

/* message.create of m. */
function create(state, m) {
	return applyEvent(state, {type: 'message.create', data: {message: m}});
}

/* A message of bora in channel 21 with mention fields. */
function mentioning(id, fields, extra = {}) {
	return {...message(id, BORA, 'hey', {channel: '21', ...extra}), mentions: [], mention_roles: [],
	    mention_everyone: false, ...fields};
}

describe('read states', () => {
	test('read_state.update sets the counts and the unread mark', async () => {
		const {state} = world();
		const {topics} = await watch(() =>
		    applyEvent(state, {type: 'read_state.update', data: readState()}));
		assert.deepEqual(readStateOf(state, C20),
		    {last_read_id: '5', last_message_id: '9', unread_count: 3, mention_count: 1});
		assert.ok(state.unread.has(C20));
		assert.ok(topics.has('unread') && topics.has('servers'), 'the marks are redrawn');
		applyEvent(state, {type: 'read_state.update',
		    data: readState({last_read_id: '9', unread_count: 0, mention_count: 0})});
		assert.equal(state.unread.has(C20), false);
	});

	test('an older read state never takes the position back', () => {
		const {state} = world();
		putReadState(state, readState({last_read_id: '9', unread_count: 0, mention_count: 0}));
		putReadState(state, readState({last_read_id: '5'}));
		assert.equal(readStateOf(state, C20).last_read_id, '9');
		assert.equal(state.unread.has(C20), false);
	});

	test('others\u2019 messages count, mentions count red, both stop at 100', () => {
		const {state} = world();
		state.view = {kind: 'home', dmId: null};
		create(state, mentioning('40', {}));
		create(state, mentioning('41', {mentions: [ME]}));
		assert.deepEqual(readStateOf(state, C21),
		    {last_read_id: null, last_message_id: '41', unread_count: 2, mention_count: 1});
		putReadState(state, {channel_id: '21', dm_channel_id: null, server_id: '10',
		    last_read_id: '1', last_message_id: '99', unread_count: 100, mention_count: 99});
		create(state, mentioning('100', {mention_everyone: true}));
		create(state, mentioning('101', {mention_everyone: true}));
		assert.equal(readStateOf(state, C21).unread_count, 100);
		assert.equal(readStateOf(state, C21).mention_count, 100);
	});

	test('your own message reads the conversation up to it', () => {
		const {state} = world();
		putReadState(state, readState({channel_id: '21'}));
		create(state, message('50', ME, 'me', {channel: '21'}));
		assert.deepEqual(readStateOf(state, C21),
		    {last_read_id: '50', last_message_id: '50', unread_count: 0, mention_count: 0});
		assert.equal(state.unread.has(C21), false);
	});

	test('the conversation on screen counts nothing while the user looks at it', () => {
		const {state} = world();
		state.view = {kind: 'server', serverId: '10', channelId: '21'};
		create(state, mentioning('40', {mentions: [ME]}));
		assert.equal(readStateOf(state, C21).unread_count, 0);
		state.attending = false;
		const follow = create(state, mentioning('41', {mentions: [ME]}));
		assert.equal(readStateOf(state, C21).mention_count, 1, 'the tab is hidden: it counts');
		assert.deepEqual(follow.map((f) => f.type), ['mention']);
	});

	test('a mention asks for a desktop notification, a plain message not', () => {
		const {state} = world();
		assert.deepEqual(create(state, mentioning('40', {})), []);
		const follow = create(state, mentioning('41', {mention_roles: ['12']}));
		assert.equal(follow.length, 1);
		assert.equal(follow[0].key, C21);
		assert.equal(follow[0].message.id, '41');
		const dm = create(state, message('42', BORA, 'psst', {dm: true}));
		assert.deepEqual(dm.map((f) => f.key), [D30], 'every DM message of the other one');
	});

	test('the rail and the title add the mention counts up', () => {
		const {state, s} = world();
		putReadState(state, readState({mention_count: 2}));
		putReadState(state, readState({channel_id: '21', mention_count: 100}));
		putReadState(state, readState({dm: true, mention_count: 4}));
		assert.equal(serverMentions(state, s), 102);
		assert.equal(dmMentions(state), 4);
		assert.equal(totalMentions(state), 106);
	});

	test('a deleted unread message counts no more, nor as a mention', () => {
		const {state, c} = world();
		state.view = {kind: 'home', dmId: null};
		const m = {...message('40', BORA, 'hey'), mentions: [ME], mention_roles: [], mention_everyone: false};
		create(state, message('39'));
		create(state, m);
		assert.equal(c.byId.has('40'), true);
		assert.equal(readStateOf(state, C20).mention_count, 1);
		applyEvent(state, {type: 'message.delete', data: {id: '40', channel_id: '20', dm_channel_id: null}});
		assert.deepEqual([readStateOf(state, C20).unread_count, readStateOf(state, C20).mention_count], [1, 0]);
		applyEvent(state, {type: 'message.delete', data: {id: '39', channel_id: '20', dm_channel_id: null}});
		assert.equal(readStateOf(state, C20).unread_count, 0);
		assert.equal(state.unread.has(C20), false);
	});

	test('a deleted channel forgets its read state', () => {
		const {state} = world();
		putReadState(state, readState({mention_count: 2}));
		applyEvent(state, {type: 'channel.delete', data: {id: '20', server_id: '10'}});
		assert.equal(state.readStates.has(C20), false);
		assert.equal(state.unread.has(C20), false);
	});
});

describe('who is mentioned', () => {
	test('by name, by a role held, by everyone; never by oneself', () => {
		const {state} = world();
		assert.equal(mentionsMe(state, mentioning('1', {mentions: [ME]})), true);
		assert.equal(mentionsMe(state, mentioning('2', {mentions: [CEM]})), false);
		assert.equal(mentionsMe(state, mentioning('3', {mention_roles: ['12']})), true, 'ada holds 12');
		assert.equal(mentionsMe(state, mentioning('4', {mention_roles: ['13']})), false);
		assert.equal(mentionsMe(state, mentioning('5', {mention_everyone: true})), true);
		assert.equal(mentionsMe(state, {...mentioning('6', {mentions: [ME]}), author: ME}), false);
		assert.equal(mentionsMe(state, message('7', BORA, 'dm', {dm: true})), true);
	});
});

describe('message content', () => {
	test('resolved mentions are parts; the rest stays text', () => {
		const m = {content: 'hi <@2> and <@9>, <@&12> <@&77> @here!', mentions: [BORA],
		    mention_roles: ['12'], mention_everyone: true};
		assert.deepEqual(mentionPart(m, '<@2>'), {user: BORA});
		assert.equal(mentionPart(m, '<@9>'), null);
		assert.deepEqual(mentionPart(m, '<@&12>'), {role: '12'});
		assert.equal(mentionPart(m, '<@&77>'), null);
		assert.deepEqual(mentionPart(m, '@here'), {everyone: 'here'});
		assert.equal(mentionPart(m, '<@&2>'), null, 'a user id is no role');
	});

	test('@everyone without the permission is text', () => {
		const m = {content: '@everyone look', mentions: [], mention_roles: [], mention_everyone: false};
		assert.equal(mentionPart(m, '@everyone'), null);
	});
});

describe('the @ autocomplete', () => {
	const from = {
		users: [{id: '1', username: 'ada'}, {id: '2', username: 'bora', name: 'Boss'},
		    {id: '3', username: 'cem'}],
		roles: [{id: '12', name: 'mods'}],
		everyone: false,
	};

	test('finds the @ being typed after white space or at the start', () => {
		assert.deepEqual(mentionQuery('hello @bo', 9), {start: 6, query: 'bo'});
		assert.deepEqual(mentionQuery('@', 1), {start: 0, query: ''});
		assert.equal(mentionQuery('mail a@b', 8), null);
		assert.equal(mentionQuery('@bo ra', 6), null);
	});

	test('offers members by name or username, roles, everyone only when allowed', () => {
		assert.deepEqual(mentionCandidates('bo', from).map((c) => c.id), ['2']);
		assert.deepEqual(mentionCandidates('m', from).map((c) => c.name), ['mods', 'cem'],
		    'names that start with it first, then those that hold it');
		assert.deepEqual(mentionCandidates('ev', from), []);
		assert.deepEqual(mentionCandidates('ev', {...from, everyone: true}).map((c) => c.name),
		    ['everyone']);
		assert.equal(mentionCandidates('', {...from, everyone: true}).length, 6);
	});

	test('writes the mention in place of what was typed', () => {
		const q = mentionQuery('hi @bo there', 6);
		assert.deepEqual(insertMention('hi @bo there', 6, q, {kind: 'user', id: '2'}),
		    {value: 'hi <@2> there', caret: 8});
		const r = mentionQuery('@m', 2);
		assert.deepEqual(insertMention('@m', 2, r, {kind: 'role', id: '12'}),
		    {value: '<@&12> ', caret: 7});
	});
});
