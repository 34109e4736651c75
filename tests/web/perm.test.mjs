/* SPDX-License-Identifier: ISC */
/*
 * perm.test.mjs: the web client's mirror of the server's permission
 * function (web/js/perm.js, channelPerms), case by case in a table: the
 * cases of Discord's documentation of permission overwrites and the
 * order in which API.md ("Channel permission overwrites") applies them,
 * with the whole set of permissions a member ends up with in the channel.
 */

import {describe, test} from 'node:test';
import assert from 'node:assert/strict';

import {
	PERMISSIONS, OVERWRITE_PERMISSIONS, channelPerms, myChannelAccess, myAccess, isPrivate, defaultRole,
	privateOverwrites,
} from '../../web/js/perm.js';
import {newEntry} from '../../web/js/store.js';
import {member, channel, role, ow, ME, BORA} from './fixtures.mjs';

/* The default role's permissions on a new server (API.md). */
const EVERYONE = ['view_channels', 'send_messages', 'create_invite', 'change_nickname',
	'add_reactions', 'attach_files'];

/*
 * Server 10 owned by owner: default role 11 with the permissions given
 * (EVERYONE unless told), role 12 "mods", role 13 "helpers", role 14
 * "admins" (administrator), each with the permissions given.
 */
function server({everyone = EVERYONE, mods = [], helpers = [], owner = BORA.id} = {}) {
	const s = newEntry({id: '10', name: 'Guild', owner_id: owner});
	s.roles = new Map([
		['11', role('11', everyone, 0, true)],
		['12', role('12', mods, 3)],
		['13', role('13', helpers, 2)],
		['14', role('14', ['administrator'], 5)],
	]);
	return s;
}

/* Channel 20 with these overwrites. */
function chan(overwrites) {
	return channel('20', 'chan-20', overwrites);
}

/* What ada (user 1) ends up with: the permissions, sorted. */
function sorted(set) {
	return [...set].sort();
}

const without = (list, ...gone) => list.filter((p) => !gone.includes(p));

const CASES = [
	{
		name: 'no overwrites: the server-wide set',
		roles: ['12'], mods: ['manage_messages'],
		overwrites: [],
		want: [...EVERYONE, 'manage_messages'],
	},
	{
		name: 'the default role\u2019s deny takes a permission away',
		overwrites: [ow('role', '11', [], ['send_messages'])],
		want: without(EVERYONE, 'send_messages'),
	},
	{
		name: 'the default role\u2019s allow adds a permission the server does not give',
		overwrites: [ow('role', '11', ['manage_messages'])],
		want: [...EVERYONE, 'manage_messages'],
	},
	{
		name: 'a role allow beats the default role\u2019s deny (Discord\u2019s first example)',
		roles: ['12'],
		overwrites: [ow('role', '11', [], ['send_messages']), ow('role', '12', ['send_messages'])],
		want: EVERYONE,
	},
	{
		name: 'a role\u2019s overwrite does nothing for a member without that role',
		roles: ['13'],
		overwrites: [ow('role', '11', [], ['send_messages']), ow('role', '12', ['send_messages'])],
		want: without(EVERYONE, 'send_messages'),
	},
	{
		name: 'roles together: one role\u2019s allow beats another role\u2019s deny',
		roles: ['12', '13'],
		overwrites: [ow('role', '12', [], ['add_reactions']), ow('role', '13', ['add_reactions'])],
		want: EVERYONE,
	},
	{
		name: 'a role deny takes away what the default role\u2019s overwrite allowed',
		roles: ['12'],
		overwrites: [ow('role', '11', ['manage_messages']), ow('role', '12', [], ['manage_messages'])],
		want: EVERYONE,
	},
	{
		name: 'a member deny beats a role allow (Discord\u2019s second example)',
		roles: ['12'],
		overwrites: [ow('role', '12', ['manage_messages']), ow('member', ME.id, [], ['manage_messages'])],
		want: EVERYONE,
	},
	{
		name: 'a member allow beats the default role\u2019s and a role\u2019s deny',
		roles: ['12'],
		overwrites: [ow('role', '11', [], ['send_messages']), ow('role', '12', [], ['send_messages']),
			ow('member', ME.id, ['send_messages'])],
		want: EVERYONE,
	},
	{
		name: 'another member\u2019s overwrite does nothing',
		overwrites: [ow('member', BORA.id, [], ['send_messages'])],
		want: EVERYONE,
	},
	{
		name: 'without view_channels in the channel: nothing at all',
		roles: ['12'], mods: ['manage_messages', 'kick_members'],
		overwrites: [ow('role', '11', ['send_messages'], ['view_channels'])],
		want: [],
	},
	{
		name: 'a private channel: the default role denied view, a role allowed it',
		roles: ['13'],
		overwrites: [ow('role', '11', [], ['view_channels']), ow('role', '13', ['view_channels'])],
		want: EVERYONE,
	},
	{
		name: 'a private channel without an allowed role: nothing',
		roles: ['12'], mods: ['manage_messages'],
		overwrites: [ow('role', '11', [], ['view_channels']), ow('role', '13', ['view_channels'])],
		want: [],
	},
	{
		name: 'an overwrite can give view the server does not',
		everyone: ['send_messages'], roles: ['12'],
		overwrites: [ow('role', '12', ['view_channels'])],
		want: ['send_messages', 'view_channels'],
	},
	{
		name: 'a member deny of view hides the channel whatever the roles allow',
		roles: ['12'],
		overwrites: [ow('role', '12', ['view_channels', 'manage_messages']),
			ow('member', ME.id, [], ['view_channels'])],
		want: [],
	},
	{
		name: 'administrator ignores overwrites',
		roles: ['14'],
		overwrites: [ow('role', '11', [], ['view_channels', 'send_messages']),
			ow('role', '14', [], ['send_messages']), ow('member', ME.id, [], ['view_channels'])],
		want: PERMISSIONS,
	},
	{
		name: 'the owner ignores overwrites',
		owner: ME.id,
		overwrites: [ow('role', '11', [], ['view_channels']), ow('member', ME.id, [], ['view_channels'])],
		want: PERMISSIONS,
	},
];

