/* SPDX-License-Identifier: ISC */
/*
 * api.js: the HTTP API (/api/v1) and the session.
 *
 * The access token lives in this module's memory only. The refresh token
 * is kept in localStorage so that a reload or a second tab stays signed
 * in; it rotates on every use, so every rotation runs under a Web Lock
 * shared by the tabs of this origin and reads the current token from
 * storage inside it (two tabs refreshing at once with one token would be
 * taken for theft, and the server would revoke the whole login).
 *
 * request() refreshes the access token shortly before it expires and
 * once more when an answer is 401, then repeats the request. When the
 * refresh token is refused the session is over: the listeners given to
 * onSessionEnd() hear of it (with "revoked" when an access token that
 * had not expired was refused first: the session was ended elsewhere,
 * by "Sign out everywhere" or a password change).
 *
 * Every exchange tells the listeners of onReachability() whether the
 * server answered (events.js judges the connection by all requests, not
 * only by its long-polls).
 */

const BASE = '/api/v1';
const STORE_KEY = 'sohbet.refresh_token';
const LOCK_NAME = 'sohbet.refresh';
/* Refresh this long before the access token expires. */
const EARLY_MS = 60 * 1000;

/* An error answer of the API, or a network failure (status 0). */
export class ApiError extends Error {
	constructor(status, code, message, field, retryAfter) {
		super(message || code);
		this.name = 'ApiError';
		this.status = status;
		this.code = code;
		this.field = field || null;
		this.retryAfter = retryAfter || 0;
	}
}

let accessToken = null;
let accessExpires = 0;		/* Date.now() value */
let refreshTimer = 0;
let refreshing = null;		/* the refresh in flight, shared by callers */
/* An access token still valid by its clock was refused: a refused
 * refresh then means the session was revoked, not that it expired. */
let refusedEarly = false;
const endListeners = new Set();
const reachListeners = new Set();

/*
 * Call fn(true) when a request is answered by the server, fn(false) when
 * it cannot be reached (a network error, or nginx's 502 or 504: sohbetd
 * is not there). Returns a function that stops the calls.
 */
export function onReachability(fn) {
	reachListeners.add(fn);
	return () => reachListeners.delete(fn);
}

/* Whether an HTTP status (0 for none) means the server could not be reached. */
function unreachableStatus(status) {
	return status === 0 || status === 502 || status === 504;
}

/* Whether error e (an ApiError) says the server could not be reached. */
export function unreachable(e) {
	return e instanceof ApiError && unreachableStatus(e.status);
}

/* Tell the listeners whether the server answered (HTTP status, 0 for none). */
function reached(status) {
	const ok = !unreachableStatus(status);
	for (const fn of reachListeners)
		fn(ok);
}

/* Call fn(reason) when the session ends (refused refresh, sign out). */
export function onSessionEnd(fn) {
	endListeners.add(fn);
}

/* Whether a refresh token is stored: a session can be resumed. */
export function hasSession() {
	return storageGet() !== null;
}

function storageGet() {
	try {
		return localStorage.getItem(STORE_KEY);
	} catch {
		return null;
	}
}

function storageSet(value) {
	try {
		if (value === null)
			localStorage.removeItem(STORE_KEY);
		else
			localStorage.setItem(STORE_KEY, value);
	} catch {
		/* Storage disabled: the session lasts as long as the page. */
	}
}

/* Take the tokens of a register, login, refresh or password change. */
export function setSession(tokens) {
	accessToken = tokens.access_token;
	accessExpires = Date.now() + tokens.expires_in * 1000;
	storageSet(tokens.refresh_token);
	clearTimeout(refreshTimer);
	const delay = Math.max(tokens.expires_in * 1000 - EARLY_MS, 5000);
	refreshTimer = setTimeout(() => {
		refresh().catch(() => {
			/* The next request tries again. */
		});
	}, delay);
}

