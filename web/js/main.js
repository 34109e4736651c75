/* SPDX-License-Identifier: ISC */
/*
 * main.js: start-up. Shows the sign-in screen or, with a stored session,
 * the app (app.js, loaded only then: the sign-in screen needs a handful
 * of small modules, not the whole client), and the sign-in screen again
 * with the reason when the session ends.
 */

import {hasSession, onSessionEnd} from './api.js';
import {parseHash} from './router.js';
import {showAuth} from './ui/auth.js';
import {applyTheme} from './theme.js';

const root = document.getElementById('root');
let app = null;		/* app.js, once loaded */

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
	applyTheme();
	onSessionEnd((reason) => {
		if (app)
			app.stopApp();
		showSignIn(reason in END_REASONS ? END_REASONS[reason] : END_REASONS.unauthorized);
	});
	if (hasSession())
		startApp();
	else
		showSignIn(null);
}

/* The invite code the location hash names, or null. */
function inviteInHash() {
	const target = parseHash(location.hash);
	return target.kind === 'invite' ? target.code : null;
}

function showSignIn(notice) {
	const invite = inviteInHash();
	if (invite)
		notice = notice || 'Sign in or create an account to accept your invite.';
	showAuth(root, {notice, mode: invite ? 'register' : 'login', onDone: startApp});
}

/* Load the app (once) and start it, with the invite the hash names. */
async function startApp() {
	const invite = inviteInHash();
	try {
		app = app || await import('./app.js');
	} catch (e) {
		console.error('sohbet: the app did not load', e);
		showSignIn('sohbet could not be loaded; check the connection and reload the page.');
		return;
	}
	app.startApp(root, invite);
}

boot();
