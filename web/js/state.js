/*
 * state.js: what the client knows, how it is loaded over REST and how
 * events change it.
 *
 * Everything lives in `store`. Changes are announced by topic through
 * notify(); subscribers get the set of topics changed since the last
 * flush, once per microtask, and redraw what depends on them. Topics:
 *   "me", "servers" (the list, names, unread marks), "dms",
 *   "server:<id>" (channels, roles, own member and permissions),
 *   "members:<id>", "conv:<key>" (a conversation's messages), "view",
 *   "status" (the connection).
 *
 * A conversation key is "c:<channel id>" or "d:<dm id>".
 *
 * Loads that run while events arrive (a server's details, its member
 * list, a page of messages) queue the events that touch what they load
 * and apply them, in order, once the page is in: every event changes an
 * object to its state after that change, so replaying them over a page of
 * any age ends at the current state.
 */

import {api, seg} from './api.js';
import {myAccess} from './perm.js';

export const store = {
	me: null,
	/* id -> server entry (see newEntry) */
	servers: new Map(),
	/* id -> DM channel */
	dms: new Map(),
	/* conversation key -> conversation (see newConv); only loaded ones */
	convs: new Map(),
	/* conversation key -> [pending send]; survives reloads of the state */
	pending: new Map(),
	/* conversation keys with messages not seen yet */
	unread: new Set(),
	/* {kind: "home", dmId} or {kind: "server", serverId, channelId} */
	view: {kind: 'home', dmId: null},
	/* "connecting", "live" or "offline" */
	status: 'connecting',
};

/* --- change notification ---------------------------------------------- */

const subscribers = new Set();
let dirty = new Set();
let flushQueued = false;

/* Call fn(topics) after changes, with the Set of topics changed. */
export function subscribe(fn) {
	subscribers.add(fn);
	return () => subscribers.delete(fn);
}

/* Mark topics as changed; subscribers hear of it once per microtask. */
export function notify(...topics) {
	for (const t of topics)
		dirty.add(t);
	if (!flushQueued) {
		flushQueued = true;
		queueMicrotask(flush);
	}
}

function flush() {
	flushQueued = false;
	const topics = dirty;
	dirty = new Set();
	for (const fn of subscribers) {
		try {
			fn(topics);
		} catch (e) {
			console.error('render failed:', e);
		}
	}
}

/* --- ids and keys ---------------------------------------------------- */

/* Compare two decimal id strings as numbers. */
export function cmpId(a, b) {
	if (a.length !== b.length)
		return a.length - b.length;
	return a < b ? -1 : a > b ? 1 : 0;
}

export function channelKey(id) {
	return `c:${id}`;
}

export function dmKey(id) {
	return `d:${id}`;
}

/* The conversation key of a message (or of a message.delete's data). */
export function keyOfMessage(m) {
	return m.channel_id ? channelKey(m.channel_id) : dmKey(m.dm_channel_id);
}

/* The key of the conversation on screen, or null. */
export function currentKey() {
	const v = store.view;
	if (v.kind === 'server' && v.channelId)
		return channelKey(v.channelId);
	if (v.kind === 'home' && v.dmId)
		return dmKey(v.dmId);
	return null;
}

/* The server entry a channel belongs to, or null. */
export function serverOfChannel(channelId) {
	for (const s of store.servers.values()) {
		if (s.channels && s.channels.has(channelId))
			return s;
	}
	return null;
}

/* The name to show for a user in a server (nickname first), or in DMs. */
export function displayName(serverId, user) {
	if (serverId) {
		const s = store.servers.get(serverId);
		const m = s && s.members && s.members.get(user.id);
		if (m && m.nickname)
			return m.nickname;
		if (s && s.me && s.me.user.id === user.id && s.me.nickname)
			return s.me.nickname;
	}
	return user.username;
}

/* Channels of a server entry in id order. */
export function sortedChannels(s) {
	return s.channels ? [...s.channels.values()].sort((a, b) => cmpId(a.id, b.id)) : [];
}

/* Roles of a server entry, highest position first, the default role last. */
export function sortedRoles(s) {
	if (!s.roles)
		return [];
	return [...s.roles.values()].sort((a, b) => {
		if (a.is_default !== b.is_default)
			return a.is_default ? 1 : -1;
		return b.position - a.position || cmpId(a.id, b.id);
	});
}

