/* SPDX-License-Identifier: ISC */
/*
 * apply.test.mjs: the web client's reducer (web/js/apply.js), one event
 * type of docs/api.md (Events) after the other, as the user would see
 * the state: which messages a conversation shows and in which order, the
 * channels, roles and members of a server, the unread marks, and the
 * loads and notices an event leads to.
 */

import {describe, test} from 'node:test';
import assert from 'node:assert/strict';

import {applyEvent, putMessage} from '../../web/js/apply.js';
import {newConv, channelKey, dmKey, sortedChannels, sortedRoles} from '../../web/js/store.js';
import {myChannelAccess, isPrivate} from '../../web/js/perm.js';
import {world, member, channel, role, ow, message, idsOf, watch, ME, BORA, CEM} from './fixtures.mjs';

const C20 = channelKey('20');
const C21 = channelKey('21');

describe('message.create', () => {
	test('shows new messages in id order, whatever order they come in', async () => {
		const {state, c} = world({ids: ['5']});
		const {result, topics} = await watch(() => {
			const out = [];
			for (const id of ['12', '3', '100', '9'])
				out.push(...applyEvent(state, {type: 'message.create', data: {message: message(id)}}));
			return out;
		});
		assert.deepEqual(idsOf(c), ['3', '5', '9', '12', '100']);
		assert.deepEqual(result, []);
		assert.ok(topics.has(`conv:${C20}`), 'the conversation is redrawn');
	});

	test('the same message twice is shown once', () => {
		const {state, c} = world({ids: ['5']});
		const ev = {type: 'message.create', data: {message: message('7')}};
		applyEvent(state, ev);
		applyEvent(state, ev);
		assert.deepEqual(idsOf(c), ['5', '7']);
		assert.equal(c.byId.size, 2);
	});

	test('a message older than the loaded pages is left to paging', () => {
		const {state, c} = world({ids: ['50', '51'], hasOlder: true});
		applyEvent(state, {type: 'message.create', data: {message: message('40')}});
		assert.deepEqual(idsOf(c), ['50', '51']);
	});

	test('an older message is shown when the whole history is loaded', () => {
		const {state, c} = world({ids: ['50', '51'], hasOlder: false});
		applyEvent(state, {type: 'message.create', data: {message: message('40')}});
		assert.deepEqual(idsOf(c), ['40', '50', '51']);
	});

	test('a conversation not loaded stays unloaded', () => {
		const {state} = world();
		applyEvent(state, {type: 'message.create', data: {message: message('7', BORA, 'hi', {channel: '21'})}});
		assert.equal(state.convs.has(C21), false);
	});

	test('marks a conversation not on screen unread, for others\u2019 messages only', async () => {
		const {state} = world();
		state.view = {kind: 'server', serverId: '10', channelId: '20'};
		const {topics} = await watch(() => {
			applyEvent(state, {type: 'message.create', data: {message: message('7', BORA, 'x', {channel: '21'})}});
		});
		assert.deepEqual([...state.unread], [C21]);
		assert.ok(topics.has('servers'), 'the rail shows the mark');
		applyEvent(state, {type: 'message.create', data: {message: message('8', ME, 'mine', {dm: true})}});
		applyEvent(state, {type: 'message.create', data: {message: message('9', BORA, 'seen')}});
		assert.deepEqual([...state.unread], [C21], 'own messages and the one on screen leave no mark');
		applyEvent(state, {type: 'message.create', data: {message: message('10', BORA, 'dm', {dm: true})}});
		assert.deepEqual([...state.unread].sort(), [C21, dmKey('30')]);
	});

	test('no unread mark for a channel the user does not have', () => {
		const {state} = world();
		applyEvent(state, {type: 'message.create', data: {message: message('7', BORA, 'x', {channel: '99'})}});
		assert.equal(state.unread.size, 0);
	});

	test('the confirmation of an own send replaces its pending copy', async () => {
		const {state, c} = world({ids: ['5']});
		state.pending.set(C20, [{nonce: 'n-1', content: 'hello', state: 'sending'},
		    {nonce: 'n-2', content: 'later', state: 'sending'}]);
		const {topics} = await watch(() => {
			applyEvent(state, {type: 'message.create',
			    data: {message: message('6', ME, 'hello', {nonce: 'n-1'})}});
		});
		assert.deepEqual(state.pending.get(C20).map((p) => p.nonce), ['n-2']);
		assert.deepEqual(idsOf(c), ['5', '6']);
		assert.ok(topics.has(`conv:${C20}`));
	});

	test('someone else\u2019s message with the same nonce confirms nothing', () => {
		const {state} = world();
		state.pending.set(C20, [{nonce: 'n-1', content: 'hello', state: 'sending'}]);
		applyEvent(state, {type: 'message.create', data: {message: message('6', BORA, 'hello', {nonce: 'n-1'})}});
		assert.equal(state.pending.get(C20).length, 1);
	});
});

