/* SPDX-License-Identifier: ISC */
/*
 * perm.js: what the signed-in user may do in a server, computed the way
 * the server does (API.md, Roles and permissions): the union of the
 * default role's permissions and those of the member's roles; the owner
 * and holders of administrator have all of them. Rank is the highest
 * position among the member's roles; the owner outranks everyone.
 *
 * The client only uses this to decide what to offer; the server decides.
 */

export const PERMISSIONS = [
	'administrator', 'manage_server', 'manage_roles', 'manage_channels',
	'kick_members', 'create_invite', 'change_nickname', 'manage_nicknames',
	'view_channels', 'send_messages', 'manage_messages', 'ban_members',
	'add_reactions', 'attach_files', 'mention_everyone',
];

export const PERMISSION_LABELS = {
	administrator: 'Administrator (every permission)',
	manage_server: 'Manage server (rename, invites list)',
	manage_roles: 'Manage roles',
	manage_channels: 'Manage channels',
	kick_members: 'Kick members',
	create_invite: 'Create invites',
	change_nickname: 'Change own nickname',
	manage_nicknames: 'Manage nicknames',
	view_channels: 'View channels',
	send_messages: 'Send messages',
	manage_messages: 'Manage messages (delete others\u2019)',
	ban_members: 'Ban members',
	add_reactions: 'Add reactions',
	attach_files: 'Attach files',
	mention_everyone: 'Mention @everyone and @here',
};

/* The set of permissions user userId holds in server entry s. */
export function permsOf(s, userId, member) {
	if (!s.server)
		return new Set();
	if (s.server.owner_id === userId)
		return new Set(PERMISSIONS);
	const out = new Set();
	if (!s.roles || !member)
		return out;
	for (const role of s.roles.values()) {
		if (role.is_default || member.roles.includes(role.id)) {
			for (const p of role.permissions)
				out.add(p);
		}
	}
	if (out.has('administrator'))
		return new Set(PERMISSIONS);
	return out;
}

/* A member's rank: Infinity for the owner, else the highest role position. */
export function rankOf(s, member) {
	if (!member)
		return 0;
	if (s.server && s.server.owner_id === member.user.id)
		return Infinity;
	let rank = 0;
	if (s.roles) {
		for (const id of member.roles) {
			const role = s.roles.get(id);
			if (role && role.position > rank)
				rank = role.position;
		}
	}
	return rank;
}

/* The signed-in user's permissions and rank in server entry s. */
export function myAccess(s, meId) {
	const perms = permsOf(s, meId, s.me);
	return {
		perms,
		rank: rankOf(s, s.me),
		owner: !!s.server && s.server.owner_id === meId,
		has: (p) => perms.has(p),
	};
}

/* Whether access a (from myAccess) may act on member m (kick, ban, renick). */
export function outranks(s, a, m) {
	if (s.server.owner_id === m.user.id)
		return false;
	return a.owner || a.rank > rankOf(s, m);
}

/* Whether access a may edit, delete, give or take role. */
export function canManageRole(a, role) {
	return a.has('manage_roles') && (a.owner || role.position < a.rank);
}

/* Whether access a may open the server settings at all. */
export function canOpenSettings(a) {
	return a.owner || ['manage_server', 'manage_channels', 'manage_roles',
	    'kick_members', 'ban_members'].some((p) => a.has(p));
}
