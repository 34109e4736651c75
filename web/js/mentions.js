/* SPDX-License-Identifier: ISC */
/*
 * mentions.js: mentions in message text (docs/api.md, Mentions and read
 * state), without DOM or network so that node tests it: the parts of a
 * message's content (text, a mentioned user, role or everyone), and the
 * `@` autocomplete of the composer (what matches what was typed, and the
 * text once one is picked).
 */

const TOKEN_RE = /<@(&?)(\d+)>|@everyone|@here/g;

/*
 * The parts of message m's content, in order: {text}, {user}, {role} or
 * {everyone}. Only what the server resolved is a mention (m.mentions,
 * m.mention_roles, m.mention_everyone); anything else stays text.
 */
export function contentParts(m) {
	const content = m.content;
	const users = new Map((m.mentions || []).map((u) => [u.id, u]));
	const roles = new Set(m.mention_roles || []);
	const out = [];
	let last = 0;
	const text = (to) => {
		if (to > last) {
			const prev = out[out.length - 1];
			if (prev && prev.text !== undefined)
				prev.text += content.slice(last, to);
			else
				out.push({text: content.slice(last, to)});
		}
	};
	for (const t of content.matchAll(TOKEN_RE)) {
		let part = null;
		if (t[2] !== undefined && t[1] === '' && users.has(t[2]))
			part = {user: users.get(t[2])};
		else if (t[2] !== undefined && t[1] === '&' && roles.has(t[2]))
			part = {role: t[2]};
		else if (t[2] === undefined && m.mention_everyone)
			part = {everyone: t[0].slice(1)};
		if (!part)
			continue;
		text(t.index);
		out.push(part);
		last = t.index + t[0].length;
	}
	text(content.length);
	return out;
}

/*
 * The `@` being typed before the caret in value: {start, query} (start
 * is the index of the `@`), or null. It starts the text or follows white
 * space, and the query holds no white space.
 */
export function mentionQuery(value, caret) {
	const before = value.slice(0, caret);
	const m = /(^|\s)@([^\s@<>]*)$/.exec(before);
	if (!m)
		return null;
	return {start: caret - m[2].length - 1, query: m[2]};
}

const LIMIT = 8;

/*
 * What the autocomplete offers for query: users ({kind: 'user', id,
 * name, username}), roles ({kind: 'role', id, name}) and, when allowed,
 * everyone and here ({kind: 'everyone', name}), those whose name or
 * username starts with query (ignoring case) first, then those that hold
 * it; at most 8. from: {users: [{id, username, name}], roles: [{id,
 * name}], everyone: bool}.
 */
export function mentionCandidates(query, from) {
	const q = query.toLowerCase();
	const all = [
	    ...from.users.map((u) => ({kind: 'user', id: u.id, name: u.name || u.username,
		username: u.username})),
	    ...from.roles.map((r) => ({kind: 'role', id: r.id, name: r.name})),
	    ...(from.everyone ? [{kind: 'everyone', name: 'everyone'}, {kind: 'everyone', name: 'here'}] : []),
	];
	const rank = (c) => {
		const names = [c.name, c.username].filter(Boolean).map((n) => n.toLowerCase());
		if (names.some((n) => n.startsWith(q)))
			return 0;
		if (names.some((n) => n.includes(q)))
			return 1;
		return -1;
	};
	return all.map((c) => ({c, r: rank(c)}))
	    .filter((x) => x.r >= 0)
	    .sort((a, b) => a.r - b.r || a.c.name.localeCompare(b.c.name))
	    .slice(0, LIMIT)
	    .map((x) => x.c);
}

/* The text a candidate writes: <@id>, <@&id>, @everyone or @here. */
export function mentionText(c) {
	if (c.kind === 'user')
		return `<@${c.id}>`;
	if (c.kind === 'role')
		return `<@&${c.id}>`;
	return `@${c.name}`;
}

/*
 * Put candidate c in place of the `@query` of q in value: {value, caret},
 * the caret after the mention and a space.
 */
export function insertMention(value, caret, q, c) {
	const text = `${mentionText(c)} `;
	const after = value.slice(caret).replace(/^ /, '');
	return {value: value.slice(0, q.start) + text + after, caret: q.start + text.length};
}