describe('message.update', () => {
	test('shows the new content in the same place', async () => {
		const {state, c} = world({ids: ['5', '6', '7']});
		const edited = {...message('6'), content: 'edited', edited_at: '2026-12-01T11:00:00Z'};
		const {topics} = await watch(() => applyEvent(state, {type: 'message.update', data: {message: edited}}));
		assert.deepEqual(idsOf(c), ['5', '6', '7']);
		assert.equal(c.messages[1].content, 'edited');
		assert.equal(c.byId.get('6').content, 'edited');
		assert.ok(topics.has(`conv:${C20}`));
	});

	test('an update of a message outside the loaded pages adds nothing', () => {
		const {state, c} = world({ids: ['5', '6']});
		applyEvent(state, {type: 'message.update', data: {message: {...message('3'), content: 'x'}}});
		applyEvent(state, {type: 'message.update', data: {message: {...message('9'), content: 'x'}}});
		assert.deepEqual(idsOf(c), ['5', '6']);
		assert.equal(c.byId.has('3') || c.byId.has('9'), false);
	});

	test('an update leaves unread marks alone', () => {
		const {state} = world({ids: ['5']});
		applyEvent(state, {type: 'message.update', data: {message: {...message('5'), content: 'x'}}});
		assert.equal(state.unread.size, 0);
	});
});

describe('message.delete', () => {
	test('removes the message', async () => {
		const {state, c} = world({ids: ['5', '6', '7']});
		const {topics} = await watch(() => applyEvent(state,
		    {type: 'message.delete', data: {id: '6', channel_id: '20', dm_channel_id: null}}));
		assert.deepEqual(idsOf(c), ['5', '7']);
		assert.equal(c.byId.has('6'), false);
		assert.ok(topics.has(`conv:${C20}`));
	});

	test('an unknown id changes nothing and redraws nothing', async () => {
		const {state, c} = world({ids: ['5', '6']});
		const {topics} = await watch(() => applyEvent(state,
		    {type: 'message.delete', data: {id: '77', channel_id: '20', dm_channel_id: null}}));
		assert.deepEqual(idsOf(c), ['5', '6']);
		assert.equal(topics.has(`conv:${C20}`), false);
	});

	test('a DM message is removed from the DM conversation', () => {
		const {state} = world();
		const d = newConv(dmKey('30'));
		putMessage(d, message('8', BORA, 'x', {dm: true}));
		putMessage(d, message('9', BORA, 'y', {dm: true}));
		state.convs.set(d.key, d);
		applyEvent(state, {type: 'message.delete', data: {id: '8', channel_id: null, dm_channel_id: '30'}});
		assert.deepEqual(idsOf(d), ['9']);
	});
});

describe('messages, any mix of events', () => {
	test('the list stays in id order, without duplicates, matching byId', () => {
		const {state, c} = world({ids: ['500']});
		let seed = 17;
		const rnd = (n) => {
			seed = (seed * 1103515245 + 12345) % 2147483648;
			return seed % n;
		};
		const live = new Set(['500']);
		for (let i = 0; i < 400; i++) {
			const id = String(480 + rnd(60));
			const kind = rnd(3);
			if (kind === 0) {
				applyEvent(state, {type: 'message.create', data: {message: message(id)}});
				live.add(id);
			} else if (kind === 1) {
				applyEvent(state, {type: 'message.update', data: {message: {...message(id), content: `v${i}`}}});
			} else {
				applyEvent(state, {type: 'message.delete', data: {id, channel_id: '20', dm_channel_id: null}});
				live.delete(id);
			}
		}
		const ids = idsOf(c);
		assert.deepEqual(ids, [...live].sort((a, b) => Number(a) - Number(b)));
		assert.deepEqual([...c.byId.keys()].sort(), [...ids].sort());
		for (const m of c.messages)
			assert.equal(c.byId.get(m.id), m);
	});
});

