/*
 * members.js: the member list of a server, grouped by each member's
 * highest role, nicknames first.
 */

import {h, initials, colourClass, replace} from '../dom.js';
import {store, loadMoreMembers, displayName, sortedRoles} from '../state.js';
import {errorText} from './dialog.js';

/* Start loading the next page when the end of the list is this close (px). */
const NEAR_END = 300;

/*
 * Make the member list inside root, the element that scrolls. hooks:
 * openProfile(user, serverId). Members come in pages: the first when
 * the list is shown, the next whenever the end of the list scrolls into
 * view (or its "Load more members" button is used).
 */
export function createMemberList(root, hooks) {
	let serverId = null;
	let failed = null;	/* the error of the last page, if it failed */
	const nearEnd = new IntersectionObserver((entries) => {
		if (entries.some((e) => e.isIntersecting))
			loadMore();
	}, {root, rootMargin: `0px 0px ${NEAR_END}px 0px`});

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

	function loadMore() {
		const s = serverId && store.servers.get(serverId);
		if (!s || s.membersLoading || s.membersComplete || failed)
			return;
		loadMoreMembers(s).catch((e) => {
			if (serverId === s.id)
				failed = e;
			draw();
		});
		draw();
	}

	function retry() {
		failed = null;
		loadMore();
	}

	function draw() {
		nearEnd.disconnect();
		const s = serverId && store.servers.get(serverId);
		if (!s) {
			replace(root);
			return;
		}
		if (!s.members && !failed && !s.membersLoading) {
			loadMore();
			return;
		}
		replace(root, s.members ? groups(s) : null, footer(s));
	}

	/* Below the list: what is still to come, or why it is not. */
	function footer(s) {
		if (failed) {
			return h('p', {class: 'side-empty', role: 'alert'},
			    `The members could not be loaded: ${errorText(failed)} `,
			    h('button', {type: 'button', class: 'btn btn--link', onclick: retry}, 'Try again'));
		}
		if (s.membersLoading)
			return h('p', {class: 'side-empty', text: 'Loading members\u2026'});
		if (s.membersComplete)
			return null;
		const more = h('button', {type: 'button', class: 'btn btn--link members-more', onclick: loadMore},
		    'Load more members');
		nearEnd.observe(more);
		return more;
	}

	/* The members grouped: roles from the highest down, then those with none. */
	function groups(s) {
		const byRole = new Map();
		const roles = sortedRoles(s).filter((r) => !r.is_default);
		for (const r of roles)
			byRole.set(r.id, {title: r.name, members: []});
		const rest = {title: 'Members', members: []};
		for (const m of s.members.values()) {
			const best = roles.find((r) => m.roles.includes(r.id));
			(best ? byRole.get(best.id) : rest).members.push(m);
		}
		const out = [];
		for (const g of [...byRole.values(), rest]) {
			if (g.members.length === 0)
				continue;
			g.members.sort((a, b) => displayName(serverId, a.user)
			    .localeCompare(displayName(serverId, b.user)));
			const headId = `mg-${serverId}-${out.length}`;
			out.push(h('h3', {id: headId}, `${g.title} \u2014 ${g.members.length}`));
			out.push(h('ul', {class: 'side-list', 'aria-labelledby': headId},
			    g.members.map((m) => h('li', null, memberButton(s, m)))));
		}
		return out;
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
