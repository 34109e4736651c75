/* SPDX-License-Identifier: ISC */
/*
 * shell.js: the signed-in screen: the server rail, the channel (or DM)
 * sidebar, the conversation with its header, the member list, and on
 * narrow screens the drawers they become.
 */

import {h, icon, initials, colourClass, replace} from '../dom.js';
import {myAccess, myChannelAccess, canOpenSettings} from '../perm.js';
import {
	store, subscribe, notify, currentKey, channelKey, dmKey, keyOfMessage, sortedChannels, cmpId,
	readStateOf, serverMentions, dmMentions, totalMentions,
} from '../store.js';
import {navigate} from '../router.js';
import {createMessageView} from './messages.js';
import {createMemberList} from './members.js';
import {openProfile} from './profile.js';
import {openAddServer, openInvite, leaveServer} from './servers.js';
import {openNewMessage, searchBox} from './search.js';
import {openSettings} from './settings.js';
import {openChannelSettings, canOpenChannelSettings, channelIcon} from './channel.js';
import {openCreateChannel} from './newchannel.js';
import {openAccount} from './account.js';
import {presenceDot, presenceText, statusMenu} from './presence.js';
import {presenceOf} from '../ephemeral.js';

const NARROW = window.matchMedia('(max-width: 800px)');
const MEDIUM = window.matchMedia('(max-width: 1100px)');
const MEMBERS_KEY = 'sohbet.members_open';

/* A count as shown: 100 means "100 or more". */
function countText(n) {
	return n >= 100 ? '99+' : String(n);
}

/* A count of mentions for screen readers. */
function mentionLabel(n) {
	return n >= 100 ? '100 or more mentions' : `${n} mention${n === 1 ? '' : 's'}`;
}

/*
 * Draw the shell into root. hooks: signOut(), signOutAll(), retryNow().
 * Returns {destroy()}.
 */
