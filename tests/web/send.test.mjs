/* SPDX-License-Identifier: ISC */
/*
 * send.test.mjs: the client's own writes (web/js/send.js) against
 * answers given by the test (fakeapi.mjs): a message shows at once as
 * pending and once confirmed, whichever of the answer and its event
 * comes first; a failed send can be retried without a duplicate; edits,
 * deletions, DMs, servers, channels and their permission overwrites show
 * without waiting for their events.
 */

import {fake, apiError, later, reply, until} from './fakeapi.mjs';
import {beforeEach, describe, test} from 'node:test';
import assert from 'node:assert/strict';

import {applyEvents, openConv} from '../../web/js/load.js';
import {
	sendMessage, retrySend, discardSend, editMessage, deleteMessage, openDm, createServer,
	createChannel, saveOverwrite, removeOverwrite,
} from '../../web/js/send.js';
import {store, resetStore, channelKey, pendingOf, sortedChannels} from '../../web/js/store.js';
import {member, channel, role, ow, message, idsOf, world, ME, BORA} from './fixtures.mjs';

const KEY = channelKey('20');

/* Signed in, with the conversation of channel 20 loaded (messages 1 and 2). */
async function signedIn() {
	store.me = {...ME};
	fake.on('GET /channels/20/messages?limit=50', () => [message('2'), message('1')]);
	const c = openConv(KEY);
	await until(() => c.loaded, 'the conversation is loaded');
	return c;
}

/* The message POST /channels/20/messages answers for body. */
function posted(id, body) {
	return {...message(id, {id: ME.id, username: ME.username}, body.content), nonce: body.nonce};
}

beforeEach(() => {
	fake.clear();
	resetStore();
});

describe('sending', () => {
	test('a message shows at once as pending, then as sent', async () => {
		const c = await signedIn();
		const answer = later();
		fake.on('POST /channels/20/messages', (body) => answer.promise.then(() => posted('3', body)));
		const sent = sendMessage(KEY, 'hello');
		assert.deepEqual(pendingOf(KEY).map((p) => [p.content, p.state]), [['hello', 'sending']]);
		assert.deepEqual(idsOf(c), ['1', '2']);
		answer.resolve();
		const m = await sent;
		assert.equal(m.content, 'hello');
		assert.deepEqual(pendingOf(KEY), []);
		assert.deepEqual(idsOf(c), ['1', '2', '3']);
		const post = fake.requests.find((r) => r.method === 'POST' && r.path === '/channels/20/messages');
		assert.equal(post.body.nonce, m.nonce, 'the send carries its nonce');
	});

	test('its event coming before the answer shows the message once', async () => {
		const c = await signedIn();
		const answer = later();
		fake.on('POST /channels/20/messages', (body) => {
			applyEvents([{type: 'message.create', data: {message: posted('3', body)}}]);
			return answer.promise.then(() => posted('3', body));
		});
		const sent = sendMessage(KEY, 'hello');
		await until(() => c.messages.length === 3, 'the event is applied');
		assert.deepEqual(pendingOf(KEY), [], 'the event confirms the pending copy');
		answer.resolve();
		await sent;
		assert.deepEqual(idsOf(c), ['1', '2', '3']);
	});

	test('a failed send stays, can be retried with the same nonce, or dropped', async () => {
		const c = await signedIn();
		fake.on('POST /channels/20/messages', () => apiError(503, 'service_unavailable'));
		assert.equal(await sendMessage(KEY, 'hello'), null);
		const [item] = pendingOf(KEY);
		assert.equal(item.state, 'failed');
		assert.equal(item.error.code, 'service_unavailable');
		fake.on('POST /channels/20/messages', (body) => posted('3', body));
		await retrySend(KEY, item.nonce);
		const posts = fake.requests.filter((r) => r.method === 'POST' && r.path === '/channels/20/messages');
		assert.equal(posts.length, 2);
		assert.equal(posts[1].body.nonce, posts[0].body.nonce);
		assert.deepEqual(pendingOf(KEY), []);
		assert.deepEqual(idsOf(c), ['1', '2', '3']);

		fake.on('POST /channels/20/messages', () => apiError(503, 'service_unavailable'));
		await sendMessage(KEY, 'again');
		discardSend(KEY, pendingOf(KEY)[0].nonce);
		assert.deepEqual(pendingOf(KEY), []);
	});

	test('a send still under way can be neither dropped nor sent again', async () => {
		await signedIn();
		const answer = later();
		fake.on('POST /channels/20/messages', () => answer.promise);
		const sent = sendMessage(KEY, 'hello');
		const {nonce} = pendingOf(KEY)[0];
		discardSend(KEY, nonce);
		assert.equal(pendingOf(KEY).length, 1);
		await retrySend(KEY, nonce);
		assert.equal(fake.paths('POST').filter((p) => p === '/channels/20/messages').length, 1);
		answer.resolve(apiError(500, 'internal'));
		await sent;
		assert.equal(pendingOf(KEY)[0].state, 'failed');
	});
});

describe('edits and deletions', () => {
	test('an edit shows at once', async () => {
		const c = await signedIn();
		fake.on('PATCH /channels/20/messages/2', (body) => ({...message('2'), content: body.content,
		    edited_at: '2026-12-01T11:00:00Z'}));
		await editMessage(KEY, '2', 'better');
		assert.equal(c.byId.get('2').content, 'better');
		assert.deepEqual(idsOf(c), ['1', '2']);
	});

	test('a deletion shows at once', async () => {
		const c = await signedIn();
		fake.on('DELETE /channels/20/messages/1', () => reply(204));
		await deleteMessage(KEY, '1');
		assert.deepEqual(idsOf(c), ['2']);
	});
});

