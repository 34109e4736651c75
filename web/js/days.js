/* SPDX-License-Identifier: ISC */
/*
 * days.js: the calendar day of a message, in the browser's time zone,
 * for the dividers of the message list (ui/messages.js): "Today",
 * "Yesterday", or the date written out. Pure: node tests it
 * (tests/web/days.test.mjs).
 */

const dateFmt = new Intl.DateTimeFormat(undefined, {dateStyle: 'full'});

/* The local day of a Date as "YYYY-MM-DD". */
function keyOf(d) {
	const pad = (n) => String(n).padStart(2, '0');
	return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}`;
}

/* The local day of an ISO 8601 time, "YYYY-MM-DD": equal for the times of one day. */
export function dayKey(iso) {
	return keyOf(new Date(iso));
}

/*
 * The divider's words for the day of time iso, seen at now: "Today",
 * "Yesterday", else the full date ("Monday, November 30, 2026").
 */
export function dayLabel(iso, now = new Date()) {
	const d = new Date(iso);
	const key = keyOf(d);
	if (key === keyOf(now))
		return 'Today';
	/* The calendar day before (not 24 hours back: a day may have 23 or 25). */
	if (key === keyOf(new Date(now.getFullYear(), now.getMonth(), now.getDate() - 1)))
		return 'Yesterday';
	return dateFmt.format(d);
}