/* --- guarded loads ----------------------------------------------------- */

/* Run async fn while events for target are queued, then replay them. */
async function guarded(target, fn) {
	if (!target.queue)
		target.queue = [];
	target.loads = (target.loads || 0) + 1;
	try {
		return await fn();
	} finally {
		target.loads--;
		if (target.loads === 0) {
			const q = target.queue;
			target.queue = null;
			for (const ev of q)
				applyEvent(ev);
		}
	}
}

/* Whether an event for target must wait for a load; queues it if so. */
function held(target, ev) {
	if (target && target.loads > 0) {
		target.queue.push(ev);
		return true;
	}
	return false;
}

/* Run fn over items, at most n at a time. */
async function pool(items, n, fn) {
	const queue = [...items];
	const workers = [];
	for (let i = 0; i < Math.min(n, queue.length); i++) {
		workers.push((async () => {
			while (queue.length > 0)
				await fn(queue.shift());
		})());
	}
	await Promise.all(workers);
}

/* --- servers ------------------------------------------------------------ */

function newEntry(server) {
	return {
		id: server.id,
		server,
		channels: null,		/* id -> channel */
		roles: null,		/* id -> role */
		me: null,		/* own member object */
		canView: true,		/* false: GET channels said 403 */
		members: null,		/* user id -> member, once a page is in */
		membersAfter: null,	/* the last user id of the last page */
		membersComplete: false,	/* the last page is in */
		membersByName: false,	/* the first page held them all (memberOrder) */
		membersLoading: false,
		membersAsked: new Set(),	/* user ids fetched one by one */
		lastChannel: null,
		adding: null,		/* the first load, while it runs */
		loads: 0,
		queue: null,
		ready: false,
	};
}

/* Load (or reload) a server's channels, roles and own member. */
function loadServerDetail(s) {
	return guarded(s, async () => {
		const [roles, me] = await Promise.all([
			api.get(`/servers/${seg(s.id)}/roles`),
			api.get(`/servers/${seg(s.id)}/members/@me`),
		]);
		s.roles = new Map(roles.map((r) => [r.id, r]));
		s.me = me;
		await loadChannels(s);
		s.ready = true;
		notify('servers', `server:${s.id}`);
	});
}

/* Load a server's channels (403 without view_channels: none). */
async function loadChannels(s) {
	try {
		const channels = await api.get(`/servers/${seg(s.id)}/channels`);
		s.channels = new Map(channels.map((c) => [c.id, c]));
		s.canView = true;
	} catch (e) {
		if (e.code !== 'missing_permission')
			throw e;
		s.channels = new Map();
		s.canView = false;
	}
}

/*
 * Add a server the user is now a member of (from a join or an event) and
 * load its details; resolves its entry. A join's answer and the
 * member.join event may come in either order: both get the same entry,
 * once it is loaded.
 */
export function addServer(serverOrId) {
	const byId = typeof serverOrId === 'string';
	const id = byId ? serverOrId : serverOrId.id;
	const known = store.servers.get(id);
	if (known) {
		if (!byId && known.server.owner_id === null)
			known.server = serverOrId;
		return known.adding || Promise.resolve(known);
	}
	const s = newEntry(byId ? {id, name: '\u2026', owner_id: null} : serverOrId);
	store.servers.set(id, s);
	notify('servers');
	s.adding = (async () => {
		try {
			await guarded(s, async () => {
				if (byId)
					s.server = await api.get(`/servers/${seg(id)}`);
				await loadServerDetail(s);
			});
			return s;
		} catch (e) {
			/* Gone again (kicked at once, deleted): forget it. */
			if (store.servers.get(id) === s)
				dropServer(id);
			throw e;
		} finally {
			s.adding = null;
		}
	})();
	return s.adding;
}

/* Forget a server (left, kicked, deleted). */
function dropServer(id) {
	const s = store.servers.get(id);
	if (!s)
		return;
	store.servers.delete(id);
	if (s.channels) {
		for (const cid of s.channels.keys()) {
			store.convs.delete(channelKey(cid));
			store.unread.delete(channelKey(cid));
		}
	}
	notify('servers', `server:${id}`);
	if (store.view.kind === 'server' && store.view.serverId === id)
		notify('view');
}

