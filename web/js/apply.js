/* SPDX-License-Identifier: ISC */
/*
 * apply.js: how an event of GET /events (docs/api.md, Events) changes the
 * state, and the small changes to it that loads and sends share.
 *
 * applyEvent(state, ev) changes state in place (the views hold on to its
 * server entries and conversations) and announces what changed with
 * notify(). It never fetches: when an event needs something loaded (the
 * user joined a server, or may see its channels again) or the user told
 * (they lost a server), it returns that as a follow-up for its caller,
 * load.js, to run. No DOM and no network here, so that node can import
 * this file for the unit tests (tests/web/apply.test.mjs).
 *
 * Loads that run while events arrive (a server's details, its member
 * list, a page of messages) hold the events that touch what they load
 * (held) and apply them, in order, once the page is in: every event
 * changes an object to its state after that change, so replaying them
 * over a page of any age ends at the current state.
 */

import {myAccess, channelPerms} from './perm.js';
import {applyTyping, endTyping, applyPresence} from './ephemeral.js';
import {notify, cmpId, channelKey, dmKey, keyOfMessage, currentKey, knownKey, readStateOf,
    mentionsMe, fitsWindow} from './store.js';

/*
 * The follow-ups applyEvent returns, run by load.js:
 *   {type: 'load.server', id}        load the server the user joined
 *   {type: 'load.channels', entry}   load the channels of a server entry
 *   {type: 'server.left', id, name}  the user left or lost a server
 *   {type: 'mention', key, message}  a message of someone else that
 *                                    mentions the user (a DM's included)
 *                                    arrived while they were not looking
 *                                    at it: a desktop notification
 */
const NOTHING = [];

/* Whether an event for target must wait for a load; holds it if so. */
export function held(target, ev) {
	if (target && target.loads > 0) {
		target.queue.push(ev);
		return true;
	}
	return false;
}

/* Insert or replace message m in conversation c, keeping id order. */
export function putMessage(c, m) {
	const old = c.byId.get(m.id);
	c.byId.set(m.id, m);
	if (old) {
		const i = c.messages.indexOf(old);
		c.messages[i] = m;
		return;
	}
	let i = c.messages.length;
	while (i > 0 && cmpId(c.messages[i - 1].id, m.id) > 0)
		i--;
	c.messages.splice(i, 0, m);
}

/* Remove message id from conversation c; whether it was there. */
function removeMessage(c, id) {
	const old = c.byId.get(id);
	if (!old)
		return false;
	c.byId.delete(id);
	c.messages.splice(c.messages.indexOf(old), 1);
	return true;
}

/*
 * Apply reaction.add (delta 1) or reaction.remove (-1) of user to message
 * m, replacing it by a changed copy (views compare objects): counts move
 * by one; the signed-in user's own reaction sets "me", and one already
 * known (the answer of their own PUT came first) counts once. Whether the
 * copy changed anything.
 */
export function reactMessage(c, m, emoji, user, meId, delta) {
	const reactions = (m.reactions || []).map((r) => ({...r}));
	const mine = user === meId;
	let r = reactions.find((x) => x.emoji === emoji);
	if (mine && r && !!r.me === (delta > 0))
		return false;
	if (!r) {
		if (delta < 0)
			return false;
		r = {emoji, count: 0, me: false};
		reactions.push(r);
	}
	r.count += delta;
	if (mine)
		r.me = delta > 0;
	putMessage(c, {...m, reactions: reactions.filter((x) => x.count > 0)});
	return true;
}

/*
 * The reactions of message m as the signed-in user sees them: those of an
 * event's message object have no "me", which the one it replaces knew.
 */
function withOwnReactions(old, m) {
	if (!old || !m.reactions || m.reactions.every((r) => 'me' in r))
		return m;
	const mine = new Set((old.reactions || []).filter((r) => r.me).map((r) => r.emoji));
	return {...m, reactions: m.reactions.map((r) => ({...r, me: mine.has(r.emoji)}))};
}

