/* SPDX-License-Identifier: ISC */
/*
 * dialog.js: modal dialogs (the native <dialog>: focus stays inside,
 * Escape closes it), confirmations and toasts.
 */

import {h, icon, replace} from '../dom.js';

/*
 * Open a modal dialog. opts: title, body (node or array), foot (node or
 * array, optional), wide (bool), onClose(). Returns {el, body, close()}.
 * Focus returns to the element that had it when the dialog closes.
 */
export function openDialog(opts) {
	const before = document.activeElement;
	const beforeKey = before && before.dataset ? before.dataset.focusKey : undefined;
	const titleId = `dlg-${Math.random().toString(36).slice(2)}`;
	const body = h('div', {class: 'dlg-body'}, opts.body);
	const el = h('dialog', {class: ['dlg', opts.wide && 'dlg--wide'], 'aria-labelledby': titleId},
	    h('div', {class: 'dlg-inner'},
		h('header', {class: 'dlg-head'},
		    h('h2', {id: titleId, text: opts.title}),
		    h('button', {type: 'button', class: 'icon-btn', 'aria-label': 'Close',
			title: 'Close (Escape)', onclick: () => close()}, icon('x'))),
		body,
		opts.foot ? h('footer', {class: 'dlg-foot'}, opts.foot) : null));
	let closed = false;
	function close() {
		if (closed)
			return;
		closed = true;
		if (el.open)
			el.close();
		el.remove();
		if (opts.onClose)
			opts.onClose();
		restoreFocus(before, beforeKey);
	}
	el.addEventListener('close', close);
	/* A click on the backdrop (the dialog element itself) closes it. */
	el.addEventListener('mousedown', (e) => {
		if (e.target === el)
			close();
	});
	document.body.appendChild(el);
	el.showModal();
	const first = el.querySelector('[autofocus]') ||
	    body.querySelector('input:not([disabled]), textarea, select, button:not([disabled])');
	if (first)
		first.focus();
	return {el, body, close, setBody: (...nodes) => replace(body, ...nodes)};
}

/*
 * Give focus back to el, or when a redraw replaced it, to the element
 * with the same data-focus-key, or else to the message box.
 */
function restoreFocus(el, key) {
	let target = el && el.isConnected ? el : null;
	if (!target && key)
		target = document.querySelector(`[data-focus-key="${CSS.escape(key)}"]`);
	if (!target)
		target = document.querySelector('.composer textarea:not([disabled])') || document.getElementById('main');
	if (target && typeof target.focus === 'function')
		target.focus();
}

/*
 * Ask for a confirmation. Resolves true when confirmed. opts: title,
 * message (string or node), confirm (button label), danger (bool).
 */
export function confirmDialog(opts) {
	return new Promise((resolve) => {
		let result = false;
		const ok = h('button', {type: 'button', class: ['btn', opts.danger && 'btn--danger'],
		    onclick: () => {
			result = true;
			d.close();
		}}, opts.confirm || 'OK');
		const d = openDialog({
			title: opts.title,
			body: typeof opts.message === 'string' ? h('p', {text: opts.message}) : opts.message,
			foot: [
				h('button', {type: 'button', class: 'btn btn--secondary', onclick: () => d.close()}, 'Cancel'),
				ok,
			],
			onClose: () => resolve(result),
		});
		ok.focus();
	});
}

/* Show a short message in the corner for a few seconds. */
export function toast(message, kind = 'info') {
	const box = document.getElementById('toasts');
	const t = h('div', {class: ['toast', kind === 'error' && 'toast--error']}, message);
	box.appendChild(t);
	setTimeout(() => t.remove(), kind === 'error' ? 7000 : 4000);
}

/* A human sentence for an error of the API. */
export function errorText(e) {
	if (!e || typeof e !== 'object')
		return 'Something went wrong.';
	switch (e.code) {
	case 'network_error':
		return 'The server cannot be reached. Check your connection.';
	case 'rate_limited':
		return `Too many requests; try again in ${e.retryAfter || 1} s.`;
	case 'missing_permission':
		return 'You do not have permission to do that.';
	case 'not_found':
		return 'It is not there any more (or you cannot see it).';
	case 'banned':
		return 'You are banned from this server.';
	case 'service_unavailable':
		return 'The server is busy or its database is down; try again shortly.';
	default:
		return e.message || 'Something went wrong.';
	}
}

/*
 * Show an API error in a form: next to the named field when there is one
 * (fields: {name: {input, error}}), otherwise in the general error slot.
 */
export function showFormError(e, general, fields = {}) {
	for (const f of Object.values(fields)) {
		f.input.removeAttribute('aria-invalid');
		f.error.textContent = '';
	}
	general.textContent = '';
	const f = e && e.field && fields[e.field];
	if (f) {
		f.input.setAttribute('aria-invalid', 'true');
		f.error.textContent = errorText(e);
		f.input.focus();
	} else {
		general.textContent = errorText(e);
	}
}

/* A labelled form field: returns {wrap, input, error}. */
export function field(label, inputProps) {
	const id = `f-${Math.random().toString(36).slice(2)}`;
	const errId = `${id}-err`;
	const input = h(inputProps.tag || 'input', {id, 'aria-describedby': errId,
	    ...Object.fromEntries(Object.entries(inputProps).filter(([k]) => k !== 'tag'))});
	const error = h('div', {class: 'field-error', id: errId});
	const wrap = h('div', {class: 'field'}, h('label', {for: id, text: label}), input, error);
	return {wrap, input, error};
}
