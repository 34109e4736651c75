/* SPDX-License-Identifier: ISC */
/*
 * ui/search.js: finding things (docs/api.md, Search and GET /users/search):
 * the message search of a server or DM, opened from the box in the
 * conversation header, and the "New message" dialog that finds a person
 * by name to write to.
 *
 * Message search shows its results in a dialog: the filter chips "from:"
 * (a member) and "in:" (a channel) narrow it, the matched words are
 * marked (text nodes and <mark> elements, never markup from the text),
 * "Older results" pages with `before`. Choosing a result closes the
 * search and jumps to the message in its conversation (ui/messages.js,
 * jumpTo: loaded with the messages around it, highlighted).
 */

import {api, seg} from '../api.js';
import {h, icon, fullTime, replace} from '../dom.js';
import {store, displayName, sortedChannels} from '../store.js';
import {openDm} from '../send.js';
import {queryWords, highlightPieces, searchQuery} from '../search.js';
import {openDialog, errorText, field, showFormError} from './dialog.js';

const USER_DELAY_MS = 200;

/* The text of a message with the query's words marked. */
function marked(text, words) {
	return highlightPieces(text, words).map((p) =>
	    p.hit ? h('mark', {class: 'search-hit'}, p.text) : p.text);
}

/* One message as a result line: who, where, when, the marked text. */
function resultLine(m, ctx, words) {
	const where = m.channel_id && ctx.serverId ?
	    store.servers.get(ctx.serverId)?.channels?.get(m.channel_id) : null;
	return h('div', {class: 'search-msg'},
	    h('div', {class: 'search-meta'},
		h('strong', null, displayName(ctx.serverId, m.author)),
		where ? h('span', {class: 'search-where'}, `#${where.name}`) : null,
		h('time', {datetime: m.created_at, title: fullTime(m.created_at)}, fullTime(m.created_at))),
	    h('div', {class: 'search-text'}, marked(m.content, words)));
}

/*
 * The "from:" and "in:" chips of a server search: selects of the members
 * loaded so far and of the channels the user can see.
 */
function chips(ctx, onChange) {
	const s = store.servers.get(ctx.serverId);
	const from = h('select', {class: 'chip', 'aria-label': 'From', onchange: onChange},
	    h('option', {value: ''}, 'from: anyone'),
	    s && s.members ? [...s.members.values()].map((m) =>
		h('option', {value: m.user.id}, `from: ${displayName(ctx.serverId, m.user)}`)) : null);
	const where = h('select', {class: 'chip', 'aria-label': 'In', onchange: onChange},
	    h('option', {value: ''}, 'in: all channels'),
	    s ? sortedChannels(s).map((c) => h('option', {value: c.id, selected: c.id === ctx.channelId},
		`in: #${c.name}`)) : null);
	return {from, where};
}

/*
 * Open the message search of the conversation on screen. ctx: {serverId,
 * channelId} or {dmId}; q: the words typed in the header box. hooks:
 * goMessage(ctx, message) opens the conversation at the message.
 */
export function openSearch(ctx, q, hooks) {
	const input = h('input', {type: 'search', class: 'search-input', value: q, maxlength: 200,
	    'aria-label': 'Search messages', placeholder: 'Search messages'});
	const c = ctx.serverId ? chips(ctx, () => run()) : null;
	const status = h('p', {class: 'search-status', role: 'status'});
	const list = h('ol', {class: 'search-results'});
	const more = h('button', {type: 'button', class: 'btn btn--secondary', hidden: true,
	    onclick: () => run(true)}, 'Older results');
	const form = h('form', {class: 'search-form', role: 'search', onsubmit: (e) => {
		e.preventDefault();
		run();
	}}, input, c ? [c.from, c.where] : null,
	h('button', {type: 'submit', class: 'btn'}, icon('search'), 'Search'));
	const results = h('div', null, status, list, more);
	const d = openDialog({title: 'Search', wide: true, body: [form, results]});
	let last = null;	/* the oldest id shown, for `before` */
	let words = [];

	async function run(older = false) {
		const text = input.value.trim();
		words = queryWords(text);
		if (words.length === 0) {
			status.textContent = 'Type a word to search for.';
			replace(list);
			more.hidden = true;
			return;
		}
		const filters = c ? {authorId: c.from.value, channelId: c.where.value} : {};
		if (older)
			filters.before = last;
		const base = ctx.serverId ? `/servers/${seg(ctx.serverId)}` : `/dms/${seg(ctx.dmId)}`;
		try {
			const r = await api.get(`${base}/messages/search?${searchQuery(text, filters)}`);
			if (!older)
				replace(list);
			for (const m of r.messages) {
				list.appendChild(h('li', null, h('button', {type: 'button', class: 'search-item',
				    title: m.channel_id ? 'Go to the message in its channel' : 'Go to the message',
				    onclick: () => {
					d.close();
					hooks.goMessage(ctx, m);
				    }}, resultLine(m, ctx, words))));
			}
			last = r.messages.length ? r.messages[r.messages.length - 1].id : last;
			more.hidden = r.messages.length === 0 || r.total <= r.messages.length;
			status.textContent = older ? status.textContent : r.total === 0 ? 'No messages found.' :
			    `${r.total >= 1000 ? '1,000+' : r.total} result${r.total === 1 ? '' : 's'}`;
		} catch (e) {
			status.textContent = errorText(e);
		}
	}

	if (q.trim() !== '')
		run();
	return d;
}

/* The search box of the conversation header; Enter opens the search. */
export function searchBox(getCtx, hooks) {
	const input = h('input', {type: 'search', class: 'head-search', maxlength: 200,
	    placeholder: 'Search', 'aria-label': 'Search messages'});
	return h('form', {class: 'head-search-form', role: 'search', onsubmit: (e) => {
		e.preventDefault();
		const ctx = getCtx();
		if (ctx)
			openSearch(ctx, input.value, hooks);
	}}, input);
}

/*
 * "New message": find a person by name among those you share a server or
 * a DM with, and open the conversation with them. hooks: goDm(dm).
 */
export function openNewMessage(hooks) {
	const f = field('Find someone by name', {name: 'q', type: 'search', autocomplete: 'off',
	    maxlength: 32, placeholder: 'username'});
	const general = h('div', {class: 'form-error', role: 'alert'});
	const list = h('ul', {class: 'user-results', 'aria-label': 'People'});
	let timer = null;
	let asked = 0;

	async function find() {
		const q = f.input.value.trim();
		const mine = ++asked;
		if (q === '') {
			replace(list);
			return;
		}
		try {
			const users = await api.get(`/users/search?q=${encodeURIComponent(q)}&limit=10`);
			if (mine !== asked)
				return;
			general.textContent = '';
			replace(list, users.length === 0 ? h('li', {class: 'side-empty'},
			    'Nobody by that name shares a server or a conversation with you.') :
			    users.map((u) => h('li', null, h('button', {type: 'button', class: 'user-result',
				onclick: () => start(u)}, u.username))));
		} catch (e) {
			showFormError(e, general, {q: f});
		}
	}

	async function start(u) {
		try {
			const dm = await openDm(u.id);
			d.close();
			hooks.goDm(dm);
		} catch (e) {
			showFormError(e, general);
		}
	}

	f.input.addEventListener('input', () => {
		clearTimeout(timer);
		timer = setTimeout(find, USER_DELAY_MS);
	});
	const d = openDialog({title: 'New message', body: [f.wrap, list, general],
	    onClose: () => clearTimeout(timer)});
	return d;
}
