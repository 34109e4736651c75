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

/* An inline SVG icon from the sprite icons.svg (a <use> of its symbol). */
export function icon(name, label) {
	const ns = 'http://www.w3.org/2000/svg';
	const svg = document.createElementNS(ns, 'svg');
	svg.setAttribute('class', 'icon');
	svg.setAttribute('viewBox', '0 0 24 24');
	if (label) {
		svg.setAttribute('role', 'img');
		svg.setAttribute('aria-label', label);
	} else {
		svg.setAttribute('aria-hidden', 'true');
	}
	const use = document.createElementNS(ns, 'use');
	use.setAttribute('href', `icons.svg#${name}`);
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

/* Up to two letters standing for a name (server icons, avatars). */
export function initials(name) {
	const words = name.trim().split(/[\s_.-]+/).filter(Boolean);
	if (words.length === 0)
		return '?';
	const first = Array.from(words[0])[0] || '';
	const second = words.length > 1 ? Array.from(words[1])[0] || '' : '';
	return (first + second).toUpperCase();
}

/* One of eight avatar colour classes, stable for an id. */
export function colourClass(id) {
	let n = 0;
	for (const ch of String(id))
		n = (n * 31 + ch.charCodeAt(0)) % 8;
	return `hue-${n}`;
}
