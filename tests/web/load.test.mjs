/* SPDX-License-Identifier: ISC */
/*
 * load.test.mjs: loading the state over REST (web/js/load.js) against
 * answers given by the test (fakeapi.mjs): the server list page by page,
 * servers that cannot be seen or are gone, conversations whose events
 * arrive while their first page loads, the loads that events ask for.
 */

import {fake, apiError, later, until} from './fakeapi.mjs';
import {beforeEach, describe, test} from 'node:test';
import assert from 'node:assert/strict';

import {
	loadAll, applyEvents, applyToStore, openConv, loadOlder, loadMoreMembers, onServerLeft,
} from '../../web/js/load.js';
import {store, resetStore, channelKey, memberOrder} from '../../web/js/store.js';
import {member, channel, role, message, idsOf, ME, BORA} from './fixtures.mjs';

/* Answer the detail requests of server id: roles, own member, channels. */
function serveServer(id, {channels = [channel('20')], canView = true} = {}) {
	fake.on(`GET /servers/${id}`, () => ({id, name: `S${id}`, owner_id: BORA.id}));
	fake.on(`GET /servers/${id}/roles`, () => [{...role(`${id}1`, ['view_channels'], 0, true), server_id: id}]);
	fake.on(`GET /servers/${id}/members/@me`, () => member(ME));
	fake.on(`GET /servers/${id}/channels`, () => (canView ?
	    channels.map((c) => ({...c, server_id: id})) : apiError(403, 'missing_permission')));
}

/* Answer GET /users/@me and /dms, and the server list with these servers. */
function serveAccount(servers) {
	fake.on('GET /users/@me', () => ({...ME, email: 'ada@example.org'}));
	fake.on('GET /dms', () => [{id: '30', recipient: BORA, created_at: '2026-12-01T10:00:00Z'}]);
	fake.on('GET /users/@me/servers?limit=200', () => servers.slice(0, 200));
}

/* Sign in as a member of server 10 only, loaded; resolves its entry. */
async function inServer10({name = 'S10', ...opts} = {}) {
	serveAccount([{id: '10', name, owner_id: BORA.id}]);
	serveServer('10', opts);
	await loadAll();
	return store.servers.get('10');
}

beforeEach(() => {
	fake.clear();
	resetStore();
});

describe('loadAll', () => {
	test('loads every page of the server list, each with its details', async () => {
		const servers = [];
		for (let i = 0; i < 201; i++)
			servers.push({id: String(1000 + i), name: `S${i}`, owner_id: BORA.id});
		serveAccount(servers);
		fake.on('GET /users/@me/servers?limit=200&after=1199', () => servers.slice(200));
		for (const s of servers)
			serveServer(s.id);
		await loadAll();
		assert.deepEqual(fake.unanswered, []);
		assert.equal(store.servers.size, 201);
		assert.ok(store.servers.get('1200').ready);
		assert.deepEqual([...store.servers.get('1200').channels.keys()], ['20']);
		assert.equal(store.me.username, 'ada');
		assert.deepEqual([...store.dms.keys()], ['30']);
	});

	test('a server whose channels the user may not see shows none', async () => {
		const s = await inServer10({canView: false});
		assert.equal(s.canView, false);
		assert.equal(s.channels.size, 0);
		assert.ok(s.ready);
	});

	test('a server left between the list and its details is left out', async () => {
		serveAccount([{id: '10', name: 'S10', owner_id: BORA.id}, {id: '11', name: 'S11', owner_id: BORA.id}]);
		serveServer('10');
		serveServer('11');
		fake.on('GET /servers/11/roles', () => apiError(404, 'not_found'));
		await loadAll();
		assert.deepEqual([...store.servers.keys()], ['10']);
	});

	test('a reload keeps unread marks of what is still there, and the last channel', async () => {
		await inServer10();
		store.servers.get('10').lastChannel = '20';
		store.unread.add(channelKey('20'));
		store.unread.add(channelKey('66'));
		store.unread.add('d:30');
		await loadAll();
		assert.deepEqual([...store.unread].sort(), ['c:20', 'd:30']);
		assert.equal(store.servers.get('10').lastChannel, '20');
	});
});