describe('channel events', () => {
	test('channel.create adds the channel to the list, in id order', async () => {
		const {state, s} = world();
		const {topics} = await watch(() => applyEvent(state,
		    {type: 'channel.create', data: {channel: channel('15', 'early')}}));
		assert.deepEqual(sortedChannels(s).map((x) => x.name), ['early', 'chan-20', 'chan-21']);
		assert.ok(topics.has('server:10') && topics.has('servers'));
	});

	test('channel.update renames it', () => {
		const {state, s} = world();
		applyEvent(state, {type: 'channel.update', data: {channel: channel('21', 'renamed')}});
		assert.deepEqual(sortedChannels(s).map((x) => x.name), ['chan-20', 'renamed']);
	});

	test('channel events of a server the user is not in are ignored', () => {
		const {state} = world();
		applyEvent(state, {type: 'channel.create', data: {channel: {...channel('40'), server_id: '99'}}});
		assert.deepEqual([...state.servers.keys()], ['10']);
	});

	test('channel.delete removes the channel, its messages and its unread mark', async () => {
		const {state, s} = world({ids: ['5']});
		state.unread.add(C20);
		state.view = {kind: 'server', serverId: '10', channelId: '20'};
		const {topics} = await watch(() => applyEvent(state,
		    {type: 'channel.delete', data: {id: '20', server_id: '10'}}));
		assert.deepEqual(sortedChannels(s).map((x) => x.id), ['21']);
		assert.equal(state.convs.has(C20), false);
		assert.equal(state.unread.has(C20), false);
		assert.ok(topics.has('view'), 'the view moves off the channel on screen');
	});
});

