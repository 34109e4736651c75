/* SPDX-License-Identifier: ISC */
/*
 * markup.js: message text as rich text: the Markdown subset Discord has.
 *
 *     **bold**  *italic* or _italic_  __underline__  ~~strike~~
 *     `inline code`  ||spoiler||  ```lang
 *     a fenced code block```  > a quoted line  >>> the rest quoted
 *
 * and links written out (https://…, http://…, www.…) made clickable.
 * A backslash before a markup character keeps it as text.
 *
 * parseMarkup() turns text into a tree of plain objects (no DOM, so node
 * tests it), renderMarkup() turns the tree into DOM nodes with dom.js:
 * every piece of the text goes in as a text node, never as markup, so no
 * message can make an element or an attribute of its own. The only
 * attribute text reaches is a link's href, and only as an http(s) URL
 * that the URL parser accepted.
 *
 * The parser runs in time linear in the text (a message is at most
 * 4,000 code points; hostile input must not stall the page): one pass
 * over the characters, a stack of at most one open delimiter per kind,
 * and a search for the end of a code span that never looks twice past a
 * place where it found none.
 */

import {h} from './dom.js';
import {MENTION_TOKEN} from './mentions.js';

const FENCE = '```';
/* The delimiters and what they make. */
const KINDS = {'**': 'b', '*': 'i', '_': 'i', '__': 'u', '~~': 's', '||': 'spoiler'};
/* Characters a backslash keeps as text. */
const ESCAPABLE = new Set(['\\', '*', '_', '~', '|', '`', '>', '<', '@', ':']);
const SPACE = /\s/;
const ALNUM = /[\p{L}\p{N}]/u;
const LINK = /(?:https?:\/\/|www\.)[^\s<>"]+/iy;
/* What a link does not end with (punctuation after it, markup around it). */
const LINK_TAIL = new Set('.,;:!?\'"*_~|]}>');
/* Links longer than this show their host and the start of their path. */
const LINK_SHOWN_MAX = 72;

/*
 * The tree of text: an array of nodes, each {t: 'text', v}, {t: 'b' |
 * 'i' | 'u' | 's' | 'spoiler' | 'quote', c: [nodes]}, {t: 'code', v},
 * {t: 'pre', lang, v}, {t: 'link', href, v} or {t: 'mention', v} (a
 * mention token as mentions.js reads them; the renderer asks whether it
 * was resolved).
 */
export function parseMarkup(text) {
	const out = [];
	let pos = 0;
	while (pos < text.length) {
		const open = text.indexOf(FENCE, pos);
		const close = open < 0 ? -1 : text.indexOf(FENCE, open + FENCE.length);
		const block = close < 0 ? null : fenced(text.slice(open + FENCE.length, close));
		if (!block) {
			/* No (more) code blocks: the rest is lines. */
			lines(text.slice(pos), out);
			break;
		}
		/* The line break before and after a block is the block's edge. */
		lines(text.slice(pos, text[open - 1] === '\n' ? open - 1 : open), out);
		out.push(block);
		pos = close + FENCE.length;
		if (text[pos] === '\n')
			pos++;
	}
	return out;
}

/* A code block from what is between its fences, or null when it holds nothing. */
function fenced(body) {
	let lang = '';
	let code = body;
	const m = /^([A-Za-z0-9_+#.-]{1,32})\n/.exec(body);
	if (m) {
		lang = m[1];
		code = body.slice(m[0].length);
	} else if (code.startsWith('\n')) {
		code = code.slice(1);
	}
	if (code.endsWith('\n'))
		code = code.slice(0, -1);
	if (code.trim() === '')
		return null;
	return {t: 'pre', lang, v: code};
}

/*
 * The lines of text outside code blocks into out: quoted lines ("> ", or
 * ">>> " for every line after it) as quote blocks, the others as inline
 * text.
 */
function lines(text, out) {
	if (text === '')
		return;
	const all = text.split('\n');
	let group = [];
	let quoted = false;
	const flush = () => {
		if (group.length === 0)
			return;
		const nodes = inline(group.join('\n'));
		if (quoted)
			out.push({t: 'quote', c: nodes});
		else
			out.push(...nodes);
		group = [];
	};
	for (let i = 0; i < all.length; i++) {
		const line = all[i];
		if (line.startsWith('>>> ')) {
			if (!quoted)
				flush();
			quoted = true;
			group.push(line.slice(4), ...all.slice(i + 1));
			break;
		}
		const q = line.startsWith('> ');
		if (q !== quoted)
			flush();
		quoted = q;
		group.push(q ? line.slice(2) : line);
	}
	flush();
}

/* The length of the run of character c at s[i]. */
function runLength(s, i, c) {
	let n = 0;
	while (s[i + n] === c)
		n++;
	return n;
}

/*
 * The length of the delimiter a run of rest characters c opens or
 * closes: two for the doubled kinds, one for * and _ alone, 0 for none.
 */
function delimiterLength(c, rest) {
	if (rest >= 2)
		return 2;
	return c === '*' || c === '_' ? 1 : 0;
}

/*
 * Inline text as nodes. Tokens first (text, code spans, links,
 * mentions, delimiters that open and close), matched with a stack as
 * they come; then the tree, in which a delimiter that found no partner
 * is text again.
 */
function inline(s) {
	/* toks: the tokens so far; stack: indexes in toks of the open
	 * delimiters; text: text not yet a token; noRunAfter: backtick run
	 * length -> a place from which a search found no such run. */
	const st = {toks: [], stack: [], text: '', noRunAfter: new Map()};
	let i = 0;
	while (i < s.length) {
		const c = s[i];
		if (c === '\\' && ESCAPABLE.has(s[i + 1])) {
			st.text += s[i + 1];
			i += 2;
			continue;
		}
		if (c === '`') {
			i = codeSpan(st, s, i);
			continue;
		}
		if (c === '*' || c === '_' || c === '~' || c === '|') {
			const n = runLength(s, i, c);
			delimiterRun(st, s, i, n);
			i += n;
			continue;
		}
		const atom = (c === 'h' || c === 'H' || c === 'w' || c === 'W') &&
		    !(i > 0 && ALNUM.test(s[i - 1])) ? linkAt(s, i) :
		    c === '<' || c === '@' ? mentionAt(s, i) : null;
		if (atom) {
			flush(st);
			st.toks.push(atom);
			i += atom.v.length;
			continue;
		}
		st.text += c;
		i++;
	}
	flush(st);
	return tree(st.toks);
}

/* The pending text of st as a token. */
function flush(st) {
	if (st.text !== '') {
		st.toks.push({t: 'text', v: st.text});
		st.text = '';
	}
}

/* The mention token at s[i] ({t: 'mention', v}), or null. */
function mentionAt(s, i) {
	MENTION_TOKEN.lastIndex = i;
	const m = MENTION_TOKEN.exec(s);
	return m ? {t: 'mention', v: m[0]} : null;
}

/*
 * The backticks at s[i]: a code span up to the next run of as many, or
 * text when there is none. Returns the place after them.
 */
function codeSpan(st, s, i) {
	const n = runLength(s, i, '`');
	const end = closingRun(s, i + n, n, st.noRunAfter);
	if (end < 0) {
		st.text += s.slice(i, i + n);
		return i + n;
	}
	flush(st);
	st.toks.push({t: 'code', v: s.slice(i + n, end)});
	return end + n;
}

/*
 * Where the run of n backticks that closes a code span starting at
 * from begins, or -1. A failed search is remembered per length: nothing
 * after its start can succeed later either.
 */
function closingRun(s, from, n, noRunAfter) {
	if (noRunAfter.has(n) && noRunAfter.get(n) <= from)
		return -1;
	const fence = '`'.repeat(n);
	let at = s.indexOf(fence, from);
	while (at >= 0) {
		const len = runLength(s, at, '`');
		if (len === n)
			return at;
		at = s.indexOf(fence, at + len);
	}
	noRunAfter.set(n, from);
	return -1;
}

/*
 * A run of n delimiter characters at s[i]: it closes what it can (the
 * innermost open delimiter of its character that fits, with something
 * in between), then opens what it can, and the rest is text.
 */
function delimiterRun(st, s, i, n) {
	const c = s[i];
	const before = s[i - 1];
	const after = s[i + n];
	let canOpen = after !== undefined && !SPACE.test(after);
	let canClose = before !== undefined && !SPACE.test(before);
	if (c === '_') {
		/* snake_case_names are not italics. */
		canOpen = canOpen && !(before !== undefined && ALNUM.test(before));
		canClose = canClose && !(after !== undefined && ALNUM.test(after));
	}
	const {toks, stack} = st;
	let rest = n;
	while (rest > 0) {
		const k = canClose ? closable(st, c, rest) : -1;
		if (k >= 0) {
			const o = toks[stack[k]];
			flush(st);
			o.matched = true;
			stack.length = k;
			toks.push({t: 'close'});
			rest -= o.len;
			continue;
		}
		const len = delimiterLength(c, rest);
		const raw = c.repeat(len);
		/* One open delimiter per kind: bold in bold means nothing. */
		if (canOpen && len > 0 && !stack.some((x) => toks[x].raw === raw)) {
			flush(st);
			toks.push({t: 'open', ch: c, len, raw, matched: false});
			stack.push(toks.length - 1);
			rest -= len;
			continue;
		}
		st.text += c.repeat(rest);
		rest = 0;
	}
}

/*
 * The place in st.stack of the innermost open delimiter of character c
 * that rest of them can close, with something after it; or -1.
 */
function closable(st, c, rest) {
	const {toks, stack} = st;
	for (let k = stack.length - 1; k >= 0; k--) {
		const o = toks[stack[k]];
		if (o.ch !== c || o.len > rest)
			continue;
		return stack[k] === toks.length - 1 && st.text === '' ? -1 : k;
	}
	return -1;
}

/* The link written at s[i] ({t: 'link', href, v}), or null. */
function linkAt(s, i) {
	LINK.lastIndex = i;
	const m = LINK.exec(s);
	if (!m)
		return null;
	const v = m[0].slice(0, linkEnd(m[0]));
	const href = /^www\./i.test(v) ? `https://${v}` : v;
	let url;
	try {
		url = new URL(href);
	} catch {
		return null;
	}
	if (url.protocol !== 'https:' && url.protocol !== 'http:')
		return null;
	if (!url.hostname.includes('.') && url.hostname !== 'localhost')
		return null;
	return {t: 'link', href: url.href, v};
}

/*
 * Where the link in v ends: before punctuation and markup at its end,
 * and before closing parentheses it did not open.
 */
function linkEnd(v) {
	let depth = 0;
	for (const ch of v) {
		if (ch === '(')
			depth++;
		else if (ch === ')')
			depth--;
	}
	let end = v.length;
	while (end > 0) {
		const ch = v[end - 1];
		if (LINK_TAIL.has(ch)) {
			end--;
		} else if (ch === ')' && depth < 0) {
			depth++;
			end--;
		} else {
			break;
		}
	}
	return end;
}

/* The tree of matched tokens; unmatched delimiters are text. */
function tree(toks) {
	const root = {c: []};
	const open = [root];
	const put = (node) => {
		const c = open[open.length - 1].c;
		const prev = c[c.length - 1];
		if (node.t === 'text' && prev && prev.t === 'text')
			prev.v += node.v;
		else
			c.push(node);
	};
	for (const tk of toks) {
		if (tk.t === 'open' && tk.matched) {
			const node = {t: KINDS[tk.raw], c: []};
			put(node);
			open.push(node);
		} else if (tk.t === 'open') {
			put({t: 'text', v: tk.raw});
		} else if (tk.t === 'close') {
			open.pop();
		} else {
			put(tk);
		}
	}
	return root.c;
}

/*
 * The text a link shows: as written, with its host as the URL parser
 * reads it (an internationalised name in its ASCII form, so a look-alike
 * host cannot pass for another), cut after the start of its path when
 * long.
 */
function linkText(node) {
	const url = new URL(node.href);
	const written = /^(?:https?:\/\/)?([^/?#\\]*)/i.exec(node.v)[1];
	let shown = node.v;
	if (written.toLowerCase() !== url.host)
		shown = `${url.protocol}//${url.host}${url.pathname}${url.search}${url.hash}`;
	if (Array.from(shown).length > LINK_SHOWN_MAX) {
		const start = shown.slice(0, shown.indexOf(url.host) + url.host.length);
		shown = `${start}${Array.from(url.pathname).slice(0, 24).join('')}\u2026`;
	}
	return shown;
}

/*
 * A spoiler: hidden until a click or a key reveals it (spoilerEvents:
 * one listener for all, as a message may hold hundreds). Its text is
 * `visibility: hidden` meanwhile (app.css): not shown, not read out,
 * and what is inside (a link, a mention) cannot be reached.
 */
function spoiler(children) {
	return h('span', {class: 'spoiler', role: 'button', tabindex: '0',
	    'aria-label': 'Spoiler, press to show'}, h('span', {class: 'spoiler-text'}, children));
}

/* Reveal the hidden spoiler an event (a click, Enter or Space) reached inside root. */
function revealSpoiler(e) {
	if (e.type === 'keydown' && e.key !== 'Enter' && e.key !== ' ')
		return;
	const el = e.target.closest('.spoiler');
	if (!el || el.classList.contains('spoiler--shown'))
		return;
	e.preventDefault();
	e.stopPropagation();
	el.classList.add('spoiler--shown');
	for (const a of ['role', 'tabindex', 'aria-label'])
		el.removeAttribute(a);
}

/* Let the spoilers drawn inside root be revealed. */
export function spoilerEvents(root) {
	root.addEventListener('click', revealSpoiler);
	root.addEventListener('keydown', revealSpoiler);
}

/* A code block with its language and a button that copies it. */
function codeBlock(node) {
	const copy = h('button', {type: 'button', class: 'btn btn--small btn--secondary md-copy',
	    'aria-label': 'Copy code', onclick: async () => {
		try {
			await navigator.clipboard.writeText(node.v);
			copy.textContent = 'Copied';
		} catch {
			copy.textContent = 'Copy failed';
		}
		setTimeout(() => {
			copy.textContent = 'Copy';
		}, 1500);
	}}, 'Copy');
	return h('div', {class: 'md-pre'},
	    h('div', {class: 'md-pre-head', 'aria-hidden': node.lang ? null : 'true'},
		node.lang ? h('span', {class: 'md-lang'}, node.lang) : null, copy),
	    h('pre', {tabindex: '0'}, h('code', null, node.v)));
}

const TAGS = {b: 'strong', i: 'em', u: 'u', s: 's'};

/*
 * The nodes of a tree (parseMarkup) as DOM nodes and strings. hooks:
 * mention(raw): the node a mention token shows as, or null for its
 * text.
 */
export function renderMarkup(nodes, hooks = {}) {
	return nodes.map((n) => {
		switch (n.t) {
		case 'text':
			return n.v;
		case 'b': case 'i': case 'u': case 's':
			return h(TAGS[n.t], null, renderMarkup(n.c, hooks));
		case 'spoiler':
			return spoiler(renderMarkup(n.c, hooks));
		case 'quote':
			return h('blockquote', {class: 'md-quote'}, renderMarkup(n.c, hooks));
		case 'code':
			return h('code', {class: 'md-code'}, n.v);
		case 'pre':
			return codeBlock(n);
		case 'link':
			return h('a', {href: n.href, target: '_blank', rel: 'noopener noreferrer',
			    title: n.href}, linkText(n));
		case 'mention':
			return (hooks.mention && hooks.mention(n.v)) || n.v;
		default:
			return null;
		}
	});
}

/* Text as rich-text DOM nodes (parseMarkup, then renderMarkup). */
export function markup(text, hooks) {
	return renderMarkup(parseMarkup(text), hooks);
}
