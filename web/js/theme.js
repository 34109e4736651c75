/* SPDX-License-Identifier: ISC */
/*
 * theme.js: the light or dark theme. By default the system's
 * (prefers-color-scheme, which app.css follows by itself); a choice made
 * in the account settings is kept in localStorage and set on the root
 * element as data-theme, which fixes the page's color-scheme.
 */

const KEY = 'sohbet.theme';
export const THEMES = ['system', 'light', 'dark'];

/* The theme chosen: "system", "light" or "dark". */
export function chosenTheme() {
	try {
		const t = localStorage.getItem(KEY);
		return THEMES.includes(t) ? t : 'system';
	} catch {
		return 'system';
	}
}

/* Show the chosen theme. */
export function applyTheme() {
	const t = chosenTheme();
	if (t === 'system')
		delete document.documentElement.dataset.theme;
	else
		document.documentElement.dataset.theme = t;
}

/* Choose theme t ("system", "light" or "dark") and show it. */
export function chooseTheme(t) {
	try {
		if (t === 'system')
			localStorage.removeItem(KEY);
		else
			localStorage.setItem(KEY, t);
	} catch {
		/* No storage: the choice lasts as long as the page. */
		document.documentElement.dataset.theme = t;
		return;
	}
	applyTheme();
}
