/* SPDX-License-Identifier: ISC */
/*
 * overwrites.js: the Permissions tab of a channel's settings, the way
 * Discord shows it: on the left the roles and members the channel has
 * permission overwrites for (the default role always), and a way to add
 * one; on the right, for the one picked, each permission an overwrite
 * may hold with a three-way switch: deny, neutral (what the roles give)
 * or allow. Saving puts the overwrite (PUT), removing deletes it.
 *
 * Changes are kept as a draft per role or member until saved, so that
 * the same channel changed elsewhere (its channel.update redraws the
 * tab) does not undo what the user is doing; what is not being edited
 * always shows the channel as it is now.
 */

import {h, icon} from '../dom.js';
import {OVERWRITE_PERMISSIONS, PERMISSION_LABELS, defaultRole, overwriteOf} from '../perm.js';
import {store, displayName, sortedRoles, cmpId} from '../store.js';
import {loadMoreMembers, wantMember} from '../load.js';
import {saveOverwrite, removeOverwrite} from '../send.js';
import {errorText, toast} from './dialog.js';

/* The three states of a permission in an overwrite, in the order shown. */
const STATES = [
	{value: 'deny', label: 'Deny', icon: 'x'},
	{value: 'neutral', label: 'Neutral', icon: 'slash'},
	{value: 'allow', label: 'Allow', icon: 'check'},
];

/*
 * The editor of the overwrites of channel channelId in server serverId,
 * kept for as long as the channel's settings are open. hooks: redraw()
 * (draw the tab again). Returns {draw(a)}: the tab's content for the
 * user's access a in the channel (perm.js, myChannelAccess).
 */
