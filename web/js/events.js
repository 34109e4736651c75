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
 *
 * The connection is judged by every request (api.js, onReachability),
 * not only by the polls, whose answers can be 30 s apart: when one finds
 * the server unreachable the loop asks GET /health at once and then
 * every PROBE_MS, and the first answer from the server (a probe's or any
 * other request's) makes the state "live" again, ends the back-off and
 * tells handlers.reconnected(). A probe that finds nothing makes it
 * "offline" and drops the poll in flight (a connection that died quietly
 * would hold it until its deadline). The browser's offline event makes
 * it "offline" at once, its online event probes.
 */

import {api, ApiError, onReachability, ping} from './api.js';

const POLL_TIMEOUT_S = 30;
/* Give up on a poll the server should have answered by now. */
const POLL_DEADLINE_MS = (POLL_TIMEOUT_S + 20) * 1000;
const BACKOFF_FIRST_MS = 1000;
const BACKOFF_MAX_MS = 30000;
/* How often a lost server is asked whether it is back. */
const PROBE_MS = 700;

/*
 * Start polling. handlers: reset() (async: load all state; called first
 * and after every restart), apply(events) (sync), status(s, detail)
 * with s one of "connecting", "live", "offline", reconnected() (the
 * server answers again after a request found it unreachable). Returns
 * {stop(), retryNow()}.
 */
export function startEvents(handlers) {
	const stopper = new AbortController();
	let wake = null;	/* resolves the back-off sleep early */
	let status = null;
	let cursor = null;	/* where the next poll starts; null: take the head, reload */
	let lost = false;	/* a request found the server unreachable; none answered since */
	let probing = 0;	/* the probe timer while lost */
	let poll = null;	/* aborts the poll in flight */

	function setStatus(s, detail) {
		status = s;
		handlers.status(s, detail);
	}

	/* Every request's outcome: the server answered (ok) or could not be reached. */
	const unlisten = onReachability((ok) => {
		if (ok && lost) {
			lost = false;
			clearInterval(probing);
			if (status === 'offline' && cursor !== null)
				setStatus('live');
			if (wake)
				wake();
			handlers.reconnected();
		} else if (!ok && !lost) {
			lost = true;
			probe();
			probing = setInterval(probe, PROBE_MS);
		}
	});

	/* Ask whether the server is there; nothing there: offline, and the poll dropped. */
	function probe() {
		ping().catch((e) => {
			if (e.status !== 0 || !lost || stopper.signal.aborted)
				return;
			if (status === 'live')
				setStatus('offline', {error: e});
			if (poll)
				poll.abort();
		});
	}

	function onOffline() {
		lost = true;
		setStatus('offline', {browserOffline: true});
		if (poll)
			poll.abort();
	}

	function onOnline() {
		if (lost) {
			probe();
			clearInterval(probing);
			probing = setInterval(probe, PROBE_MS);
		}
	}

	window.addEventListener('offline', onOffline);
	window.addEventListener('online', onOnline);

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
		let ephemeral = null;	/* the last answer's value (typing, presence) */
		let backoff = 0;
		while (!stopper.signal.aborted) {
			try {
				if (cursor === null) {
					setStatus('connecting');
					const head = await api.get('/events', {signal: stopper.signal});
					await handlers.reset();
					if (stopper.signal.aborted)
						return;
					cursor = head.cursor;
					ephemeral = head.ephemeral ?? null;
					setStatus('live');
				}
				poll = new AbortController();
				const signal = AbortSignal.any([stopper.signal, poll.signal,
				    AbortSignal.timeout(POLL_DEADLINE_MS)]);
				const r = await api.get(`/events?after=${encodeURIComponent(cursor)}` +
				    `&timeout=${POLL_TIMEOUT_S}` +
				    (ephemeral ? `&ephemeral=${encodeURIComponent(ephemeral)}` : ''), {signal});
				if (stopper.signal.aborted)
					return;
				if (status !== 'live')
					setStatus('live');
				backoff = 0;
				cursor = r.cursor;
				ephemeral = r.ephemeral ?? null;
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
				if (e.name === 'TimeoutError' && !lost) {
					/* A poll that hung: poll again at once. */
					continue;
				}
				backoff = backoff === 0 ? BACKOFF_FIRST_MS :
				    Math.min(backoff * 2, BACKOFF_MAX_MS);
				let delay = backoff * (0.75 + Math.random() * 0.5);
				if (e.retryAfter)
					delay = Math.max(delay, e.retryAfter * 1000);
				setStatus('offline', {retryIn: delay, error: e});
				/* (An AbortError: the poll was dropped, lost.) */
				if (!(e instanceof ApiError) && e.name !== 'AbortError')
					console.error('events:', e);
				await sleep(delay);
			}
		}
	}

	loop();
	return {
		stop() {
			stopper.abort();
			unlisten();
			clearInterval(probing);
			window.removeEventListener('offline', onOffline);
			window.removeEventListener('online', onOnline);
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
