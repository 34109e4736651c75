/* SPDX-License-Identifier: ISC */
/*
 * servers.js: the dialogs around servers: create one, join one by invite,
 * invite people, leave; and starting a DM by user id.
 */

import {api, seg} from '../api.js';
import {h, icon, fullTime} from '../dom.js';
import {inviteLink, parseInvite} from '../router.js';
import {store} from '../store.js';
import {createServer, joinInvite, openDm} from '../send.js';
import {openDialog, confirmDialog, errorText, toast, field, showFormError} from './dialog.js';
import {copy} from './profile.js';

/* "Add a server": create one or join one. hooks: goServer(id). */
export function openAddServer(hooks) {
	const d = openDialog({
		title: 'Add a server',
		body: [
			h('p', {text: 'Start your own server, or join one with an invite.'}),
			h('div', {class: 'choice-grid'},
			    h('button', {type: 'button', class: 'choice', onclick: () => {
				d.close();
				openCreateServer(hooks);
			    }}, h('strong', null, 'Create a server'), h('span', null, 'You will be its owner.')),
			    h('button', {type: 'button', class: 'choice', onclick: () => {
				d.close();
				openJoin(hooks, '');
			    }}, h('strong', null, 'Join a server'), h('span', null, 'With an invite link or code.'))),
		],
	});
}

/* Create a server. */
export function openCreateServer(hooks) {
	const name = field('Server name', {name: 'name', required: true, maxlength: 100,
	    value: `${store.me.username}'s server`, autocomplete: 'off'});
	const general = h('div', {class: 'form-error', role: 'alert'});
	const submit = h('button', {type: 'submit', class: 'btn'}, 'Create');
	const form = h('form', {onsubmit: async (e) => {
		e.preventDefault();
		submit.disabled = true;
		try {
			const s = await createServer(name.input.value.trim());
			d.close();
			hooks.goServer(s.id);
		} catch (err) {
			showFormError(err, general, {name});
			submit.disabled = false;
		}
	}}, name.wrap, general, h('div', {class: 'row row--end'}, submit));
	const d = openDialog({title: 'Create a server', body: form});
	name.input.select();
}

/*
 * Join by invite: shows a preview of the server once a code is there.
 * code: a code to start with ('' for none).
 */
export function openJoin(hooks, code) {
	const f = field('Invite link or code', {name: 'code', required: true, autocomplete: 'off',
	    autocapitalize: 'off', spellcheck: 'false', placeholder: `${location.origin}/#invite/AbC123xyz`});
	f.input.value = code;
	/* The preview's box keeps its size, so nothing moves under the pointer
	 * when a preview comes in. */
	const hint = 'The server you are invited to shows here.';
	const preview = h('p', {class: 'notice invite-preview', 'aria-live': 'polite'}, hint);
	const general = h('div', {class: 'form-error', role: 'alert'});
	const submit = h('button', {type: 'submit', class: 'btn'}, 'Join server');
	let previewed = null;
	const form = h('form', {onsubmit: async (e) => {
		e.preventDefault();
		const c = parseInvite(f.input.value);
		if (!c) {
			showFormError({field: 'code', message: 'That is not an invite link or code.'}, general, {code: f});
			return;
		}
		submit.disabled = true;
		try {
			const s = await joinInvite(c);
			d.close();
			toast(`You joined ${s.server.name}.`);
			hooks.goServer(s.id);
		} catch (err) {
			if (err.code === 'not_found')
				err.message = 'This invite is invalid, expired or used up.';
			showFormError(err, general);
			submit.disabled = false;
		}
	}}, f.wrap, preview, general, h('div', {class: 'row row--end'}, submit));
	const d = openDialog({title: 'Join a server', body: form});

	async function showPreview() {
		const c = parseInvite(f.input.value);
		if (!c || c === previewed)
			return;
		previewed = c;
		try {
			const inv = await api.get(`/invites/${seg(c)}`);
			if (previewed !== c)
				return;
			const member = store.servers.has(inv.server.id);
			preview.replaceChildren(`${inv.inviter.username} invites you to `,
			    h('strong', null, inv.server.name), member ? ' (you are a member already).' : '.');
		} catch (e) {
			if (previewed === c) {
				preview.replaceChildren(e.code === 'not_found' ?
				    'This invite is invalid, expired or used up.' : hint);
			}
		}
	}
	let timer = 0;
	f.input.addEventListener('input', () => {
		clearTimeout(timer);
		timer = setTimeout(showPreview, 400);
	});
	f.input.addEventListener('change', showPreview);
	if (code)
		showPreview();
}

