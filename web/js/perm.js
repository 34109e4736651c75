/* SPDX-License-Identifier: ISC */
/*
 * perm.js: what the signed-in user may do in a server and in each of its
 * channels, computed the way the server does (API.md, Roles and
 * permissions, and Channel permission overwrites). Server-wide: the union
 * of the default role's permissions and those of the member's roles; the
 * owner and holders of administrator have all of them. In a channel
 * (channelPerms): that set changed by the channel's overwrites in
 * Discord's order, and nothing at all without view_channels. Rank is the
 * highest position among the member's roles; the owner outranks everyone.
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

/* The permissions an overwrite may allow or deny, in the order shown. */
export const OVERWRITE_PERMISSIONS = [
	'view_channels', 'manage_channels', 'create_invite', 'send_messages',
	'manage_messages', 'add_reactions', 'attach_files', 'mention_everyone',
];

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

/* The default role of server entry s, or null before its roles are in. */
export function defaultRole(s) {
	for (const role of s.roles ? s.roles.values() : []) {
		if (role.is_default)
			return role;
	}
	return null;
}

/* The overwrite of channel for type ("role" or "member") and id, or null. */
export function overwriteOf(channel, type, id) {
	return (channel.overwrites || []).find((o) => o.type === type && o.id === id) || null;
}

/* Take the permissions in deny out of perms, then put those in allow in. */
function applyOverwrite(perms, deny, allow) {
	for (const p of deny)
		perms.delete(p);
	for (const p of allow)
		perms.add(p);
}

/*
 * The set of permissions user userId (whose member object is member)
 * holds in channel of server entry s, in Discord's order: the owner and
 * holders of administrator have all. Otherwise the server-wide set; then
 * the default role's overwrite (its denies taken away, its allows
 * added); then the overwrites of the member's roles together (the union
 * of their denies taken away, the union of their allows added); then the
 * member's own overwrite (deny, then allow). Without view_channels in
 * the channel: nothing at all.
 */
export function channelPerms(s, userId, member, channel) {
	const perms = permsOf(s, userId, member);
	if (perms.has('administrator'))
		return perms;	/* the owner or an administrator: all of them */
	const everyone = defaultRole(s);
	const own = everyone && overwriteOf(channel, 'role', everyone.id);
	if (own)
		applyOverwrite(perms, own.deny, own.allow);
	const deny = [];
	const allow = [];
	for (const o of channel.overwrites || []) {
		if (o.type === 'role' && o !== own && member && member.roles.includes(o.id)) {
			deny.push(...o.deny);
			allow.push(...o.allow);
		}
	}
	applyOverwrite(perms, deny, allow);
	const mine = overwriteOf(channel, 'member', userId);
	if (mine)
		applyOverwrite(perms, mine.deny, mine.allow);
	return perms.has('view_channels') ? perms : new Set();
}

/*
 * Whether channel of server entry s is private: its default role's
 * overwrite denies view_channels (what the lock in the sidebar shows).
 */
export function isPrivate(s, channel) {
	const everyone = defaultRole(s);
	const o = everyone && overwriteOf(channel, 'role', everyone.id);
	return !!o && o.deny.includes('view_channels');
}

/*
 * The overwrites that make a new channel of server entry s private, seen
 * by the roles roleIds: the default role denied view_channels, each role
 * picked allowed it. Its creator meId (with access a, from myAccess) is
 * let in by name when neither administrator nor a role picked lets them
 * see it.
 */
export function privateOverwrites(s, a, meId, roleIds) {
	const view = ['view_channels'];
	const out = [{type: 'role', id: defaultRole(s).id, allow: [], deny: view}];
	for (const id of roleIds)
		out.push({type: 'role', id, allow: view, deny: []});
	if (!a.has('administrator') && !roleIds.some((id) => s.me.roles.includes(id)))
		out.push({type: 'member', id: meId, allow: view, deny: []});
	return out;
}

/* Access of meId made of a set of permissions, in server entry s. */
function accessWith(s, meId, perms) {
	return {
		perms,
		rank: rankOf(s, s.me),
		owner: !!s.server && s.server.owner_id === meId,
		has: (p) => perms.has(p),
	};
}

/* The signed-in user's permissions and rank in server entry s. */
export function myAccess(s, meId) {
	return accessWith(s, meId, permsOf(s, meId, s.me));
}

/* The same in channel of server entry s (its overwrites applied). */
export function myChannelAccess(s, meId, channel) {
	return accessWith(s, meId, channelPerms(s, meId, s.me, channel));
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