export function mountShell(root, hooks) {
	let navOpen = false;
	let membersOpen = !MEDIUM.matches && readPref(MEMBERS_KEY, true);
	let shown = null;	/* the conversation key on screen, or null */
	let focusComposer = false;	/* move focus there after the next draw */
	let lostChannel = false;	/* the channel on screen went (deleted, or no longer visible) */

	const nav = {
		rail: h('nav', {class: 'rail', 'aria-label': 'Servers'}),
		sideHead: h('header', {class: 'sidebar-head'}),
		sideBody: h('nav', {class: 'sidebar-body'}),
		userbar: h('footer', {class: 'userbar'}),
	};
	const navBox = h('div', {class: 'nav', id: 'nav'}, nav.rail,
	    h('div', {class: 'sidebar'}, nav.sideHead, nav.sideBody, nav.userbar));
	const navToggle = h('button', {type: 'button', class: 'icon-btn nav-toggle', 'aria-controls': 'nav',
	    'aria-expanded': 'false', 'aria-label': 'Channels and servers', title: 'Channels and servers',
	    onclick: () => setNav(!navOpen)}, icon('menu'));
	const title = h('h1');
	const membersToggle = h('button', {type: 'button', class: 'icon-btn', 'aria-controls': 'members',
	    'aria-label': 'Member list', title: 'Member list', onclick: () => setMembers(!membersOpen)},
	icon('users'));
	const pinsToggle = h('button', {type: 'button', class: 'icon-btn', 'aria-label': 'Pinned messages',
	    title: 'Pinned messages', 'aria-pressed': 'false', onclick: () =>
		pinsToggle.setAttribute('aria-pressed', String(messages.togglePins()))},
	icon('pin'));
	const banner = h('div', {class: 'banner', role: 'status', hidden: true});
	const convBox = h('div', {class: 'conv'});
	const empty = h('div', {class: 'empty-state', hidden: true});
	const search = searchBox(searchContext, {goMessage});
	const main = h('main', {class: 'main', id: 'main', tabindex: '-1'},
	    h('header', {class: 'main-head'}, navToggle, title, search, pinsToggle, membersToggle),
	    banner, convBox, empty);
	const membersBody = h('div', {class: 'members-body'});
	const membersBox = h('aside', {class: 'members', id: 'members', 'aria-label': 'Members'}, membersBody);
	const scrim = h('button', {type: 'button', class: 'scrim', tabindex: '-1', 'aria-label': 'Close panel',
	    onclick: () => {
		setNav(false);
		if (MEDIUM.matches)
			setMembers(false);
	}});
	/* Offered only with a conversation on screen; where it goes depends on whether the user may write. */
	const skip = h('button', {type: 'button', class: 'skip', hidden: true,
	    onfocus: () => {
		skip.textContent = messages.canWrite ? 'Skip to the message box' : 'Skip to the messages';
	    },
	    onclick: () => messages.focusComposer()}, 'Skip to the message box');
	const app = h('div', {class: 'app'}, skip, navBox, main, membersBox, scrim);
	replace(root, app);

	const profileHooks = {goDm: (dm) => goAndWrite({kind: 'home', dmId: dm.id})};
	const showProfile = (user, serverId) => openProfile(user, serverId, profileHooks);
	const messages = createMessageView(convBox, {openProfile: showProfile});
	const members = createMemberList(membersBody, {openProfile: showProfile});

	let userbarStatus = null;	/* the status the user bar shows */
	const unsubscribe = subscribe(render);
	document.addEventListener('keydown', onKey);
	NARROW.addEventListener('change', onResize);
	MEDIUM.addEventListener('change', onResize);
	render(new Set(['all']));

	function onResize() {
		if (!NARROW.matches)
			setNav(false);
		membersOpen = !MEDIUM.matches && readPref(MEMBERS_KEY, true);
		render(new Set(['view']));
	}

	function onKey(e) {
		if (e.key !== 'Escape' || document.querySelector('dialog[open]'))
			return;
		if (navOpen) {
			setNav(false);
			navToggle.focus();
		} else if (membersOpen && MEDIUM.matches) {
			setMembers(false);
			membersToggle.focus();
		}
	}

	function setNav(open) {
		navOpen = open && NARROW.matches;
		app.classList.toggle('app--nav', navOpen);
		navToggle.setAttribute('aria-expanded', String(navOpen));
		if (navOpen) {
			const target = navBox.querySelector('[aria-current="page"]') || navBox.querySelector('button');
			if (target)
				target.focus();
		}
	}

	function setMembers(open) {
		membersOpen = open;
		if (!MEDIUM.matches)
			writePref(MEMBERS_KEY, open);
		render(new Set(['view']));
		if (open && MEDIUM.matches) {
			const first = membersBox.querySelector('button');
			if (first)
				first.focus();
		}
	}

	/* Go somewhere; on a phone the navigation drawer closes. */
	function go(view) {
		navigate(view);
		setNav(false);
	}

	/* Where the header's search looks: the server or DM on screen. */
	function searchContext() {
		const v = store.view;
		if (v.kind === 'server' && v.serverId)
			return {serverId: v.serverId, channelId: v.channelId};
		if (v.kind === 'home' && v.dmId)
			return {dmId: v.dmId};
		return null;
	}

	/*
	 * Go to a search result: its conversation, where the view jumps to
	 * the message (ui/messages.js, jumpTo).
	 */
	function goMessage(ctx, m) {
		messages.jumpTo(keyOfMessage(m), m.id);
		go(m.channel_id ? {kind: 'server', serverId: ctx.serverId, channelId: m.channel_id} :
		    {kind: 'home', dmId: m.dm_channel_id});
	}

	/* Go to a server or DM just joined or opened, and into its message box. */
	function goAndWrite(view) {
		focusComposer = true;
		go(view);
	}

	/* --- drawing ------------------------------------------------------ */

	function render(topics) {
		if (!store.me) {
			replace(title, 'Loading\u2026');
			replace(nav.rail);
			replace(nav.sideBody);
			convBox.hidden = true;
			empty.hidden = false;
			replace(empty, h('p', null, 'Loading\u2026'));
			return;
		}
		if (resolveView())
			topics.add('view');
		const v = store.view;
		const all = topics.has('all') || topics.has('view') || topics.has('me');
		const sid = v.kind === 'server' ? v.serverId : null;
		if (all || topics.has('servers') || topics.has('dms'))
			keepFocus(nav.rail, drawRail);
		if (all || topics.has('servers') || topics.has('dms') || (sid && topics.has(`server:${sid}`))) {
			keepFocus(nav.sideHead, drawSideHead);
			/* A channel that went had focus: the one on screen takes it,
			 * or its message box when it was the one on screen (refocus). */
			keepFocus(nav.sideBody, drawSideBody, lostChannel ? null : '[aria-current="page"]');
		}
		if (all || (topics.has('presence') && store.myStatus !== userbarStatus))
			keepFocus(nav.userbar, drawUserbar);
		if (!all && topics.has('presence') && v.kind === 'home')
			keepFocus(nav.sideBody, drawSideBody);
		if (all || topics.has('status'))
			drawBanner();
		if (all || topics.has('servers') || topics.has('dms') || (sid && topics.has(`server:${sid}`)))
			drawMain();
		else if (topics.has('unread'))
			setTitle(titleBase);
		messages.update(topics);
		members.update(topics);
		if (focusComposer && shown) {
			focusComposer = false;
			messages.focusComposer();
		}
		if (lostChannel) {
			lostChannel = false;
			refocus();
		}
	}

	/*
	 * The channel on screen went and the view moved on: focus goes to
	 * the message box of the channel now shown (or the conversation
	 * area when there is none), unless the user is elsewhere: in a
	 * dialog, or on something of the page that is still there.
	 */
	function refocus() {
		const at = document.activeElement;
		if (document.querySelector('dialog[open]'))
			return;
		if (at && at !== document.body && at.isConnected && !main.contains(at))
			return;
		if (shown)
			messages.focusComposer();
		else
			main.focus();
	}

	/*
	 * Make the view valid (a server or channel that is gone, a channel
	 * still to pick); true if it changed.
	 */
	function resolveView() {
		const v = store.view;
		let next = null;
		if (v.kind === 'server') {
			const s = store.servers.get(v.serverId);
			if (!s) {
				next = {kind: 'home', dmId: null};
			} else if (s.channels && (!v.channelId || !s.channels.has(v.channelId))) {
				lostChannel = !!v.channelId;
				const first = sortedChannels(s)[0];
				const id = s.lastChannel && s.channels.has(s.lastChannel) ? s.lastChannel :
				    first ? first.id : null;
				if (id !== v.channelId)
					next = {kind: 'server', serverId: s.id, channelId: id};
			}
			if (s && s.channels)
				s.lastChannel = (next || v).channelId;
		} else if (v.dmId && !store.dms.has(v.dmId)) {
			next = {kind: 'home', dmId: null};
		}
		if (!next)
			return false;
		store.view = next;
		navigate(next, true);
		return true;
	}

	function drawRail() {
		const v = store.view;
		const dmUnread = [...store.unread].some((k) => k.startsWith('d:'));
		const servers = [...store.servers.values()].sort((a, b) => cmpId(a.id, b.id));
		replace(nav.rail,
		    railButton({label: 'Direct messages', current: v.kind === 'home', unread: dmUnread,
			mentions: dmMentions(store), key: 'home', content: icon('chat'), onclick: () => go({kind: 'home', dmId: lastDm})}),
		    h('div', {class: 'rail-sep', 'aria-hidden': 'true'}),
		    h('ul', {'aria-label': 'Your servers'}, servers.map((s) => h('li', null, railButton({
			label: s.server.name,
			current: v.kind === 'server' && v.serverId === s.id,
			unread: s.channels && [...s.channels.keys()].some((id) => store.unread.has(channelKey(id))),
			mentions: serverMentions(store, s),
			key: `srv-${s.id}`,
			content: initials(s.server.name, 3),
			hue: colourClass(s.id),
			onclick: () => go({kind: 'server', serverId: s.id, channelId: s.lastChannel}),
		})))),
		    railButton({label: 'Add a server', key: 'add', content: icon('plus'), add: true,
			onclick: () => openAddServer({goServer: (id) => goAndWrite({kind: 'server', serverId: id, channelId: null})})}));
	}

	function railButton(o) {
		const label = o.mentions ? `${o.label} (${mentionLabel(o.mentions)})` :
		    o.unread ? `${o.label} (unread)` : o.label;
		return h('button', {type: 'button',
		    class: ['rail-item', o.unread && 'rail-item--unread', o.add && 'rail-item--add', o.hue],
		    'aria-label': label, title: o.label,
		    'aria-current': o.current ? 'page' : null, dataset: {focusKey: o.key}, onclick: o.onclick},
		o.content, o.mentions ? h('span', {class: 'rail-badge', 'aria-hidden': 'true'},
		    countText(o.mentions)) : null);
	}

	/* The mark after a conversation's name: its mention count, or a dot when unread. */
	function unreadMark(key) {
		const rs = readStateOf(store, key);
		if (rs.mention_count > 0)
			return h('span', {class: 'badge-count', 'aria-label': mentionLabel(rs.mention_count)},
			    countText(rs.mention_count));
		return store.unread.has(key) ? h('span', {class: 'badge-dot', 'aria-label': 'unread'}) : null;
	}

	/* The document title: the view's, after the mention count if any. */
	let titleBase = 'sohbet';
	function setTitle(base) {
		titleBase = base;
		const n = totalMentions(store);
		document.title = n > 0 ? `(${countText(n)}) ${base}` : base;
	}

	let lastDm = null;

	function drawSideHead() {
		const v = store.view;
		if (v.kind === 'home') {
			replace(nav.sideHead, h('h2', null, 'Direct messages'));
			return;
		}
		const s = store.servers.get(v.serverId);
		const a = myAccess(s, store.me.id);
		replace(nav.sideHead, h('h2', {title: s.server.name}, s.server.name),
		    a.has('create_invite') ? h('button', {type: 'button', class: 'icon-btn', 'aria-label': 'Invite people',
			title: 'Invite people', dataset: {focusKey: 'invite'}, onclick: () => openInvite(s)},
		    icon('user-plus')) : null,
		    s.ready && canOpenSettings(a) ? h('button', {type: 'button', class: 'icon-btn',
			'aria-label': 'Server settings', title: 'Server settings', dataset: {focusKey: 'settings'},
			onclick: () => openSettings(s, {openProfile: showProfile})}, icon('settings')) : null,
		    s.ready && !a.owner ? h('button', {type: 'button', class: 'icon-btn icon-btn--danger',
			'aria-label': 'Leave server', title: 'Leave server', dataset: {focusKey: 'leave'},
			onclick: () => leaveServer(s)}, icon('leave')) : null);
	}

	function drawSideBody() {
		const v = store.view;
		if (v.kind === 'home') {
			const dms = [...store.dms.values()].sort((a, b) => cmpId(b.id, a.id));
			replace(nav.sideBody,
			    h('div', {class: 'side-section'}, h('span', {id: 'dm-head'}, 'Conversations'),
				h('button', {type: 'button', class: 'icon-btn', 'aria-label': 'New direct message',
				    title: 'New direct message', dataset: {focusKey: 'new-dm'},
				    onclick: () => openNewMessage({goDm: (dm) => goAndWrite({kind: 'home', dmId: dm.id})})},
				icon('plus'))),
			    dms.length === 0 ? h('p', {class: 'side-empty'},
				'No conversations yet. Open someone\u2019s profile from a member list or a message to write to them.') :
				h('ul', {class: 'side-list', 'aria-labelledby': 'dm-head'}, dms.map((dm) => {
				    const unread = store.unread.has(dmKey(dm.id));
				    return h('li', null, h('button', {type: 'button',
					class: ['side-item', unread && 'side-item--unread'],
					'aria-current': v.dmId === dm.id ? 'page' : null,
					dataset: {focusKey: `dm-${dm.id}`},
					onclick: () => go({kind: 'home', dmId: dm.id})},
				    h('span', {class: ['avatar', colourClass(dm.recipient.id)], 'aria-hidden': 'true'},
					initials(dm.recipient.username), presenceDot(presenceOf(store, dm.recipient.id,
					    dm.recipient.presence))),
				    h('span', {class: 'name'}, dm.recipient.username),
				    presenceText(presenceOf(store, dm.recipient.id, dm.recipient.presence)),
				    unreadMark(dmKey(dm.id))));
				})));
			return;
		}
		const s = store.servers.get(v.serverId);
		if (!s.channels) {
			replace(nav.sideBody, h('p', {class: 'side-empty'}, 'Loading\u2026'));
			return;
		}
		const a = myAccess(s, store.me.id);
		const channels = sortedChannels(s);
		replace(nav.sideBody,
		    h('div', {class: 'side-section'}, h('span', {id: 'ch-head'}, 'Text channels'),
			a.has('manage_channels') ? h('button', {type: 'button', class: 'icon-btn',
			    'aria-label': 'Create channel', title: 'Create channel', dataset: {focusKey: 'new-channel'},
			    onclick: () => openCreateChannel(s, {goChannel: (id) =>
				goAndWrite({kind: 'server', serverId: s.id, channelId: id})})},
			icon('plus')) : null),
		    channels.length === 0 ? h('p', {class: 'side-empty'}, noChannels(a)) :
			h('ul', {class: 'side-list', 'aria-labelledby': 'ch-head'}, channels.map((c) => {
			    const unread = store.unread.has(channelKey(c.id));
			    return h('li', {class: 'side-row'}, h('button', {type: 'button',
				class: ['side-item', unread && 'side-item--unread'],
				'aria-current': v.channelId === c.id ? 'page' : null,
				dataset: {focusKey: `ch-${c.id}`},
				onclick: () => go({kind: 'server', serverId: s.id, channelId: c.id})},
			    channelIcon(s, c), h('span', {class: 'name'}, c.name),
			    unreadMark(channelKey(c.id))),
			    s.ready && canOpenChannelSettings(myChannelAccess(s, store.me.id, c)) ?
				h('button', {type: 'button', class: 'icon-btn side-edit',
				    'aria-label': `Edit channel ${c.name}`, title: 'Edit channel',
				    dataset: {focusKey: `ch-edit-${c.id}`},
				    onclick: () => openChannelSettings(s, c.id)}, icon('settings')) : null);
			})));
	}

	/* Why a server's channel list is empty, for a user with access a. */
	function noChannels(a) {
		if (a.has('administrator'))
			return 'This server has no channels yet.';
		return 'There is no channel here you can see.';
	}

	function drawUserbar() {
		const me = store.me;
		userbarStatus = store.myStatus;
		replace(nav.userbar,
		    h('span', {class: ['avatar', colourClass(me.id)], 'aria-hidden': 'true'}, initials(me.username),
			presenceDot(store.myStatus)),
		    h('div', {class: 'who-status'},
			h('span', {class: 'who', title: me.username}, me.username), statusMenu()),
		    h('button', {type: 'button', class: 'icon-btn', 'aria-label': 'My account', title: 'My account',
			onclick: () => openAccount({signOutAll: hooks.signOutAll})}, icon('user')),
		    h('button', {type: 'button', class: 'icon-btn', 'aria-label': 'Sign out', title: 'Sign out',
			onclick: hooks.signOut}, icon('logout')));
	}

	function drawBanner() {
		if (store.status === 'offline') {
			banner.hidden = false;
			replace(banner, h('span', null, store.browserOffline ?
			    'You are offline. Messages you send will go when the connection is back.' :
			    'Connection lost; reconnecting\u2026'),
			    h('button', {type: 'button', class: 'btn btn--link', onclick: hooks.retryNow}, 'Retry now'));
		} else {
			banner.hidden = true;
		}
	}

	/* The header, the conversation or an empty state, the member list. */
	function drawMain() {
		const v = store.view;
		const before = shown;
		let key = null;
		let ctx = null;
		let showMembers = false;
		if (v.kind === 'server') {
			const s = store.servers.get(v.serverId);
			const c = s.channels && v.channelId ? s.channels.get(v.channelId) : null;
			showMembers = true;
			if (c) {
				key = channelKey(c.id);
				ctx = {serverId: s.id, label: `#${c.name}`,
				    intro: {title: `Welcome to #${c.name}!`, text: `This is the start of the #${c.name} channel.`}};
				replace(title, channelIcon(s, c), h('span', {class: 'name'}, c.name));
				setTitle(`#${c.name} \u00b7 ${s.server.name} \u2014 sohbet`);
			} else {
				replace(title, h('span', {class: 'name'}, s.server.name));
				setTitle(`${s.server.name} \u2014 sohbet`);
				showEmpty(s.channels ? h('div', null, h('h2', null, 'No channels'),
				    h('p', null, noChannels(myAccess(s, store.me.id)))) :
				    h('p', null, 'Loading\u2026'));
			}
			members.show(s.id);
		} else {
			const dm = v.dmId ? store.dms.get(v.dmId) : null;
			lastDm = dm ? dm.id : lastDm && store.dms.has(lastDm) ? lastDm : null;
			if (dm) {
				key = dmKey(dm.id);
				ctx = {serverId: null, label: `@${dm.recipient.username}`,
				    intro: {title: dm.recipient.username,
					text: `This is the beginning of your direct messages with ${dm.recipient.username}.`}};
				replace(title, icon('chat'), h('span', {class: 'name'}, dm.recipient.username));
				setTitle(`@${dm.recipient.username} \u2014 sohbet`);
			} else {
				replace(title, h('span', {class: 'name'}, 'Direct messages'));
				setTitle('sohbet');
				showEmpty(homeEmpty());
			}
			members.show(null);
		}
		if (key) {
			convBox.hidden = false;
			empty.hidden = true;
			messages.show(key, ctx);
			shown = key;
		}
		pinsToggle.hidden = !key;
		skip.hidden = !key;
		if (key !== before)
			pinsToggle.setAttribute('aria-pressed', 'false');
		membersToggle.hidden = !showMembers;
		membersToggle.setAttribute('aria-pressed', String(showMembers && membersOpen));
		membersBox.hidden = !(showMembers && membersOpen);
		app.classList.toggle('app--members', showMembers && membersOpen);
	}

	function showEmpty(content) {
		convBox.hidden = true;
		empty.hidden = false;
		replace(empty, content);
		shown = null;
	}

	function homeEmpty() {
		return [h('h2', null, store.servers.size === 0 ? 'Welcome to sohbet' : 'No conversation open'),
		    h('p', null, store.servers.size === 0 ?
			'Create a server or join one with an invite to start talking.' :
			'Pick a conversation, or open someone\u2019s profile from a member list or a message ' +
			'and choose \u201cSend message\u201d.'),
		    h('div', {class: 'row'},
			h('button', {type: 'button', class: 'btn', onclick: () =>
			    openAddServer({goServer: (id) => goAndWrite({kind: 'server', serverId: id, channelId: null})})},
			'Add a server'),
			h('button', {type: 'button', class: 'btn btn--secondary', onclick: () =>
			    openNewMessage({goDm: (dm) => goAndWrite({kind: 'home', dmId: dm.id})})}, 'New message'))];
	}

	return {
		destroy() {
			unsubscribe();
			document.removeEventListener('keydown', onKey);
			NARROW.removeEventListener('change', onResize);
			MEDIUM.removeEventListener('change', onResize);
		},
		refresh: () => notify('view'),
		get shown() {
			return shown;
		},
	};
}

/*
 * Run draw(), which rebuilds container, and give focus back to the
 * element with the same data-focus-key if one inside had it; when that
 * one is gone, to the element fallback (a selector) names, if given.
 */
function keepFocus(container, draw, fallback) {
	const active = document.activeElement;
	const key = active && container.contains(active) ? active.dataset.focusKey : null;
	draw();
	if (key) {
		const again = container.querySelector(`[data-focus-key="${CSS.escape(key)}"]`) ||
		    (fallback ? container.querySelector(fallback) : null);
		if (again)
			again.focus();
	}
}

function readPref(key, fallback) {
	try {
		const v = localStorage.getItem(key);
		return v === null ? fallback : v === '1';
	} catch {
		return fallback;
	}
}

function writePref(key, value) {
	try {
		localStorage.setItem(key, value ? '1' : '0');
	} catch {
		/* no storage: the default again next time */
	}
}
