/* SPDX-License-Identifier: ISC */
/*
 * members.js: the member list of a server, grouped by each member's
 * highest role.
 *
 * Members come in pages of GET /members (by user id): the first when the
 * list is shown, the next whenever the end of the list scrolls into view
 * or its "Load more members" button is used. The order (memberOrder in
 * store.js) is by name when the first page held everyone, else by user
 * id, so that a page lands at the end of each group and nothing already
 * shown moves.
 *
 * Group counts: the API gives no member total, so until the last page is
 * in a heading reads "Members — 100+": at least that many, which is true
 * at every moment and still says how big the group is; the plus goes
 * with the last page.
 *
 * The list is updated, not redrawn: a page, a join, a leave, a nickname
 * or role change inserts, removes or moves only the rows concerned (a
 * pass over the members compares each with its row, which is cheap; only
 * rows that changed touch the DOM). The row at the top of the view stays
 * where it is on screen whatever changes above it (done here: the
 * browser's own scroll anchoring is off for the list, as not every
 * browser has it), and keyboard focus stays on its row, or goes to a
 * neighbour when that member leaves. A page that comes in while the
 * "Load more members" button has focus moves focus to the first member
 * it added below, where reading goes on.
 */

import {h, initials, colourClass, replace} from '../dom.js';
import {store, displayName, sortedRoles, memberListed, memberOrder} from '../store.js';
import {loadMoreMembers} from '../load.js';
import {errorText} from './dialog.js';

/* Start loading the next page when the end of the list is this close (px). */
const NEAR_END = 300;

/* The group of members without a role above the default one. */
const REST = '';

