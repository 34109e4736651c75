/* SPDX-License-Identifier: ISC */
/*
 * dom.js: building DOM elements without HTML strings.
 *
 * Every piece of text from the server goes in as a text node, never as
 * markup, and no element ever gets a style attribute (the
 * Content-Security-Policy forbids inline styles): looks come from classes.
 */

/*
 * h('button', {class: 'btn', onclick: fn, 'aria-label': 'Close'}, 'text', child)
 * makes an element. Props: "class" (string or array, falsy entries left
 * out), "text", "dataset" (object), "on<event>" (listener), boolean
 * true/false for boolean attributes, "value"/"checked"/"disabled" set as
 * properties, anything else as an attribute. Children: nodes, strings,
 * numbers, arrays of them; null, undefined and false are skipped.
 */
export function h(tag, props, ...children) {
	const el = document.createElement(tag);
	if (props) {
		for (const [k, v] of Object.entries(props)) {
			if (v === undefined || v === null || v === false)
				continue;
			if (k === 'class') {
				el.className = Array.isArray(v) ? v.filter(Boolean).join(' ') : v;
			} else if (k === 'text') {
				el.textContent = v;
			} else if (k === 'dataset') {
				Object.assign(el.dataset, v);
			} else if (k.startsWith('on') && typeof v === 'function') {
				el.addEventListener(k.slice(2), v);
			} else if (k === 'value' || k === 'checked' || k === 'disabled' ||
			    k === 'selected' || k === 'hidden') {
				el[k] = v;
			} else if (k === 'style') {
				throw new Error('h: inline styles are not allowed (CSP)');
			} else {
				el.setAttribute(k, v === true ? '' : String(v));
			}
		}
	}
	append(el, children);
	return el;
}

/* Append children (nodes, strings, nested arrays) to el. */
export function append(el, children) {
	for (const c of children) {
		if (c === null || c === undefined || c === false)
			continue;
		if (Array.isArray(c))
			append(el, c);
		else if (c instanceof Node)
			el.appendChild(c);
		else
			el.appendChild(document.createTextNode(String(c)));
	}
	return el;
}

/* Replace everything inside el with children. */
export function replace(el, ...children) {
	el.replaceChildren();
	return append(el, children);
}

/* The first element matching sel under root. */
export function $(sel, root = document) {
	return root.querySelector(sel);
}

const SVG_NS = 'http://www.w3.org/2000/svg';
/* The sprite icons.svg, fetched once and put in the page: icons drawn
 * later (offline too) need no request. null: not loaded (or failed). */
let sprite = null;

/*
 * Put icons.svg's symbols in the page, as "icon-<name>", once. An XHR
 * for a document: the browser parses the SVG as XML, no markup string
 * passes through script. Icons drawn before it is there show when it is.
 */
function loadIcons() {
	if (sprite)
		return;
	sprite = new Promise((resolve, reject) => {
		const xhr = new XMLHttpRequest();
		xhr.open('GET', 'icons.svg');
		xhr.responseType = 'document';
		xhr.overrideMimeType('image/svg+xml');
		xhr.onload = () => {
			const svg = xhr.responseXML && xhr.responseXML.documentElement;
			if (xhr.status !== 200 || !svg || svg.localName !== 'svg') {
				reject(new Error(`icons.svg: ${xhr.status}`));
				return;
			}
			const copy = document.importNode(svg, true);
			for (const sym of copy.querySelectorAll('symbol[id]'))
				sym.id = `icon-${sym.id}`;
			copy.setAttribute('class', 'icon-sprite');
			copy.setAttribute('aria-hidden', 'true');
			document.body.appendChild(copy);
			resolve();
		};
		xhr.onerror = () => reject(new Error('icons.svg: network error'));
		xhr.send();
	});
	sprite.catch(() => {
		/* Try again with the next icon drawn. */
		sprite = null;
	});
}

/* An inline SVG icon: a <use> of its symbol in the page's copy of icons.svg. */
export function icon(name, label) {
	loadIcons();
	const svg = document.createElementNS(SVG_NS, 'svg');
	svg.setAttribute('class', 'icon');
	svg.setAttribute('viewBox', '0 0 24 24');
	if (label) {
		svg.setAttribute('role', 'img');
		svg.setAttribute('aria-label', label);
	} else {
		svg.setAttribute('aria-hidden', 'true');
	}
	const use = document.createElementNS(SVG_NS, 'use');
	use.setAttribute('href', `#icon-${name}`);
	svg.appendChild(use);
	return svg;
}

const timeFmt = new Intl.DateTimeFormat(undefined, {hour: '2-digit', minute: '2-digit'});
const dateFmt = new Intl.DateTimeFormat(undefined, {dateStyle: 'medium'});
const fullFmt = new Intl.DateTimeFormat(undefined, {dateStyle: 'full', timeStyle: 'short'});

/* "14:05" today, "Nov 27, 2026 14:05" otherwise. */
export function shortTime(iso) {
	const d = new Date(iso);
	const now = new Date();
	if (d.toDateString() === now.toDateString())
		return timeFmt.format(d);
	return `${dateFmt.format(d)} ${timeFmt.format(d)}`;
}

/* "14:05". */
export function clockTime(iso) {
	return timeFmt.format(new Date(iso));
}

/* The long form, for title attributes. */
export function fullTime(iso) {
	return fullFmt.format(new Date(iso));
}

/* "Nov 27, 2026". */
export function dateOnly(iso) {
	return dateFmt.format(new Date(iso));
}

/*
 * The first letters of up to max words of a name (avatars: two; server
 * icons: three, so that "Book Club North" and "Book Club South" differ).
 */
export function initials(name, max = 2) {
	const words = name.trim().split(/[\s_.-]+/).filter(Boolean);
	if (words.length === 0)
		return '?';
	return words.slice(0, max).map((w) => Array.from(w)[0]).join('').toUpperCase();
}

/* One of eight avatar colour classes, stable for an id. */
export function colourClass(id) {
	let n = 0;
	for (const ch of String(id))
		n = (n * 31 + ch.charCodeAt(0)) % 8;
	return `hue-${n}`;
}