describe('channel permission overwrites', () => {
	/* World with channel 21 private: the default role denied view, ada's role 12 allowed it. */
	function privateWorld() {
		const w = world({ids: ['5']});
		w.s.channels.set('21', channel('21', 'mods', [ow('role', '11', [], ['view_channels']),
			ow('role', '12', ['view_channels'])]));
		w.state.convs.set(C21, newConv(C21));
		w.state.view = {kind: 'server', serverId: '10', channelId: '21'};
		return w;
	}

	test('channel.update brings the overwrites: what the user may do there changes', async () => {
		const {state, s} = world();
		assert.equal(myChannelAccess(s, ME.id, s.channels.get('20')).has('send_messages'), true);
		const {topics} = await watch(() => applyEvent(state, {type: 'channel.update',
		    data: {channel: channel('20', 'chan-20', [ow('role', '12', [], ['send_messages'])])}}));
		const c = s.channels.get('20');
		assert.equal(myChannelAccess(s, ME.id, c).has('send_messages'), false);
		assert.equal(isPrivate(s, c), false);
		assert.ok(topics.has('server:10'), 'the composer of the channel is redrawn');
	});

	test('channel.update making a channel private shows it as private', () => {
		const {state, s} = world();
		applyEvent(state, {type: 'channel.update',
		    data: {channel: channel('21', 'chan-21', [ow('role', '11', [], ['view_channels']),
			ow('role', '12', ['view_channels'])])}});
		assert.equal(isPrivate(s, s.channels.get('21')), true);
		assert.equal(isPrivate(s, s.channels.get('20')), false);
	});

	test('channel.delete after losing view: the channel and its messages go, the view moves', async () => {
		const {state, s} = privateWorld();
		const {result, topics} = await watch(() => applyEvent(state,
		    {type: 'channel.delete', data: {id: '21', server_id: '10'}}));
		assert.deepEqual(sortedChannels(s).map((x) => x.id), ['20']);
		assert.equal(state.convs.has(C21), false);
		assert.ok(topics.has('view') && topics.has('servers'));
		assert.deepEqual(result, []);
	});

	test('channel.create after gaining view shows the channel, private, with its messages to load', () => {
		const {state, s} = world();
		const c = channel('25', 'secret', [ow('role', '11', [], ['view_channels']),
			ow('member', ME.id, ['view_channels'])]);
		applyEvent(state, {type: 'channel.create', data: {channel: c}});
		assert.deepEqual(sortedChannels(s).map((x) => x.name), ['chan-20', 'chan-21', 'secret']);
		assert.equal(isPrivate(s, s.channels.get('25')), true);
		assert.equal(state.convs.has(channelKey('25')), false);
	});

	test('losing the role that let the user view a private channel takes it away', async () => {
		const {state, s} = privateWorld();
		const {result, topics} = await watch(() => applyEvent(state, {type: 'member.update',
		    data: {server_id: '10', member: member(ME)}}));
		assert.deepEqual(sortedChannels(s).map((x) => x.id), ['20']);
		assert.equal(state.convs.has(C21), false);
		assert.equal(state.convs.has(C20), true);
		assert.ok(topics.has('view'), 'the view moves off the channel on screen');
		assert.deepEqual(result, []);
	});

	test('the role that let the user view a private channel deleted: the channel goes', () => {
		const {state, s} = privateWorld();
		applyEvent(state, {type: 'role.delete', data: {id: '12', server_id: '10'}});
		assert.deepEqual(sortedChannels(s).map((x) => x.id), ['20']);
	});

	test('someone else losing the role changes nothing for the user', () => {
		const {state, s} = privateWorld();
		applyEvent(state, {type: 'member.update', data: {server_id: '10', member: member(BORA)}});
		assert.deepEqual(sortedChannels(s).map((x) => x.id), ['20', '21']);
		assert.equal(state.convs.has(C21), true);
	});

	test('events of a channel held while the server loads, then applied in order', () => {
		const {state, s} = world();
		s.loads = 1;
		s.queue = [];
		applyEvent(state, {type: 'channel.create', data: {channel: channel('25', 'later')}});
		applyEvent(state, {type: 'channel.delete', data: {id: '25', server_id: '10'}});
		assert.equal(s.channels.has('25'), false);
		assert.deepEqual(s.queue.map((e) => e.type), ['channel.create', 'channel.delete']);
	});
});

describe('server events', () => {
	test('server.update renames the server', async () => {
		const {state, s} = world();
		const {topics} = await watch(() => applyEvent(state,
		    {type: 'server.update', data: {server: {id: '10', name: 'Renamed', owner_id: BORA.id}}}));
		assert.equal(s.server.name, 'Renamed');
		assert.ok(topics.has('servers'));
	});

	test('server.delete drops the server, its conversations and unread marks', async () => {
		const {state} = world({ids: ['5']});
		state.unread.add(C21);
		state.view = {kind: 'server', serverId: '10', channelId: '20'};
		const {result, topics} = await watch(() => applyEvent(state, {type: 'server.delete', data: {id: '10'}}));
		assert.equal(state.servers.size, 0);
		assert.equal(state.convs.size, 0);
		assert.equal(state.unread.size, 0);
		assert.ok(topics.has('view') && topics.has('servers'));
		assert.deepEqual(result, [], 'no notice: the owner deleted it');
	});
});