/* The API's largest page of members (API.md, Pagination). */
const MEMBER_PAGE = 100;

/*
 * Load the next page of a server's members (the first page the first
 * time), in user id order. Pages are asked for after the last id of the
 * previous page, not after the largest id known: members that joined
 * or were fetched one by one (wantMember) may lie beyond it, and the
 * map takes them twice without harm.
 */
export async function loadMoreMembers(s) {
	if (s.membersLoading || s.membersComplete)
		return;
	s.membersLoading = true;
	try {
		await guarded(s, async () => {
			const after = s.membersAfter ? `&after=${seg(s.membersAfter)}` : '';
			const page = await api.get(`/servers/${seg(s.id)}/members?limit=${MEMBER_PAGE}${after}`);
			if (store.servers.get(s.id) !== s)
				return;
			if (!s.members) {
				s.members = new Map();
				s.membersByName = page.length < MEMBER_PAGE;
			}
			for (const m of page)
				s.members.set(m.user.id, m);
			if (page.length > 0)
				s.membersAfter = page[page.length - 1].user.id;
			s.membersComplete = page.length < MEMBER_PAGE;
		});
	} finally {
		s.membersLoading = false;
	}
	notifyMembers(s);
}

/*
 * Make the member behind a message author known (for nicknames) when the
 * pages loaded so far do not hold it: fetch that one member, once.
 */
export function wantMember(s, userId) {
	if (!s.members || s.membersComplete || s.members.has(userId) || s.membersAsked.has(userId))
		return;
	s.membersAsked.add(userId);
	guarded(s, async () => {
		const m = await api.get(`/servers/${seg(s.id)}/members/${seg(userId)}`);
		if (store.servers.get(s.id) === s)
			s.members.set(m.user.id, m);
	}).then(() => notifyMembers(s), (e) => {
		/* 404: no longer a member, the username will do. Anything
		 * else: ask again on a later draw. */
		if (e.status !== 404)
			s.membersAsked.delete(userId);
	});
}

/*
 * Whether the member lists show the member with this user id yet: every
 * member once the last page is in; before that, those up to the last
 * page. Members known beyond it (joined since, fetched as message
 * authors) wait for their page, so that a page never lands above them.
 */
export function memberListed(s, userId) {
	return s.membersComplete || (s.membersAfter !== null && cmpId(userId, s.membersAfter) <= 0);
}

const nameOrder = new Intl.Collator(undefined, {sensitivity: 'base', numeric: true});

/*
 * The order of the member lists of s, as a compare function of
 * {id, name} (user id, name shown). By name when the first page held
 * every member; otherwise by user id, the order the pages come in (no
 * total or order by name comes from the API), so that each page lands
 * at the end of what is shown and nothing shown moves. It does not
 * change when the last page of a long list comes in, for the same
 * reason.
 */
export function memberOrder(s) {
	if (s.membersByName)
		return (a, b) => nameOrder.compare(a.name, b.name) || cmpId(a.id, b.id);
	return (a, b) => cmpId(a.id, b.id);
}

/* Members changed: the list, and the names in the server's channels. */
function notifyMembers(s) {
	notify(`members:${s.id}`, `server:${s.id}`);
	if (s.channels) {
		for (const cid of s.channels.keys())
			notify(`conv:${channelKey(cid)}`);
	}
}

/* --- the whole state --------------------------------------------------- */

/* The largest page of GET /users/@me/servers (docs/api.md, Servers). */
const SERVER_PAGE = 200;

/* Every server the user is a member of, page after page, in id order. */
async function loadServerList() {
	const servers = [];
	for (;;) {
		const after = servers.length > 0 ? `&after=${seg(servers[servers.length - 1].id)}` : '';
		const page = await api.get(`/users/@me/servers?limit=${SERVER_PAGE}${after}`);
		servers.push(...page);
		if (page.length < SERVER_PAGE)
			return servers;
	}
}

/*
 * Load everything from scratch (at start and after a 410): the user, the
 * servers with their channels, roles and own member, the DM channels.
 */