describe('channelPerms, Discord\u2019s order', () => {
	for (const c of CASES) {
		test(c.name, () => {
			const s = server({everyone: c.everyone, mods: c.mods, owner: c.owner});
			const got = channelPerms(s, ME.id, member(ME, c.roles || []), chan(c.overwrites));
			assert.deepEqual(sorted(got), [...c.want].sort());
		});
	}

	test('the channel\u2019s order of overwrites does not matter', () => {
		const s = server();
		const list = [ow('member', ME.id, [], ['attach_files']), ow('role', '12', ['manage_messages']),
			ow('role', '11', [], ['send_messages', 'manage_messages'])];
		const m = member(ME, ['12']);
		const want = sorted(channelPerms(s, ME.id, m, chan(list)));
		assert.deepEqual(sorted(channelPerms(s, ME.id, m, chan([...list].reverse()))), want);
		assert.deepEqual(want, [...without(EVERYONE, 'send_messages', 'attach_files'), 'manage_messages'].sort());
	});

	test('a channel object without overwrites (an older server) is the server-wide set', () => {
		const s = server();
		const {overwrites, ...old} = channel('20');
		assert.deepEqual(overwrites, []);
		assert.deepEqual(sorted(channelPerms(s, ME.id, member(ME), old)), [...EVERYONE].sort());
	});

	test('before the roles are loaded: nothing', () => {
		const s = newEntry({id: '10', name: 'Guild', owner_id: BORA.id});
		assert.equal(channelPerms(s, ME.id, member(ME), chan([])).size, 0);
	});
});

describe('myChannelAccess', () => {
	test('the signed-in member\u2019s permissions in a channel, with the server-wide rank', () => {
		const s = server({mods: ['manage_roles']});
		s.me = member(ME, ['12']);
		const a = myChannelAccess(s, ME.id, chan([ow('role', '12', [], ['send_messages'])]));
		assert.equal(a.has('send_messages'), false);
		assert.equal(a.has('manage_roles'), true);
		assert.equal(a.rank, 3);
		assert.equal(a.owner, false);
	});
});

describe('isPrivate', () => {
	const s = server();
	test('a channel whose default role overwrite denies view is private', () => {
		assert.equal(isPrivate(s, chan([ow('role', '11', [], ['view_channels'])])), true);
	});
	test('denying view to another role, or something else to the default role, is not', () => {
		assert.equal(isPrivate(s, chan([ow('role', '12', [], ['view_channels'])])), false);
		assert.equal(isPrivate(s, chan([ow('role', '11', [], ['send_messages'])])), false);
		assert.equal(isPrivate(s, chan([])), false);
	});
});

describe('privateOverwrites', () => {
	/* Whether user 1 with member m sees channel 20 made of these overwrites, and isPrivate. */
	function created(s, m, roleIds) {
		s.me = m;
		const c = chan(privateOverwrites(s, myAccess(s, ME.id), ME.id, roleIds));
		return {c, sees: (u, roles) => channelPerms(s, u.id, member(u, roles), c).has('view_channels')};
	}

	test('the roles picked see it, the others do not, and it is private', () => {
		const s = server({mods: ['manage_channels', 'manage_roles']});
		const {c, sees} = created(s, member(ME, ['12']), ['12', '13']);
		assert.equal(isPrivate(s, c), true);
		assert.equal(sees(BORA, ['13']), true, 'a holder of a role picked');
		assert.equal(sees({id: '7'}, []), false, 'a member without one');
		assert.equal(sees(ME, ['12']), true, 'its creator');
		assert.deepEqual(c.overwrites.map((o) => o.type), ['role', 'role', 'role'],
		    'no member overwrite: the creator holds a role picked');
	});

	test('a creator without a role picked is let in by name', () => {
		const s = server({mods: ['manage_channels', 'manage_roles']});
		const {c, sees} = created(s, member(ME, ['12']), ['13']);
		assert.deepEqual(c.overwrites.at(-1), ow('member', ME.id, ['view_channels']));
		assert.equal(sees(ME, ['12']), true);
		assert.equal(sees({id: '7'}, ['12']), false, 'another holder of the creator\'s role');
	});

	test('the owner and administrators need no overwrite of their own', () => {
		const owned = created(server({owner: ME.id}), member(ME), []);
		assert.deepEqual(owned.c.overwrites, [ow('role', '11', [], ['view_channels'])]);
		const admin = created(server(), member(ME, ['14']), []);
		assert.deepEqual(admin.c.overwrites, [ow('role', '11', [], ['view_channels'])]);
		assert.equal(admin.sees(ME, ['14']), true);
		assert.equal(admin.sees({id: '7'}, []), false);
	});
});

describe('the permission names', () => {
	test('the names an overwrite takes are permissions, as API.md lists them', () => {
		assert.deepEqual([...OVERWRITE_PERMISSIONS].sort(), ['add_reactions', 'attach_files',
			'create_invite', 'manage_channels', 'manage_messages', 'mention_everyone',
			'send_messages', 'view_channels']);
		for (const p of OVERWRITE_PERMISSIONS)
			assert.ok(PERMISSIONS.includes(p), p);
	});
	test('defaultRole finds the default role', () => {
		assert.equal(defaultRole(server()).id, '11');
	});
});
