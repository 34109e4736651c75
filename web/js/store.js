/* SPDX-License-Identifier: ISC */
/*
 * store.js: what the client knows, the shape of it, and how changes are
 * announced. No DOM and no network: node imports it for the unit tests
 * (tests/web/).
 *
 * Everything lives in `store`. Changes are announced by topic through
 * notify(); subscribers get the set of topics changed since the last
 * flush, once per microtask, and redraw what depends on them. Topics:
 *   "me", "servers" (the list, names, unread marks), "dms",
 *   "server:<id>" (channels, roles, own member and permissions),
 *   "members:<id>", "conv:<key>" (a conversation's messages), "pins:<key>"
 *   (its pins may have changed), "view", "status" (the connection),
 *   "typing:<key>" (who types there), "presence" (anyone's status, own
 *   included), "unread" (read states: counts, marks).
 *
 * A conversation key is "c:<channel id>" or "d:<dm id>".
 *
 * The selectors that apply.js uses take the state as their first
 * argument; the others read `store`.
 */

/* A state with nothing in it: signed out, nothing loaded. */
export function newState() {
	return {
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
		/*
		 * conversation key -> read state (docs/api.md, Mentions and
		 * read state): {last_read_id, last_message_id, unread_count,
		 * mention_count}; `unread` holds the keys whose count is not 0
		 */
		readStates: new Map(),
		/* the user looks at the page (visible and focused): main.js */
		attending: true,
		/* {kind: "home", dmId} or {kind: "server", serverId, channelId} */
		view: {kind: 'home', dmId: null},
		/* "connecting", "live" or "offline" */
		status: 'connecting',
		/* offline because the browser is (its offline event, navigator.onLine) */
		browserOffline: false,
		/* conversation key -> Map(user id -> end of their typing hint, ms) */
		typing: new Map(),
		/* conversation key -> Map(user id -> when their last message was sent, ms) */
		typingEnded: new Map(),
		/* user id -> status of the newest presence.update (ephemeral.js) */
		presence: new Map(),
		/* the status the user chose: online, idle, dnd or invisible */
		myStatus: 'online',
	};
}

export const store = newState();

/* Forget everything (sign out). */
export function resetStore() {
	Object.assign(store, newState());
}

/* The entry of a server the user is a member of. */
export function newEntry(server) {
	return {
		id: server.id,
		server,
		channels: null,		/* id -> channel */
		roles: null,		/* id -> role */
		me: null,		/* own member object */
		canView: true,		/* false: GET channels said 403, or view_channels went server-wide */
		members: null,		/* user id -> member, once a page is in */
		membersAfter: null,	/* the last user id of the last page */
		membersComplete: false,	/* the last page is in */
		membersByName: false,	/* the first page held them all (memberOrder) */
		membersLoading: false,
		membersAsked: new Set(),	/* user ids fetched one by one */
		lastChannel: null,
		adding: null,		/* the first load, while it runs */
		loads: 0,		/* loads running (load.js, guarded) */
		queue: null,		/* events held while they run (apply.js, held) */
		ready: false,
	};
}

/*
 * A conversation (channel or DM) whose messages are loaded page by page.
 * What is loaded is one window of its history without gaps: usually the
 * newest messages, growing into the past as the user scrolls up; after a
 * jump to an older message (window.js), the messages around that one,
 * with a gap up to the newest (hasNewer) that closes page by page as the
 * user scrolls down, or at once by going back to the newest page.
 */
export function newConv(key) {
	return {
		key,
		messages: [],		/* ascending id, without gaps */
		byId: new Map(),
		loaded: false,
		hasOlder: true,		/* older messages exist beyond the window */
		hasNewer: false,	/* newer ones too: the window is not at the live end */
		loadingOlder: false,
		loadingNewer: false,
		/* messages of others that came live beyond a window not at the live end */
		missedNewer: 0,
		/* counts the loads that replace the window; a page asked for
		 * before one of them started is dropped (load.js) */
		generation: 0,
		error: null,
		loads: 0,
		queue: null,
	};
}

/*
 * Whether a message with this id, new or come late, belongs in the loaded
 * window of conversation c: not beyond either end of it while more lies
 * there (paging finds it then, in its place).
 */
export function fitsWindow(c, id) {
	const n = c.messages.length;
	if (n === 0)
		return !c.hasNewer;
	if (c.hasOlder && cmpId(id, c.messages[0].id) < 0)
		return false;
	return !(c.hasNewer && cmpId(id, c.messages[n - 1].id) > 0);
}

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

/* Hand the topics changed since the last flush to every subscriber. */
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

/* The conversation key of a channel. */
export function channelKey(id) {
	return `c:${id}`;
}

/* The conversation key of a DM channel. */
export function dmKey(id) {
	return `d:${id}`;
}

/* The conversation key of a message (or of a message.delete's data). */
export function keyOfMessage(m) {
	return m.channel_id ? channelKey(m.channel_id) : dmKey(m.dm_channel_id);
}

/* --- selectors ---------------------------------------------------------- */

/* The key of the conversation on screen in state, or null. */
export function currentKey(state) {
	const v = state.view;
	if (v.kind === 'server' && v.channelId)
		return channelKey(v.channelId);
	if (v.kind === 'home' && v.dmId)
		return dmKey(v.dmId);
	return null;
}

/* The server entry of state a channel belongs to, or null. */
export function serverOfChannel(state, channelId) {
	for (const s of state.servers.values()) {
		if (s.channels && s.channels.has(channelId))
			return s;
	}
	return null;
}

/* Whether a conversation key names a channel or DM of state. */
export function knownKey(state, key) {
	const id = key.slice(2);
	if (key.startsWith('d:'))
		return state.dms.has(id);
	return serverOfChannel(state, id) !== null;
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

/* The read state of a conversation key (a zero one when none is known). */
export function readStateOf(state, key) {
	return state.readStates.get(key) ||
	    {last_read_id: null, last_message_id: null, unread_count: 0, mention_count: 0};
}

/* The mention count of a server entry: its channels' together (at most 100 each). */
export function serverMentions(state, s) {
	let n = 0;
	for (const id of s.channels ? s.channels.keys() : [])
		n += readStateOf(state, channelKey(id)).mention_count;
	return n;
}

/* The mention count of the DMs together. */
export function dmMentions(state) {
	let n = 0;
	for (const id of state.dms.keys())
		n += readStateOf(state, dmKey(id)).mention_count;
	return n;
}

/* Every mention count together: the number before the tab's title. */
export function totalMentions(state) {
	let n = dmMentions(state);
	for (const s of state.servers.values())
		n += serverMentions(state, s);
	return n;
}

/*
 * Whether message m mentions the signed-in user of state (docs/api.md):
 * never their own; in a DM every message of the other one; in a channel
 * by name, by a role they hold, or everyone.
 */
export function mentionsMe(state, m) {
	const meId = state.me && state.me.id;
	if (!meId || m.author.id === meId)
		return false;
	if (m.dm_channel_id)
		return true;
	if (m.mention_everyone || (m.mentions || []).some((u) => u.id === meId))
		return true;
	const s = serverOfChannel(state, m.channel_id);
	const mine = s && s.me ? s.me.roles : [];
	return (m.mention_roles || []).some((r) => mine.includes(r));
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