export async function loadAll() {
	const [me, servers, dms] = await Promise.all([
		api.get('/users/@me'),
		loadServerList(),
		api.get('/dms'),
	]);
	const entries = new Map(servers.map((sv) => [sv.id, newEntry(sv)]));
	const old = store.servers;
	for (const [id, s] of entries) {
		const o = old.get(id);
		if (o)
			s.lastChannel = o.lastChannel;
	}
	await pool([...entries.values()], 4, async (s) => {
		try {
			await loadServerDetail(s);
		} catch (e) {
			/* Left between the list and now: leave it out. */
			if (e.status !== 404)
				throw e;
			entries.delete(s.id);
		}
	});
	store.me = me;
	store.servers = entries;
	store.dms = new Map(dms.map((d) => [d.id, d]));
	store.convs = new Map();
	for (const key of [...store.unread]) {
		if (!knownKey(key))
			store.unread.delete(key);
	}
	notify('me', 'servers', 'dms', 'view');
	for (const s of entries.values())
		notify(`server:${s.id}`, `members:${s.id}`);
}

/* Whether a conversation key names a channel or DM the user has. */
export function knownKey(key) {
	const id = key.slice(2);
	if (key.startsWith('d:'))
		return store.dms.has(id);
	return serverOfChannel(id) !== null;
}

/* Forget everything (sign out). */
export function resetStore() {
	store.me = null;
	store.servers = new Map();
	store.dms = new Map();
	store.convs = new Map();
	store.pending = new Map();
	store.unread = new Set();
	store.view = {kind: 'home', dmId: null};
	store.status = 'connecting';
}

/* --- conversations ----------------------------------------------------- */

const PAGE = 50;

function newConv(key) {
	return {
		key,
		path: key.startsWith('c:') ? `/channels/${seg(key.slice(2))}` : `/dms/${seg(key.slice(2))}`,
		messages: [],		/* ascending id */
		byId: new Map(),
		loaded: false,
		hasOlder: true,
		loadingOlder: false,
		error: null,
		loads: 0,
		queue: null,
	};
}

/* The conversation for key, loading its newest page the first time. */
export function openConv(key) {
	let c = store.convs.get(key);
	if (c)
		return c;
	c = newConv(key);
	store.convs.set(key, c);
	guarded(c, async () => {
		const page = await api.get(`${c.path}/messages?limit=${PAGE}`);
		for (const m of page)
			putMessage(c, m);
		c.hasOlder = page.length === PAGE;
		c.loaded = true;
	}).catch((e) => {
		c.error = e;
	}).finally(() => notify(`conv:${key}`));
	return c;
}

/* Forget a conversation that failed to load, and load it again. */
export function reloadConv(key) {
	const c = store.convs.get(key);
	if (c && c.error)
		store.convs.delete(key);
	return openConv(key);
}

/* Load the page before the oldest message; resolves the number added. */
export async function loadOlder(c) {
	if (!c.loaded || !c.hasOlder || c.loadingOlder || c.messages.length === 0)
		return 0;
	c.loadingOlder = true;
	notify(`conv:${c.key}`);
	let n = 0;
	try {
		await guarded(c, async () => {
			const before = c.messages[0].id;
			const page = await api.get(`${c.path}/messages?before=${seg(before)}&limit=${PAGE}`);
			for (const m of page) {
				if (!c.byId.has(m.id)) {
					putMessage(c, m);
					n++;
				}
			}
			c.hasOlder = page.length === PAGE;
		});
	} finally {
		c.loadingOlder = false;
		notify(`conv:${c.key}`);
	}
	return n;
}

