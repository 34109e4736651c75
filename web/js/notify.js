/* SPDX-License-Identifier: ISC */
/*
 * notify.js: desktop notifications of mentions and direct messages while
 * the tab is hidden, and whether the user looks at the page
 * (store.attending, which decides whether a new message in the open
 * conversation counts as read).
 *
 * Notifications are off until the user turns them on in My account
 * (the browser's permission is asked for then, on that click); the
 * choice is kept in localStorage.
 */

import {store, notify, displayName, serverOfChannel} from './store.js';
import {navigate} from './router.js';

const PREF_KEY = 'sohbet.notifications';

/* Whether the browser can show notifications at all. */
export function notificationsSupported() {
	return typeof Notification !== 'undefined';
}

/* Whether the user turned notifications on (and the browser allows them). */
export function notificationsOn() {
	return notificationsSupported() && Notification.permission === 'granted' &&
	    localStorage.getItem(PREF_KEY) === 'on';
}

/*
 * Turn notifications on or off; on asks the browser's permission (call
 * it from a click). Resolves whether they are on now.
 */
export async function setNotifications(on) {
	if (!on || !notificationsSupported()) {
		localStorage.setItem(PREF_KEY, 'off');
		return false;
	}
	const permission = Notification.permission === 'default' ?
	    await Notification.requestPermission() : Notification.permission;
	localStorage.setItem(PREF_KEY, permission === 'granted' ? 'on' : 'off');
	return permission === 'granted';
}

/* Show a notification for message m of conversation key, if wanted now. */
export function notifyMention(key, m) {
	if (!notificationsOn() || !document.hidden)
		return;
	const s = m.channel_id ? serverOfChannel(store, m.channel_id) : null;
	const c = s && s.channels.get(m.channel_id);
	const who = displayName(s ? s.id : null, m.author);
	const title = c ? `${who} in #${c.name} (${s.server.name})` : who;
	const n = new Notification(title, {body: m.content.slice(0, 200), tag: key});
	n.onclick = () => {
		window.focus();
		navigate(c ? {kind: 'server', serverId: s.id, channelId: c.id} :
		    {kind: 'home', dmId: m.dm_channel_id});
		n.close();
	};
}

/* Set store.attending: the page is visible and has the focus. */
export function refreshAttention() {
	const now = document.visibilityState === 'visible' && document.hasFocus();
	if (now !== store.attending) {
		store.attending = now;
		notify('attending');
	}
}

/* Keep store.attending up to date from now on. */
export function watchAttention() {
	document.addEventListener('visibilitychange', refreshAttention);
	window.addEventListener('focus', refreshAttention);
	window.addEventListener('blur', refreshAttention);
	refreshAttention();
}