export function createOverwriteEditor(serverId, channelId, hooks) {
	/* "role:<id>" or "member:<user id>" -> {allow: Set, deny: Set}, changed and not saved */
	const drafts = new Map();
	let selected = null;
	let error = '';
	let busy = false;
	const radioGroup = Math.random().toString(36).slice(2);

	function entry() {
		return store.servers.get(serverId);
	}

	function channel() {
		return entry().channels.get(channelId);
	}

	/* The overwrite of key as the channel has it now, or null. */
	function stored(key) {
		const [type, id] = splitKey(key);
		return overwriteOf(channel(), type, id);
	}

	/* What key holds now: its draft, else the channel's overwrite. */
	function current(key) {
		const d = drafts.get(key);
		if (d)
			return d;
		const o = stored(key);
		return {allow: new Set(o ? o.allow : []), deny: new Set(o ? o.deny : [])};
	}

	function dirty(key) {
		const d = drafts.get(key);
		if (!d)
			return false;
		const o = stored(key);
		return !o || !sameSet(d.allow, o.allow) || !sameSet(d.deny, o.deny);
	}

	/* The roles and members listed: the default role, those with an overwrite or a draft. */
	function entries(s) {
		const c = channel();
		const everyone = defaultRole(s);
		const listed = (type, id) => (everyone && type === 'role' && id === everyone.id) ||
		    overwriteOf(c, type, id) !== null || drafts.has(`${type}:${id}`);
		const roles = sortedRoles(s).filter((r) => listed('role', r.id))
		    .map((r) => ({key: `role:${r.id}`, type: 'role', id: r.id, name: r.name, role: r}));
		const memberIds = new Set([...(c.overwrites || []).filter((o) => o.type === 'member').map((o) => o.id),
			...[...drafts.keys()].filter((k) => k.startsWith('member:')).map((k) => splitKey(k)[1])]);
		const members = [...memberIds].sort(cmpId)
		    .map((id) => ({key: `member:${id}`, type: 'member', id, name: memberName(s, id)}));
		return {roles, members};
	}

	/* Whether access a may change the overwrite of e at all (API.md: below your rank). */
	function editable(a, e) {
		if (!a.has('manage_roles'))
			return false;
		return e.type === 'member' || a.owner || e.role.position < a.rank;
	}

	function draw(a) {
		const s = entry();
		if (s.members === null && !s.membersLoading)
			loadMoreMembers(s).catch((e) => toast(errorText(e), 'error'));
		const {roles, members} = entries(s);
		const all = [...roles, ...members];
		if (!all.some((e) => e.key === selected))
			selected = all.length > 0 ? all[0].key : null;
		const chosen = all.find((e) => e.key === selected);
		const item = (e) => h('button', {type: 'button', class: 'tab',
		    'aria-pressed': String(e.key === selected), dataset: {focusKey: `ow-${e.key}`},
		    onclick: () => pick(e.key)},
		e.name, dirty(e.key) ? h('span', {class: 'meta'}, ' (not saved)') : null);
		return [h('h3', null, 'Permissions'),
		    h('p', {class: 'hint', text: 'Allow or deny a permission in this channel for a role or a ' +
			'member; neutral leaves it to their roles. @everyone applies first, then all of a member\u2019s ' +
			'roles together, then the member themselves. The owner and administrators are not affected.'}),
		    h('div', {class: 'roles-grid'},
			h('div', null,
			    h('div', {class: 'role-list', role: 'group', 'aria-label': 'Roles and members'},
				h('span', {class: 'label'}, 'Roles'), roles.map(item),
				members.length > 0 ? h('span', {class: 'label'}, 'Members') : null, members.map(item)),
			    a.has('manage_roles') ? adder(s, a) : null),
			chosen ? editor(a, chosen) : h('div'))];
	}

	function pick(key) {
		selected = key;
		error = '';
		hooks.redraw();
	}

	/* The form to add a role or a member to the list. */
	function adder(s, a) {
		const c = channel();
		const taken = (type, id) => overwriteOf(c, type, id) !== null || drafts.has(`${type}:${id}`);
		const roles = sortedRoles(s).filter((r) => !r.is_default && !taken('role', r.id));
		const members = [...(s.members ? s.members.values() : [])]
		    .filter((m) => !taken('member', m.user.id))
		    .map((m) => ({id: m.user.id, name: displayName(s.id, m.user)}))
		    .sort((x, y) => x.name.localeCompare(y.name) || cmpId(x.id, y.id));
		const select = h('select', {class: 'input', 'aria-label': 'Role or member to add',
		    dataset: {focusKey: 'ow-add-which'}},
		h('option', {value: ''}, 'Add a role or member\u2026'),
		roles.length > 0 ? h('optgroup', {label: 'Roles'}, roles.map((r) => h('option',
		    {value: `role:${r.id}`, disabled: !editable(a, {type: 'role', role: r})}, r.name))) : null,
		members.length > 0 ? h('optgroup', {label: 'Members'}, members.map((m) =>
		    h('option', {value: `member:${m.id}`}, m.name))) : null);
		return h('form', {class: 'ow-add', onsubmit: (e) => {
			e.preventDefault();
			if (!select.value)
				return;
			drafts.set(select.value, {allow: new Set(), deny: new Set()});
			pick(select.value);
		}}, select, h('button', {type: 'submit', class: 'btn btn--small btn--secondary',
		    dataset: {focusKey: 'ow-add'}}, 'Add'),
		/* The list offers the members loaded so far: a large server's come page by page. */
		s.members && !s.membersComplete ? h('button', {type: 'button', class: 'btn btn--link',
		    dataset: {focusKey: 'ow-more'}, onclick: () => {
			loadMoreMembers(s).catch((err) => toast(errorText(err), 'error'));
		    }}, 'Load more members') : null);
	}

	/* The switches of entry e with Save, Reset and Remove. */
	function editor(a, e) {
		const may = editable(a, e);
		const now = current(e.key);
		const rows = OVERWRITE_PERMISSIONS.map((p) => {
			const state = now.allow.has(p) ? 'allow' : now.deny.has(p) ? 'deny' : 'neutral';
			/* Only permissions you hold in the channel can be allowed or denied. */
			const can = may && (a.owner || a.has(p));
			return h('fieldset', {class: ['ow-row', !can && 'ow-row--disabled']},
			    h('legend', {class: 'ow-name'}, PERMISSION_LABELS[p],
				h('span', {class: 'visually-hidden'}, ` (${p})`)),
			    h('div', {class: 'tristate'}, STATES.map((st) => h('label',
				{class: ['tri', `tri--${st.value}`], title: st.label},
				h('input', {type: 'radio', name: `ow-${radioGroup}-${p}`, value: st.value,
				    checked: st.value === state, disabled: !can,
				    dataset: {focusKey: `ow-${e.key}-${p}-${st.value}`},
				    onchange: () => setState(e.key, p, st.value)}),
				icon(st.icon), h('span', {class: 'visually-hidden'}, st.label)))));
		});
		const old = stored(e.key);
		const exists = old !== null;
		const changed = dirty(e.key);
		/* Removing it changes every permission it names: you must have each (API.md). */
		const removable = exists && may && (a.owner || [...old.allow, ...old.deny].every((p) => a.has(p)));
		return h('form', {class: 'role-editor ow-editor', onsubmit: (ev) => {
			ev.preventDefault();
			save(e);
		}},
		h('h4', {class: 'ow-title'}, e.name),
		!may ? h('p', {class: 'hint', text: e.type === 'role' && a.has('manage_roles') ?
		    'This role is not below your highest role: you cannot change its overwrite.' :
		    'You may not change the permissions of this channel.'}) : null,
		rows,
		h('div', {class: 'form-error', role: 'alert'}, error),
		h('div', {class: 'row'},
		    h('button', {type: 'submit', class: 'btn btn--small', disabled: !may || !changed,
			dataset: {focusKey: 'ow-save'}}, 'Save changes'),
		    changed ? h('button', {type: 'button', class: 'btn btn--small btn--secondary',
			dataset: {focusKey: 'ow-reset'}, onclick: () => reset(e.key)},
		    exists ? 'Reset' : 'Cancel') : null,
		    exists && may ? h('button', {type: 'button', class: 'btn btn--small btn--danger',
			dataset: {focusKey: 'ow-remove'}, disabled: !removable,
			title: removable ? null : 'It names permissions you do not have',
			onclick: () => remove(e)}, 'Remove overwrite') : null));
	}

	function setState(key, p, state) {
		const now = current(key);
		const d = {allow: new Set(now.allow), deny: new Set(now.deny)};
		d.allow.delete(p);
		d.deny.delete(p);
		if (state !== 'neutral')
			d[state].add(p);
		drafts.set(key, d);
		error = '';
		hooks.redraw();
	}

	function reset(key) {
		drafts.delete(key);
		error = '';
		hooks.redraw();
	}

	function save(e) {
		const d = current(e.key);
		change(e, () => saveOverwrite(entry(), channelId, e.type, e.id, [...d.allow].sort(),
		    [...d.deny].sort()), `Permissions for ${e.name} saved.`);
	}

	function remove(e) {
		change(e, () => removeOverwrite(entry(), channel(), e.type, e.id), `Overwrite for ${e.name} removed.`);
	}

	/*
	 * Make the change request() sends for entry e: its draft goes and
	 * done is told once it is made; a refusal shows in the tab.
	 */
	async function change(e, request, done) {
		if (busy)
			return;	/* one at a time: a second click does not send twice */
		busy = true;
		error = '';
		try {
			await request();
			drafts.delete(e.key);
			toast(done);
		} catch (err) {
			error = reasonOf(err);
		} finally {
			busy = false;
			redrawIfOpen();
		}
	}

	/* The channel may be gone for the user meanwhile (they took their own view). */
	function redrawIfOpen() {
		const s = entry();
		if (s && s.channels && s.channels.has(channelId))
			hooks.redraw();
	}

	return {draw};
}

/* ["role" | "member", id] of an entry key. */
function splitKey(key) {
	const i = key.indexOf(':');
	return [key.slice(0, i), key.slice(i + 1)];
}

function sameSet(set, list) {
	return set.size === list.length && list.every((p) => set.has(p));
}

/* The name of member userId of server entry s, fetched if it is not known yet. */
function memberName(s, userId) {
	const m = s.members && s.members.get(userId);
	if (m)
		return displayName(s.id, m.user);
	if (s.me && s.me.user.id === userId)
		return displayName(s.id, s.me.user);
	wantMember(s, userId);
	return `Member ${userId}`;
}

/*
 * What to tell the user about a refused change: the server's own words
 * for a missing permission (which one, or which rank), else the usual.
 */
function reasonOf(err) {
	if (err.code === 'missing_permission' && err.message && err.message !== err.code)
		return err.message;
	return errorText(err);
}
