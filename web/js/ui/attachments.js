/* SPDX-License-Identifier: ISC */
/*
 * attachments.js: the files of a message on screen (API.md,
 * Attachments). Images (PNG, JPEG, GIF, WebP, whose size the server read
 * from their header) show inline, scaled into a box, with their width and
 * height set before they load so that nothing below them jumps; a click
 * opens the full-size image. Any other file is a card with its name, its
 * size and a download link.
 */

import {h, icon} from '../dom.js';

/* The box an inline image is scaled into (CSS px). */
const BOX_W = 400;
const BOX_H = 300;

/* A byte count as people read it: 812 B, 4.2 KB, 25 MB. */
export function formatSize(n) {
	if (n < 1024)
		return `${n} B`;
	const units = ['KB', 'MB', 'GB'];
	let v = n / 1024;
	let i = 0;
	while (v >= 1024 && i < units.length - 1) {
		v /= 1024;
		i++;
	}
	return `${v < 10 ? v.toFixed(1) : Math.round(v)} ${units[i]}`;
}

/* The size an image of w x h takes on screen: scaled down into the box. */
export function fitBox(w, h) {
	const scale = Math.min(1, BOX_W / w, BOX_H / h);
	return {width: Math.max(1, Math.round(w * scale)), height: Math.max(1, Math.round(h * scale))};
}

/* One attachment: an inline image, or a card. */
function attachmentView(a) {
	if (a.width && a.height) {
		const box = fitBox(a.width, a.height);
		return h('a', {class: 'att-image', href: a.url, target: '_blank', rel: 'noopener',
		    title: `${a.filename} (${a.width} \u00d7 ${a.height}, ${formatSize(a.size)}): open full size`},
		    h('img', {src: a.url, alt: a.filename, width: String(box.width),
			height: String(box.height), loading: 'lazy', decoding: 'async'}));
	}
	return h('div', {class: 'att-card'},
	    icon('file'),
	    h('div', {class: 'att-card-text'},
		h('a', {class: 'att-card-name', href: a.url, download: a.filename, text: a.filename}),
		h('span', {class: 'att-card-size', text: formatSize(a.size)})),
	    h('a', {class: 'icon-btn', href: a.url, download: a.filename,
		'aria-label': `Download ${a.filename}`, title: 'Download'}, icon('download')));
}

/* The attachments of a message, or null when it has none. */
export function attachmentsView(list) {
	if (!list || list.length === 0)
		return null;
	return h('div', {class: 'msg-attachments'}, list.map(attachmentView));
}
