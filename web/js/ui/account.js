/* SPDX-License-Identifier: ISC */
/*
 * account.js: the user's own account: username, email, password. A
 * password change revokes every session; the answer carries new tokens
 * (docs/api.md, PATCH /users/@me) so this one stays signed in. Also
 * what this browser keeps: desktop notifications, the theme.
 */

import {api, setSession} from '../api.js';
import {h} from '../dom.js';
import {store, notify} from '../store.js';
import {notificationsSupported, notificationsOn, setNotifications} from '../notify.js';
import {openDialog, toast, field, showFormError} from './dialog.js';
import {THEMES, chosenTheme, chooseTheme} from '../theme.js';

const THEME_LABELS = {system: 'As the system', light: 'Light', dark: 'Dark'};

/* The theme's choice: as the system, light or dark, applied at once. */
function themeChoice() {
	const now = chosenTheme();
	return h('fieldset', {class: 'section'}, h('legend', {class: 'label'}, 'Theme'),
	    h('div', {class: 'row'}, THEMES.map((t) => h('label', {class: 'check'},
		h('input', {type: 'radio', name: 'theme', value: t, checked: t === now,
		    onchange: () => chooseTheme(t)}),
		h('span', null, THEME_LABELS[t])))));
}

/*
 * The switch of desktop notifications (mentions and direct messages while
 * the tab is hidden); turning it on asks the browser's permission.
 */
function notificationSwitch() {
	if (!notificationsSupported())
		return h('p', {class: 'hint'}, 'This browser cannot show desktop notifications.');
	const box = h('input', {type: 'checkbox', checked: notificationsOn(), onchange: async () => {
		const wanted = box.checked;
		const on = await setNotifications(wanted);
		box.checked = on;
		if (wanted && !on)
			toast('The browser does not allow notifications for this site.', 'error');
	}});
	return h('label', {class: 'check'}, box,
	    h('span', null, 'Desktop notifications for mentions and direct messages while this tab is hidden'));
}

/* Open the account dialog. hooks: signOutAll(). */
export function openAccount(hooks) {
	const me = store.me;
	const username = field('Username', {name: 'username', required: true, minlength: 2, maxlength: 32,
	    value: me.username, autocomplete: 'username', autocapitalize: 'off', spellcheck: 'false'});
	const email = field('Email', {name: 'email', type: 'email', required: true, value: me.email || '',
	    autocomplete: 'email'});
	const password = field('New password (leave empty to keep it)', {name: 'password', type: 'password',
	    minlength: 8, maxlength: 128, autocomplete: 'new-password'});
	const current = field('Current password (needed to change email or password)', {
		name: 'current_password', type: 'password', autocomplete: 'current-password'});
	const general = h('div', {class: 'form-error', role: 'alert'});
	const submit = h('button', {type: 'submit', class: 'btn'}, 'Save');
	const form = h('form', {onsubmit: async (e) => {
		e.preventDefault();
		const body = {};
		if (username.input.value.trim() !== me.username)
			body.username = username.input.value.trim();
		if (email.input.value.trim() !== (me.email || ''))
			body.email = email.input.value.trim();
		if (password.input.value !== '')
			body.password = password.input.value;
		if (Object.keys(body).length === 0) {
			d.close();
			return;
		}
		if (current.input.value !== '')
			body.current_password = current.input.value;
		submit.disabled = true;
		try {
			const r = await api.patch('/users/@me', body);
			if (r.access_token)
				setSession(r);
			store.me = {id: r.id, username: r.username, email: r.email,
			    created_at: r.created_at, updated_at: r.updated_at};
			notify('me');
			toast(body.password ? 'Password changed; other sessions were signed out.' : 'Account saved.');
			d.close();
		} catch (err) {
			if (err.code === 'invalid_credentials') {
				err.field = 'current_password';
				err.message = 'The current password is wrong.';
			} else if (err.code === 'username_taken') {
				err.field = 'username';
				err.message = 'That username is taken.';
			} else if (err.code === 'email_taken') {
				err.field = 'email';
				err.message = 'An account with that email exists already.';
			}
			showFormError(err, general, {username, email, password, current_password: current});
			submit.disabled = false;
		}
	}}, username.wrap, email.wrap, password.wrap, current.wrap, general, notificationSwitch(),
	themeChoice(),
	h('div', {class: 'row'},
	    h('button', {type: 'button', class: 'btn btn--secondary', onclick: () => {
		d.close();
		hooks.signOutAll();
	    }}, 'Sign out everywhere'),
	    h('span', {class: 'grow'}),
	    submit));
	const d = openDialog({title: 'My account', body: form});
}
