/* SPDX-License-Identifier: ISC */
/*
 * main.js: start-up. Shows the sign-in screen or, with a stored session,
 * the chat; follows the location hash; starts and stops the event loop
 * with the session.
 */

import {hasSession, onSessionEnd, signOut, api} from './api.js';
import {startEvents} from './events.js';
import {parseHash, navigate, hashOf} from './router.js';
import {store, notify, resetStore} from './store.js';
import {loadAll, applyEvents, onServerLeft, onLoadError, onMention} from './load.js';
import {retryUnsent} from './send.js';
import {notifyMention, watchAttention, refreshAttention} from './notify.js';
import {showAuth} from './ui/auth.js';
import {mountShell} from './ui/shell.js';
import {openJoin} from './ui/servers.js';
import {toast, errorText, confirmDialog} from './ui/dialog.js';
import {loadStatus, startIdleWatch} from './ui/presence.js';

const root = document.getElementById('root');
let shell = null;
let events = null;
let stopIdle = null;
let loaded = false;
/* An invite code from the URL, offered once the state is loaded. */
let pendingInvite = null;

const END_REASONS = {
	signed_out: null,
	signed_out_elsewhere: 'You signed out in another tab.',
	token_reused: 'Your session was ended for safety (a sign-in token was used twice). Please sign in again.',
	invalid_token: 'Your session has expired. Please sign in again.',
	revoked: 'You were signed out: this account chose \u201cSign out everywhere\u201d or changed its ' +
	    'password on another device. Please sign in again.',
	unauthorized: 'Your session has ended. Please sign in again.',
};

function boot() {
	onSessionEnd((reason) => {
		stopApp();
		showSignIn(reason in END_REASONS ? END_REASONS[reason] : END_REASONS.unauthorized);
	});
	onServerLeft((id, name) => toast(`You are no longer a member of ${name}.`));
	onLoadError((e) => toast(errorText(e), 'error'));
	onMention(notifyMention);
	watchAttention();
	window.addEventListener('hashchange', route);
	if (hasSession())
		startApp();
	else
		showSignIn(null);
}

function showSignIn(notice) {
	const target = parseHash(location.hash);
	if (target.kind === 'invite') {
		pendingInvite = target.code;
		notice = notice || 'Sign in or create an account to accept your invite.';
	}
	showAuth(root, {notice, mode: target.kind === 'invite' ? 'register' : 'login', onDone: startApp});
}

function startApp() {
	stopApp();
	resetStore();
	refreshAttention();
	loaded = false;
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

function stopApp() {
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

boot();
