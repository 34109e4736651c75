/* SPDX-License-Identifier: ISC */
/*
 * settings.js: server settings for its owner and managers. Tabs, shown
 * as permissions allow: Overview (rename; delete for the owner),
 * Channels (the way to each channel's settings, channel.js, and to
 * creating one, newchannel.js), Roles (name, position, the permission
 * checkboxes), Invites, Members (kick, ban), Bans (search, unban). Every
 * change goes to the API and the store at once; the same changes made
 * elsewhere arrive as events and redraw the pane.
 */

import {api, seg} from '../api.js';
import {h, dateOnly, fullTime, replace} from '../dom.js';
import {
	PERMISSIONS, PERMISSION_LABELS, myAccess, myChannelAccess, outranks, canManageRole,
} from '../perm.js';
import {store, sortedChannels, sortedRoles, displayName, memberListed, memberOrder} from '../store.js';
import {applyToStore, loadMoreMembers} from '../load.js';
import {confirmDialog, errorText, toast, field, showFormError} from './dialog.js';
import {openBanDialog} from './ban.js';
import {openTabbed} from './tabbed.js';
import {openChannelSettings, canOpenChannelSettings, channelIcon} from './channel.js';
import {openCreateChannel} from './newchannel.js';

/* Bans asked for at a time (the API's largest page). */
const BANS_PAGE = 100;

/*
 * Open the settings of server entry s. hooks: openProfile(user, serverId),
 * tab (optional: the id of the tab to open on).
 */
