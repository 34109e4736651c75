/*
 * members.js: the member list of a server, grouped by each member's
 * highest role, nicknames first.
 */

import {h, initials, colourClass, replace} from '../dom.js';
import {store, loadMembers, displayName, sortedRoles} from '../state.js';
import {errorText} from './dialog.js';

/* Make the member list inside root. hooks: openProfile(user, serverId). */
export function createMemberList(root, hooks) {
	let serverId = null;
	let failed = null;

	function show(id) {
		if (id !== serverId)
			failed = null;
		serverId = id;
		draw();
	}

	function update(topics) {
		if (serverId && (topics.has(`members:${serverId}`) || topics.has(`server:${serverId}`)))
			draw();
	}

	function draw() {
		const s = serverId && store.servers.get(serverId);
		if (!s) {
			replace(root);
			return;
		}
		if (!s.members) {
			if (failed) {
				replace(root, h('p', {class: 'side-empty', role: 'alert'},
				    `The members could not be loaded: ${errorText(failed)}`));
				return;
			}
			replace(root, h('p', {class: 'side-empty', text: 'Loading members\u2026'}));
			if (!s.membersLoading) {
				loadMembers(s).catch((e) => {
					failed = e;
					draw();
				});
			}
			return;
		}
		/* Groups: roles from the highest down, then those with none. */
		const groups = new Map();
		const roles = sortedRoles(s).filter((r) => !r.is_default);
		for (const r of roles)
			groups.set(r.id, {title: r.name, members: []});
		const rest = {title: 'Members', members: []};
		for (const m of s.members.values()) {
			let best = null;
			for (const r of roles) {
				if (m.roles.includes(r.id)) {
					best = r;
					break;
				}
			}
			(best ? groups.get(best.id) : rest).members.push(m);
		}
		const out = [];
		for (const g of [...groups.values(), rest]) {
			if (g.members.length === 0)
				continue;
			g.members.sort((a, b) => displayName(serverId, a.user)
			    .localeCompare(displayName(serverId, b.user)));
			const headId = `mg-${serverId}-${out.length}`;
			out.push(h('h3', {id: headId}, `${g.title} \u2014 ${g.members.length}`));
			out.push(h('ul', {class: 'side-list', 'aria-labelledby': headId},
			    g.members.map((m) => h('li', null, memberButton(s, m)))));
		}
		if (!s.membersComplete)
			out.push(h('p', {class: 'side-empty', text: `Showing the first ${s.members.size} members.`}));
		replace(root, out);
	}

	function memberButton(s, m) {
		const name = displayName(s.id, m.user);
		const owner = s.server.owner_id === m.user.id;
		return h('button', {type: 'button', class: 'member-item', dataset: {userId: m.user.id},
		    onclick: () => hooks.openProfile(m.user, s.id)},
		    h('span', {class: ['avatar', colourClass(m.user.id)], 'aria-hidden': 'true'}, initials(name)),
		    h('span', {class: 'names'},
			h('span', {class: 'name'}, name),
			m.nickname || owner ? h('span', {class: 'sub'},
			    m.nickname ? m.user.username : null,
			    m.nickname && owner ? ' \u00b7 ' : null,
			    owner ? h('span', {class: 'owner-mark'}, 'owner') : null) : null));
	}

	return {show, update};
}
