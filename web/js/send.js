/* SPDX-License-Identifier: ISC */
/*
 * send.js: the client's own writes that change the state: sending
 * messages (shown at once as pending, confirmed by their nonce), replies,
 * editing and deleting them, reactions and pins, opening DMs, creating
 * and joining servers, creating, renaming and deleting channels and
 * setting their permission overwrites. The answer of each is applied to
 * `store` like the event it causes, so the screen does not wait for the
 * event.
 */

import {api, seg, unreachable} from './api.js';
import {confirmPending, held, putMessage, reactMessage, putReadState} from './apply.js';
import {addServer, applyToStore, convPath} from './load.js';
import {channelPerms} from './perm.js';
import {store, notify, pendingOf, readStateOf, cmpId, fitsWindow} from './store.js';

/*
 * Send content with the uploaded attachments (objects of API.md,
 * Attachments) in conversation key, shown at once as pending; replyTo:
 * the message it answers, or null.
 */
export function sendMessage(key, content, replyTo = null, attachments = []) {
	const item = {
		nonce: crypto.randomUUID(),
		content,
		attachments,
		state: 'sending',
		error: null,
		author: {id: store.me.id, username: store.me.username},
		created_at: new Date().toISOString(),
		reply_to: replyTo && {id: replyTo.id, author: replyTo.author,
		    content: [...replyTo.content].slice(0, 100).join('')},
	};
	pendingOf(key).push(item);
	notify(`conv:${key}`);
	return deliver(key, item);
}

/* Send a failed message again, with the same nonce (no duplicate). */
export function retrySend(key, nonce) {
	const item = pendingOf(key).find((x) => x.nonce === nonce);
	if (!item || item.state === 'sending')
		return Promise.resolve();
	item.state = 'sending';
	item.error = null;
	notify(`conv:${key}`);
	return deliver(key, item);
}

/*
 * Send again, each with its nonce, the messages that failed because the
 * server could not be reached (the connection is back).
 */
export function retryUnsent() {
	for (const [key, items] of store.pending) {
		for (const item of items) {
			if (item.state === 'failed' && unreachable(item.error))
				retrySend(key, item.nonce);
		}
	}
}

/* Drop a failed send. */
export function discardSend(key, nonce) {
	const p = pendingOf(key);
	const i = p.findIndex((x) => x.nonce === nonce);
	if (i >= 0 && p[i].state === 'failed') {
		p.splice(i, 1);
		notify(`conv:${key}`);
	}
}

/* Post pending send item; resolves the message, or null if it failed. */
async function deliver(key, item) {
	try {
		const body = {content: item.content, nonce: item.nonce};
		if (item.reply_to)
			body.reply_to = item.reply_to.id;
		if (item.attachments.length > 0)
			body.attachments = item.attachments.map((a) => a.id);
		const m = await api.post(`${convPath(key)}/messages`, body);
		confirmPending(store, m);
		const c = store.convs.get(key);
		/* Not into a window of older messages as if it followed them. */
		if (c && !held(c, {type: 'message.create', data: {message: m}}) && fitsWindow(c, m.id))
			putMessage(c, m);
		notify(`conv:${key}`);
		return m;
	} catch (e) {
		item.state = 'failed';
		item.error = e;
		notify(`conv:${key}`);
		return null;
	}
}

/* Edit own message id in conversation key. */
export async function editMessage(key, id, content) {
	const m = await api.patch(`${convPath(key)}/messages/${seg(id)}`, {content});
	applyToStore({type: 'message.update', data: {message: m}});
	return m;
}

/* Delete message id in conversation key. */
export async function deleteMessage(key, id) {
	const c = store.convs.get(key);
	await api.del(`${convPath(key)}/messages/${seg(id)}`);
	const m = c.byId.get(id);
	applyToStore({type: 'message.delete', data: {
		id,
		channel_id: m ? m.channel_id : null,
		dm_channel_id: m ? m.dm_channel_id : null,
	}});
}

/* PUT path (on) or DELETE it. */
function putOrDelete(path, on) {
	return on ? api.put(path) : api.del(path);
}

/*
 * Add (on) or take away the user's reaction emoji on message id of
 * conversation key; shown at once, the event that follows counts once.
 */
export async function react(key, id, emoji, on) {
	await putOrDelete(`${convPath(key)}/messages/${seg(id)}/reactions/${seg(emoji)}/@me`, on);
	const c = store.convs.get(key);
	const m = c && c.byId.get(id);
	/* While a page loads, its events (this one's too) come after it. */
	if (m && !(c.loads > 0) &&
	    reactMessage(c, m, emoji, store.me.id, store.me.id, on ? 1 : -1))
		notify(`conv:${key}`);
}

