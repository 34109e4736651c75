/* SPDX-License-Identifier: ISC */
/*
 * load.js: loading the state over REST (servers page by page, their
 * channels, roles and members, the DMs, pages of messages), and applying
 * events to `store` with the loads they ask for (apply.js returns them).
 *
 * A load that runs while events arrive is guarded: the events that touch
 * what it loads are held (apply.js, held) and replayed in order once it
 * is done.
 */

import {api, seg} from './api.js';
import {applyEvent, putReadState, dropServer} from './apply.js';
import {store, newEntry, newConv, notify, channelKey, knownKey} from './store.js';
import {takeLatest, takeOlder, takeNewer, takeAround} from './window.js';

/* --- events ------------------------------------------------------------ */

/* Apply one event to the store and run what it asks for. */
export function applyToStore(ev) {
	for (const f of applyEvent(store, ev)) {
		switch (f.type) {
		case 'load.server':
			addServer(f.id).catch((e) => loadErrorHandler(e));
			break;
		case 'load.channels':
			guarded(f.entry, () => loadChannels(f.entry))
			    .then(() => notify(`server:${f.entry.id}`, 'servers', 'view'))
			    .catch((e) => loadErrorHandler(e));
			break;
		case 'server.left':
			leftHandler(f.id, f.name);
			break;
		case 'mention':
			mentionHandler(f.key, f.message);
			break;
		}
	}
}

/* Apply a list of events in order. */
export function applyEvents(events) {
	for (const ev of events)
		applyToStore(ev);
}

/* --- guarded loads ----------------------------------------------------- */

/* Run async fn while events for target are held, then replay them. */
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
			applyEvents(q);
		}
	}
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
				dropServer(store, id);
			throw e;
		} finally {
			s.adding = null;
		}
	})();
	return s.adding;
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
 * servers with their channels, roles and own member, the DM channels,
 * the read states.
 */
export async function loadAll() {
	const [me, servers, dms, readStates] = await Promise.all([
		api.get('/users/@me'),
		loadServerList(),
		api.get('/dms'),
		api.get('/users/@me/read-states'),
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
	store.unread = new Set();
	store.readStates = new Map();
	for (const rs of readStates)
		putReadState(store, rs);
	notify('me', 'servers', 'dms', 'view');
	for (const s of entries.values())
		notify(`server:${s.id}`, `members:${s.id}`);
}

/* --- conversations ----------------------------------------------------- */

const PAGE = 50;

/* The API path of a conversation: its channel or DM channel. */
export function convPath(key) {
	return `${key.startsWith('c:') ? '/channels' : '/dms'}/${seg(key.slice(2))}`;
}

/* Whether a load of generation gen was overtaken by one that replaces the window. */
function stale(c, gen) {
	return c.generation !== gen;
}

/*
 * Load the page of GET …/messages?query for conversation c, with its
 * events held (guarded), and hand it to take(page), which replaces (or
 * widens) the window. It starts a new generation: a page asked for
 * before it is dropped when it comes (stale), and so is this one if
 * another such load starts meanwhile.
 */
function loadWindow(c, query, take) {
	const gen = ++c.generation;
	return guarded(c, async () => {
		const page = await api.get(`${convPath(c.key)}/messages?${query}`);
		if (stale(c, gen))
			return;
		take(page);
		c.loaded = true;
		c.error = null;
	});
}

/* Make the newest page the window of c. */
function loadLatestPage(c) {
	return loadWindow(c, `limit=${PAGE}`, (page) => takeLatest(c, page, PAGE));
}

/* The conversation for key, loading its newest page the first time. */
export function openConv(key) {
	let c = store.convs.get(key);
	if (c)
		return c;
	c = newConv(key);
	store.convs.set(key, c);
	loadLatestPage(c).catch((e) => {
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

/*
 * Back to the newest messages: a window away from the live end becomes
 * the newest page (in one step, not page by page).
 */
export async function loadLatest(c) {
	if (!c.hasNewer)
		return;
	c.loadingNewer = true;
	notify(`conv:${c.key}`);
	try {
		await loadLatestPage(c);
	} finally {
		c.loadingNewer = false;
		notify(`conv:${c.key}`);
	}
}

/*
 * Conversation key with message id loaded, for a jump to it: loaded
 * already, or the page around it becomes (or widens) the window; the
 * pages in between are not loaded. Resolves whether the message is
 * there (not: deleted, or never readable).
 */
export async function openConvAt(key, id) {
	let c = store.convs.get(key);
	if (c && c.loaded && c.byId.has(id))
		return true;
	if (!c) {
		c = newConv(key);
		store.convs.set(key, c);
	}
	try {
		await loadWindow(c, `around=${seg(id)}&limit=${PAGE}`, (page) => takeAround(c, page, id, PAGE));
	} catch (e) {
		if (!c.loaded)
			c.error = e;
		throw e;
	} finally {
		notify(`conv:${key}`);
	}
	return store.convs.get(key) === c && c.byId.has(id);
}

/*
 * Load a page next to the window of c, before its oldest message
 * (older) or after its newest, with loadingOlder or loadingNewer set
 * meanwhile; resolves the number of messages added (0 when a jump
 * replaced the window before the page came).
 */
async function loadBeside(c, older) {
	const flag = older ? 'loadingOlder' : 'loadingNewer';
	c[flag] = true;
	notify(`conv:${c.key}`);
	let n = 0;
	try {
		await guarded(c, async () => {
			const gen = c.generation;
			const edge = older ? c.messages[0].id : c.messages[c.messages.length - 1].id;
			const page = await api.get(`${convPath(c.key)}/messages?${older ? 'before' : 'after'}=` +
			    `${seg(edge)}&limit=${PAGE}`);
			if (stale(c, gen))
				return;
			n = older ? takeOlder(c, page, PAGE) : takeNewer(c, page, PAGE);
		});
	} finally {
		c[flag] = false;
		notify(`conv:${c.key}`);
	}
	return n;
}

/* Load the page before the oldest message; resolves the number added. */
export function loadOlder(c) {
	if (!c.loaded || !c.hasOlder || c.loadingOlder || c.messages.length === 0)
		return Promise.resolve(0);
	return loadBeside(c, true);
}

/*
 * Load the page after the newest message of a window away from the live
 * end; resolves the number added. The last one closes the gap.
 */
export function loadNewer(c) {
	if (!c.loaded || !c.hasNewer || c.loadingNewer || c.messages.length === 0)
		return Promise.resolve(0);
	return loadBeside(c, false);
}

/* The pinned messages of conversation key, most recently pinned first. */
export function loadPins(key) {
	return api.get(`${convPath(key)}/pins`);
}

/* Who reacted to message id with emoji (the first page, 25 of them). */
export function loadReactors(key, id, emoji) {
	return api.get(`${convPath(key)}/messages/${seg(id)}/reactions/${seg(emoji)}?limit=25`);
}

/* --- hooks for the views ------------------------------------------------ */

let leftHandler = () => {};
let mentionHandler = () => {};
let loadErrorHandler = (e) => console.error(e);

/* fn(serverId, name) runs when the user leaves or loses a server. */
export function onServerLeft(fn) {
	leftHandler = fn;
}

/* fn(key, message) runs when a message mentions the user unseen. */
export function onMention(fn) {
	mentionHandler = fn;
}

/* fn(error) runs when a background load fails. */
export function onLoadError(fn) {
	loadErrorHandler = fn;
}