/* Forget the session here and tell the listeners. */
function endSession(reason) {
	const had = accessToken !== null || storageGet() !== null;
	accessToken = null;
	accessExpires = 0;
	clearTimeout(refreshTimer);
	storageSet(null);
	if (had) {
		for (const fn of endListeners)
			fn(reason);
	}
}

/* Another tab signed out: so does this one. */
window.addEventListener('storage', (e) => {
	if (e.key === STORE_KEY && e.newValue === null && accessToken !== null)
		endSession('signed_out_elsewhere');
});

/* One HTTP exchange; resolves {status, data, headers} or throws ApiError(0). */
async function exchange(method, path, body, token, signal) {
	const headers = {Accept: 'application/json'};
	const init = {method, headers, signal, cache: 'no-store', credentials: 'same-origin'};
	if (body !== undefined) {
		headers['Content-Type'] = 'application/json';
		init.body = JSON.stringify(body);
	}
	if (token)
		headers.Authorization = `Bearer ${token}`;
	let res;
	try {
		res = await fetch(BASE + path, init);
	} catch (e) {
		if (e.name === 'AbortError' || e.name === 'TimeoutError')
			throw e;
		reached(0);
		throw new ApiError(0, 'network_error', 'The server cannot be reached.');
	}
	reached(res.status);
	let data = null;
	if (res.status !== 204) {
		try {
			data = await res.json();
		} catch (e) {
			if (e.name === 'AbortError')
				throw e;
			data = null;
		}
	}
	return {status: res.status, data, headers: res.headers};
}

/* Turn a non-2xx answer into an ApiError. */
function errorOf(r) {
	const err = r.data && r.data.error;
	let retry = 0;
	if (r.status === 429 || r.status === 503) {
		retry = Number(r.headers.get('Retry-After')) || (err && err.retry_after) || 1;
	}
	if (err && typeof err.code === 'string')
		return new ApiError(r.status, err.code, err.message, err.field, retry);
	return new ApiError(r.status, `http_${r.status}`,
	    `The server answered ${r.status}.`, null, retry);
}

/* Rotate the refresh token; resolves when a fresh access token is held. */
export function refresh() {
	if (!refreshing) {
		const run = () => refreshLocked();
		const p = navigator.locks ? navigator.locks.request(LOCK_NAME, run) : run();
		refreshing = p.finally(() => {
			refreshing = null;
		});
	}
	return refreshing;
}

async function refreshLocked() {
	const token = storageGet();
	if (token === null) {
		endSession('signed_out');
		throw new ApiError(401, 'unauthorized', 'You are signed out.');
	}
	const r = await exchange('POST', '/auth/refresh', {refresh_token: token});
	if (r.status === 200) {
		setSession(r.data);
		return;
	}
	const err = errorOf(r);
	if (r.status === 401) {
		/* Unknown, expired, revoked or reused: this login is over. */
		endSession(refusedEarly && err.code === 'invalid_token' ? 'revoked' : err.code);
	}
	throw err;
}

/*
 * Refresh after the server refused the access token, noting whether that
 * token had still time to live (then a refused refresh is a revocation).
 */
async function refreshAfterRefusal() {
	refusedEarly = Date.now() < accessExpires - 5000;
	try {
		await refresh();
	} finally {
		refusedEarly = false;
	}
}

/*
 * Make a request; resolve the decoded JSON answer (null for 204), or throw
 * ApiError. Options: signal (AbortSignal), auth (default true).
 */
export async function request(method, path, body, opts = {}) {
	const auth = opts.auth !== false;
	if (!auth) {
		const r = await exchange(method, path, body, null, opts.signal);
		if (r.status >= 200 && r.status < 300)
			return r.data;
		throw errorOf(r);
	}
	if (accessToken === null || Date.now() > accessExpires - 10000)
		await refresh();
	let r = await exchange(method, path, body, accessToken, opts.signal);
	if (r.status === 401) {
		/* Revoked early (logout-all, password change elsewhere) or expired. */
		await refreshAfterRefusal();
		r = await exchange(method, path, body, accessToken, opts.signal);
		if (r.status === 401)
			endSession('unauthorized');
	}
	if (r.status >= 200 && r.status < 300)
		return r.data;
	throw errorOf(r);
}

