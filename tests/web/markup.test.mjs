/* SPDX-License-Identifier: ISC */
/*
 * markup.test.mjs: the rich text of messages (web/js/markup.js): what
 * each piece of markup becomes, links and what is never one, mentions,
 * and hostile input: markup and HTML mixed at random must only ever make
 * the elements and attributes the renderer knows, with the message's own
 * text and nothing else, and 4,000-character pathological messages must
 * render in under 5 ms.
 */

import {describe, test} from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import {fileURLToPath} from 'node:url';
import {holder} from './fakedom.mjs';
import {parseMarkup, markup, spoilerEvents} from '../../web/js/markup.js';

const t = (v) => ({t: 'text', v});

/* The rendered nodes of text, in an element. */
function rendered(text, hooks) {
	return holder(markup(text, hooks));
}

/*
 * The text a reader sees that comes from the message as written: all but
 * a code block's head (language, Copy) and links (which show their host
 * as the URL parser reads it).
 */
function writtenText(el) {
	if (el.className === 'md-pre-head' || el.tagName === 'A')
		return '';
	return el.childNodes.map((c) => (c.tagName ? writtenText(c) : c.data)).join('');
}

describe('markup', () => {
	test('bold, italic, underline, strike, code and spoilers', () => {
		assert.deepEqual(parseMarkup('**b** *i* _i_ __u__ ~~s~~ `c` ||x||'), [
			{t: 'b', c: [t('b')]}, t(' '), {t: 'i', c: [t('i')]}, t(' '), {t: 'i', c: [t('i')]}, t(' '),
			{t: 'u', c: [t('u')]}, t(' '), {t: 's', c: [t('s')]}, t(' '), {t: 'code', v: 'c'}, t(' '),
			{t: 'spoiler', c: [t('x')]},
		]);
		const el = rendered('**b** *i* __u__ ~~s~~ `c`');
		assert.deepEqual(el.children.map((c) => c.tagName), ['STRONG', 'EM', 'U', 'S', 'CODE']);
	});

	test('nesting, and bold with italic in one run', () => {
		assert.deepEqual(parseMarkup('***both***'), [{t: 'b', c: [{t: 'i', c: [t('both')]}]}]);
		assert.deepEqual(parseMarkup('**bold _and italic_**'),
		    [{t: 'b', c: [t('bold '), {t: 'i', c: [t('and italic')]}]}]);
		assert.deepEqual(parseMarkup('||**x**||'), [{t: 'spoiler', c: [{t: 'b', c: [t('x')]}]}]);
	});

	test('what is not markup stays as written', () => {
		for (const s of ['**', '****', '2 * 3 * 4', 'snake_case_name', 'a ~ b', '|a|', '**open',
		    'close**', '`no end', '~~ spaced ~~', '* not italic *'])
			assert.deepEqual(parseMarkup(s), [t(s)], s);
		/* Crossed delimiters: the innermost pair wins, the others are text. */
		assert.deepEqual(parseMarkup('**a *b** c*'), [t('**a '), {t: 'i', c: [t('b')]}, t('* c*')]);
		assert.deepEqual(parseMarkup('__a **b__ c**'), [{t: 'u', c: [t('a **b')]}, t(' c**')]);
	});

	test('a backslash keeps markup characters as text', () => {
		assert.deepEqual(parseMarkup('\\*\\*not bold\\*\\* \\`x\\`'), [t('**not bold** `x`')]);
		assert.deepEqual(parseMarkup('a\\b'), [t('a\\b')]);
	});

	test('inline code holds markup as text; longer fences hold backticks', () => {
		assert.deepEqual(parseMarkup('`**x** <@1>`'), [{t: 'code', v: '**x** <@1>'}]);
		assert.deepEqual(parseMarkup('``a ` b``'), [{t: 'code', v: 'a ` b'}]);
	});

	test('fenced code blocks, with or without a language', () => {
		assert.deepEqual(parseMarkup('see\n```js\nlet a = 1;\n  **b**\n```\nafter'), [
			t('see'), {t: 'pre', lang: 'js', v: 'let a = 1;\n  **b**'}, t('after'),
		]);
		assert.deepEqual(parseMarkup('```one line```'), [{t: 'pre', lang: '', v: 'one line'}]);
		assert.deepEqual(parseMarkup('``````'), [t('``````')]);
		const el = rendered('```c\nint x;\n```');
		const block = el.children[0];
		assert.equal(block.className, 'md-pre');
		const pre = [...block.descendants()].find((x) => x.tagName === 'PRE');
		assert.equal(pre.textContent, 'int x;');
		const copy = [...block.descendants()].find((x) => x.tagName === 'BUTTON');
		assert.equal(copy.textContent, 'Copy');
		assert.equal([...block.descendants()].find((x) => x.className === 'md-lang').textContent, 'c');
	});

	test('block quotes: "> " lines, and ">>> " to the end', () => {
		assert.deepEqual(parseMarkup('> a\n> **b**\nc'), [
			{t: 'quote', c: [t('a\n'), {t: 'b', c: [t('b')]}]}, t('c'),
		]);
		assert.deepEqual(parseMarkup('x\n>>> a\nb'), [t('x'), {t: 'quote', c: [t('a\nb')]}]);
		assert.deepEqual(parseMarkup('>no space'), [t('>no space')]);
		assert.equal(rendered('> q').children[0].tagName, 'BLOCKQUOTE');
	});

	test('a spoiler is a button until clicked, then text', () => {
		const el = rendered('the end: ||he **lives**||');
		spoilerEvents(el);
		const sp = el.children[0];
		assert.equal(sp.className, 'spoiler');
		assert.equal(sp.getAttribute('role'), 'button');
		sp.dispatch({type: 'keydown', key: 'x'});
		assert.ok(!sp.classList.contains('spoiler--shown'));
		sp.children[0].children[0].dispatch({type: 'click'});
		assert.ok(sp.classList.contains('spoiler--shown'));
		assert.equal(sp.getAttribute('role'), null);
	});
});

