/* SPDX-License-Identifier: ISC */
/*
 * ephemeral.js: typing hints and presence in the state (docs/api.md,
 * Typing and Presence). The events typing.start and presence.update carry
 * no seq and are never replayed: they only change what is shown for a
 * while. No DOM and no network, so that node imports it for the unit
 * tests (tests/web/ephemeral.test.mjs); apply.js hands it the events.
 *
 * state.typing: conversation key -> Map(user id -> when the hint ends,
 * in ms of the client's clock: 10 s after it came, whatever the server's
 * clock says). state.presence: user id -> the status of the newest
 * presence.update; what a load said (a member, a DM recipient) counts
 * until one comes.
 */

import {notify, channelKey, dmKey} from './store.js';

/* How long a hint shows, and how often the client sends one while typing. */
export const TYPING_SHOWN_MS = 10000;
export const TYPING_SEND_EVERY_MS = 5000;

/* The statuses a user may choose, in the order the status menu lists them. */
export const CHOSEN_STATUSES = ['online', 'idle', 'dnd', 'invisible'];

/* The words for a status. */
export const STATUS_LABELS = {
	online: 'Online',
	idle: 'Idle',
	dnd: 'Do not disturb',
	invisible: 'Invisible',
	offline: 'Offline',
};

/* The conversation key of a typing.start's data. */
function keyOfTyping(d) {
	return d.channel_id ? channelKey(d.channel_id) : dmKey(d.dm_channel_id);
}

/*
 * When a hint was sent, in ms of the server's clock: its expires_at is
 * TYPING_SHOWN_MS after that.
 */
function typingSentAt(d) {
	return Date.parse(d.expires_at) - TYPING_SHOWN_MS;
}

/*
 * typing.start: the typist shows in that conversation for TYPING_SHOWN_MS,
 * unless their message there, which ended it, was sent after it: the
 * server may hand a poll the hints waiting for it after a message that
 * came meanwhile (docs/api.md, Events).
 */
export function applyTyping(state, d, now = Date.now()) {
	if (state.me && d.user_id === state.me.id)
		return;
	const key = keyOfTyping(d);
	const ended = state.typingEnded.get(key);
	if (ended && ended.has(d.user_id)) {
		if (typingSentAt(d) <= ended.get(d.user_id))
			return;
		ended.delete(d.user_id);
	}
	let typing = state.typing.get(key);
	if (!typing) {
		typing = new Map();
		state.typing.set(key, typing);
	}
	typing.delete(d.user_id);	/* again: to the end, as the newest */
	typing.set(d.user_id, now + TYPING_SHOWN_MS);
	notify(`typing:${key}`);
}

/*
 * A message of user in conversation key, sent at sentAt (its created_at),
 * arrived: their hint there ends, and so does any sent before it that
 * arrives later.
 */
export function endTyping(state, key, userId, sentAt) {
	let ended = state.typingEnded.get(key);
	if (!ended) {
		ended = new Map();
		state.typingEnded.set(key, ended);
	}
	ended.set(userId, Date.parse(sentAt));
	const typing = state.typing.get(key);
	if (typing && typing.delete(userId))
		notify(`typing:${key}`);
}

/*
 * Who is typing in a conversation at now: user ids in the order their
 * hints came. Ended hints are forgotten on the way.
 */
export function typists(state, key, now = Date.now()) {
	const typing = state.typing.get(key);
	if (!typing)
		return [];
	const out = [];
	for (const [id, until] of typing) {
		if (until <= now)
			typing.delete(id);
		else
			out.push(id);
	}
	if (typing.size === 0)
		state.typing.delete(key);
	return out;
}

/* When the next hint of a conversation ends (ms), or null. */
export function nextTypingEnd(state, key) {
	const typing = state.typing.get(key);
	return typing && typing.size > 0 ? Math.min(...typing.values()) : null;
}

/* The line under the message list for the names of those typing. */
export function typingText(names) {
	if (names.length === 0)
		return '';
	if (names.length === 1)
		return `${names[0]} is typing\u2026`;
	if (names.length === 2)
		return `${names[0]} and ${names[1]} are typing\u2026`;
	return 'Several people are typing\u2026';
}

/* presence.update: what others see of a user now. */
export function applyPresence(state, d) {
	if (state.presence.get(d.user_id) === d.status)
		return;
	state.presence.set(d.user_id, d.status);
	notify('presence');
}

/*
 * The status to show for a user: the newest presence.update, else what
 * a load said (loaded), else offline. The user's own is the status they
 * chose (invisible included), as they are connected while they look.
 */
export function presenceOf(state, userId, loaded) {
	if (state.me && userId === state.me.id)
		return state.myStatus;
	return state.presence.get(userId) ?? loaded ?? 'offline';
}

/* Whether a status counts as online in the member list's groups. */
export function isOnline(status) {
	return status !== 'offline' && status !== 'invisible';
}

/* Without input this long, an online user becomes idle. */
export const IDLE_AFTER_MS = 10 * 60 * 1000;

/* Whether a user with a status and their last input at lastInput is to go idle at now. */
export function idleDue(status, lastInput, now) {
	return status === 'online' && now - lastInput >= IDLE_AFTER_MS;
}