/* One upload over XMLHttpRequest (fetch reports no upload progress). */
function sendFile(path, file, token, onProgress, signal) {
	return new Promise((resolve, reject) => {
		const xhr = new XMLHttpRequest();
		const abort = () => xhr.abort();
		xhr.open('POST', BASE + path);
		xhr.setRequestHeader('Accept', 'application/json');
		xhr.setRequestHeader('Authorization', `Bearer ${token}`);
		xhr.setRequestHeader('Content-Type', file.type || 'application/octet-stream');
		xhr.responseType = 'text';
		xhr.upload.onprogress = (e) => {
			if (e.lengthComputable && onProgress)
				onProgress(e.loaded, e.total);
		};
		xhr.onload = () => {
			signal && signal.removeEventListener('abort', abort);
			reached(xhr.status);
			let data = null;
			try {
				data = JSON.parse(xhr.responseText);
			} catch {
				data = null;
			}
			resolve({status: xhr.status, data,
			    headers: {get: (name) => xhr.getResponseHeader(name)}});
		};
		xhr.onerror = () => {
			reached(0);
			reject(new ApiError(0, 'network_error', 'The server cannot be reached.'));
		};
		xhr.onabort = () => reject(new DOMException('The upload was cancelled.', 'AbortError'));
		if (signal) {
			if (signal.aborted) {
				reject(new DOMException('The upload was cancelled.', 'AbortError'));
				return;
			}
			signal.addEventListener('abort', abort);
		}
		xhr.send(file);
	});
}

/*
 * Upload a File or Blob as the raw body of POST path (API.md,
 * Attachments), reporting onProgress(loaded, total); resolves the
 * attachment, or throws ApiError (or an AbortError when signal aborts).
 */
export async function upload(path, file, onProgress, signal) {
	if (accessToken === null || Date.now() > accessExpires - 10000)
		await refresh();
	let r = await sendFile(path, file, accessToken, onProgress, signal);
	if (r.status === 401) {
		await refreshAfterRefusal();
		r = await sendFile(path, file, accessToken, onProgress, signal);
		if (r.status === 401)
			endSession('unauthorized');
	}
	if (r.status >= 200 && r.status < 300)
		return r.data;
	throw errorOf(r);
}

export const api = {
	get: (path, opts) => request('GET', path, undefined, opts),
	post: (path, body, opts) => request('POST', path, body, opts),
	patch: (path, body, opts) => request('PATCH', path, body, opts),
	put: (path, body, opts) => request('PUT', path, body, opts),
	del: (path, opts) => request('DELETE', path, undefined, opts),
};

/* Register; the session starts. Resolves the user. */
export async function register(username, email, password) {
	const r = await request('POST', '/auth/register', {username, email, password}, {auth: false});
	setSession(r);
	return r.user;
}

/* Sign in with a username or email; the session starts. Resolves the user. */
export async function login(loginName, password) {
	const r = await request('POST', '/auth/login', {login: loginName, password}, {auth: false});
	setSession(r);
	return r.user;
}

/* Revoke the refresh token and forget the session. */
export async function signOut() {
	const token = storageGet();
	endSession('signed_out');
	if (token !== null) {
		try {
			await request('POST', '/auth/logout', {refresh_token: token}, {auth: false});
		} catch {
			/* The token expires by itself. */
		}
	}
}

/* Ask the server whether it is there (GET /health, no token); resolves or throws ApiError. */
export function ping() {
	return request('GET', '/health', undefined, {auth: false});
}

/* Path segment for an id or code taken from anywhere. */
export function seg(s) {
	return encodeURIComponent(String(s));
}
