/* SPDX-License-Identifier: ISC */
/*
 * presence.js: what the web client shows of presence (docs/api.md,
 * Presence): the dot on an avatar, the status menu of the user bar, and
 * idle after IDLE_AFTER_MS without input. The statuses themselves are
 * ephemeral.js's.
 */

import {h} from '../dom.js';
import {api} from '../api.js';
import {store, notify} from '../store.js';
import {CHOSEN_STATUSES, STATUS_LABELS, idleDue} from '../ephemeral.js';
import {errorText, toast} from './dialog.js';

/* How often the idle watch looks at the time of the last input. */
const IDLE_LOOK_MS = 15000;

/* The dot of a status, to put inside an avatar. */
export function presenceDot(status) {
	return h('span', {class: ['presence-dot', `presence-dot--${status}`], title: STATUS_LABELS[status]});
}

/* The status for screen readers (the dot sits in an aria-hidden avatar). */
export function presenceText(status) {
	return h('span', {class: 'visually-hidden'}, ` (${STATUS_LABELS[status]})`);
}

/* Choose a status: shown at once, stored on the server; undone if that fails. */
export async function chooseStatus(status) {
	const before = store.myStatus;
	if (status === before)
		return;
	store.myStatus = status;
	notify('presence');
	try {
		await api.put('/users/@me/presence', {status});
	} catch (e) {
		if (store.myStatus === status) {
			store.myStatus = before;
			notify('presence');
		}
		toast(`Status: ${errorText(e)}`, 'error');
	}
}

/* Load the status the user chose (a failure keeps online). */
export async function loadStatus() {
	try {
		const r = await api.get('/users/@me/presence');
		store.myStatus = r.status;
		notify('presence');
	} catch {
		/* Shown as online; choosing again stores it. */
	}
}

/* The status menu of the user bar: a select of the statuses one may choose. */
export function statusMenu() {
	return h('select', {class: 'status-menu', 'aria-label': 'Status', title: 'Status',
	    dataset: {focusKey: 'status'}, onchange: (e) => chooseStatus(e.target.value)},
	    CHOSEN_STATUSES.map((s) => h('option', {value: s, selected: s === store.myStatus},
		STATUS_LABELS[s])));
}

/*
 * Set idle after IDLE_AFTER_MS without input, and online again at the
 * next input (only when it was set so here). Returns stop().
 */
export function startIdleWatch() {
	let lastInput = Date.now();
	let autoIdle = false;
	const kinds = ['keydown', 'pointerdown', 'pointermove', 'wheel', 'touchstart'];

	function onInput() {
		lastInput = Date.now();
		if (autoIdle) {
			autoIdle = false;
			if (store.myStatus === 'idle')
				chooseStatus('online');
		}
	}

	function look() {
		if (!autoIdle && idleDue(store.myStatus, lastInput, Date.now())) {
			autoIdle = true;
			chooseStatus('idle');
		}
	}

	for (const k of kinds)
		window.addEventListener(k, onInput, {passive: true, capture: true});
	const timer = setInterval(look, IDLE_LOOK_MS);
	return () => {
		clearInterval(timer);
		for (const k of kinds)
			window.removeEventListener(k, onInput, {capture: true});
	};
}
