/* SPDX-License-Identifier: ISC */
/*
 * tabbed.js: a settings dialog made of a column of tabs and the pane of
 * the tab chosen (the settings of a server and of a channel). The tabs
 * shown follow what the user may do; the pane is redrawn when the store
 * changes, with keyboard focus kept on what had it.
 */

import {h, replace} from '../dom.js';
import {subscribe} from '../store.js';
import {openDialog} from './dialog.js';

/*
 * Open a tabbed settings dialog. opts: title() (the dialog's title, read
 * again at every redraw: what it names may be renamed), tabs ([{id, label,
 * show(a), draw(a)}]: draw returns the pane's content), tab (the id of
 * the tab to open on, optional), access() (the a given to show and
 * draw), gone() (true when what the dialog is about no longer exists
 * for the user: the dialog closes), redraws(topics) (true when a change
 * of the store concerns the pane). The dialog also closes when no tab
 * is left to show. Returns {pane, draw(focusTab), close()}.
 */
export function openTabbed(opts) {
	let current = opts.tabs.find((t) => t.id === opts.tab) || null;
	const paneId = `pane-${Math.random().toString(36).slice(2)}`;
	const tabBar = h('div', {class: 'tabs', role: 'tablist', 'aria-orientation': 'vertical'});
	const pane = h('section', {class: 'pane', role: 'tabpanel', tabindex: '-1', id: paneId});
	const d = openDialog({
		title: opts.title(),
		wide: true,
		body: h('div', {class: 'settings'}, tabBar, pane),
		onClose: () => unsubscribe(),
	});
	const unsubscribe = subscribe((topics) => {
		if (opts.gone()) {
			d.close();
			return;
		}
		if (opts.redraws(topics))
			draw(false);
	});
	draw(true);

	/* Redraw the tabs and the pane; keep focus on what had it. */
	function draw(focusTab) {
		const a = opts.access();
		const visible = opts.tabs.filter((t) => t.show(a));
		if (visible.length === 0) {
			d.close();
			return;
		}
		if (!current || !visible.includes(current))
			current = visible[0];
		d.el.querySelector('.dlg-head h2').textContent = opts.title();
		replace(tabBar, visible.map((t) => h('button', {
			type: 'button', class: 'tab', role: 'tab', id: `${paneId}-${t.id}`,
			'aria-selected': String(t === current), tabindex: t === current ? '0' : '-1',
			'aria-controls': paneId,
			onclick: () => {
				current = t;
				draw(true);
			},
			onkeydown: (e) => {
				const i = visible.indexOf(t);
				const j = e.key === 'ArrowDown' || e.key === 'ArrowRight' ? i + 1 :
				    e.key === 'ArrowUp' || e.key === 'ArrowLeft' ? i - 1 : null;
				if (j === null)
					return;
				e.preventDefault();
				current = visible[(j + visible.length) % visible.length];
				draw(true);
			},
		}, t.label)));
		pane.setAttribute('aria-labelledby', `${paneId}-${current.id}`);
		const key = document.activeElement && pane.contains(document.activeElement) ?
		    document.activeElement.dataset.focusKey : null;
		replace(pane, current.draw(a));
		if (focusTab) {
			tabBar.querySelector('[aria-selected="true"]').focus();
		} else if (key) {
			const again = pane.querySelector(`[data-focus-key="${CSS.escape(key)}"]`);
			/* Gone (a row deleted, the last page in) or disabled (a
			 * change saved): the pane, not the page. */
			(again && !again.disabled ? again : pane).focus();
		}
	}

	return {pane, draw, close: () => d.close()};
}