describe('links', () => {
	const links = (s) => [...rendered(s).descendants()].filter((e) => e.tagName === 'A');

	test('https, http and www. links, safe to open', () => {
		const [a, b, c] = links('go to https://example.org/a?b=1#c, http://x.org and www.sohbet.dev.');
		assert.equal(a.getAttribute('href'), 'https://example.org/a?b=1#c');
		assert.equal(a.textContent, 'https://example.org/a?b=1#c');
		assert.equal(a.getAttribute('rel'), 'noopener noreferrer');
		assert.equal(a.getAttribute('target'), '_blank');
		assert.equal(b.getAttribute('href'), 'http://x.org/');
		assert.equal(c.getAttribute('href'), 'https://www.sohbet.dev/');
		assert.equal(c.textContent, 'www.sohbet.dev');
	});

	test('punctuation, markup and unpaired parentheses after a link are not part of it', () => {
		assert.equal(links('(see https://a.org/x)')[0].textContent, 'https://a.org/x');
		assert.equal(links('https://en.wikipedia.org/wiki/C_(language)!')[0].textContent,
		    'https://en.wikipedia.org/wiki/C_(language)');
		assert.deepEqual(parseMarkup('**https://a.org**'),
		    [{t: 'b', c: [{t: 'link', href: 'https://a.org/', v: 'https://a.org'}]}]);
		assert.deepEqual(parseMarkup('||https://a.org||'),
		    [{t: 'spoiler', c: [{t: 'link', href: 'https://a.org/', v: 'https://a.org'}]}]);
	});

	test('never javascript:, data: or anything but http(s)', () => {
		for (const s of ['javascript:alert(1)', 'JaVaScRiPt:alert(1)', 'data:text/html,<script>x</script>',
		    'vbscript:x', 'https://', 'http://nodot', 'xhttps://a.org', 'file:///etc/passwd',
		    'https:javascript:alert(1)'])
			assert.equal(links(s).length, 0, s);
	});

	test('a look-alike host shows as the URL parser reads it; long links are cut after the host', () => {
		const [idn] = links('https://\u0430pple.com/login');
		assert.equal(idn.textContent, 'https://xn--pple-43d.com/login');
		const long = `https://example.org/${'a'.repeat(200)}`;
		const [cut] = links(long);
		assert.equal(cut.getAttribute('href'), long);
		assert.equal(cut.getAttribute('title'), long);
		assert.match(cut.textContent, /^https:\/\/example\.org\/a+\u2026$/);
		assert.ok(cut.textContent.length < 60);
	});
});

describe('mentions in rich text', () => {
	const pill = (raw) => (raw === '<@1>' ? holder(['@ada']).children.length === 0 &&
	    document.createElement('button') : null);

	test('resolved tokens become what the hook makes, in markup too; others stay text', () => {
		const made = [];
		const hooks = {mention: (raw) => {
			if (raw !== '<@1>' && raw !== '@here')
				return null;
			const el = document.createElement('button');
			el.textContent = raw === '<@1>' ? '@ada' : '@here';
			made.push(raw);
			return el;
		}};
		const el = rendered('hi <@1> **<@1>** <@2> @here `<@1>`', hooks);
		assert.deepEqual(made, ['<@1>', '<@1>', '@here']);
		assert.equal(el.textContent, 'hi @ada @ada <@2> @here <@1>');
		assert.equal(pill('<@9>'), null);
	});
});

/* A random message of markup, HTML, links and mentions, up to len pieces. */
function randomText(rand, len) {
	const pieces = ['*', '**', '_', '__', '~~', '||', '`', '```', '\n', '> ', '>>> ', '\\', ' ',
		'a', 'bc', '<script>alert(1)</script>', '<img src=x onerror=alert(1)>', '"', '\'', '&amp;',
		'https://a.org/x', 'www.b.org', 'javascript:alert(1)', '(', ')', '<@1>', '@everyone',
		'<a href="javascript:x">', '</b>', '\u0430', '\u{1f600}', ':', 'js\n'];
	let s = '';
	const n = Math.floor(rand() * len);
	for (let i = 0; i < n; i++)
		s += pieces[Math.floor(rand() * pieces.length)];
	return s;
}