describe('conversations', () => {
	test('events that come while the first page loads are applied after it, in order', async () => {
		await inServer10();
		const page = later();
		fake.on('GET /channels/20/messages?limit=50', () => page.promise);
		const c = openConv(channelKey('20'));
		await until(() => fake.paths('GET').includes('/channels/20/messages?limit=50'), 'the page is asked for');
		applyEvents([
			{type: 'message.create', data: {message: message('4')}},
			{type: 'message.delete', data: {id: '2', channel_id: '20', dm_channel_id: null}},
			{type: 'message.create', data: {message: message('3')}},
			{type: 'message.update', data: {message: {...message('1'), content: 'edited'}}},
		]);
		assert.deepEqual(idsOf(c), [], 'nothing shows before the page');
		/* The page was read before those events: newest first, as the API answers. */
		page.resolve([message('3'), message('2'), message('1')]);
		await until(() => c.loaded && !c.queue, 'the page is in');
		assert.deepEqual(idsOf(c), ['1', '3', '4']);
		assert.equal(c.byId.get('1').content, 'edited');
		assert.equal(c.hasOlder, false, 'a short page is the whole history');
	});

	test('older pages go before what is shown, without duplicates', async () => {
		await inServer10();
		const newest = [];
		for (let id = 199; id >= 150; id--)
			newest.push(message(String(id)));
		fake.on('GET /channels/20/messages?limit=50', () => newest);
		fake.on('GET /channels/20/messages?before=150&limit=50', () => [message('150'), message('149'), message('148')]);
		const c = openConv(channelKey('20'));
		await until(() => c.loaded, 'the first page is in');
		assert.equal(c.hasOlder, true);
		const added = await loadOlder(c);
		assert.equal(added, 2);
		assert.deepEqual(idsOf(c).slice(0, 3), ['148', '149', '150']);
		assert.equal(c.messages.length, 52);
		assert.equal(c.hasOlder, false);
	});
});

describe('loads that events ask for', () => {
	test('joining a server elsewhere loads it, with the events that came meanwhile', async () => {
		serveAccount([]);
		await loadAll();
		const detail = later();
		serveServer('50', {channels: [channel('60'), channel('61')]});
		fake.on('GET /servers/50/channels', () => detail.promise);
		applyEvents([
			{type: 'member.join', data: {server_id: '50', member: member(ME)}},
			{type: 'channel.create', data: {channel: {...channel('62'), server_id: '50'}}},
		]);
		assert.ok(store.servers.has('50'), 'shown at once, while it loads');
		await until(() => fake.paths('GET').includes('/servers/50/channels'), 'its channels are asked for');
		detail.resolve([{...channel('60'), server_id: '50'}, {...channel('61'), server_id: '50'}]);
		const s = store.servers.get('50');
		await until(() => s.ready && !s.queue, 'the server is loaded');
		assert.equal(s.server.name, 'S50');
		assert.deepEqual([...s.channels.keys()].sort(), ['60', '61', '62']);
	});

	test('leaving a server tells the view its name', async () => {
		await inServer10({name: 'Guild'});
		const told = [];
		onServerLeft((id, name) => told.push([id, name]));
		applyToStore({type: 'member.leave', data: {server_id: '10', user_id: ME.id}});
		assert.deepEqual(told, [['10', 'Guild']]);
		assert.equal(store.servers.has('10'), false);
	});

	test('gaining view_channels loads the channels', async () => {
		const s = await inServer10({canView: false});
		assert.equal(s.canView, false);
		serveServer('10', {channels: [channel('20'), channel('21')]});
		applyToStore({type: 'role.create', data: {role: {...role('13', ['view_channels'], 2), server_id: '10'}}});
		applyToStore({type: 'member.update', data: {server_id: '10', member: member(ME, ['13'])}});
		await until(() => s.canView && !s.queue, 'the channels are loaded');
		assert.deepEqual([...s.channels.keys()], ['20', '21']);
	});
});

describe('members', () => {
	test('pages of members come after the last one; a short page ends the list', async () => {
		const s = await inServer10();
		const first = [];
		for (let i = 0; i < 100; i++)
			first.push(member({id: String(100 + i), username: `u${i}`}));
		fake.on('GET /servers/10/members?limit=100', () => first);
		fake.on('GET /servers/10/members?limit=100&after=199', () => [member({id: '200', username: 'last'})]);
		await loadMoreMembers(s);
		assert.equal(s.members.size, 100);
		assert.equal(s.membersComplete, false);
		assert.equal(s.membersByName, false, 'a long list goes by user id');
		await loadMoreMembers(s);
		assert.equal(s.members.size, 101);
		assert.equal(s.membersComplete, true);
		const order = memberOrder(s);
		assert.ok(order({id: '9', name: 'zed'}, {id: '10', name: 'amy'}) < 0, 'by id, not by name');
	});
});
