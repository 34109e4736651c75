/* SPDX-License-Identifier: ISC */
/*
 * fixtures.mjs: states, objects of the API (docs/api.md) and the topics
 * a change announces, shared by the unit tests of the web client.
 */

import {newState, newEntry, newConv, subscribe, channelKey} from '../../web/js/store.js';

export const ME = {id: '1', username: 'ada'};
export const BORA = {id: '2', username: 'bora'};
export const CEM = {id: '3', username: 'cem'};

/* A member object of server 10. */
export function member(user, roles = [], nickname = null) {
	return {user, roles, nickname, joined_at: '2026-12-01T10:00:00Z'};
}

/* A channel of server 10, with these permission overwrites. */
export function channel(id, name = `chan-${id}`, overwrites = []) {
	return {id, server_id: '10', name, created_at: '2026-12-01T10:00:00Z', overwrites};
}

/* A permission overwrite (API.md): type "role" or "member", its target, allow, deny. */
export function ow(type, id, allow = [], deny = []) {
	return {type, id, allow, deny};
}

/* A role of server 10. */
export function role(id, permissions, position = 1, isDefault = false) {
	return {id, server_id: '10', name: isDefault ? '@everyone' : `role-${id}`,
	    permissions, position, is_default: isDefault};
}

/* A message in channel 20 (or in a DM with dm: true). */
export function message(id, author = BORA, content = `text ${id}`, extra = {}) {
	return {id, channel_id: extra.dm ? null : extra.channel || '20',
	    dm_channel_id: extra.dm ? '30' : null, author, content,
	    created_at: '2026-12-01T10:00:00Z', edited_at: null, nonce: extra.nonce || null};
}

/*
 * A signed-in state: ada in server 10 "Guild" (owned by bora) with
 * channels 20 and 21, whose default role 11 gives view_channels and role
 * 12 "mods" is held by ada; the member list (ada, bora, cem) loaded;
 * a DM 30 with bora; the conversation of channel 20 loaded with the
 * messages given (ids), older pages remaining when hasOlder.
 */
export function world({ids = [], hasOlder = false} = {}) {
	const state = newState();
	state.me = {...ME};
	const s = newEntry({id: '10', name: 'Guild', owner_id: BORA.id});
	s.roles = new Map([
		['11', role('11', ['view_channels', 'send_messages'], 0, true)],
		['12', role('12', ['manage_messages'], 1)],
	]);
	s.me = member(ME, ['12']);
	s.channels = new Map([['20', channel('20')], ['21', channel('21')]]);
	s.members = new Map([[ME.id, member(ME, ['12'])], [BORA.id, member(BORA, ['12'])],
	    [CEM.id, member(CEM)]]);
	s.membersComplete = true;
	s.ready = true;
	state.servers.set(s.id, s);
	state.dms.set('30', {id: '30', recipient: BORA, created_at: '2026-12-01T10:00:00Z'});
	const c = newConv(channelKey('20'));
	for (const id of ids) {
		const m = message(id);
		c.messages.push(m);
		c.byId.set(id, m);
	}
	c.loaded = true;
	c.hasOlder = hasOlder;
	state.convs.set(c.key, c);
	return {state, s, c};
}

/* The ids of a conversation's messages, in the order shown. */
export function idsOf(c) {
	return c.messages.map((m) => m.id);
}

/* Run fn; resolves {result, topics}: what it returned and the topics it announced. */
export async function watch(fn) {
	let topics = new Set();
	const stop = subscribe((t) => {
		topics = new Set([...topics, ...t]);
	});
	try {
		const result = fn();
		await new Promise((resolve) => setTimeout(resolve, 0));
		return {result, topics};
	} finally {
		stop();
	}
}