/* Pin (on) or unpin message id of conversation key. */
export async function pin(key, id, on) {
	await putOrDelete(`${convPath(key)}/pins/${seg(id)}`, on);
	const c = store.convs.get(key);
	const m = c && c.byId.get(id);
	if (m)
		applyToStore({type: 'message.update', data: {message: {...m, pinned: on}}});
}

/* The newest message id each conversation is being acknowledged up to. */
const acking = new Map();

/*
 * Mark conversation key read up to its newest loaded message (the user
 * has seen the bottom of it), unless it is read that far already; its
 * read state comes back in the answer. A failed ack is left for the next
 * look at the conversation.
 */
export async function ackConv(key) {
	const c = store.convs.get(key);
	const newest = c && c.messages.length > 0 ? c.messages[c.messages.length - 1].id : null;
	const rs = readStateOf(store, key);
	/* A window of older messages is not read up to the live end. */
	if (!newest || c.hasNewer || acking.get(key) === newest ||
	    (rs.last_read_id && cmpId(newest, rs.last_read_id) <= 0 && rs.unread_count === 0))
		return;
	acking.set(key, newest);
	try {
		putReadState(store, await api.put(`${convPath(key)}/ack`, {message_id: newest}));
	} catch (e) {
		console.warn('ack failed:', e);
	} finally {
		if (acking.get(key) === newest)
			acking.delete(key);
	}
}

/* Open (or create) the DM channel with a user; resolves the DM channel. */
export async function openDm(userId) {
	const dm = await api.post('/dms', {user_id: userId});
	applyToStore({type: 'dm.create', data: {dm}});
	return dm;
}

/* Create a server; resolves its entry. */
export async function createServer(name) {
	const server = await api.post('/servers', {name});
	return addServer(server);
}

/* Join by invite code; resolves the server entry. */
export async function joinInvite(code) {
	const server = await api.post(`/invites/${seg(code)}`);
	return addServer(server);
}

/*
 * Create channel name in server entry s with these permission overwrites
 * (API.md, Channel permission overwrites; [] for none); resolves it.
 */
export async function createChannel(s, name, overwrites) {
	const body = overwrites.length > 0 ? {name, overwrites} : {name};
	const channel = await api.post(`/servers/${seg(s.id)}/channels`, body);
	applyToStore({type: 'channel.create', data: {channel}});
	return channel;
}

/* Rename channel id; resolves the channel. */
export async function renameChannel(id, name) {
	const channel = await api.patch(`/channels/${seg(id)}`, {name});
	applyToStore({type: 'channel.update', data: {channel}});
	return channel;
}

/* Delete channel id of server entry s. */
export async function deleteChannel(s, id) {
	await api.del(`/channels/${seg(id)}`);
	applyToStore({type: 'channel.delete', data: {id, server_id: s.id}});
}

/* The path of the overwrite of channel id for type ("role" or "member") and target. */
function overwritePath(id, type, targetId) {
	return `/channels/${seg(id)}/overwrites/${seg(type)}/${seg(targetId)}`;
}

/*
 * Set the overwrite of channel id (of server entry s) for type and
 * targetId to allow and deny (lists of permission names); resolves the
 * channel as it is now.
 */
export async function saveOverwrite(s, id, type, targetId, allow, deny) {
	const channel = await api.put(overwritePath(id, type, targetId), {allow, deny});
	showOwnChange(s, channel);
	return channel;
}

/* Remove the overwrite of channel c (of server entry s) for type and targetId. */
export async function removeOverwrite(s, c, type, targetId) {
	await api.del(overwritePath(c.id, type, targetId));
	const now = store.servers.get(s.id)?.channels?.get(c.id) || c;
	showOwnChange(s, {...now, overwrites: (now.overwrites || [])
	    .filter((o) => !(o.type === type && o.id === targetId))});
}

/*
 * Show channel as the user's change of its overwrites left it: changed,
 * or gone when they took view from themselves (the server's events say
 * the same a moment later).
 */
function showOwnChange(s, channel) {
	if (channelPerms(s, store.me.id, s.me, channel).has('view_channels'))
		applyToStore({type: 'channel.update', data: {channel}});
	else
		applyToStore({type: 'channel.delete', data: {id: channel.id, server_id: s.id}});
}