describe('member events', () => {
	test('member.join of someone else adds them to the member list', async () => {
		const {state, s} = world();
		const dan = {id: '4', username: 'dan'};
		const {result, topics} = await watch(() => applyEvent(state,
		    {type: 'member.join', data: {server_id: '10', member: member(dan)}}));
		assert.equal(s.members.get('4').user.username, 'dan');
		assert.ok(topics.has('members:10'));
		assert.deepEqual(result, []);
	});

	test('member.join of the user in a new server asks for it to be loaded', () => {
		const {state} = world();
		const out = applyEvent(state, {type: 'member.join', data: {server_id: '50', member: member(ME)}});
		assert.deepEqual(out, [{type: 'load.server', id: '50'}]);
		assert.equal(state.servers.has('50'), false, 'the load adds it, not the reducer');
	});

	test('member.join of the user in a server already there loads nothing', () => {
		const {state} = world();
		assert.deepEqual(applyEvent(state, {type: 'member.join', data: {server_id: '10', member: member(ME)}}), []);
	});

	test('member.update shows a new nickname', () => {
		const {state, s} = world();
		applyEvent(state, {type: 'member.update', data: {server_id: '10', member: member(CEM, [], 'cemo')}});
		assert.equal(s.members.get('3').nickname, 'cemo');
	});

	test('member.update redraws the messages of the server (names shown)', async () => {
		const {state} = world();
		const {topics} = await watch(() => applyEvent(state,
		    {type: 'member.update', data: {server_id: '10', member: member(BORA, [], 'bo')}}));
		assert.ok(topics.has(`conv:${C20}`) && topics.has(`conv:${C21}`));
	});

	test('an own member.update changes the own member and permissions', () => {
		const {state, s} = world();
		applyEvent(state, {type: 'member.update', data: {server_id: '10', member: member(ME, [], 'me')}});
		assert.equal(s.me.nickname, 'me');
		assert.deepEqual(s.me.roles, []);
	});

	test('member.leave of someone else removes them from the list', async () => {
		const {state, s} = world();
		const {result, topics} = await watch(() => applyEvent(state,
		    {type: 'member.leave', data: {server_id: '10', user_id: CEM.id}}));
		assert.deepEqual([...s.members.keys()].sort(), [ME.id, BORA.id]);
		assert.ok(topics.has('members:10'));
		assert.deepEqual(result, []);
		assert.equal(state.servers.has('10'), true);
	});

	test('member.leave of the user drops the server and tells the user its name', () => {
		const {state} = world({ids: ['5']});
		state.unread.add(C21);
		const out = applyEvent(state, {type: 'member.leave', data: {server_id: '10', user_id: ME.id}});
		assert.equal(state.servers.has('10'), false);
		assert.equal(state.convs.has(C20), false);
		assert.equal(state.unread.has(C21), false);
		assert.deepEqual(out, [{type: 'server.left', id: '10', name: 'Guild'}]);
	});

	test('member.leave of the user from a server not known tells nothing', () => {
		const {state} = world();
		assert.deepEqual(applyEvent(state, {type: 'member.leave', data: {server_id: '77', user_id: ME.id}}), []);
		assert.equal(state.servers.size, 1);
	});
});

describe('role events', () => {
	test('role.create and role.update show in the role list', async () => {
		const {state, s} = world();
		const {topics} = await watch(() => {
			applyEvent(state, {type: 'role.create', data: {role: role('13', [], 5)}});
			applyEvent(state, {type: 'role.update', data: {role: {...role('12', ['manage_messages'], 1), name: 'mods'}}});
		});
		assert.deepEqual(sortedRoles(s).map((r) => r.name), ['role-13', 'mods', '@everyone']);
		assert.ok(topics.has('server:10') && topics.has('members:10'));
	});

	test('role.delete takes the role from every holder, the user included', () => {
		const {state, s} = world();
		applyEvent(state, {type: 'role.delete', data: {id: '12', server_id: '10'}});
		assert.equal(s.roles.has('12'), false);
		assert.deepEqual(s.members.get(BORA.id).roles, []);
		assert.deepEqual(s.members.get(ME.id).roles, []);
		assert.deepEqual(s.me.roles, []);
	});

	test('losing view_channels empties the channels and their conversations', async () => {
		const {state, s} = world({ids: ['5']});
		state.view = {kind: 'server', serverId: '10', channelId: '20'};
		const {result, topics} = await watch(() => applyEvent(state,
		    {type: 'role.update', data: {role: role('11', ['send_messages'], 0, true)}}));
		assert.equal(s.canView, false);
		assert.equal(s.channels.size, 0);
		assert.equal(state.convs.has(C20), false);
		assert.ok(topics.has('view'), 'the view moves off the channel on screen');
		assert.deepEqual(result, []);
	});

	test('losing view_channels keeps a channel an overwrite of the user\'s role lets them view', () => {
		const {state, s} = world();
		s.channels.set('21', channel('21', 'mods-only', [ow('role', '12', ['view_channels'])]));
		const out = applyEvent(state, {type: 'role.update', data: {role: role('11', ['send_messages'], 0, true)}});
		assert.deepEqual(sortedChannels(s).map((x) => x.name), ['mods-only']);
		assert.deepEqual(out, []);
	});

	test('a change of other permissions hides nothing and loads nothing', async () => {
		const {state, s} = world({ids: ['5']});
		const out = applyEvent(state, {type: 'role.update', data: {role: role('12', ['kick_members'], 1)}});
		assert.deepEqual(out, []);
		assert.deepEqual(sortedChannels(s).map((x) => x.id), ['20', '21']);
		assert.equal(state.convs.has(C20), true);
	});

	test('gaining view_channels asks for the channels to be loaded', () => {
		const {state, s} = world();
		s.roles.set('11', role('11', ['send_messages'], 0, true));
		s.channels = new Map();
		s.canView = false;
		const out = applyEvent(state, {type: 'member.update',
		    data: {server_id: '10', member: member(ME, ['13'])}});
		assert.deepEqual(out, [], 'role 13 is not known yet: still no view');
		const again = applyEvent(state, {type: 'role.create', data: {role: role('13', ['view_channels'], 2)}});
		assert.equal(again.length, 1);
		assert.equal(again[0].type, 'load.channels');
		assert.equal(again[0].entry, s);
	});
});