export function openSettings(s, hooks) {
	const tabs = [
		{id: 'overview', label: 'Overview', show: (a) => a.has('manage_server') || a.owner, draw: overview},
		{id: 'channels', label: 'Channels', show: (a) => a.has('manage_channels'), draw: channels},
		{id: 'roles', label: 'Roles', show: (a) => a.has('manage_roles'), draw: roles},
		{id: 'invites', label: 'Invites', show: (a) => a.has('manage_server'), draw: invites},
		{id: 'members', label: 'Members', show: (a) => a.has('kick_members') || a.has('manage_roles') ||
			a.has('ban_members'), draw: members},
		{id: 'bans', label: 'Bans', show: (a) => a.has('ban_members'), draw: bans},
	];
	let selectedRole = null;
	let inviteList = null;
	/* The Bans tab: the pages loaded, and the box that shows them now. */
	const banState = {list: null, complete: false, loading: false, query: '', error: null, box: null};
	const {pane, draw} = openTabbed({
		title: () => `${s.server.name} \u2014 settings`,
		tabs,
		tab: hooks.tab,
		access: () => myAccess(s, store.me.id),
		gone: () => !store.servers.has(s.id),
		redraws: (topics) => topics.has(`server:${s.id}`) || topics.has(`members:${s.id}`),
	});

	/* --- overview ---------------------------------------------------- */

	function overview(a) {
		const out = [h('h3', null, 'Overview')];
		if (a.has('manage_server')) {
			const name = field('Server name', {name: 'name', required: true, maxlength: 100,
			    value: s.server.name, dataset: {focusKey: 'server-name'}});
			const general = h('div', {class: 'form-error', role: 'alert'});
			out.push(h('form', {onsubmit: async (e) => {
				e.preventDefault();
				try {
					const server = await api.patch(`/servers/${seg(s.id)}`, {name: name.input.value.trim()});
					applyToStore({type: 'server.update', data: {server}});
					toast('Server renamed.');
				} catch (err) {
					showFormError(err, general, {name});
				}
			}}, name.wrap, general, h('div', {class: 'row'},
			    h('button', {type: 'submit', class: 'btn btn--small'}, 'Save'))));
		}
		if (a.owner) {
			out.push(h('div', {class: 'section'},
			    h('h3', null, 'Delete server'),
			    h('p', {class: 'hint', text: 'Everything in it goes: channels, messages, roles, invites.'}),
			    h('button', {type: 'button', class: 'btn btn--danger', onclick: async () => {
				const ok = await confirmDialog({title: `Delete ${s.server.name}`,
				    message: `Delete ${s.server.name} and everything in it? This cannot be undone.`,
				    confirm: 'Delete server', danger: true});
				if (!ok)
					return;
				try {
					await api.del(`/servers/${seg(s.id)}`);
					applyToStore({type: 'server.delete', data: {id: s.id}});
				} catch (err) {
					toast(errorText(err), 'error');
				}
			    }}, 'Delete server')));
		}
		return out;
	}

	/* --- channels ------------------------------------------------------ */

	function channels() {
		return [h('h3', null, 'Channels'),
		    h('ul', {class: 'list'}, sortedChannels(s).map((c) => {
			const a = myChannelAccess(s, store.me.id, c);
			return h('li', null, channelIcon(s, c), h('span', {class: 'grow'}, c.name),
			    canOpenChannelSettings(a) ? h('button', {type: 'button', class: 'btn btn--small btn--secondary',
				'aria-label': `Edit channel ${c.name}`, dataset: {focusKey: `ch-${c.id}`},
				onclick: () => openChannelSettings(s, c.id)}, 'Edit') : null);
		    })),
		    h('button', {type: 'button', class: 'btn btn--small', dataset: {focusKey: 'new-channel'},
			onclick: () => openCreateChannel(s)}, 'Create channel')];
	}

	/* --- roles --------------------------------------------------------- */

	function roles(a) {
		const all = sortedRoles(s);
		if (!selectedRole || !s.roles.has(selectedRole))
			selectedRole = all.length ? all[0].id : null;
		const list = h('div', {class: 'role-list', role: 'group', 'aria-label': 'Roles'},
		    all.map((r) => h('button', {type: 'button', class: 'tab',
			'aria-pressed': String(r.id === selectedRole),
			dataset: {focusKey: `role-${r.id}`},
			onclick: () => {
				selectedRole = r.id;
				draw(false);
				pane.querySelector('.role-editor input, .role-editor button')?.focus();
			}}, r.name)),
		    h('button', {type: 'button', class: 'btn btn--small btn--secondary',
			dataset: {focusKey: 'role-new'}, onclick: createRole}, '+ New role'));
		const role = selectedRole ? s.roles.get(selectedRole) : null;
		return [h('h3', null, 'Roles'),
		    h('div', {class: 'roles-grid'}, list, role ? roleEditor(a, role) : h('div'))];
	}

	function roleEditor(a, role) {
		const editable = canManageRole(a, role);
		const name = field('Role name', {name: 'name', required: true, maxlength: 100, value: role.name,
		    disabled: role.is_default || !editable, dataset: {focusKey: `rname-${role.id}`}});
		const position = field('Position (higher outranks lower)', {name: 'position', type: 'number',
		    min: 1, max: 1000000, value: String(role.position),
		    disabled: role.is_default || !editable, dataset: {focusKey: `rpos-${role.id}`}});
		const boxes = PERMISSIONS.map((p) => {
			/* Only permissions you hold can be granted (removing is allowed). */
			const grantable = editable && (a.owner || a.has(p) || role.permissions.includes(p));
			const box = h('input', {type: 'checkbox', name: p, checked: role.permissions.includes(p),
			    disabled: !grantable, dataset: {focusKey: `perm-${role.id}-${p}`}});
			return h('label', {class: ['check', !grantable && 'check--disabled']}, box,
			    h('span', null, PERMISSION_LABELS[p], h('span', {class: 'visually-hidden'}, ` (${p})`)));
		});
		const general = h('div', {class: 'form-error', role: 'alert'});
		const form = h('form', {class: 'role-editor', onsubmit: async (e) => {
			e.preventDefault();
			const body = {permissions: PERMISSIONS.filter((p) => form.elements[p].checked)};
			if (!role.is_default) {
				body.name = name.input.value.trim();
				body.position = Number(position.input.value);
			}
			try {
				const r = await api.patch(`/servers/${seg(s.id)}/roles/${seg(role.id)}`, body);
				applyToStore({type: 'role.update', data: {role: r}});
				toast(`Role ${r.name} saved.`);
			} catch (err) {
				showFormError(err, general, {name, position});
			}
		}},
		role.is_default ? h('p', {class: 'hint', text: 'Everyone in the server has this role; ' +
		    'only its permissions can change.'}) : null,
		!editable ? h('p', {class: 'hint', text: 'This role is not below your highest role: ' +
		    'you cannot change it.'}) : null,
		role.is_default ? null : h('div', {class: 'row'}, h('div', {class: 'grow'}, name.wrap), position.wrap),
		h('fieldset', {class: 'perm-list'}, h('legend', {class: 'label'}, 'Permissions'), boxes),
		general,
		h('div', {class: 'row'},
		    h('button', {type: 'submit', class: 'btn btn--small', disabled: !editable,
			dataset: {focusKey: `rsave-${role.id}`}}, 'Save role'),
		    role.is_default || !editable ? null : h('button', {type: 'button',
			class: 'btn btn--small btn--danger', onclick: () => deleteRole(role)}, 'Delete role')));
		return form;
	}

	async function createRole() {
		try {
			const r = await api.post(`/servers/${seg(s.id)}/roles`, {name: 'new role', permissions: []});
			applyToStore({type: 'role.create', data: {role: r}});
			selectedRole = r.id;
			draw(false);
			pane.querySelector('.role-editor input[name="name"]')?.select();
			pane.querySelector('.role-editor input[name="name"]')?.focus();
		} catch (err) {
			toast(errorText(err), 'error');
		}
	}

	async function deleteRole(role) {
		const ok = await confirmDialog({title: `Delete role ${role.name}`,
		    message: `Delete the role ${role.name}? Its members lose it.`, confirm: 'Delete role', danger: true});
		if (!ok)
			return;
		try {
			await api.del(`/servers/${seg(s.id)}/roles/${seg(role.id)}`);
			applyToStore({type: 'role.delete', data: {id: role.id, server_id: s.id}});
		} catch (err) {
			toast(errorText(err), 'error');
		}
	}

	/* --- invites ------------------------------------------------------ */

	function invites() {
		const box = h('div', null, h('p', {class: 'hint', text: 'Loading invites\u2026'}));
		if (inviteList)
			fillInvites(box);
		api.get(`/servers/${seg(s.id)}/invites`).then((list) => {
			inviteList = list;
			fillInvites(box);
		}).catch((err) => replace(box, h('p', {class: 'form-error', text: errorText(err)})));
		return [h('h3', null, 'Invites'), box];
	}

	function fillInvites(box) {
		if (inviteList.length === 0) {
			replace(box, h('p', {class: 'hint', text: 'No live invites.'}));
			return;
		}
		replace(box, h('ul', {class: 'list'}, inviteList.map((inv) => h('li', null,
		    h('div', {class: 'grow'},
			h('div', {class: 'mono'}, inv.code),
			h('div', {class: 'meta'},
			    `by ${inv.inviter.username} \u00b7 ${inv.uses}${inv.max_uses ? ` of ${inv.max_uses}` : ''} ` +
			    `${inv.uses === 1 && !inv.max_uses ? 'use' : 'uses'} \u00b7 ` +
			    (inv.expires_at ? `expires ${fullTime(inv.expires_at)}` : 'never expires'))),
		    h('button', {type: 'button', class: 'btn btn--small btn--danger',
			'aria-label': `Delete invite ${inv.code}`, onclick: async () => {
			try {
				await api.del(`/invites/${seg(inv.code)}`);
				inviteList = inviteList.filter((x) => x.code !== inv.code);
				fillInvites(box);
				toast('Invite deleted.');
			} catch (err) {
				toast(errorText(err), 'error');
			}
		    }}, 'Delete')))));
	}

	/* --- members ------------------------------------------------------ */

	function members(a) {
		if (!s.members) {
			moreMembers();
			return [h('h3', null, 'Members'), h('p', {class: 'hint', text: 'Loading members\u2026'})];
		}
		/* The member list's order, so that a page lands at the end. */
		const order = memberOrder(s);
		const sorted = [...s.members.values()].filter((m) => memberListed(s, m.user.id))
		    .map((m) => ({id: m.user.id, name: displayName(s.id, m.user), m}))
		    .sort(order).map((x) => x.m);
		return [h('h3', null, `Members \u2014 ${sorted.length}${s.membersComplete ? '' : '+'}`),
		    h('ul', {class: 'list'}, sorted.map((m) => {
			const name = displayName(s.id, m.user);
			const roleNames = m.roles.map((id) => s.roles.get(id)?.name).filter(Boolean);
			return h('li', null,
			    h('div', {class: 'grow'},
				h('div', null, name, m.nickname ? h('span', {class: 'meta'}, ` @${m.user.username}`) : null),
				h('div', {class: 'meta'}, [
				    s.server.owner_id === m.user.id ? 'owner' : null,
				    roleNames.length ? roleNames.join(', ') : null,
				    `joined ${dateOnly(m.joined_at)}`].filter(Boolean).join(' \u00b7 '))),
			    h('button', {type: 'button', class: 'btn btn--small btn--secondary',
				dataset: {focusKey: `profile-${m.user.id}`},
				onclick: () => hooks.openProfile(m.user, s.id)}, 'Profile'),
			    a.has('kick_members') && m.user.id !== store.me.id && outranks(s, a, m) ?
				h('button', {type: 'button', class: 'btn btn--small btn--danger',
				    dataset: {focusKey: `kick-${m.user.id}`},
				    'aria-label': `Kick ${name}`, onclick: () => kick(m, name)}, 'Kick') : null,
			    a.has('ban_members') && m.user.id !== store.me.id && outranks(s, a, m) ?
				h('button', {type: 'button', class: 'btn btn--small btn--danger',
				    dataset: {focusKey: `ban-${m.user.id}`},
				    'aria-label': `Ban ${name}`, onclick: () => ban(m, name)}, 'Ban') : null);
		    })),
		    s.membersComplete ? null : h('button', {type: 'button', class: 'btn btn--small btn--secondary',
			dataset: {focusKey: 'members-more'}, onclick: () => moreMembers(true)}, 'Load more members')];
	}

	/*
	 * Load the next page of members (the pane redraws when it is in).
	 * Asked for by the button: if focus is still there (or was left on
	 * the pane by the button going), it moves to the first new member.
	 */
	function moreMembers(byButton) {
		const known = new Set(s.members ? [...s.members.keys()].filter((id) => memberListed(s, id)) : []);
		loadMoreMembers(s).then(() => {
			const at = document.activeElement;
			if (!byButton || (at !== pane && !(at && at.dataset.focusKey === 'members-more')))
				return;
			const first = [...pane.querySelectorAll('[data-focus-key^="profile-"]')]
			    .find((b) => !known.has(b.dataset.focusKey.slice('profile-'.length)));
			if (first)
				first.focus();
		}, (err) => toast(errorText(err), 'error'));
	}

	async function kick(m, name) {
		const ok = await confirmDialog({title: `Kick ${name}`,
		    message: `Remove ${name} from ${s.server.name}?`, confirm: 'Kick', danger: true});
		if (!ok)
			return;
		try {
			await api.del(`/servers/${seg(s.id)}/members/${seg(m.user.id)}`);
			applyToStore({type: 'member.leave', data: {server_id: s.id, user_id: m.user.id}});
			toast(`${name} was kicked.`);
		} catch (err) {
			toast(errorText(err), 'error');
		}
	}

	async function ban(m, name) {
		if (await openBanDialog(s, m.user, name))
			banState.list = null;	/* the Bans tab loads again */
	}

	/* --- bans --------------------------------------------------------- */

	function bans() {
		const search = h('input', {type: 'search', value: banState.query,
		    placeholder: 'Search bans by name or ID', 'aria-label': 'Search bans',
		    dataset: {focusKey: 'bans-search'}});
		banState.box = h('div', null);
		search.addEventListener('input', () => {
			banState.query = search.value;
			fillBans();
		});
		if (!banState.list && !banState.loading)
			moreBans();
		fillBans();
		return [h('h3', null, 'Bans'), search, banState.box];
	}

	/* Load the next page of bans (all of them, page by page), then show them. */
	function moreBans() {
		const after = banState.list && banState.list.length ?
		    banState.list[banState.list.length - 1].user.id : null;
		banState.loading = true;
		banState.error = null;
		const query = `limit=${BANS_PAGE}${after ? `&after=${encodeURIComponent(after)}` : ''}`;
		api.get(`/servers/${seg(s.id)}/bans?${query}`).then((page) => {
			banState.loading = false;
			banState.list = [...(banState.list || []), ...page];
			banState.complete = page.length < BANS_PAGE;
			if (!banState.complete)
				moreBans();
			fillBans();
		}, (err) => {
			banState.loading = false;
			banState.error = err;
			fillBans();
		});
	}

	/* The bans whose username or user id holds the search text. */
	function matchingBans() {
		const q = banState.query.trim().toLowerCase();
		return (banState.list || []).filter((b) => q === '' ||
		    b.user.username.toLowerCase().includes(q) || b.user.id === q);
	}

	/* Show the bans that match the search (or why there are none) in the tab's box. */
	function fillBans() {
		const box = banState.box;
		if (!box)
			return;
		if (banState.error) {
			replace(box, h('p', {class: 'form-error', role: 'alert', text: errorText(banState.error)}),
			    h('button', {type: 'button', class: 'btn btn--small btn--secondary',
				onclick: () => moreBans()}, 'Try again'));
			return;
		}
		if (!banState.list) {
			replace(box, h('p', {class: 'hint', text: 'Loading bans…'}));
			return;
		}
		const shown = matchingBans();
		if (shown.length === 0) {
			replace(box, h('p', {class: 'hint', text: banState.list.length === 0 ? 'Nobody is banned.' :
			    'No ban matches your search.'}));
			return;
		}
		replace(box, h('ul', {class: 'list'}, shown.map((b) => h('li', null,
		    h('div', {class: 'grow'},
			h('div', null, b.user.username, h('span', {class: 'meta'}, ` ${b.user.id}`)),
			h('div', {class: 'meta'}, [b.reason || 'No reason given',
			    `banned ${dateOnly(b.created_at)}`].join(' \u00b7 '))),
		    h('button', {type: 'button', class: 'btn btn--small btn--secondary',
			'aria-label': `Unban ${b.user.username}`, onclick: () => unban(b)}, 'Unban')))));
	}

	async function unban(b) {
		try {
			await api.del(`/servers/${seg(s.id)}/bans/${seg(b.user.id)}`);
			banState.list = banState.list.filter((x) => x.user.id !== b.user.id);
			fillBans();
			toast(`${b.user.username} was unbanned.`);
		} catch (err) {
			toast(errorText(err), 'error');
		}
	}
}