describe('DMs and servers', () => {
	test('opening a DM adds it to the list once', async () => {
		store.me = {...ME};
		const dm = {id: '30', recipient: BORA, created_at: '2026-12-01T10:00:00Z'};
		fake.on('POST /dms', () => dm);
		await openDm(BORA.id);
		await openDm(BORA.id);
		assert.deepEqual([...store.dms.keys()], ['30']);
	});

	test('a created server and its member.join event make one entry', async () => {
		store.me = {...ME};
		const server = {id: '50', name: 'Mine', owner_id: ME.id};
		fake.on('POST /servers', () => server);
		fake.on('GET /servers/50/roles', () => [{...role('51', ['view_channels'], 0, true), server_id: '50'}]);
		fake.on('GET /servers/50/members/@me', () => member(ME));
		fake.on('GET /servers/50/channels', () => [{...channel('52', 'general'), server_id: '50'}]);
		const created = createServer('Mine');
		await until(() => store.servers.has('50'), 'the server is added');
		applyEvents([{type: 'member.join', data: {server_id: '50', member: member(ME)}}]);
		const s = await created;
		assert.equal(store.servers.size, 1);
		assert.equal(store.servers.get('50'), s);
		assert.equal(s.server.name, 'Mine');
		assert.deepEqual([...s.channels.values()].map((x) => x.name), ['general']);
		assert.deepEqual(fake.paths('GET').filter((p) => p === '/servers/50'), [],
		    'the answer of the create is used, not fetched again');
	});
});

describe('channels and their overwrites', () => {
	/* Signed in as ada in server 10 of the fixtures (role 12 "mods"); resolves its entry. */
	function inWorld() {
		const {state, s} = world();
		Object.assign(store, state);
		return s;
	}

	test('a channel is created with its overwrites only when there are some', async () => {
		const s = inWorld();
		const bodies = [];
		fake.on('POST /servers/10/channels', (body) => {
			bodies.push(body);
			return channel(String(30 + bodies.length), body.name, body.overwrites || []);
		});
		await createChannel(s, 'open', []);
		const secret = [ow('role', '11', [], ['view_channels']), ow('role', '12', ['view_channels'])];
		const c = await createChannel(s, 'secret', secret);
		assert.deepEqual(bodies, [{name: 'open'}, {name: 'secret', overwrites: secret}]);
		assert.deepEqual(sortedChannels(s).map((x) => x.name), ['chan-20', 'chan-21', 'open', 'secret']);
		assert.deepEqual(s.channels.get(c.id).overwrites, secret);
	});

	test('saving an overwrite puts it and shows the channel the answer gives', async () => {
		const s = inWorld();
		const after = channel('20', 'chan-20', [ow('role', '12', [], ['send_messages'])]);
		fake.on('PUT /channels/20/overwrites/role/12', () => after);
		await saveOverwrite(s, '20', 'role', '12', [], ['send_messages']);
		const put = fake.requests.find((r) => r.method === 'PUT');
		assert.deepEqual(put.body, {allow: [], deny: ['send_messages']});
		assert.deepEqual(s.channels.get('20').overwrites, after.overwrites);
	});

	test('an overwrite that takes view from the user themselves hides the channel at once', async () => {
		const s = inWorld();
		store.view = {kind: 'server', serverId: '10', channelId: '20'};
		fake.on('PUT /channels/20/overwrites/role/12', () =>
			channel('20', 'chan-20', [ow('role', '12', [], ['view_channels'])]));
		await saveOverwrite(s, '20', 'role', '12', [], ['view_channels']);
		assert.deepEqual(sortedChannels(s).map((x) => x.id), ['21']);
	});

	test('a refused overwrite changes nothing and says why', async () => {
		const s = inWorld();
		fake.on('PUT /channels/20/overwrites/role/12', () => apiError(403, 'missing_permission'));
		await assert.rejects(saveOverwrite(s, '20', 'role', '12', ['manage_channels'], []),
		    {code: 'missing_permission', status: 403});
		assert.deepEqual(s.channels.get('20').overwrites, []);
	});

	test('removing an overwrite deletes it and shows the channel without it', async () => {
		const s = inWorld();
		const c = channel('21', 'chan-21', [ow('role', '11', [], ['send_messages']),
			ow('member', BORA.id, ['send_messages'])]);
		s.channels.set('21', c);
		fake.on(`DELETE /channels/21/overwrites/member/${BORA.id}`, () => reply(204));
		await removeOverwrite(s, c, 'member', BORA.id);
		assert.deepEqual(s.channels.get('21').overwrites, [ow('role', '11', [], ['send_messages'])]);
		assert.deepEqual(fake.unanswered, []);
	});

	test('removing the overwrite that let the user view a channel hides it', async () => {
		const s = inWorld();
		const c = channel('21', 'chan-21', [ow('role', '11', [], ['view_channels']),
			ow('member', ME.id, ['view_channels'])]);
		s.channels.set('21', c);
		fake.on(`DELETE /channels/21/overwrites/member/${ME.id}`, () => reply(204));
		await removeOverwrite(s, c, 'member', ME.id);
		assert.deepEqual(sortedChannels(s).map((x) => x.id), ['20']);
	});
});