const AGES = [[1800, '30 minutes'], [3600, '1 hour'], [21600, '6 hours'], [43200, '12 hours'],
	[86400, '1 day'], [604800, '7 days'], [0, 'Never']];
const USES = [[0, 'No limit'], [1, '1 use'], [5, '5 uses'], [10, '10 uses'], [25, '25 uses'],
	[50, '50 uses'], [100, '100 uses']];

/* Invite people to server entry s: makes a link at once. */
export function openInvite(s) {
	const link = h('input', {readonly: true, 'aria-label': 'Invite link', class: 'invite-link'});
	const codeOut = h('span', {class: 'mono invite-code'});
	const status = h('div', {class: 'form-error', role: 'alert'});
	const age = select('Expire after', AGES, 86400);
	const uses = select('Maximum number of uses', USES, 0);
	const again = h('button', {type: 'button', class: 'btn btn--secondary btn--small', onclick: make},
	    'New link with these settings');
	const d = openDialog({
		title: `Invite people to ${s.server.name}`,
		body: [
			h('p', {text: 'Share this link. Whoever opens it (signed in) can join.'}),
			h('div', {class: 'code-box'}, link,
			    h('button', {type: 'button', class: 'btn btn--small', onclick: () => copy(link.value)},
				icon('copy'), 'Copy')),
			h('p', {class: 'hint'}, 'Code: ', codeOut),
			status,
			h('div', {class: 'row'}, age.wrap, uses.wrap),
			again,
		],
	});
	make();

	async function make() {
		again.disabled = true;
		status.textContent = '';
		try {
			const inv = await api.post(`/servers/${seg(s.id)}/invites`, {
				max_age: Number(age.input.value),
				max_uses: Number(uses.input.value),
			});
			link.value = inviteLink(inv.code);
			codeOut.textContent = inv.code;
			link.dataset.code = inv.code;
			const parts = [];
			parts.push(inv.expires_at ? `expires ${fullTime(inv.expires_at)}` : 'never expires');
			parts.push(inv.max_uses ? `${inv.max_uses} uses` : 'no use limit');
			codeOut.title = parts.join(', ');
			link.focus();
			link.select();
		} catch (e) {
			status.textContent = errorText(e);
		}
		again.disabled = false;
	}
	return d;
}

function select(label, options, value) {
	const f = field(label, {tag: 'select', name: label});
	for (const [v, text] of options)
		f.input.appendChild(h('option', {value: String(v), selected: v === value}, text));
	f.wrap.classList.add('grow');
	return f;
}

/* Leave server entry s (not its owner). */
export async function leaveServer(s) {
	const ok = await confirmDialog({
		title: `Leave ${s.server.name}`,
		message: `Leave ${s.server.name}? You need a new invite to come back.`,
		confirm: 'Leave server',
		danger: true,
	});
	if (!ok)
		return;
	try {
		await api.del(`/servers/${seg(s.id)}/members/@me`);
		/* The member.leave event removes it from the list. */
	} catch (e) {
		toast(errorText(e), 'error');
	}
}

/* Start a DM with someone by user id (there is no user search). */
export function openNewDm(hooks) {
	const f = field('User ID', {name: 'user_id', required: true, inputmode: 'numeric',
	    pattern: '[0-9]{1,20}', autocomplete: 'off'});
	f.wrap.appendChild(h('div', {class: 'hint'},
	    'Find it on their profile (click their name in a member list or on a message).'));
	const general = h('div', {class: 'form-error', role: 'alert'});
	const form = h('form', {onsubmit: async (e) => {
		e.preventDefault();
		const id = f.input.value.trim();
		try {
			const user = await api.get(`/users/${seg(id)}`);
			const dm = await openDm(user.id);
			d.close();
			hooks.goDm(dm);
		} catch (err) {
			if (err.code === 'not_found' || err.code === 'invalid_id')
				err.message = 'There is no user with that ID.';
			if (err.code === 'validation_failed')
				err.message = 'That is you.';
			showFormError(err, general);
		}
	}}, f.wrap, general, h('div', {class: 'row row--end'},
	    h('button', {type: 'submit', class: 'btn'}, 'Open conversation')));
	const d = openDialog({title: 'New direct message', body: form});
}
