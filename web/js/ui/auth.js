/* SPDX-License-Identifier: ISC */
/*
 * auth.js: the sign-in and registration screen.
 */

import {login, register} from '../api.js';
import {h, replace} from '../dom.js';
import {field, showFormError} from './dialog.js';

/* Answers worth a better sentence than the server's. */
const MESSAGES = {
	invalid_credentials: {field: null, message: 'Wrong username, email or password.'},
	username_taken: {field: 'username', message: 'That username is taken.'},
	email_taken: {field: 'email', message: 'An account with that email exists already.'},
};

/*
 * Draw the screen into root. opts: notice (text shown above the form),
 * mode ("login" or "register"), onDone() once signed in.
 */
export function showAuth(root, opts) {
	let mode = opts.mode || 'login';
	const card = h('main', {class: 'auth-card'});
	replace(root, h('div', {class: 'auth'}, card));
	document.title = 'sohbet';

	function draw() {
		const isLogin = mode === 'login';
		const general = h('div', {class: 'form-error', role: 'alert'});
		const fields = {};
		if (isLogin) {
			fields.login = field('Username or email', {name: 'login', autocomplete: 'username',
			    required: true, autocapitalize: 'off', spellcheck: 'false'});
			fields.password = field('Password', {name: 'password', type: 'password',
			    autocomplete: 'current-password', required: true});
		} else {
			fields.username = field('Username', {name: 'username', autocomplete: 'username',
			    required: true, minlength: 2, maxlength: 32, pattern: '[A-Za-z0-9_.\\-]+',
			    autocapitalize: 'off', spellcheck: 'false',
			    title: '2 to 32 letters, digits, _ . or -'});
			fields.email = field('Email', {name: 'email', type: 'email', autocomplete: 'email',
			    required: true});
			fields.password = field('Password', {name: 'password', type: 'password',
			    autocomplete: 'new-password', required: true, minlength: 8, maxlength: 128});
			fields.password.wrap.appendChild(h('div', {class: 'hint', text: 'At least 8 characters.'}));
		}
		const submit = h('button', {type: 'submit', class: 'btn'},
		    isLogin ? 'Sign in' : 'Create account');
		const form = h('form', {onsubmit: onSubmit},
		    Object.values(fields).map((f) => f.wrap), general, submit);

		async function onSubmit(e) {
			e.preventDefault();
			submit.disabled = true;
			try {
				if (isLogin) {
					await login(fields.login.input.value.trim(), fields.password.input.value);
				} else {
					await register(fields.username.input.value.trim(),
					    fields.email.input.value.trim(), fields.password.input.value);
				}
				opts.onDone();
			} catch (err) {
				const known = MESSAGES[err.code];
				if (known) {
					err.field = known.field;
					err.message = known.message;
				}
				showFormError(err, general, fields);
				submit.disabled = false;
			}
		}

		replace(card,
		    h('h1', {text: isLogin ? 'Welcome back' : 'Create an account'}),
		    h('p', {class: 'sub', text: isLogin ? 'Sign in to sohbet.' : 'Join sohbet in a few seconds.'}),
		    opts.notice ? h('p', {class: 'notice', role: 'status', text: opts.notice}) : null,
		    form,
		    h('p', {class: 'auth-switch'},
			isLogin ? 'Need an account? ' : 'Already have an account? ',
			h('button', {type: 'button', class: 'btn btn--link', onclick: () => {
				mode = isLogin ? 'register' : 'login';
				draw();
			}}, isLogin ? 'Register' : 'Sign in')));
		Object.values(fields)[0].input.focus();
	}
	draw();
}