/* A seeded generator of numbers in [0, 1) (mulberry32), so a failure can be run again. */
function seeded(seed) {
	return () => {
		seed = (seed + 0x6d2b79f5) | 0;
		let x = Math.imul(seed ^ (seed >>> 15), 1 | seed);
		x = (x + Math.imul(x ^ (x >>> 7), 61 | x)) ^ x;
		return ((x ^ (x >>> 14)) >>> 0) / 4294967296;
	};
}

/* Whether every character of sub appears in s, in order. */
function subsequence(sub, s) {
	let at = 0;
	for (const ch of sub) {
		at = s.indexOf(ch, at);
		if (at < 0)
			return false;
		at += ch.length;
	}
	return true;
}

const ALLOWED = {
	STRONG: [], EM: [], U: [], S: [], CODE: ['class'], BLOCKQUOTE: ['class'], PRE: ['tabindex'],
	A: ['href', 'target', 'rel', 'title'], DIV: ['class', 'aria-hidden'],
	SPAN: ['class', 'role', 'tabindex', 'aria-label', 'title'],
	BUTTON: ['type', 'class', 'aria-label'],
};

describe('hostile input', () => {
	test('HTML is text, never an element', () => {
		const s = '<script>alert(1)</script><img src=x onerror=alert(1)><b>x</b>';
		const el = rendered(s);
		assert.equal(el.children.length, 0);
		assert.equal(el.textContent, s);
	});

	test('no module of the client writes HTML as a string', () => {
		const web = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../web');
		const files = fs.readdirSync(web, {recursive: true}).filter((f) => /\.(js|html)$/.test(f));
		assert.ok(files.length > 20);
		for (const f of files) {
			const src = fs.readFileSync(path.join(web, f), 'utf8');
			for (const sink of ['innerHTML', 'outerHTML', 'insertAdjacentHTML', 'document.write',
			    'DOMParser', 'createContextualFragment', 'srcdoc'])
				assert.ok(!src.includes(sink), `${f} uses ${sink}`);
		}
	});

	test('random markup makes only known elements and attributes, and only the text written', () => {
		const rand = seeded(20261206);
		for (let round = 0; round < 3000; round++) {
			const s = randomText(rand, 40);
			const el = rendered(s);
			for (const e of el.descendants()) {
				assert.ok(e.tagName in ALLOWED, `${e.tagName} from ${JSON.stringify(s)}`);
				for (const name of e.attributes.keys())
					assert.ok(ALLOWED[e.tagName].includes(name), `${e.tagName} ${name} from ${JSON.stringify(s)}`);
				if (e.tagName === 'A')
					assert.match(e.getAttribute('href'), /^https?:\/\/[^/]+\.[^/]+\//, JSON.stringify(s));
			}
			assert.ok(subsequence(writtenText(el), s), `text not from ${JSON.stringify(s)}`);
			assert.deepEqual(parseMarkup(s), parseMarkup(s));
		}
	});

	test('4,000-character pathological messages render in under 5 ms', () => {
		const N = 4000;
		const fill = (unit) => unit.repeat(Math.ceil(N / unit.length)).slice(0, N);
		const inputs = {
			stars: fill('*'), bold: fill('**a'), openers: fill('*a '), underscores: fill('_a '),
			spoilers: fill('||'), backticks: fill('`'), ticks: fill('` ``'), fences: fill('```\n'),
			mixed: fill('**__~~||*_`'), nested: `${fill('**a __b ~~c ||d ').slice(0, N / 2)}${fill('|| ~~ __ **')
			    .slice(0, N / 2)}`,
			quotes: fill('> **a\n'), link: `https://a.org/${'('.repeat(N - 14)}`,
			closers: `https://a.org/${')'.repeat(N - 14)}`, www: fill('www.'),
			links: fill('https://a.org '), mentions: fill('<@1'), escapes: fill('\\'),
			html: fill('<script>alert(1)</script>'), random: fill(randomText(seeded(7), 400)),
		};
		const hooks = {mention: () => null};
		for (const s of Object.values(inputs))
			rendered(s, hooks);	/* warm up */
		for (const [name, s] of Object.entries(inputs)) {
			assert.equal(s.length, N, name);
			/*
			 * The best of ten: the box running the tests is shared. The
			 * bound is issue 25's; the figures, and those of a real DOM
			 * in Chromium, are bench/markup's.
			 */
			let best = Infinity;
			for (let i = 0; i < 10; i++) {
				const start = performance.now();
				rendered(s, hooks);
				best = Math.min(best, performance.now() - start);
			}
			assert.ok(best < 5, `${name}: ${best.toFixed(2)} ms`);
		}
	});
});
