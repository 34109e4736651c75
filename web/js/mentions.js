/* SPDX-License-Identifier: ISC */
/*
 * mentions.js: mentions in message text (docs/api.md, Mentions and read
 * state), without DOM or network so that node tests it: what a mention
 * token of a message's content is (a mentioned user, role or everyone,
 * or text; markup.js finds the tokens), and the `@` autocomplete of
 * the composer (what matches what was typed, and the text once one is
 * picked).
 */

/* A mention token where lastIndex is (markup.js reads message text with it). */
export const MENTION_TOKEN = /<@&?\d+>|@everyone|@here/y;

/*
 * What the mention token raw (as MENTION_TOKEN matches it) of message m is:
 * {user}, {role} or {everyone}, or null when the server did not resolve
 * it (m.mentions, m.mention_roles, m.mention_everyone): then it is text.
 */
export function mentionPart(m, raw) {
	const t = /^<@(&?)(\d+)>$/.exec(raw);
	if (t && t[1] === '') {
		const u = (m.mentions || []).find((x) => x.id === t[2]);
		return u ? {user: u} : null;
	}
	if (t)
		return (m.mention_roles || []).includes(t[2]) ? {role: t[2]} : null;
	if ((raw === '@everyone' || raw === '@here') && m.mention_everyone)
		return {everyone: raw.slice(1)};
	return null;
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
