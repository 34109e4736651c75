/* SPDX-License-Identifier: ISC */
/*
 * profile.js: the card of a user, opened from the member list or a
 * message's author: who they are, a button to message them directly, and
 * for those allowed, their nickname, their roles, a kick and a ban.
 */

import {api, seg} from '../api.js';
import {dateOnly, h, icon, initials, colourClass} from '../dom.js';
import {myAccess, outranks, canManageRole} from '../perm.js';
import {store, displayName, sortedRoles, cmpId} from '../store.js';
import {applyToStore} from '../load.js';
import {openDm} from '../send.js';
import {openDialog, confirmDialog, errorText, toast, field, showFormError} from './dialog.js';
import {openBanDialog} from './ban.js';

/*
 * Open the card of user (at least {id, username}); serverId names the
 * server it was opened in (or null). hooks: goDm(dm).
 */
export async function openProfile(user, serverId, hooks) {
	const s = serverId ? store.servers.get(serverId) : null;
	const meId = store.me.id;
	let member = null;
	if (s) {
		member = (s.members && s.members.get(user.id)) ||
		    (user.id === meId ? s.me : null);
		if (!member) {
			try {
				member = await api.get(`/servers/${seg(s.id)}/members/${seg(user.id)}`);
			} catch (e) {
				if (e.status !== 404)
					toast(errorText(e), 'error');
				member = null;	/* not a member any more */
			}
		}
	}
	const d = openDialog({title: 'Profile', body: []});
	draw();

	function draw() {
		const focused = document.activeElement;
		const keep = focused && d.el.contains(focused) ? focused.dataset.focusKey : null;
		d.setBody(content());
		if (keep) {
			const again = d.el.querySelector(`[data-focus-key="${keep}"]`);
			if (again)
				again.focus();
		}
	}

	function content() {
		const name = s && member ? displayName(s.id, member.user) : user.username;
		const out = [
			h('div', {class: 'profile-top'},
			    h('span', {class: ['avatar', 'avatar--big', colourClass(user.id)], 'aria-hidden': 'true'},
				initials(name)),
			    h('div', {class: 'names'},
				h('p', {class: 'display'}, name),
				h('div', {class: 'username'}, `@${user.username}`))),
			h('div', {class: 'section'},
			    h('h3', null, 'User ID'),
			    h('div', {class: 'row'},
				h('span', {class: 'mono'}, user.id),
				h('button', {type: 'button', class: 'icon-btn', 'aria-label': 'Copy user ID',
				    title: 'Copy user ID', onclick: () => copy(user.id)}, icon('copy')))),
		];
		if (user.id !== meId) {
			out.push(h('div', {class: 'section'},
			    h('button', {type: 'button', class: 'btn', dataset: {focusKey: 'dm'}, onclick: startDm},
				icon('chat'), 'Send message')));
		}
		if (s && !member) {
			out.push(h('p', {class: 'hint', text: `Not a member of ${s.server.name} any more.`}));
			return out;
		}
		if (!s)
			return out;

		const a = myAccess(s, meId);
		const self = user.id === meId;
		out.push(h('div', {class: 'section'},
		    h('h3', null, 'Member since'), h('div', null, dateOnly(member.joined_at))));
		const roles = sortedRoles(s).filter((r) => !r.is_default);
		const held = roles.filter((r) => member.roles.includes(r.id));
		if (s.server.owner_id === user.id || held.length > 0) {
			out.push(h('div', {class: 'section'}, h('h3', null, 'Roles'),
			    h('div', {class: 'chips'},
				s.server.owner_id === user.id ? h('span', {class: 'chip owner-mark'}, 'Owner') : null,
				held.map((r) => h('span', {class: 'chip'}, r.name)))));
		}

		/* Nickname: your own with change_nickname; others' with
		 * manage_nicknames when you outrank them. */
		if ((self && a.has('change_nickname')) ||
		    (!self && a.has('manage_nicknames') && outranks(s, a, member)))
			out.push(nicknameForm());

		/* Roles below your rank, with manage_roles. */
		const assignable = roles.filter((r) => canManageRole(a, r));
		if (assignable.length > 0) {
			out.push(h('fieldset', {class: 'section'},
			    h('legend', {class: 'label'}, 'Give roles'),
			    assignable.map((r) => {
				const box = h('input', {type: 'checkbox', checked: member.roles.includes(r.id),
				    dataset: {focusKey: `role-${r.id}`},
				    onchange: () => setRole(r, box.checked, box)});
				return h('label', {class: 'check'}, box, h('span', null, r.name));
			    })));
		}

		const kickable = a.has('kick_members');
		const bannable = a.has('ban_members');
		if (!self && (kickable || bannable) && outranks(s, a, member)) {
			out.push(h('div', {class: 'section row'},
			    kickable ? h('button', {type: 'button', class: 'btn btn--danger', onclick: kick},
				`Kick ${name}`) : null,
			    bannable ? h('button', {type: 'button', class: 'btn btn--danger', onclick: ban},
				`Ban ${name}`) : null));
		}
		return out;
	}

	function nicknameForm() {
		const f = field('Nickname', {name: 'nickname', maxlength: 32,
		    placeholder: user.username, value: member.nickname || '',
		    dataset: {focusKey: 'nick'}});
		const general = h('div', {class: 'form-error', role: 'alert'});
		const form = h('form', {class: 'section', onsubmit: async (e) => {
			e.preventDefault();
			const v = f.input.value.trim();
			try {
				const m = await api.patch(`/servers/${seg(s.id)}/members/${user.id === meId ? '@me' : seg(user.id)}`,
				    {nickname: v === '' ? null : v});
				member = m;
				applyToStore({type: 'member.update', data: {server_id: s.id, member: m}});
				toast(v === '' ? 'Nickname cleared.' : 'Nickname saved.');
				draw();
			} catch (err) {
				showFormError(err, general, {nickname: f});
			}
		}}, f.wrap, general,
		h('div', {class: 'row'},
		    h('button', {type: 'submit', class: 'btn btn--small'}, 'Save nickname')));
		return form;
	}

	async function setRole(role, give, box) {
		box.disabled = true;
		try {
			const path = `/servers/${seg(s.id)}/members/${seg(user.id)}/roles/${seg(role.id)}`;
			if (give)
				await api.put(path);
			else
				await api.del(path);
			const roles = member.roles.filter((r) => r !== role.id);
			if (give)
				roles.push(role.id);
			roles.sort(cmpId);
			member = {...member, roles};
			applyToStore({type: 'member.update', data: {server_id: s.id, member}});
		} catch (e) {
			box.checked = !give;
			toast(errorText(e), 'error');
		}
		box.disabled = false;
		draw();
	}

	async function kick() {
		const name = displayName(s.id, member.user);
		const ok = await confirmDialog({
			title: `Kick ${name}`,
			message: `Remove ${name} from ${s.server.name}? They can come back with an invite.`,
			confirm: 'Kick',
			danger: true,
		});
		if (!ok)
			return;
		try {
			await api.del(`/servers/${seg(s.id)}/members/${seg(user.id)}`);
			applyToStore({type: 'member.leave', data: {server_id: s.id, user_id: user.id}});
			toast(`${name} was kicked.`);
			d.close();
		} catch (e) {
			toast(errorText(e), 'error');
		}
	}

	async function ban() {
		if (await openBanDialog(s, member.user, displayName(s.id, member.user)))
			d.close();
	}

	async function startDm() {
		try {
			const dm = await openDm(user.id);
			d.close();
			hooks.goDm(dm);
		} catch (e) {
			toast(errorText(e), 'error');
		}
	}
}

/* Copy text to the clipboard, telling the user. */
export async function copy(text) {
	try {
		await navigator.clipboard.writeText(text);
		toast('Copied.');
	} catch {
		toast('Copying is not allowed here; select the text and copy it.', 'error');
	}
}
