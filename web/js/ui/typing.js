/* SPDX-License-Identifier: ISC */
/*
 * typing.js: the typing hint of a conversation on screen: the line under
 * the message list ("alice is typing…", "alice and bob are typing…",
 * "Several people are typing…"), redrawn when a hint comes or ends, and
 * the user's own hints, sent at most every TYPING_SEND_EVERY_MS while
 * they type (POST …/typing, docs/api.md, Typing). Who types where is
 * ephemeral.js's.
 */

import {h} from '../dom.js';
import {api, seg} from '../api.js';
import {store, displayName} from '../store.js';
import {typists, typingText, nextTypingEnd, TYPING_SEND_EVERY_MS} from '../ephemeral.js';

/* conversation key -> when the user's last hint there was sent (ms) */
const sentAt = new Map();

/*
 * The user typed in conversation key: tell the others, unless a hint
 * went out less than TYPING_SEND_EVERY_MS ago. A failure only loses the
 * hint.
 */
export function noteTyping(key) {
	const now = Date.now();
	if (now - (sentAt.get(key) ?? 0) < TYPING_SEND_EVERY_MS)
		return;
	sentAt.set(key, now);
	const id = key.slice(2);
	const path = key.startsWith('c:') ? `/channels/${seg(id)}/typing` : `/dms/${seg(id)}/typing`;
	api.post(path).catch(() => {});
}

/* The name to show for a typist of conversation key in server serverId. */
function typistName(userId, serverId, key) {
	const s = serverId && store.servers.get(serverId);
	const m = s && s.members && s.members.get(userId);
	if (m)
		return displayName(serverId, m.user);
	for (const dm of store.dms.values()) {
		if (dm.recipient.id === userId)
			return dm.recipient.username;
	}
	const c = store.convs.get(key);
	const msg = c && c.messages.findLast((x) => x.author.id === userId);
	return msg ? displayName(serverId, msg.author) : 'Someone';
}

/* Make the typing line. Returns {el, show(key, serverId), update(topics)}. */
export function createTypingLine() {
	let key = null;
	let serverId = null;
	let timer = null;
	const el = h('p', {class: 'typing-line', 'aria-live': 'polite'});

	function draw() {
		clearTimeout(timer);
		timer = null;
		if (key === null) {
			el.textContent = '';
			return;
		}
		const names = typists(store, key).map((id) => typistName(id, serverId, key));
		el.textContent = typingText(names);
		/* Redraw when the next hint ends. */
		const end = nextTypingEnd(store, key);
		if (end !== null)
			timer = setTimeout(draw, Math.max(end - Date.now(), 0) + 50);
	}

	return {
		el,
		show(k, sid) {
			key = k;
			serverId = sid;
			draw();
		},
		update(topics) {
			if (key !== null && (topics.has(`typing:${key}`) ||
			    (serverId && topics.has(`members:${serverId}`))))
				draw();
		},
	};
}
