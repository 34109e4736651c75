/* SPDX-License-Identifier: ISC */
/*
 * app.js: the signed-in app, loaded by main.js once there is a session
 * (the sign-in screen needs none of it): the state, the event loop, the
 * shell; the location hash followed; sign out.
 */

import {signOut, api} from './api.js';
import {startEvents} from './events.js';
import {parseHash, navigate, hashOf} from './router.js';
import {store, notify, resetStore} from './store.js';
import {loadAll, applyEvents, onServerLeft, onLoadError, onMention} from './load.js';
import {retryUnsent} from './send.js';
import {notifyMention, watchAttention, refreshAttention} from './notify.js';
import {mountShell} from './ui/shell.js';
import {openJoin} from './ui/servers.js';
import {toast, errorText, confirmDialog} from './ui/dialog.js';
import {loadStatus, startIdleWatch} from './ui/presence.js';

let shell = null;
let events = null;
let stopIdle = null;
let loaded = false;
/* An invite code from the URL, offered once the state is loaded. */
let pendingInvite = null;

onServerLeft((id, name) => toast(`You are no longer a member of ${name}.`));
onLoadError((e) => toast(errorText(e), 'error'));
onMention(notifyMention);
watchAttention();

/* Start the app in root; invite: a code to offer once loaded, or null. */
export function startApp(root, invite) {
	stopApp();
	pendingInvite = invite;
	resetStore();
	refreshAttention();
	loaded = false;
	window.addEventListener('hashchange', route);
	route();
	shell = mountShell(root, {
		signOut: askSignOut,
		signOutAll: doSignOutAll,
		retryNow: () => events && events.retryNow(),
	});
	loadStatus();
	stopIdle = startIdleWatch();
	events = startEvents({
		reset: async () => {
			await loadAll();
			if (!loaded) {
				loaded = true;
				offerInvite();
			}
		},
		apply: applyEvents,
		status: (s, detail) => {
			const offline = !!(detail && detail.browserOffline) || !navigator.onLine;
			if (store.status !== s || (s === 'offline' && store.browserOffline !== offline)) {
				store.status = s;
				store.browserOffline = s === 'offline' && offline;
				notify('status');
			}
		},
		reconnected: retryUnsent,
	});
}

/* Stop everything the app runs (the session ended). */
export function stopApp() {
	window.removeEventListener('hashchange', route);
	if (stopIdle) {
		stopIdle();
		stopIdle = null;
	}
	if (events) {
		events.stop();
		events = null;
	}
	if (shell) {
		shell.destroy();
		shell = null;
	}
	for (const d of document.querySelectorAll('dialog'))
		d.remove();
	resetStore();
}

/* Follow the location hash. */
function route() {
	const target = parseHash(location.hash);
	if (target.kind === 'invite') {
		pendingInvite = target.code;
		/* Keep what was on screen; the invite is a dialog over it. */
		history.replaceState(null, '', hashOf(store.view));
		if (loaded)
			offerInvite();
		return;
	}
	store.view = target;
	notify('view');
}

function offerInvite() {
	if (!pendingInvite)
		return;
	const code = pendingInvite;
	pendingInvite = null;
	openJoin({goServer: (id) => navigate({kind: 'server', serverId: id, channelId: null})}, code);
}

async function askSignOut() {
	const ok = await confirmDialog({
		title: 'Sign out',
		message: 'Sign out of sohbet in this browser? Messages that are still sending are lost.',
		confirm: 'Sign out',
	});
	if (ok)
		signOut();
}

async function doSignOutAll() {
	const ok = await confirmDialog({
		title: 'Sign out everywhere',
		message: 'Sign out of sohbet on every device and browser, this one included?',
		confirm: 'Sign out everywhere',
		danger: true,
	});
	if (!ok)
		return;
	try {
		await api.post('/auth/logout-all');
	} catch (e) {
		toast(errorText(e), 'error');
		return;
	}
	signOut();
}