/* A send is confirmed by message m: drop the pending copy. */
export function confirmPending(state, m) {
	if (!m.nonce || !state.me || m.author.id !== state.me.id)
		return;
	const key = keyOfMessage(m);
	const p = state.pending.get(key);
	if (!p)
		return;
	const i = p.findIndex((x) => x.nonce === m.nonce);
	if (i >= 0) {
		p.splice(i, 1);
		notify(`conv:${key}`);
	}
}

/* Counts stop at 100, as the server's (100 means 100 or more). */
const COUNT_MAX = 100;

/*
 * Take a read state of the API (GET /users/@me/read-states, an ack's
 * answer, read_state.update) as the state of its conversation.
 */
export function putReadState(state, rs) {
	const key = rs.channel_id ? channelKey(rs.channel_id) : dmKey(rs.dm_channel_id);
	const old = state.readStates.get(key);
	/* An older answer never takes a position back. */
	if (old && old.last_read_id && (!rs.last_read_id || cmpId(rs.last_read_id, old.last_read_id) < 0))
		return;
	state.readStates.set(key, {last_read_id: rs.last_read_id, last_message_id: rs.last_message_id,
	    unread_count: rs.unread_count, mention_count: rs.mention_count});
	if (rs.unread_count > 0)
		state.unread.add(key);
	else
		state.unread.delete(key);
	notify('unread', 'servers', 'dms', `conv:${key}`);
}

/*
 * A new message m in conversation key: the author's own is read up to it
 * (the server marks it so); someone else's counts as unread, and as a
 * mention if it mentions the user, unless the user is looking at that
 * conversation (the view acknowledges it then). The follow-ups: a
 * desktop notification for a mention they did not see.
 */
function countNewMessage(state, key, m) {
	const rs = {...readStateOf(state, key)};
	const meId = state.me && state.me.id;
	if (rs.last_message_id && cmpId(m.id, rs.last_message_id) <= 0)
		return NOTHING;	/* counted already (a reload in between) */
	rs.last_message_id = m.id;
	let follow = NOTHING;
	if (m.author.id === meId) {
		rs.last_read_id = m.id;
		rs.unread_count = 0;
		rs.mention_count = 0;
	} else if (!(state.attending && key === currentKey(state))) {
		const mentioned = mentionsMe(state, m);
		rs.unread_count = Math.min(COUNT_MAX, rs.unread_count + 1);
		if (mentioned) {
			rs.mention_count = Math.min(COUNT_MAX, rs.mention_count + 1);
			follow = [{type: 'mention', key, message: m}];
		}
	}
	state.readStates.set(key, rs);
	if (rs.unread_count > 0)
		state.unread.add(key);
	else
		state.unread.delete(key);
	notify('unread', 'servers', 'dms');
	return follow;
}

/*
 * A message m of conversation key was deleted: if it counted as unread
 * (someone else's, above the read position), it counts no more, nor as
 * a mention. A deleted message the client never loaded is left to the
 * next read state (the server's counts are exact).
 */
function uncountMessage(state, key, m) {
	const rs = state.readStates.get(key);
	if (!rs || rs.unread_count === 0 || m.author.id === (state.me && state.me.id) ||
	    (rs.last_read_id && cmpId(m.id, rs.last_read_id) <= 0))
		return;
	rs.unread_count--;
	if (mentionsMe(state, m) && rs.mention_count > 0)
		rs.mention_count--;
	if (rs.unread_count === 0)
		state.unread.delete(key);
	notify('unread', 'servers', 'dms');
}

/* Forget a server (left, kicked, deleted). */
export function dropServer(state, id) {
	const s = state.servers.get(id);
	if (!s)
		return;
	state.servers.delete(id);
	if (s.channels) {
		for (const cid of s.channels.keys()) {
			state.convs.delete(channelKey(cid));
			state.unread.delete(channelKey(cid));
			state.readStates.delete(channelKey(cid));
		}
	}
	notify('servers', `server:${id}`);
	if (state.view.kind === 'server' && state.view.serverId === id)
		notify('view');
}

/*
 * Forget channel id of server entry s (deleted, or no longer visible):
 * its messages and unread mark go with it; a view on it moves on.
 */