describe('dm.create', () => {
	test('adds the DM channel once', async () => {
		const {state} = world();
		const dm = {id: '31', recipient: CEM, created_at: '2026-12-01T10:00:00Z'};
		const {topics} = await watch(() => applyEvent(state, {type: 'dm.create', data: {dm}}));
		applyEvent(state, {type: 'dm.create', data: {dm: {...dm, recipient: BORA}}});
		assert.deepEqual([...state.dms.keys()].sort(), ['30', '31']);
		assert.equal(state.dms.get('31').recipient.username, 'cem');
		assert.ok(topics.has('dms'));
	});
});

describe('anything else', () => {
	test('an event type this client does not know changes nothing', async () => {
		const {state, c} = world({ids: ['5']});
		const {result, topics} = await watch(() => applyEvent(state,
		    {type: 'reaction.add', data: {message_id: '5'}}));
		assert.deepEqual(result, []);
		assert.deepEqual(idsOf(c), ['5']);
		assert.equal(topics.size, 0);
	});
});

describe('events held while a load runs', () => {
	test('server events wait, in order, while the server loads', () => {
		const {state, s} = world();
		s.loads = 1;
		s.queue = [];
		const evs = [
			{type: 'channel.create', data: {channel: channel('22')}},
			{type: 'member.leave', data: {server_id: '10', user_id: CEM.id}},
			{type: 'role.delete', data: {id: '12', server_id: '10'}},
		];
		for (const ev of evs)
			applyEvent(state, ev);
		assert.deepEqual(sortedChannels(s).map((x) => x.id), ['20', '21']);
		assert.equal(s.members.has(CEM.id), true);
		assert.equal(s.roles.has('12'), true);
		assert.deepEqual(s.queue, evs);
	});

	test('message events wait while a page of the conversation loads', () => {
		const {state, c} = world({ids: ['5']});
		c.loads = 1;
		c.queue = [];
		applyEvent(state, {type: 'message.create', data: {message: message('6')}});
		applyEvent(state, {type: 'message.delete', data: {id: '5', channel_id: '20', dm_channel_id: null}});
		assert.deepEqual(idsOf(c), ['5']);
		assert.deepEqual(c.queue.map((e) => e.type), ['message.create', 'message.delete']);
	});

	test('the unread mark does not wait for the conversation\u2019s load', () => {
		const {state, c} = world();
		c.loads = 1;
		c.queue = [];
		applyEvent(state, {type: 'message.create', data: {message: message('6')}});
		assert.deepEqual([...state.unread], [C20]);
	});
});