/* Make the member list inside root, the element that scrolls. hooks: openProfile(user, serverId). */
export function createMemberList(root, hooks) {
	let serverId = null;
	let entry = null;	/* the server entry the rows are of */
	let failed = null;	/* the error of the last page, if it failed */
	const rows = new Map();	/* user id -> row: {id, member, name, owner, group, li, button} */
	const sections = new Map();	/* group key -> section: {key, head, ul, rows (in order)} */
	let shown = [];		/* the sections in the list, in order */
	let drawnAfter = null;	/* the pages the rows are of (s.membersAfter, s.membersComplete) */
	let drawnComplete = false;

	const status = h('p', {class: 'side-empty', hidden: true});
	const more = h('button', {type: 'button', class: 'btn btn--link members-more', hidden: true,
	    onclick: onMore}, 'Load more members');
	const foot = h('div', {class: 'members-foot'}, status, more);
	replace(root, foot);
	const nearEnd = new IntersectionObserver((entries) => {
		if (entries.some((e) => e.isIntersecting))
			loadMore();
	}, {root, rootMargin: `0px 0px ${NEAR_END}px 0px`});
	nearEnd.observe(more);

	/* Show the members of server id (null: none); the same again changes nothing. */
	function show(id) {
		if (id === serverId && entry && entry === store.servers.get(id))
			return;	/* up to date: update() follows the changes */
		if (id !== serverId) {
			serverId = id;
			failed = null;
			clear();
			root.scrollTop = 0;
		}
		draw();
	}

	function update(topics) {
		if (serverId && (topics.has(`members:${serverId}`) || topics.has(`server:${serverId}`)))
			draw();
	}

	/* Forget every row (another server, or its entry was loaded again). */
	function clear() {
		for (const sec of shown) {
			sec.head.remove();
			sec.ul.remove();
		}
		rows.clear();
		sections.clear();
		shown = [];
		entry = null;
		drawnAfter = null;
		drawnComplete = false;
	}

	function draw() {
		const s = serverId && store.servers.get(serverId);
		if (s !== entry) {
			clear();
			entry = s || null;
		}
		if (!s) {
			drawFoot(null);
			return;
		}
		if (!s.members && !failed && !s.membersLoading) {
			loadMore();
			return;
		}
		reconcile(s);
		drawFoot(s);
	}

	function loadMore() {
		const s = serverId && store.servers.get(serverId);
		if (!s || s.membersLoading || s.membersComplete || failed)
			return;
		loadMoreMembers(s).then(() => {
			if (entry !== s)
				return;
			draw();
			/* Still near the end (a tall list, a short page): on to the next. */
			nearEnd.unobserve(more);
			nearEnd.observe(more);
		}, (e) => {
			if (serverId === s.id)
				failed = e;
			draw();
		});
		drawFoot(s);
	}

	function onMore() {
		failed = null;
		loadMore();
	}

	/* Below the list: the button for the next page, or why there is none. */
	function drawFoot(s) {
		const loading = !!s && s.membersLoading;
		status.hidden = !s || !(failed || (loading && !s.members));
		if (failed) {
			status.setAttribute('role', 'alert');
			status.textContent = `The members could not be loaded: ${errorText(failed)}`;
		} else {
			status.removeAttribute('role');
			status.textContent = 'Loading members\u2026';
		}
		more.hidden = !s || (!failed && (!s.members || s.membersComplete));
		more.textContent = failed ? 'Try again' : loading ? 'Loading members\u2026' : 'Load more members';
		if (loading)
			more.setAttribute('aria-disabled', 'true');
		else
			more.removeAttribute('aria-disabled');
	}

	/* The group key of member m: its highest role (roles highest first), or REST. */
	function groupOf(m, roles) {
		const best = roles.find((r) => m.roles.includes(r.id));
		return best ? best.id : REST;
	}

	/* Bring the rows in line with s.members: only the rows that changed move. */
	function reconcile(s) {
		const roles = sortedRoles(s).filter((r) => !r.is_default);
		const members = s.members || new Map();
		const paged = s.membersAfter !== drawnAfter || s.membersComplete !== drawnComplete;
		drawnAfter = s.membersAfter;
		drawnComplete = s.membersComplete;

		/* What changed: rows to take out (gone, or moving) and to put in. */
		const out = [];
		const put = [];
		const refill = [];
		for (const [id, row] of rows) {
			if (!members.has(id) || !memberListed(s, id)) {
				out.push(row);
				rows.delete(id);
			}
		}
		for (const m of members.values()) {
			const id = m.user.id;
			if (!memberListed(s, id))
				continue;
			const want = {member: m, name: displayName(s.id, m.user), owner: s.server.owner_id === id,
			    group: groupOf(m, roles)};
			let row = rows.get(id);
			if (!row) {
				row = newRow(id);
				rows.set(id, row);
				put.push([row, want]);
				continue;
			}
			if (row.member === m && row.name === want.name && row.owner === want.owner &&
			    row.group === want.group)
				continue;
			if (row.group !== want.group || (s.membersByName && row.name !== want.name)) {
				out.push(row);
				put.push([row, want]);
			} else {
				refill.push([row, want]);
			}
		}
		const titled = syncTitles(roles);
		if (out.length === 0 && put.length === 0 && refill.length === 0 && !titled && !paged &&
		    inRoleOrder(roles))
			return;

		const focused = root.contains(document.activeElement) ? document.activeElement : null;
		const focusRow = focused && focused.classList.contains('member-item') ?
		    focused.dataset.userId : null;
		const fallback = focusRow && !rows.has(focusRow) ? neighbours(focused.closest('li')) : [];
		const lastBefore = lastRow();
		const leaving = new Set(out);
		const anchor = findAnchor(leaving);

		for (const row of out) {
			const sec = sections.get(row.group);
			sec.rows.splice(sec.rows.indexOf(row), 1);
			row.li.remove();
		}
		for (const [row, want] of refill)
			fill(s, row, want);
		const cmp = memberOrder(s);
		for (const [row, want] of put) {
			fill(s, row, want);
			const sec = section(row.group, roles);
			let lo = 0;
			let hi = sec.rows.length;
			while (lo < hi) {
				const mid = (lo + hi) >> 1;
				if (cmp(sec.rows[mid], row) < 0)
					lo = mid + 1;
				else
					hi = mid;
			}
			sec.ul.insertBefore(row.li, lo < sec.rows.length ? sec.rows[lo].li : null);
			sec.rows.splice(lo, 0, row);
		}
		placeSections(roles, s.membersComplete);

		if (anchor && anchor.el.isConnected) {
			const dy = anchor.el.getBoundingClientRect().top - anchor.top;
			if (dy !== 0)
				root.scrollTop += dy;
		}
		if (paged && focused === more) {
			/* The first new member below the old end, where reading goes on. */
			let next = null;
			for (const [row] of put) {
				if ((!lastBefore || lastBefore.li.compareDocumentPosition(row.li) &
				    Node.DOCUMENT_POSITION_FOLLOWING) && (!next ||
				    row.li.compareDocumentPosition(next.li) & Node.DOCUMENT_POSITION_FOLLOWING))
					next = row;
			}
			if (next)
				next.button.focus();
			else if (s.membersComplete && lastRow())
				lastRow().button.focus();
		} else if (focusRow && document.activeElement !== focused) {
			const row = rows.get(focusRow);
			const to = row ? row.button : fallback.find((b) => b.isConnected);
			if (to)
				to.focus({preventScroll: true});
		}
	}

	/* A row for the member with user id id, filled in later (fill). */
	function newRow(id) {
		const row = {id, member: null, name: null, owner: false, group: null, li: null, button: null};
		row.button = h('button', {type: 'button', class: 'member-item', dataset: {userId: id},
		    onclick: () => hooks.openProfile(row.member.user, serverId)});
		row.li = h('li', null, row.button);
		return row;
	}

	/* Take over want ({member, name, owner, group}) and redraw what shows of it. */
	function fill(s, row, want) {
		const looks = row.member === null || row.name !== want.name || row.owner !== want.owner ||
		    row.member.nickname !== want.member.nickname || row.member.user.username !== want.member.user.username;
		Object.assign(row, want);
		if (!looks)
			return;
		const m = want.member;
		replace(row.button,
		    h('span', {class: ['avatar', colourClass(m.user.id)], 'aria-hidden': 'true'}, initials(want.name)),
		    h('span', {class: 'names'},
			h('span', {class: 'name'}, want.name),
			m.nickname || want.owner ? h('span', {class: 'sub'},
			    m.nickname ? m.user.username : null,
			    m.nickname && want.owner ? ' \u00b7 ' : null,
			    want.owner ? h('span', {class: 'owner-mark'}, 'owner') : null) : null));
	}

	/* The section of group key, made if need be (placed by placeSections). */
	function section(key, roles) {
		let sec = sections.get(key);
		if (!sec) {
			const headId = `mg-${serverId}-${key || 'rest'}`;
			sec = {key, title: titleOf(key, roles), head: h('h3', {id: headId}),
			    ul: h('ul', {class: 'side-list', 'aria-labelledby': headId}), rows: [], count: null};
			sections.set(key, sec);
		}
		return sec;
	}

	function titleOf(key, roles) {
		return key === REST ? 'Members' : roles.find((r) => r.id === key)?.name ?? '';
	}

	/* Take up renamed roles; true if a title changed. */
	function syncTitles(roles) {
		let changed = false;
		for (const sec of sections.values()) {
			const title = titleOf(sec.key, roles);
			if (title !== sec.title) {
				sec.title = title;
				changed = true;
			}
		}
		return changed;
	}

	/*
	 * Put the sections with members in role order before the footer, drop
	 * the empty ones, and write each heading with its count.
	 */
	function placeSections(roles, complete) {
		const order = [...roles.map((r) => r.id), REST].map((k) => sections.get(k))
		    .filter((sec) => sec && sec.rows.length > 0);
		for (const [key, sec] of sections) {
			if (!order.includes(sec)) {
				sec.head.remove();
				sec.ul.remove();
				sections.delete(key);
			}
		}
		let ref = foot;
		for (let i = order.length - 1; i >= 0; i--) {
			const sec = order[i];
			if (sec.ul.nextSibling !== ref || sec.head.nextSibling !== sec.ul) {
				root.insertBefore(sec.ul, ref);
				root.insertBefore(sec.head, sec.ul);
			}
			ref = sec.head;
			const text = `${sec.title} \u2014 ${sec.rows.length}${complete ? '' : '+'}`;
			if (sec.head.textContent !== text) {
				sec.head.textContent = text;
				if (complete)
					sec.head.removeAttribute('title');
				else
					sec.head.title = `At least ${sec.rows.length}: more members are still to load`;
			}
		}
		shown = order;
	}

	/* Whether the sections shown follow the order of roles (positions change). */
	function inRoleOrder(roles) {
		const rank = (key) => (key === REST ? roles.length : roles.findIndex((r) => r.id === key));
		for (let i = 1; i < shown.length; i++) {
			if (rank(shown[i - 1].key) >= rank(shown[i].key))
				return false;
		}
		return true;
	}

	/* The last row of the list, or null. */
	function lastRow() {
		const sec = shown[shown.length - 1];
		return sec ? sec.rows[sec.rows.length - 1] : null;
	}

	/*
	 * The first row at the top of the view that is not in skip, with its
	 * place on screen; null at the very top (the start stays in view).
	 */
	function findAnchor(skip) {
		if (root.scrollTop <= 0)
			return null;
		const top = root.getBoundingClientRect().top;
		for (const sec of shown) {
			if (sec.ul.getBoundingClientRect().bottom <= top)
				continue;
			let lo = 0;
			let hi = sec.rows.length;
			while (lo < hi) {
				const mid = (lo + hi) >> 1;
				if (sec.rows[mid].li.getBoundingClientRect().bottom <= top)
					lo = mid + 1;
				else
					hi = mid;
			}
			for (let i = lo; i < sec.rows.length; i++) {
				if (!skip.has(sec.rows[i]))
					return {el: sec.rows[i].li, top: sec.rows[i].li.getBoundingClientRect().top};
			}
		}
		return null;
	}

	/* The member buttons around li, nearest first: where focus goes when it leaves. */
	function neighbours(li) {
		const all = [...root.querySelectorAll('.member-item')];
		const i = all.indexOf(li.firstElementChild);
		return i < 0 ? [] : [...all.slice(i + 1), ...all.slice(0, i).reverse()];
	}

	return {show, update};
}
