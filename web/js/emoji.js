/* SPDX-License-Identifier: ISC */
/*
 * emoji.js: the emoji of Unicode's data (generated at build time into
 * js/emoji-data.js by tools/emoji-table, loaded on first use), and the
 * :shortcodes: the composer turns into emoji as they are typed. A
 * shortcode is an emoji's Unicode name in lower case with underscores:
 * :thumbs_up:, :red_heart:, :face_with_tears_of_joy:, :flag_turkey:.
 * Apart from the loading, no DOM or network, so that node tests it.
 */

let groups = null;
let table = null;

/* The generated data: [[group, [[emoji, name, [tone forms]]...]]...]. */
export function loadEmoji() {
	if (!groups)
		groups = import('./emoji-data.js').then((m) => m.groups);
	return groups;
}

/*
 * The shortcode table (Map name -> emoji), or null while it loads: then
 * it is loading, and onLoad runs once it is there.
 */
export function shortcodes(onLoad) {
	if (table)
		return table;
	loadEmoji().then((g) => {
		table = table || shortcodeTable(g);
		onLoad();
	}, (e) => console.warn('emoji data:', e));
	return null;
}

/* The shortcode of an emoji's Unicode name: "flag: Côte d’Ivoire" -> "flag_cote_d_ivoire". */
export function shortcodeName(name) {
	return name.normalize('NFKD').replace(/\p{M}/gu, '').toLowerCase()
	    .replace(/[^a-z0-9+-]+/g, '_').replace(/^_+|_+$/g, '');
}

/* Map shortcode -> emoji of the generated groups (the first of a name wins). */
export function shortcodeTable(data) {
	const out = new Map();
	for (const [, list] of data) {
		for (const [emoji, name] of list) {
			const code = shortcodeName(name);
			if (!out.has(code))
				out.set(code, emoji);
		}
	}
	return out;
}

/* Whether the text before caret is a shortcode being typed (":thu", ":thumbs_up:"). */
export function typingShortcode(value, caret) {
	return /(^|[^\p{L}\p{N}:]):[a-z0-9_+-]+:?$/iu.test(value.slice(0, caret));
}

/*
 * The value with every known shortcode before caret turned into its
 * emoji (typed while the table was loading): {value, caret}, or null
 * when there is none.
 */
export function replaceShortcodesBefore(value, caret, codes) {
	let changed = false;
	const before = value.slice(0, caret).replace(/(^|[^\p{L}\p{N}:]):([a-z0-9_+-]+):/giu,
	    (all, lead, name) => {
		const emoji = codes.get(name.toLowerCase());
		if (!emoji)
			return all;
		changed = true;
		return lead + emoji;
	});
	return changed ? {value: before + value.slice(caret), caret: before.length} : null;
}

/*
 * The value with the shortcode that ends at caret (just typed: ":name:")
 * turned into its emoji: {value, caret}, or null when there is none or
 * the name is unknown.
 */
export function replaceShortcode(value, caret, codes) {
	const m = /(^|[^\p{L}\p{N}:]):([a-z0-9_+-]+):$/iu.exec(value.slice(0, caret));
	const emoji = m && codes.get(m[2].toLowerCase());
	if (!emoji)
		return null;
	const start = caret - m[2].length - 2;
	return {value: value.slice(0, start) + emoji + value.slice(caret), caret: start + emoji.length};
}