/* Insert or replace message m in conversation c, keeping id order. */
function putMessage(c, m) {
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

function removeMessage(c, id) {
	const old = c.byId.get(id);
	if (!old)
		return false;
	c.byId.delete(id);
	c.messages.splice(c.messages.indexOf(old), 1);
	return true;
}

/* Pending sends of a conversation (created on demand). */
export function pendingOf(key) {
	let p = store.pending.get(key);
	if (!p) {
		p = [];
		store.pending.set(key, p);
	}
	return p;
}

/* A send is confirmed by message m: drop the pending copy. */
function confirmPending(m) {
	if (!m.nonce || !store.me || m.author.id !== store.me.id)
		return;
	const key = keyOfMessage(m);
	const p = store.pending.get(key);
	if (!p)
		return;
	const i = p.findIndex((x) => x.nonce === m.nonce);
	if (i >= 0) {
		p.splice(i, 1);
		notify(`conv:${key}`);
	}
}

/* Send content in conversation key, shown at once as pending. */
export function sendMessage(key, content) {
	const item = {
		nonce: crypto.randomUUID(),
		content,
		state: 'sending',
		error: null,
		author: {id: store.me.id, username: store.me.username},
		created_at: new Date().toISOString(),
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

/* Drop a failed send. */
export function discardSend(key, nonce) {
	const p = pendingOf(key);
	const i = p.findIndex((x) => x.nonce === nonce);
	if (i >= 0 && p[i].state === 'failed') {
		p.splice(i, 1);
		notify(`conv:${key}`);
	}
}

async function deliver(key, item) {
	const path = key.startsWith('c:') ? `/channels/${seg(key.slice(2))}` : `/dms/${seg(key.slice(2))}`;
	try {
		const m = await api.post(`${path}/messages`, {content: item.content, nonce: item.nonce});
		confirmPending(m);
		const c = store.convs.get(key);
		if (c && !held(c, {type: 'message.create', data: {message: m}})) {
			putMessage(c, m);
		}
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
	const c = store.convs.get(key);
	const m = await api.patch(`${c ? c.path : ''}/messages/${seg(id)}`, {content});
	applyEvent({type: 'message.update', data: {message: m}});
	return m;
}

/* Delete message id in conversation key. */
export async function deleteMessage(key, id) {
	const c = store.convs.get(key);
	await api.del(`${c.path}/messages/${seg(id)}`);
	const m = c.byId.get(id);
	applyEvent({type: 'message.delete', data: {
		id,
		channel_id: m ? m.channel_id : null,
		dm_channel_id: m ? m.dm_channel_id : null,
	}});
}

/* Open (or create) the DM channel with a user; resolves the DM channel. */
export async function openDm(userId) {
	const dm = await api.post('/dms', {user_id: userId});
	if (!store.dms.has(dm.id)) {
		store.dms.set(dm.id, dm);
		notify('dms');
	}
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

/* --- events ------------------------------------------------------------ */

/* Apply a list of events in order. */
export function applyEvents(events) {
	for (const ev of events)
		applyEvent(ev);
}

/* Put a channel or role (obj) into s.channels or s.roles (map), if loaded. */
function upsertServerThing(s, map, obj) {
	if (!s[map])
		return;
	s[map].set(obj.id, obj);
	notify(`server:${s.id}`);
}

/* Apply one event (also used for the answers of the client's own changes). */
export function applyEvent(ev) {
	const d = ev.data;
	const meId = store.me && store.me.id;
	let s;
	switch (ev.type) {
	case 'message.create':
	case 'message.update': {
		const m = d.message;
		const key = keyOfMessage(m);
		if (ev.type === 'message.create') {
			confirmPending(m);
			if (m.author.id !== meId && key !== currentKey() && knownKey(key)) {
				store.unread.add(key);
				notify('servers', 'dms', 'unread');
			}
		}
		const c = store.convs.get(key);
		if (!c || held(c, ev))
			return;
		if (ev.type === 'message.update' && !c.byId.has(m.id))
			return;	/* outside the loaded pages */
		if (ev.type === 'message.create' && c.hasOlder && c.messages.length > 0 &&
		    cmpId(m.id, c.messages[0].id) < 0)
			return;	/* older than what is loaded: paging will find it */
		putMessage(c, m);
		notify(`conv:${key}`);
		return;
	}
	case 'message.delete': {
		const key = keyOfMessage(d);
		const c = store.convs.get(key);
		if (!c || held(c, ev))
			return;
		if (removeMessage(c, d.id))
			notify(`conv:${key}`);
		return;
	}
	case 'channel.create':
	case 'channel.update':
		s = store.servers.get(d.channel.server_id);
		if (!s || held(s, ev))
			return;
		upsertServerThing(s, 'channels', d.channel);
		notify('servers');
		return;
	case 'channel.delete':
		s = store.servers.get(d.server_id);
		if (!s || held(s, ev))
			return;
		if (s.channels)
			s.channels.delete(d.id);
		store.convs.delete(channelKey(d.id));
		store.unread.delete(channelKey(d.id));
		notify(`server:${s.id}`, 'servers');
		if (store.view.kind === 'server' && store.view.channelId === d.id)
			notify('view');
		return;
	case 'server.update':
		s = store.servers.get(d.server.id);
		if (!s || held(s, ev))
			return;
		s.server = d.server;
		notify('servers', `server:${s.id}`);
		return;
	case 'server.delete':
		dropServer(d.id);
		return;
	case 'member.join':
		if (d.member.user.id === meId) {
			if (!store.servers.has(d.server_id))
				addServer(d.server_id).catch((e) => loadErrorHandler(e));
			return;
		}
		s = store.servers.get(d.server_id);
		if (!s || held(s, ev))
			return;
		if (s.members) {
			s.members.set(d.member.user.id, d.member);
			notify(`members:${s.id}`);
		}
		return;
	case 'member.update':
		s = store.servers.get(d.server_id);
		if (!s || held(s, ev))
			return;
		if (d.member.user.id === meId) {
			const couldView = s.canView;
			s.me = d.member;
			notify(`server:${s.id}`, 'servers');
			refreshVisibility(s, couldView);
		}
		if (s.members) {
			s.members.set(d.member.user.id, d.member);
			notify(`members:${s.id}`);
		}
		for (const cid of s.channels ? s.channels.keys() : [])
			notify(`conv:${channelKey(cid)}`);
		return;
	case 'member.leave':
		if (d.user_id === meId) {
			const name = store.servers.get(d.server_id)?.server.name;
			dropServer(d.server_id);
			if (name !== undefined)
				leftHandler(d.server_id, name);
			return;
		}
		s = store.servers.get(d.server_id);
		if (!s || held(s, ev))
			return;
		if (s.members && s.members.delete(d.user_id))
			notify(`members:${s.id}`);
		return;
	case 'role.create':
	case 'role.update': {
		s = store.servers.get(d.role.server_id);
		if (!s || held(s, ev))
			return;
		const couldView = s.canView;
		upsertServerThing(s, 'roles', d.role);
		notify(`members:${s.id}`);
		refreshVisibility(s, couldView);
		return;
	}
	case 'role.delete': {
		s = store.servers.get(d.server_id);
		if (!s || held(s, ev))
			return;
		const couldView = s.canView;
		if (s.roles)
			s.roles.delete(d.id);
		/* Holders lose it; the server writes no member.update for that. */
		for (const m of s.members ? s.members.values() : [])
			m.roles = m.roles.filter((r) => r !== d.id);
		if (s.me)
			s.me.roles = s.me.roles.filter((r) => r !== d.id);
		notify(`server:${s.id}`, `members:${s.id}`);
		refreshVisibility(s, couldView);
		return;
	}
	case 'dm.create':
		if (!store.dms.has(d.dm.id)) {
			store.dms.set(d.dm.id, d.dm);
			notify('dms');
		}
		return;
	default:
		/* A newer server may send types this client does not know. */
		return;
	}
}

/*
 * After a change of own roles: gaining view_channels means the channels
 * must be fetched (their events were not sent); losing it empties them.
 */
function refreshVisibility(s, couldView) {
	const canView = myAccess(s, store.me.id).has('view_channels');
	if (canView === couldView)
		return;
	if (!canView) {
		for (const cid of s.channels ? s.channels.keys() : [])
			store.convs.delete(channelKey(cid));
		s.channels = new Map();
		s.canView = false;
		notify(`server:${s.id}`, 'servers', 'view');
		return;
	}
	guarded(s, () => loadChannels(s))
	    .then(() => notify(`server:${s.id}`, 'servers', 'view'))
	    .catch((e) => loadErrorHandler(e));
}

/* --- hooks for the views ------------------------------------------------ */

let leftHandler = () => {};
let loadErrorHandler = (e) => console.error(e);

/* fn(serverId, name) runs when the user leaves or loses a server. */
export function onServerLeft(fn) {
	leftHandler = fn;
}

/* fn(error) runs when a background load fails. */
export function onLoadError(fn) {
	loadErrorHandler = fn;
}
