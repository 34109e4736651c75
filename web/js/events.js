/* SPDX-License-Identifier: ISC */
/*
 * events.js: the /events long-poll loop.
 *
 * The order the API asks for: take the head cursor (GET /events without
 * after), then load the state over REST, then poll from that cursor, so
 * nothing that changes in between is missed. Each answer's events are
 * handed over in order and the next poll starts from the cursor it gave.
 * Network failures and 5xx answers are retried with exponential back-off
 * (1 s doubling up to 30 s, with jitter; Retry-After when the server sends
 * one) from the same cursor, since events stay readable for days. A 410
 * cursor_expired (or a cursor the server does not know) starts over: a
 * fresh head cursor and a clean reload of the state.
 */

import {api, ApiError} from './api.js';

const POLL_TIMEOUT_S = 30;
/* Give up on a poll the server should have answered by now. */
const POLL_DEADLINE_MS = (POLL_TIMEOUT_S + 20) * 1000;
const BACKOFF_FIRST_MS = 1000;
const BACKOFF_MAX_MS = 30000;

/*
 * Start polling. handlers: reset() (async: load all state; called first
 * and after every restart), apply(events) (sync), status(s, detail)
 * with s one of "connecting", "live", "offline". Returns {stop(),
 * retryNow()}.
 */
export function startEvents(handlers) {
	const stopper = new AbortController();
	let wake = null;	/* resolves the back-off sleep early */

	function sleep(ms) {
		return new Promise((resolve) => {
			const t = setTimeout(done, ms);
			function done() {
				clearTimeout(t);
				wake = null;
				window.removeEventListener('online', done);
				resolve();
			}
			wake = done;
			/* The network is back: try at once. */
			window.addEventListener('online', done);
		});
	}

	async function loop() {
		let cursor = null;
		let backoff = 0;
		while (!stopper.signal.aborted) {
			try {
				if (cursor === null) {
					handlers.status('connecting');
					const head = await api.get('/events', {signal: stopper.signal});
					await handlers.reset();
					if (stopper.signal.aborted)
						return;
					cursor = head.cursor;
					handlers.status('live');
				}
				const signal = AbortSignal.any([stopper.signal,
				    AbortSignal.timeout(POLL_DEADLINE_MS)]);
				const r = await api.get(`/events?after=${encodeURIComponent(cursor)}` +
				    `&timeout=${POLL_TIMEOUT_S}`, {signal});
				if (stopper.signal.aborted)
					return;
				if (backoff !== 0)
					handlers.status('live');
				backoff = 0;
				cursor = r.cursor;
				if (r.events.length > 0) {
					try {
						handlers.apply(r.events);
					} catch (err) {
						/* A bug here must not replay the same events forever. */
						console.error('events: applying failed', err);
					}
				}
			} catch (e) {
				if (stopper.signal.aborted)
					return;
				if (e.code === 'cursor_expired' || e.code === 'invalid_cursor') {
					/* Too far behind (or a server that lost its log): start over. */
					cursor = null;
					continue;
				}
				if (e.status === 401)
					return;	/* the session ended; api.js told the app */
				if (e.name === 'TimeoutError') {
					/* A poll that hung: poll again at once. */
					continue;
				}
				backoff = backoff === 0 ? BACKOFF_FIRST_MS :
				    Math.min(backoff * 2, BACKOFF_MAX_MS);
				let delay = backoff * (0.75 + Math.random() * 0.5);
				if (e.retryAfter)
					delay = Math.max(delay, e.retryAfter * 1000);
				handlers.status('offline', {retryIn: delay, error: e});
				if (!(e instanceof ApiError))
					console.error('events:', e);
				await sleep(delay);
			}
		}
	}

	loop();
	return {
		stop() {
			stopper.abort();
			if (wake)
				wake();
		},
		/* Retry now instead of waiting out the back-off. */
		retryNow() {
			if (wake)
				wake();
		},
	};
}