function dropChannel(state, s, id) {
	if (s.channels)
		s.channels.delete(id);
	state.convs.delete(channelKey(id));
	state.unread.delete(channelKey(id));
	state.readStates.delete(channelKey(id));
	notify(`server:${s.id}`, 'servers');
	if (state.view.kind === 'server' && state.view.channelId === id)
		notify('view');
}

/* Put a channel or role (obj) into s.channels or s.roles (map), if loaded. */
function upsertServerThing(s, map, obj) {
	if (!s[map])
		return;
	s[map].set(obj.id, obj);
	notify(`server:${s.id}`);
}

/*
 * Apply one event to state (also used for the answers of the client's
 * own changes); returns the follow-ups its caller must run (see above).
 */
export function applyEvent(state, ev) {
	const d = ev.data;
	const meId = state.me && state.me.id;
	let s;
	switch (ev.type) {
	case 'message.create':
	case 'message.update': {
		const m = d.message;
		const key = keyOfMessage(m);
		let follow = NOTHING;
		if (ev.type === 'message.create') {
			endTyping(state, key, m.author.id, m.created_at);
			confirmPending(state, m);
			if (knownKey(state, key))
				follow = countNewMessage(state, key, m);
		}
		const c = state.convs.get(key);
		if (!c || held(c, ev))
			return follow;
		if (ev.type === 'message.update')
			notify(`pins:${key}`);	/* it may be (un)pinned, loaded or not */
		if (ev.type === 'message.update' && !c.byId.has(m.id))
			return follow;	/* outside the loaded pages */
		if (ev.type === 'message.create' && !fitsWindow(c, m.id)) {
			/* Beyond an end of what is loaded: paging will find it.
			 * Past a window away from the live end, someone else's
			 * counts as new for the "Jump to latest" button. */
			if (m.author.id !== meId && c.messages.length > 0 &&
			    cmpId(m.id, c.messages[0].id) > 0) {
				c.missedNewer++;
				notify(`conv:${key}`);
			}
			return follow;
		}
		putMessage(c, withOwnReactions(c.byId.get(m.id), m));
		/* Replies show their original as it is now. */
		for (const r of c.messages) {
			if (r.reply_to && r.reply_to.id === m.id && r.reply_to.author)
				putMessage(c, {...r, reply_to: {id: m.id, author: m.author,
				    content: [...m.content].slice(0, 100).join('')}});
		}
		notify(`conv:${key}`);
		return follow;
	}
	case 'reaction.add':
	case 'reaction.remove': {
		const key = keyOfMessage(d);
		const c = state.convs.get(key);
		if (!c || held(c, ev))
			return NOTHING;
		const m = c.byId.get(d.message_id);
		if (m && reactMessage(c, m, d.emoji, d.user_id, meId,
		    ev.type === 'reaction.add' ? 1 : -1))
			notify(`conv:${key}`);
		return NOTHING;
	}
	case 'read_state.update':
		putReadState(state, d);
		return NOTHING;
	case 'message.delete': {
		const key = keyOfMessage(d);
		const c = state.convs.get(key);
		if (!c || held(c, ev))
			return NOTHING;
		notify(`pins:${key}`);
		const m = c.byId.get(d.id);
		if (removeMessage(c, d.id)) {
			uncountMessage(state, key, m);
			/* Its replies now quote a deleted message. */
			for (const r of c.messages) {
				if (r.reply_to && r.reply_to.id === d.id)
					putMessage(c, {...r, reply_to: {id: d.id, author: null, content: null}});
			}
			notify(`conv:${key}`);
		}
		return NOTHING;
	}
	case 'channel.create':
	case 'channel.update':
		s = state.servers.get(d.channel.server_id);
		if (!s || held(s, ev))
			return NOTHING;
		upsertServerThing(s, 'channels', d.channel);
		notify('servers');
		return NOTHING;
	case 'channel.delete':
		s = state.servers.get(d.server_id);
		if (!s || held(s, ev))
			return NOTHING;
		dropChannel(state, s, d.id);
		return NOTHING;
	case 'server.update':
		s = state.servers.get(d.server.id);
		if (!s || held(s, ev))
			return NOTHING;
		s.server = d.server;
		notify('servers', `server:${s.id}`);
		return NOTHING;
	case 'server.delete':
		dropServer(state, d.id);
		return NOTHING;
	case 'member.join':
		if (d.member.user.id === meId) {
			if (!state.servers.has(d.server_id))
				return [{type: 'load.server', id: d.server_id}];
			return NOTHING;
		}
		s = state.servers.get(d.server_id);
		if (!s || held(s, ev))
			return NOTHING;
		if (s.members) {
			s.members.set(d.member.user.id, d.member);
			notify(`members:${s.id}`);
		}
		return NOTHING;
	case 'member.update': {
		s = state.servers.get(d.server_id);
		if (!s || held(s, ev))
			return NOTHING;
		let follow = NOTHING;
		if (d.member.user.id === meId) {
			const couldView = s.canView;
			s.me = d.member;
			notify(`server:${s.id}`, 'servers');
			follow = refreshVisibility(state, s, couldView);
		}
		if (s.members) {
			s.members.set(d.member.user.id, d.member);
			notify(`members:${s.id}`);
		}
		for (const cid of s.channels ? s.channels.keys() : [])
			notify(`conv:${channelKey(cid)}`);
		return follow;
	}
	case 'member.leave':
		if (d.user_id === meId) {
			const name = state.servers.get(d.server_id)?.server.name;
			dropServer(state, d.server_id);
			if (name !== undefined)
				return [{type: 'server.left', id: d.server_id, name}];
			return NOTHING;
		}
		s = state.servers.get(d.server_id);
		if (!s || held(s, ev))
			return NOTHING;
		if (s.members && s.members.delete(d.user_id))
			notify(`members:${s.id}`);
		return NOTHING;
	case 'role.create':
	case 'role.update': {
		s = state.servers.get(d.role.server_id);
		if (!s || held(s, ev))
			return NOTHING;
		const couldView = s.canView;
		upsertServerThing(s, 'roles', d.role);
		notify(`members:${s.id}`);
		return refreshVisibility(state, s, couldView);
	}
	case 'role.delete': {
		s = state.servers.get(d.server_id);
		if (!s || held(s, ev))
			return NOTHING;
		const couldView = s.canView;
		if (s.roles)
			s.roles.delete(d.id);
		/* Holders lose it; the server writes no member.update for that. */
		for (const m of s.members ? s.members.values() : [])
			m.roles = m.roles.filter((r) => r !== d.id);
		if (s.me)
			s.me.roles = s.me.roles.filter((r) => r !== d.id);
		notify(`server:${s.id}`, `members:${s.id}`);
		return refreshVisibility(state, s, couldView);
	}
	case 'dm.create':
		if (!state.dms.has(d.dm.id)) {
			state.dms.set(d.dm.id, d.dm);
			notify('dms');
		}
		return NOTHING;
	case 'typing.start':
		applyTyping(state, d);
		return NOTHING;
	case 'presence.update':
		applyPresence(state, d);
		return NOTHING;
	default:
		/* A newer server may send types this client does not know. */
		return NOTHING;
	}
}

/*
 * After a change of own roles or of a role's permissions: the channels
 * the user can no longer view go (the server sends a channel.delete for
 * each as well). Those that become visible come as channel.create
 * events; but gaining view_channels server-wide after GET channels
 * said 403 means they must be fetched, which is left to the caller.
 */
function refreshVisibility(state, s, couldView) {
	for (const c of s.channels ? [...s.channels.values()] : []) {
		if (!channelPerms(s, state.me.id, s.me, c).has('view_channels'))
			dropChannel(state, s, c.id);
	}
	const canView = myAccess(s, state.me.id).has('view_channels');
	if (canView === couldView)
		return NOTHING;
	s.canView = canView;
	notify(`server:${s.id}`, 'servers');
	return canView ? [{type: 'load.channels', entry: s}] : NOTHING;
}
