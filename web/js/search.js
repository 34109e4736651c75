/* SPDX-License-Identifier: ISC */
/*
 * search.js: what the search views need that touches neither the DOM nor
 * the network: the words of a query as the server cuts them (docs/api.md,
 * Search), and where they appear in a message's text, for highlighting.
 *
 * The server compares words as MariaDB's utf8mb4_unicode_520_ci does;
 * here the highlight compares them with Intl.Collator at base
 * sensitivity (case and accents ignored), which agrees on everything but
 * rare letters. A miss only leaves a word unmarked: the results are the
 * server's.
 */

/* A word: a run of letters, digits and combining marks. */
const WORD = /[\p{L}\p{N}\p{M}]+/gu;
const collator = new Intl.Collator(undefined, {sensitivity: 'base', usage: 'search'});

/*
 * The words of a query: [{text, prefix}], the last one a prefix unless it
 * is inside quotes (a '"' without its pair is text).
 */
export function queryWords(q) {
	const quotes = (q.match(/"/g) || []).length;
	const words = [];
	let quotedLast = false;
	q.split('"').forEach((stretch, i) => {
		const quoted = i % 2 === 1 && i < quotes;
		for (const m of stretch.matchAll(WORD)) {
			words.push({text: m[0], prefix: false});
			quotedLast = quoted;
		}
	});
	if (words.length > 0 && !quotedLast)
		words[words.length - 1].prefix = true;
	return words;
}

/* Whether a word of a message matches a word of a query. */
function matches(word, qw) {
	if (collator.compare(word, qw.text) === 0)
		return true;
	if (!qw.prefix)
		return false;
	/* Compare the start of the word, one code point longer at a time. */
	let start = '';
	for (const ch of word) {
		start += ch;
		if (collator.compare(start, qw.text) === 0)
			return true;
	}
	return false;
}

/*
 * Cut text into [{text, hit}] pieces, hit where a word matches one of the
 * query's words; the pieces joined are the text.
 */
export function highlightPieces(text, words) {
	const pieces = [];
	let at = 0;
	for (const m of text.matchAll(WORD)) {
		if (!words.some((qw) => matches(m[0], qw)))
			continue;
		if (m.index > at)
			pieces.push({text: text.slice(at, m.index), hit: false});
		pieces.push({text: m[0], hit: true});
		at = m.index + m[0].length;
	}
	if (at < text.length)
		pieces.push({text: text.slice(at), hit: false});
	return pieces;
}

/*
 * The query string of a message search: q and the filters that are set
 * ({authorId, channelId, before}).
 */
export function searchQuery(q, filters = {}) {
	const p = new URLSearchParams({q});
	if (filters.authorId)
		p.set('author_id', filters.authorId);
	if (filters.channelId)
		p.set('channel_id', filters.channelId);
	if (filters.before)
		p.set('before', filters.before);
	return p.toString();
}
