/* SPDX-License-Identifier: ISC */
/*
 * picker.js: the emoji picker: every emoji of Unicode's data (generated
 * at build time into js/emoji-data.js by tools/emoji-table, loaded on
 * first use; nothing is fetched from elsewhere), searched by name, the
 * recently used ones first, and a skin tone for those that take one.
 * Recent emoji and the tone are remembered in localStorage.
 *
 * Keyboard: typing searches, Enter picks the first emoji shown, Escape
 * closes; Tab reaches the tones and the emoji.
 */

import {h, replace} from '../dom.js';
import {loadEmoji} from '../emoji.js';

const RECENT_KEY = 'sohbet.recentEmoji';
const TONE_KEY = 'sohbet.skinTone';
const RECENT_MAX = 16;
const TONES = ['', '\u{1f3fb}', '\u{1f3fc}', '\u{1f3fd}', '\u{1f3fe}', '\u{1f3ff}'];
const TONE_NAMES = ['No skin tone', 'Light', 'Medium-light', 'Medium', 'Medium-dark', 'Dark'];

function stored(key, fallback) {
	try {
		const v = localStorage.getItem(key);
		return v === null ? fallback : JSON.parse(v);
	} catch {
		return fallback;
	}
}

function store(key, value) {
	try {
		localStorage.setItem(key, JSON.stringify(value));
	} catch {
		/* Private mode: nothing remembered. */
	}
}

/* Remember emoji as the most recent. */
export function rememberEmoji(emoji) {
	const recent = stored(RECENT_KEY, []).filter((e) => e !== emoji);
	recent.unshift(emoji);
	store(RECENT_KEY, recent.slice(0, RECENT_MAX));
}

/*
 * Open the picker next to anchor; onPick(emoji) runs with the chosen one
 * (the picker closes). Returns a function that closes it.
 */
export function openPicker(anchor, onPick) {
	const search = h('input', {type: 'search', class: 'picker-search', placeholder: 'Search emoji',
	    'aria-label': 'Search emoji'});
	const tones = h('div', {class: 'picker-tones', role: 'radiogroup', 'aria-label': 'Skin tone'});
	const body = h('div', {class: 'picker-body'}, h('p', {class: 'hint'}, 'Loading\u2026'));
	const box = h('div', {class: 'picker', role: 'dialog', 'aria-label': 'Emoji picker'},
	    h('div', {class: 'picker-top'}, search, tones), body);
	let tone = stored(TONE_KEY, 0);
	let groups = null;

	function close() {
		box.remove();
		document.removeEventListener('mousedown', outside, true);
		anchor.focus({preventScroll: true});
	}

	function outside(e) {
		if (!box.contains(e.target) && !anchor.contains(e.target))
			close();
	}

	function pick(emoji) {
		rememberEmoji(emoji);
		close();
		onPick(emoji);
	}

	/* An emoji in the chosen tone, when it has one. */
	function toned(e) {
		if (tone === 0 || e[2].length === 0)
			return e[0];
		return e[2].find((f) => f.includes(TONES[tone])) || e[0];
	}

	function button(emoji, name) {
		return h('button', {type: 'button', class: 'picker-emoji', title: name,
		    'aria-label': name, onclick: () => pick(emoji)}, emoji);
	}

	function drawTones() {
		replace(tones, ...TONES.map((t, i) => h('button', {type: 'button', role: 'radio',
		    class: 'picker-tone', 'aria-checked': String(i === tone), title: TONE_NAMES[i],
		    'aria-label': TONE_NAMES[i], onclick: () => {
			tone = i;
			store(TONE_KEY, i);
			drawTones();
			draw();
		}}, `\u{1f44b}${t}`)));
	}

	function section(title, buttons) {
		if (buttons.length === 0)
			return null;
		return h('section', null, h('h3', {class: 'picker-group'}, title),
		    h('div', {class: 'picker-grid'}, ...buttons));
	}

	function draw() {
		if (!groups)
			return;
		const q = search.value.trim().toLowerCase();
		if (q) {
			const found = [];
			for (const [, list] of groups) {
				for (const e of list) {
					if (e[1].includes(q) && found.length < 200)
						found.push(button(toned(e), e[1]));
				}
			}
			replace(body, section('Results', found) ||
			    h('p', {class: 'hint'}, `No emoji found for \u201c${search.value}\u201d`));
			return;
		}
		const recent = stored(RECENT_KEY, []).map((e) => button(e, e));
		replace(body, section('Recent', recent),
		    ...groups.map(([name, list]) => section(name, list.map((e) => button(toned(e), e[1])))));
	}

	search.addEventListener('input', draw);
	box.addEventListener('keydown', (e) => {
		if (e.key === 'Escape') {
			e.preventDefault();
			e.stopPropagation();
			close();
		} else if (e.key === 'Enter' && e.target === search) {
			e.preventDefault();
			const first = body.querySelector('.picker-emoji');
			if (first)
				first.click();
		}
	});
	drawTones();
	const r = anchor.getBoundingClientRect();
	box.style.top = `${Math.max(8, Math.min(r.bottom + 4, innerHeight - 420))}px`;
	box.style.left = `${Math.max(8, Math.min(r.left, innerWidth - 360))}px`;
	document.body.appendChild(box);
	document.addEventListener('mousedown', outside, true);
	search.focus();
	loadEmoji().then((g) => {
		groups = g;
		draw();
	}, () => replace(body, h('p', {class: 'hint', role: 'alert'}, 'The emoji could not be loaded.')));
	return close;
}
