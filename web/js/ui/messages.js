/* SPDX-License-Identifier: ISC */
/*
 * messages.js: a conversation on screen: the message list (older history
 * loads as you scroll up), the composer, edit and delete.
 *
 * At the bottom the list follows new messages. Scrolled up, it stays
 * where it is, and a "Jump to latest" button (with the number of new
 * messages from others since the user was last at the bottom) leads back
 * down; it shows whenever such messages arrived or the bottom is more
 * than a screen away.
 *
 * The list is drawn by keyed reconciliation: each message keeps its <li>
 * from draw to draw (a pending send and its confirmed message share the
 * key "n:<nonce>"), so focus, an open edit and the scroll position
 * survive updates. It holds a stretch of the loaded messages, not all of
 * them (shown.js: at most 150 of however many are loaded): scrolling
 * towards one end brings loaded messages back in and drops as many at
 * the far end; only at the end of what is loaded does a page load. What
 * is on screen holds still meanwhile: each draw measures the message at
 * the top of the visible list first and scrolls by what it moved. A
 * divider names the day (days.js: Today, Yesterday, a date) above each
 * day's first message; the headers carry only the time.
 *
 * Replies, reactions and pins: a message's buttons (shown on hover or
 * focus, or a tap) reply to it (a bar above the box names the message
 * answered; Escape or its button cancels), add a reaction (the emoji
 * picker, picker.js) and pin it where the user may. A reply shows the
 * message it answers; a click on that jumps to it (below). Reactions are
 * chips under the message with their counts, the user's own marked; a
 * click adds or takes away the user's, and the chip's tooltip names who
 * reacted. The Pins panel (togglePins, the header's button) lists the
 * pinned messages and follows their changes.
 *
 * Jumping to a message (jumpTo: a reply's quote, a pin, a search result
 * of any conversation): the view opens its conversation, and when the
 * message is not loaded there the page around it becomes what is shown
 * (load.js, openConvAt; window.js), without the pages in between. It is
 * scrolled into view and highlighted for a moment. Such a window of
 * older messages loads newer pages as the user scrolls down until it
 * reaches the newest; new messages do not show below it meanwhile, they
 * count on the "Jump to latest" button, which loads the newest page.
 *
 * Read state: entering a conversation with unread messages draws a "New
 * messages" divider above the first of them; the conversation is
 * acknowledged up to its newest message whenever the user has its bottom
 * on screen while looking at the page (store.attending). A message that
 * mentions the user is tinted; mentions show as @name pills (a user's
 * opens their profile). Text is rich text (markup.js); a :shortcode:
 * typed in the composer becomes its emoji (emoji.js).
 *
 * Files: the attach button, a drop on the conversation or a paste into
 * the message box upload them at once (uploads.js); the message sent next
 * takes those that finished. A message's files show below its text
 * (attachments.js).
 *
 * Keyboard: in the composer Enter sends, Shift+Enter is a new line and
 * ArrowUp in an empty composer edits your last message. Typing @ offers
 * members, roles and (with mention_everyone) everyone and here:
 * ArrowUp/ArrowDown choose, Enter or Tab takes one, Escape closes. In the
 * list ArrowUp/ArrowDown move between messages; on a message E edits it,
 * R replies to it and Delete deletes it; Tab reaches its buttons; Escape
 * cancels an edit or a reply.
 */

import {clockTime, fullTime, h, icon, initials, colourClass, replace, shortTime} from '../dom.js';
import {dayKey, dayLabel} from '../days.js';
import {newest, around, widenOlder, widenNewer, bound, atOldest, atNewest, locate} from '../shown.js';
import {markup, spoilerEvents} from '../markup.js';
import {shortcodes, typingShortcode, replaceShortcode, replaceShortcodesBefore} from '../emoji.js';
import {myChannelAccess} from '../perm.js';
import {store, pendingOf, displayName, currentKey, cmpId, readStateOf, mentionsMe} from '../store.js';
import {convPath, openConv, openConvAt, loadOlder, loadNewer, loadLatest, loadPins, loadReactors,
    reloadConv, wantMember, loadMoreMembers} from '../load.js';
import {sendMessage, retrySend, discardSend, editMessage, deleteMessage, react, pin,
    ackConv} from '../send.js';
import {mentionPart, mentionQuery, mentionCandidates, insertMention} from '../mentions.js';
import {confirmDialog, errorText, toast} from './dialog.js';
import {openPicker} from './picker.js';
import {createTypingLine, noteTyping} from './typing.js';
import {attachmentsView} from './attachments.js';
import {createUploadTray} from './uploads.js';

const MAX_LEN = 4000;
const GROUP_MS = 7 * 60 * 1000;
const HIGHLIGHT_MS = 2000;
/* Load older history when the top is this close (px); newer the same near the bottom. */
const NEAR_TOP = 400;

const countFmt = new Intl.NumberFormat();

/* A number as shown: "4,001". */
function count(n) {
	return countFmt.format(n);
}

/* Length in code points, as the server counts. */
function codePoints(s) {
	let n = 0;
	for (const _ of s)
		n++;
	return n;
}

/*
 * Make the conversation view inside root. hooks: openProfile(user,
 * serverId). Returns {show(key, ctx), update(topics), focusComposer(),
 * togglePins(), jumpTo(key, id)}.
 */
export function createMessageView(root, hooks) {
	let key = null;
	let ctx = null;		/* {serverId, label, placeholder, intro} */
	const items = new Map();	/* item key -> {el, sig} */
	const drafts = new Map();	/* conversation key -> text */
	let editing = null;	/* item key of the message being edited */
	let stickToBottom = true;
	let seenUpTo = null;	/* id of the newest message shown at the bottom */
	let unseen = 0;		/* messages from others after it */
	let replyingTo = null;	/* the message the composer answers */
	let pinsOpen = false;
	const reactors = new Map();	/* "id emoji count" -> tooltip text */
	let dividerAt = null;	/* "New messages" above others' messages after this id */
	let suggestions = [];	/* the @ autocomplete's candidates */
	let picked = 0;		/* the one chosen among them */
	let typed = null;	/* the @query being typed: {start, query} */
	let jumpTarget = null;	/* {k, id}: the message to jump to once k is shown */
	let highlighted = null;	/* {li, timer}: the message highlighted */
	/* The stretch of the loaded messages in the DOM (shown.js), and the
	 * generation of the window it was taken from (null: a new one). */
	let shown = null;
	let shownGen = null;

	const top = h('div');
	const list = h('ol', {class: 'msg-list'});
	const bottom = h('div');
	const scroller = h('div', {class: 'messages', tabindex: '0', role: 'log',
	    'aria-label': 'Messages'}, top, list, bottom);
	const jumpLabel = h('span');
	const jump = h('button', {type: 'button', class: 'btn btn--small jump-latest', hidden: true,
	    onclick: jumpToLatest}, jumpLabel, icon('arrow-down'));
	const note = h('p', {class: 'composer-note', 'aria-live': 'polite'});
	const input = h('textarea', {rows: '1', maxlength: String(MAX_LEN * 2),
	    'aria-label': 'Message', enterkeyhint: 'send', 'aria-autocomplete': 'list',
	    'aria-controls': 'mention-suggest'});
	const suggest = h('ul', {class: 'mention-suggest', id: 'mention-suggest', role: 'listbox',
	    'aria-label': 'Mention', hidden: true});
	const sendBtn = h('button', {type: 'submit', class: 'icon-btn', 'aria-label': 'Send',
	    title: 'Send (Enter)'}, icon('send'));
	const replyBar = h('div', {class: 'reply-bar', hidden: true});
	const tray = createUploadTray(updateNote);
	const fileInput = h('input', {type: 'file', multiple: true, hidden: true,
	    class: 'attach-input', 'aria-label': 'Attach files',
	    onchange: () => {
		addFiles(fileInput.files);
		fileInput.value = '';
	    }});
	const attachBtn = h('button', {type: 'button', class: 'icon-btn', 'aria-label': 'Attach files',
	    title: 'Attach files (or drop them here, or paste)', onclick: () => fileInput.click()},
	    icon('paperclip'));
	const form = h('form', {class: 'composer', onsubmit: onSend}, note, suggest, replyBar, tray.el,
	    h('div', {class: 'composer-box'}, attachBtn, fileInput, input, sendBtn));
	const pinsBody = h('div', {class: 'pins-body'});
	const pinsPanel = h('aside', {class: 'pins', hidden: true, 'aria-label': 'Pinned messages'},
	    h('div', {class: 'pins-head'}, h('h2', null, 'Pinned messages'),
		h('button', {type: 'button', class: 'icon-btn', 'aria-label': 'Close pinned messages',
		    onclick: () => togglePins(false)}, icon('x'))),
	    pinsBody);
	const typing = createTypingLine();
	const pane = h('div', {class: 'messages-pane'}, scroller, jump, pinsPanel);
	replace(root, pane, typing.el, form);
	spoilerEvents(pane);
	let canAttach = false;

	/* Upload files into the current conversation, if the user may. */
	function addFiles(files) {
		if (key === null || !files || files.length === 0)
			return;
		if (!canAttach) {
			toast('You may not attach files here.', 'error');
			return;
		}
		tray.add(Array.from(files), convPath(key));
	}

	/* Files dropped anywhere on the conversation, or pasted. */
	root.addEventListener('dragover', (e) => {
		if (e.dataTransfer && Array.from(e.dataTransfer.types).includes('Files')) {
			e.preventDefault();
			e.dataTransfer.dropEffect = canAttach ? 'copy' : 'none';
			root.classList.add('drop-target');
		}
	});
	root.addEventListener('dragleave', (e) => {
		if (!root.contains(e.relatedTarget))
			root.classList.remove('drop-target');
	});
	root.addEventListener('drop', (e) => {
		root.classList.remove('drop-target');
		if (e.dataTransfer && e.dataTransfer.files.length > 0) {
			e.preventDefault();
			addFiles(e.dataTransfer.files);
		}
	});
	input.addEventListener('paste', (e) => {
		if (e.clipboardData && e.clipboardData.files.length > 0) {
			e.preventDefault();
			addFiles(e.clipboardData.files);
		}
	});

	scroller.addEventListener('scroll', () => {
		stickToBottom = atBottom() && !detached();
		if (stickToBottom)
			markSeen();
		drawJump();
		if (scroller.scrollTop < NEAR_TOP)
			showOlder();
		if (scroller.scrollHeight - scroller.scrollTop - scroller.clientHeight < NEAR_TOP)
			showNewer();
	});
	scroller.addEventListener('keydown', onListKey);
	input.addEventListener('keydown', onComposerKey);
	input.addEventListener('input', () => {
		convertShortcode();
		updateNote();
		picked = 0;
		updateSuggest();
		if (key !== null && input.value.trim() !== '')
			noteTyping(key);
	});
	input.addEventListener('blur', () => queueMicrotask(() => {
		if (!suggest.contains(document.activeElement))
			hideSuggest();
	}));

	/*
	 * A :shortcode: just typed becomes its emoji; the first ":" and a
	 * letter load the table, and the codes completed meanwhile (the
	 * user typed on) convert when it is there.
	 */
	function convertShortcode() {
		const caret = input.selectionStart;
		if (caret !== input.selectionEnd || !typingShortcode(input.value, caret))
			return;
		const codes = shortcodes(convertTypedShortcodes);
		putShortcode(codes && replaceShortcode(input.value, caret, codes));
	}

	/* The table came: every code before the caret that it knows converts. */
	function convertTypedShortcodes() {
		const caret = input.selectionStart;
		if (caret === input.selectionEnd)
			putShortcode(replaceShortcodesBefore(input.value, caret, shortcodes(() => {})));
	}

	function putShortcode(r) {
		if (r) {
			input.value = r.value;
			input.setSelectionRange(r.caret, r.caret);
		}
	}

	function atBottom() {
		return scroller.scrollHeight - scroller.scrollTop - scroller.clientHeight < 40;
	}

	/*
	 * Whether what is shown stops short of the newest messages: a window
	 * of older ones is loaded, or the list dropped the newest from the DOM.
	 */
	function detached() {
		const c = store.convs.get(key);
		return !!c && (c.hasNewer || (shown !== null && !atNewest(c.messages, shown)));
	}

	function scrollToBottom() {
		scroller.scrollTop = scroller.scrollHeight;
		stickToBottom = true;
		markSeen();
	}

	/*
	 * The newest message is on screen: nothing below is new any more,
	 * and, if the user is looking, the conversation is read.
	 */
	function markSeen() {
		const c = store.convs.get(key);
		const last = c && c.messages[c.messages.length - 1];
		seenUpTo = last ? last.id : seenUpTo;
		unseen = 0;
		if (key !== null && store.attending && c && c.loaded)
			ackConv(key);
	}

	/*
	 * Count the messages from others that came in below what was seen
	 * (beyond a window of older messages: those it left out).
	 */
	function countUnseen(c) {
		if (c && c.hasNewer)
			return c.missedNewer;
		if (stickToBottom || !c || seenUpTo === null)
			return 0;
		let n = 0;
		for (let i = c.messages.length - 1; i >= 0; i--) {
			const m = c.messages[i];
			if (cmpId(m.id, seenUpTo) <= 0)
				break;
			if (m.author.id !== store.me.id)
				n++;
		}
		return n;
	}

	/* Show the "Jump to latest" button while the newest messages are out of view. */
	function drawJump() {
		const below = scroller.scrollHeight - scroller.scrollTop - scroller.clientHeight;
		jump.hidden = !detached() && (stickToBottom || (unseen === 0 && below <= scroller.clientHeight));
		jumpLabel.textContent = unseen === 0 ? 'Jump to latest' :
		    `${unseen} new message${unseen === 1 ? '' : 's'} \u00b7 Jump to latest`;
	}

	/* The "Jump to latest" button. */
	function jumpToLatest() {
		scroller.focus({preventScroll: true});
		backToLatest();
	}

	/* To the newest messages: the newest page first when a window of older ones is shown. */
	async function backToLatest() {
		const c = store.convs.get(key);
		const k = key;
		if (c && c.hasNewer) {
			try {
				await loadLatest(c);
			} catch (e) {
				toast(`The newest messages could not be loaded: ${errorText(e)}`, 'error');
				return;
			}
			if (k !== key)
				return;
		}
		if (c) {
			stickToBottom = true;
			draw();
		}
		scrollToBottom();
		drawJump();
	}

	/* What the signed-in user may do here (in a channel: its overwrites applied). */
	function access() {
		if (!ctx.serverId)
			return {dm: true, send: true, attach: true, manage: false, react: true};
		const s = store.servers.get(ctx.serverId);
		const c = s && s.channels && s.channels.get(key.slice(2));
		if (!c)
			return {dm: false, send: false, attach: false, manage: false, react: false};
		const a = myChannelAccess(s, store.me.id, c);
		return {dm: false, send: a.has('send_messages'),
		    attach: a.has('send_messages') && a.has('attach_files'),
		    manage: a.has('manage_messages'), react: a.has('add_reactions')};
	}

	/* Show conversation k. ctx: {serverId (null for DMs), label, intro}. */
	function show(k, c) {
		if (key !== null)
			drafts.set(key, input.value);
		const same = k === key;
		key = k;
		ctx = c;
		if (!same) {
			items.clear();
			list.replaceChildren();
			shown = null;
			editing = null;
			/* Uploads belong to the conversation they went to. */
			tray.clear();
			input.value = drafts.get(k) || '';
			stickToBottom = true;
			seenUpTo = null;
			setReply(null);
			togglePins(false);
			const rs = readStateOf(store, k);
			dividerAt = rs.unread_count > 0 ? rs.last_read_id || '0' : null;
			hideSuggest();
		}
		scroller.setAttribute('aria-label', `Messages in ${c.label}`);
		input.setAttribute('aria-label', `Message ${c.label}`);
		input.placeholder = `Message ${c.label}`;
		if (jumpTarget && jumpTarget.k === k)
			runJump();
		else
			openConv(k);
		typing.show(k, c.serverId);
		draw();
	}

	function update(topics) {
		if (key === null)
			return;
		typing.update(topics);
		if (topics.has('attending') && store.attending && stickToBottom)
			markSeen();
		if (ctx.serverId && topics.has(`members:${ctx.serverId}`) && !suggest.hidden)
			updateSuggest();
		if (topics.has(`conv:${key}`) || topics.has('me') ||
		    (ctx.serverId && (topics.has(`server:${ctx.serverId}`) ||
		    topics.has(`members:${ctx.serverId}`))))
			draw();
		if (pinsOpen && topics.has(`pins:${key}`))
			drawPins();
	}

	/*
	 * The shown stretch of c's messages (and, below the newest, the
	 * pending sends) as list items, oldest first, with a day's divider
	 * above the first item of each day.
	 */
	function itemsOf(c) {
		const out = [];
		const meId = store.me.id;
		const {start, end} = c ? locate(c.messages, shown) : {start: 0, end: 0};
		for (let i = start; i < end; i++) {
			const m = c.messages[i];
			const k = m.nonce && m.author.id === meId ? `n:${m.nonce}` : `m:${m.id}`;
			out.push({k, m, author: m.author, at: m.created_at, state: 'sent'});
		}
		/* Sends show below the newest messages, not below older ones. */
		for (const p of c && !c.hasNewer && end === c.messages.length ? pendingOf(key) : []) {
			if (!out.some((x) => x.k === `n:${p.nonce}`))
				out.push({k: `n:${p.nonce}`, p, author: p.author, at: p.created_at, state: p.state});
		}
		for (const it of out)
			it.reply = it.m ? it.m.reply_to : it.p.reply_to;
		if (dividerAt !== null) {
			const i = out.findIndex((x) => x.m && x.m.author.id !== meId && cmpId(x.m.id, dividerAt) > 0);
			if (i >= 0)
				out.splice(i, 0, {k: 'divider', label: 'New messages', className: 'msg-divider'});
		}
		return withDays(out);
	}

	/* Items with a divider naming the day above the first item of each day. */
	function withDays(items) {
		const out = [];
		const now = new Date();
		let day = null;
		for (const it of items) {
			if (it.at) {
				const d = dayKey(it.at);
				if (d !== day)
					out.push({k: `day:${d}`, label: dayLabel(it.at, now), className: 'day-divider'});
				day = d;
			}
			out.push(it);
		}
		return out;
	}

	/* A divider: the day's, or "New messages". */
	function drawDivider(li, it) {
		li.className = it.className;
		li.setAttribute('role', 'separator');
		li.setAttribute('aria-label', it.label);
		replace(li, h('span', null, it.label));
	}

	/*
	 * Decide which of c's loaded messages the DOM holds (shown.js): the
	 * newest when the window is new or the list follows the bottom, and
	 * at most SHOWN_MAX, dropped at the end away from what is on screen.
	 */
	function pickShown(c) {
		if (!c || !c.loaded) {
			shown = {first: null, last: null};
			shownGen = null;
			return;
		}
		if (shown === null || shownGen !== c.generation || (stickToBottom && !atNewest(c.messages, shown)))
			shown = newest(c.messages);
		shownGen = c.generation;
		const lowerHalf = scroller.scrollTop + scroller.clientHeight / 2 > scroller.scrollHeight / 2;
		shown = bound(c.messages, shown, stickToBottom || lowerHalf);
	}

	/*
	 * The message nearest the top of the visible area and where it is
	 * (px below the scroller's top), to hold it still across a draw.
	 */
	function visibleAnchor() {
		const top = scroller.getBoundingClientRect().top;
		for (const el of list.children) {
			if (el.classList.contains('msg') && el.getBoundingClientRect().bottom > top)
				return {el, at: el.getBoundingClientRect().top - top};
		}
		return null;
	}

	function draw() {
		const c = store.convs.get(key);
		const acc = access();
		/* What is on screen, to hold it still (measured before anything changes). */
		const anchor = stickToBottom ? null : visibleAnchor();
		const wasAtBottom = stickToBottom;
		drawTop(c);
		drawBottom(c);
		drawComposer(acc);
		pickShown(c);

		const want = itemsOf(c && c.loaded ? c : null);
		const seen = new Set();
		let prev = null;
		let i = 0;
		for (const it of want) {
			seen.add(it.k);
			if (it.label) {
				let rec = items.get(it.k);
				if (!rec) {
					rec = {el: h('li'), sig: null, item: it};
					items.set(it.k, rec);
				}
				if (rec.sig !== it.label) {
					drawDivider(rec.el, it);
					rec.sig = it.label;
				}
				if (list.children[i] !== rec.el)
					list.insertBefore(rec.el, list.children[i] || null);
				i++;
				prev = null;
				continue;
			}
			const cont = prev !== null && prev.author.id === it.author.id &&
			    prev.state !== 'failed' && it.state !== 'failed' && !it.reply &&
			    Date.parse(it.at) - Date.parse(prev.at) < GROUP_MS;
			const name = authorName(it.author);
			const mine = it.author.id === store.me.id;
			const canEdit = !!it.m && mine;
			const canDelete = !!it.m && (mine || acc.manage);
			const canPin = !!it.m && (acc.dm || acc.manage);
			const canReact = !!it.m && (acc.dm || acc.react);
			const mentioned = !!it.m && mentionsMe(store, it.m);
			const files = (it.m ? it.m.attachments : it.p.attachments) || [];
			const sig = JSON.stringify([it.m ? it.m.content : it.p.content,
			    files.map((a) => a.id),
			    it.m ? it.m.edited_at : null, it.m ? it.m.id : null, it.state, name, cont,
			    canEdit, canDelete, canPin, canReact, mentioned, it.reply,
			    it.reply && it.reply.author ? authorName(it.reply.author) : null,
			    it.m ? it.m.reactions : null, it.m ? it.m.pinned : false]);
			let rec = items.get(it.k);
			if (!rec) {
				rec = {el: h('li', {tabindex: '-1'}), sig: null};
				items.set(it.k, rec);
			}
			if (rec.sig !== sig && editing !== it.k) {
				drawItem(rec.el, it, {cont, name, canEdit, canDelete, canPin, canReact, mentioned});
				rec.sig = sig;
			}
			rec.item = it;
			if (list.children[i] !== rec.el)
				list.insertBefore(rec.el, list.children[i] || null);
			i++;
			prev = it;
		}
		for (const [k, rec] of items) {
			if (!seen.has(k)) {
				const hadFocus = rec.el.contains(document.activeElement);
				rec.el.remove();
				items.delete(k);
				if (editing === k)
					editing = null;
				if (hadFocus)
					scroller.focus();
			}
		}

		/* Keep the view still: stick to the bottom, or hold the message
		 * on screen in place when something came in or went above it. */
		if (wasAtBottom) {
			scrollToBottom();
		} else if (anchor && anchor.el.isConnected) {
			const moved = anchor.el.getBoundingClientRect().top - scroller.getBoundingClientRect().top -
			    anchor.at;
			if (moved !== 0)
				scroller.scrollTop += moved;
		}
		unseen = countUnseen(c);
		drawJump();
		/* Too few to scroll: load more. */
		if (c && c.loaded && scroller.scrollHeight - scroller.clientHeight < NEAR_TOP) {
			if (c.hasOlder && !c.loadingOlder)
				queueMicrotask(older);
			if (c.hasNewer && !c.loadingNewer)
				queueMicrotask(newer);
		}
	}

	/* An author's name here; in a server, ask for their member (nickname). */
	function authorName(user) {
		const s = ctx.serverId && store.servers.get(ctx.serverId);
		if (s && user.id !== store.me.id)
			wantMember(s, user.id);
		return displayName(ctx.serverId, user);
	}

	function drawTop(c) {
		if (c && c.error) {
			replace(top, h('div', {class: 'loading-older', role: 'alert'},
			    `Messages could not be loaded: ${errorText(c.error)} `,
			    h('button', {type: 'button', class: 'btn btn--link', onclick: () => {
				reloadConv(key);
				draw();
			    }}, 'Try again')));
			return;
		}
		if (!c || !c.loaded) {
			replace(top, h('div', {class: 'loading-older', text: 'Loading messages\u2026'}));
			return;
		}
		if (c.hasOlder) {
			replace(top, h('div', {class: 'loading-older'},
			    c.loadingOlder ? 'Loading older messages\u2026' : ''));
			return;
		}
		replace(top, h('div', {class: 'conv-start'},
		    h('h2', {text: ctx.intro.title}), h('p', {text: ctx.intro.text})));
	}

	/* Below a window of older messages: where the newer ones load. */
	function drawBottom(c) {
		const loading = !!c && c.loaded && c.hasNewer && c.loadingNewer;
		replace(bottom, c && c.loaded && c.hasNewer ? h('div', {class: 'loading-older'},
		    loading ? 'Loading newer messages\u2026' : '') : null);
	}

	function drawComposer(acc) {
		const can = acc.dm || acc.send;
		input.disabled = !can;
		canAttach = acc.dm || acc.attach;
		attachBtn.disabled = !canAttach;
		if (!can)
			input.placeholder = 'You do not have permission to send messages here.';
		else
			input.placeholder = `Message ${ctx.label}`;
		updateNote();
	}

	/*
	 * The note above the message box (uploads going on, the length near
	 * or over the limit), and whether Send can be pressed.
	 */
	function updateNote() {
		const n = codePoints(input.value);
		sendBtn.disabled = input.disabled || n > MAX_LEN;
		sendBtn.title = n > MAX_LEN ? 'Too long to send' : 'Send (Enter)';
		if (tray.busy()) {
			note.textContent = 'Uploading\u2026 the message can be sent once the files are up.';
			note.className = 'composer-note';
		} else if (n > MAX_LEN) {
			const over = n - MAX_LEN;
			note.textContent = `${count(n)} / ${count(MAX_LEN)} characters: too long to send. ` +
			    `Take out ${count(over)} character${over === 1 ? '' : 's'}.`;
			note.className = 'composer-note composer-note--over';
		} else if (n > MAX_LEN - 200) {
			note.textContent = `${count(n)} / ${count(MAX_LEN)} characters`;
			note.className = 'composer-note';
		} else {
			note.textContent = '';
			note.className = 'composer-note';
		}
	}

	/* Draw one list item into li. */
	function drawItem(li, it, o) {
		const m = it.m;
		const content = m ? m.content : it.p.content;
		li.className = ['msg', o.cont && 'msg--cont', it.state === 'sending' && 'msg--pending',
		    it.state === 'failed' && 'msg--failed', o.mentioned && 'msg--mentioned',
		    highlighted && highlighted.li === li && 'msg--highlight'].filter(Boolean).join(' ');
		li.dataset.k = it.k;
		if (m)
			li.dataset.id = m.id;
		else
			delete li.dataset.id;
		const author = () => h('button', {type: 'button', class: 'msg-author',
		    onclick: () => hooks.openProfile(it.author, ctx.serverId)}, o.name);
		const time = h('time', {class: o.cont ? 'msg-side-time' : 'msg-time',
		    datetime: it.at, title: fullTime(it.at)}, clockTime(it.at));
		const gutter = h('div', {class: 'msg-gutter'}, o.cont ? time :
		    h('span', {class: ['avatar', 'avatar--msg', colourClass(it.author.id)],
			'aria-hidden': 'true'}, initials(o.name)));
		const body = h('div', {class: 'msg-body'}, m ? drawContent(m) : markup(content),
		    m && m.edited_at ? h('span', {class: 'msg-edited', title: `Edited ${fullTime(m.edited_at)}`},
			'(edited)') : null,
		    m && m.pinned ? h('span', {class: 'msg-pinned', title: 'Pinned'},
			icon('pin', 'Pinned')) : null);
		const files = attachmentsView(m ? m.attachments : it.p.attachments);
		let status = null;
		if (it.state === 'sending') {
			status = h('div', {class: 'msg-status'}, 'Sending\u2026');
		} else if (it.state === 'failed') {
			status = h('div', {class: 'msg-status', role: 'alert'},
			    `Not sent: ${errorText(it.p.error)}`,
			    h('button', {type: 'button', class: 'btn btn--small btn--secondary',
				onclick: () => retrySend(key, it.p.nonce)}, icon('retry'), 'Retry'),
			    h('button', {type: 'button', class: 'btn btn--small btn--link',
				onclick: () => discardSend(key, it.p.nonce)}, 'Discard'));
		}
		const actions = m ? h('div', {class: 'msg-actions'},
		    h('button', {type: 'button', class: 'icon-btn', 'aria-label': 'Reply',
			title: 'Reply (R)', onclick: () => startReply(m)}, icon('reply')),
		    o.canReact ? h('button', {type: 'button', class: 'icon-btn', 'aria-label': 'Add reaction',
			title: 'Add reaction', onclick: (e) => pickReaction(e.currentTarget, m)},
		    icon('smile')) : null,
		    o.canPin ? h('button', {type: 'button', class: 'icon-btn',
			'aria-label': m.pinned ? 'Unpin message' : 'Pin message',
			'aria-pressed': String(!!m.pinned), title: m.pinned ? 'Unpin' : 'Pin',
			onclick: () => setPinned(m, !m.pinned)}, icon('pin')) : null,
		    o.canEdit ? h('button', {type: 'button', class: 'icon-btn', 'aria-label': 'Edit message',
			title: 'Edit (E)', onclick: () => startEdit(it.k)}, icon('edit')) : null,
		    o.canDelete ? h('button', {type: 'button', class: 'icon-btn icon-btn--danger',
			'aria-label': 'Delete message', title: 'Delete (Delete; Shift+click skips the question)',
			onclick: (e) => askDelete(it.k, e.shiftKey)}, icon('trash')) : null) : null;
		replace(li, gutter,
		    h('div', {class: 'msg-main'},
			it.reply ? quoteOf(it.reply) : null,
			o.cont ? h('span', {class: 'visually-hidden'}, `${o.name}: `) :
			    h('div', {class: 'msg-head'}, author(), time),
			body, files, status, m ? chipsOf(m, o.canReact) : null),
		    actions);
	}

	/* The message a reply answers, a button that jumps to it. */
	function quoteOf(r) {
		if (!r.author)
			return h('div', {class: 'msg-quote msg-quote--gone'}, icon('reply'),
			    'The original message was deleted');
		return h('button', {type: 'button', class: 'msg-quote', title: 'Jump to the message',
		    onclick: () => jumpTo(key, r.id)}, icon('reply'),
		h('span', {class: 'msg-quote-author'}, authorName(r.author)),
		h('span', {class: 'msg-quote-text'}, r.content));
	}

	/* The reaction chips of message m (and one to add another). */
	function chipsOf(m, canReact) {
		const rs = m.reactions || [];
		if (rs.length === 0)
			return null;
		return h('div', {class: 'reactions', role: 'group', 'aria-label': 'Reactions'},
		    ...rs.map((r) => {
			const chip = h('button', {type: 'button',
			    class: r.me ? 'reaction reaction--mine' : 'reaction',
			    'aria-pressed': String(!!r.me), disabled: !canReact && !r.me,
			    'aria-label': `${r.emoji} ${r.count}, ${r.me ? 'take yours away' : 'add yours'}`,
			    onclick: () => toggleReaction(m, r.emoji, !r.me)},
			h('span', {class: 'reaction-emoji'}, r.emoji),
			h('span', {class: 'reaction-count'}, String(r.count)));
			const cacheKey = `${m.id} ${r.emoji} ${r.count}`;
			chip.title = reactors.get(cacheKey) || '';
			const who = () => whoReacted(chip, m, r.emoji, cacheKey);
			chip.addEventListener('mouseenter', who);
			chip.addEventListener('focus', who);
			return chip;
		    }),
		    canReact && rs.length < 20 ? h('button', {type: 'button', class: 'reaction reaction--add',
			'aria-label': 'Add reaction', title: 'Add reaction',
			onclick: (e) => pickReaction(e.currentTarget, m)}, icon('smile')) : null);
	}

	/* Fill a chip's tooltip with the names of who reacted. */
	async function whoReacted(chip, m, emoji, cacheKey) {
		if (reactors.has(cacheKey))
			return;
		reactors.set(cacheKey, '');
		try {
			const users = await loadReactors(key, m.id, emoji);
			const r = (m.reactions || []).find((x) => x.emoji === emoji);
			const names = users.map((u) => authorName(u));
			const more = r && r.count > names.length ? ` and ${r.count - names.length} more` : '';
			const text = `${names.join(', ')}${more} reacted with ${emoji}`;
			reactors.set(cacheKey, text);
			chip.title = text;
		} catch {
			reactors.delete(cacheKey);
		}
	}

	/* --- replies, reactions, pins ------------------------------------- */

	function setReply(m) {
		replyingTo = m;
		replyBar.hidden = !m;
		if (!m) {
			replyBar.replaceChildren();
			return;
		}
		replace(replyBar, h('span', null, 'Replying to ',
		    h('strong', null, authorName(m.author))),
		h('span', {class: 'reply-bar-text'}, m.content),
		h('button', {type: 'button', class: 'icon-btn', 'aria-label': 'Cancel reply',
		    title: 'Cancel reply (Escape)', onclick: () => {
			setReply(null);
			input.focus();
		    }}, icon('x')));
	}

	function startReply(m) {
		setReply(m);
		input.focus();
	}

	function pickReaction(anchor, m) {
		openPicker(anchor, (emoji) => toggleReaction(m, emoji, true));
	}

	async function toggleReaction(m, emoji, on) {
		try {
			await react(key, m.id, emoji, on);
		} catch (e) {
			toast(`The reaction was not ${on ? 'added' : 'taken away'}: ${errorText(e)}`, 'error');
		}
	}

	async function setPinned(m, on) {
		try {
			await pin(key, m.id, on);
			if (pinsOpen)
				drawPins();
		} catch (e) {
			toast(`The message was not ${on ? 'pinned' : 'unpinned'}: ${errorText(e)}`, 'error');
		}
	}

	/*
	 * Jump to message id of conversation k: at once when k is on screen,
	 * else once show() opens it (the caller goes there).
	 */
	function jumpTo(k, id) {
		jumpTarget = {k, id};
		if (k === key)
			runJump();
	}

	/*
	 * Show the message jumpTo asked for: loaded with the messages around
	 * it when it is not (openConvAt), scrolled into view, highlighted.
	 */
	async function runJump() {
		const {k, id} = jumpTarget;
		jumpTarget = null;
		stickToBottom = false;
		let found;
		try {
			found = await openConvAt(k, id);
		} catch (e) {
			if (k === key)
				toast(`The message could not be loaded: ${errorText(e)}`, 'error');
			return;
		}
		if (k !== key)
			return;
		if (!found) {
			toast('That message is no longer there.', 'error');
			return;
		}
		const c = store.convs.get(k);
		shown = around(c.messages, id);
		shownGen = c.generation;
		draw();
		highlight(id);
	}

	/* Scroll message id into view and highlight it for a moment (it fades). */
	function highlight(id) {
		const li = list.querySelector(`li[data-id="${CSS.escape(id)}"]`);
		if (!li)
			return;
		if (highlighted) {
			clearTimeout(highlighted.timer);
			highlighted.li.classList.remove('msg--highlight');
		}
		stickToBottom = false;
		li.scrollIntoView({block: 'center'});
		li.classList.add('msg--highlight');
		li.focus({preventScroll: true});
		highlighted = {li, timer: setTimeout(() => {
			li.classList.remove('msg--highlight');
			highlighted = null;
		}, HIGHLIGHT_MS)};
	}

	/* Open (or close: on false) the Pins panel. */
	function togglePins(on = !pinsOpen) {
		pinsOpen = on;
		pinsPanel.hidden = !on;
		if (on)
			drawPins();
		return on;
	}

	async function drawPins() {
		const k = key;
		let pins;
		try {
			pins = await loadPins(k);
		} catch (e) {
			replace(pinsBody, h('p', {class: 'hint', role: 'alert'}, errorText(e)));
			return;
		}
		if (k !== key || !pinsOpen)
			return;
		const acc = access();
		if (pins.length === 0) {
			replace(pinsBody, h('p', {class: 'hint'}, 'No pinned messages yet.'));
			return;
		}
		replace(pinsBody, h('ol', {class: 'pins-list'}, ...pins.map((m) => h('li', {class: 'pin',
		    'data-id': m.id},
		h('div', {class: 'pin-head'}, h('strong', null, authorName(m.author)),
		    h('time', {datetime: m.created_at, title: fullTime(m.created_at)}, shortTime(m.created_at))),
		h('div', {class: 'pin-text'}, drawContent(m)),
		h('div', {class: 'pin-actions'},
		    h('button', {type: 'button', class: 'btn btn--small btn--secondary',
			onclick: () => jumpTo(key, m.id)}, 'Jump'),
		    acc.dm || acc.manage ? h('button', {type: 'button', class: 'btn btn--small btn--link',
			onclick: () => setPinned(m, false)}, 'Unpin') : null)))));
	}

	/* A message's content as rich text (markup.js), its mentions as pills. */
	function drawContent(m) {
		return markup(m.content, {mention: (raw) => mentionPill(mentionPart(m, raw))});
	}

	/* The pill of a resolved mention (mentions.js, mentionPart), or null. */
	function mentionPill(p) {
		if (!p)
			return null;
		if (p.user)
			return h('button', {type: 'button', class: 'mention',
			    onclick: () => hooks.openProfile(p.user, ctx.serverId)},
			`@${displayName(ctx.serverId, p.user)}`);
		if (p.role) {
			const s = ctx.serverId && store.servers.get(ctx.serverId);
			const r = s && s.roles && s.roles.get(p.role);
			return h('span', {class: 'mention'}, `@${r ? r.name : 'deleted role'}`);
		}
		return h('span', {class: 'mention'}, `@${p.everyone}`);
	}

	/* --- the @ autocomplete ------------------------------------------- */

	/* Who and what may be mentioned here. */
	function mentionSources() {
		if (!ctx.serverId) {
			const dm = store.dms.get(key.slice(2));
			const users = [{id: store.me.id, username: store.me.username}];
			if (dm)
				users.unshift(dm.recipient);
			return {users, roles: [], everyone: false};
		}
		const s = store.servers.get(ctx.serverId);
		if (!s)
			return {users: [], roles: [], everyone: false};
		if (!s.members)
			loadMoreMembers(s).catch(() => {});
		const users = new Map();
		for (const m of s.members ? s.members.values() : [])
			users.set(m.user.id, {id: m.user.id, username: m.user.username, name: m.nickname});
		if (s.me)
			users.set(s.me.user.id, {id: s.me.user.id, username: s.me.user.username, name: s.me.nickname});
		const roles = s.roles ? [...s.roles.values()].filter((r) => !r.is_default) : [];
		const channel = s.channels && s.channels.get(key.slice(2));
		return {users: [...users.values()], roles,
		    everyone: !!channel && myChannelAccess(s, store.me.id, channel).has('mention_everyone')};
	}

	function updateSuggest() {
		typed = mentionQuery(input.value, input.selectionStart);
		suggestions = typed ? mentionCandidates(typed.query, mentionSources()) : [];
		if (suggestions.length === 0) {
			hideSuggest();
			return;
		}
		picked = Math.min(picked, suggestions.length - 1);
		replace(suggest, suggestions.map((c, i) => h('li', {id: `mention-${i}`, role: 'option',
		    class: 'mention-option', 'aria-selected': i === picked ? 'true' : 'false',
		    onmousedown: (e) => {
			e.preventDefault();
			pick(i);
		    }},
		h('span', {class: 'mention-option-name'}, c.kind === 'user' ? c.name : `@${c.name}`),
		c.kind === 'user' && c.name !== c.username ? h('span', {class: 'mention-option-sub'}, c.username) :
		    c.kind !== 'user' ? h('span', {class: 'mention-option-sub'},
			c.kind === 'role' ? 'role' : 'notify everyone') : null)));
		suggest.hidden = false;
		input.setAttribute('aria-expanded', 'true');
		input.setAttribute('aria-activedescendant', `mention-${picked}`);
	}

	function hideSuggest() {
		suggest.hidden = true;
		suggestions = [];
		picked = 0;
		input.setAttribute('aria-expanded', 'false');
		input.removeAttribute('aria-activedescendant');
	}

	function pick(i) {
		const c = suggestions[i];
		if (!c || !typed)
			return;
		const r = insertMention(input.value, input.selectionStart, typed, c);
		input.value = r.value;
		input.setSelectionRange(r.caret, r.caret);
		hideSuggest();
		updateNote();
		input.focus();
	}

	/* Keys of the open autocomplete; whether the key was taken. */
	function onSuggestKey(e) {
		if (suggest.hidden)
			return false;
		if (e.key === 'ArrowDown' || e.key === 'ArrowUp') {
			e.preventDefault();
			const n = suggestions.length;
			picked = (picked + (e.key === 'ArrowDown' ? 1 : n - 1)) % n;
			updateSuggest();
			return true;
		}
		if ((e.key === 'Enter' || e.key === 'Tab') && !e.shiftKey && !e.isComposing) {
			e.preventDefault();
			pick(picked);
			return true;
		}
		if (e.key === 'Escape') {
			e.preventDefault();
			hideSuggest();
			return true;
		}
		return false;
	}

	/* --- edit and delete ---------------------------------------------- */

	function startEdit(k) {
		const rec = items.get(k);
		if (!rec || !rec.item.m || editing === k)
			return;
		if (editing !== null)
			stopEdit(false);
		editing = k;
		const m = rec.item.m;
		const area = h('textarea', {'aria-label': 'Edit message', rows: '1'});
		area.value = m.content;
		const hint = h('div', {class: 'hint'}, 'Enter to save \u00b7 Escape to cancel');
		const err = h('div', {class: 'form-error', role: 'alert'});
		const editForm = h('form', {class: 'msg-edit', onsubmit: (e) => {
			e.preventDefault();
			save();
		}}, area, hint, err);
		const body = rec.el.querySelector('.msg-body');
		body.replaceWith(editForm);
		area.focus();
		area.setSelectionRange(area.value.length, area.value.length);
		area.addEventListener('keydown', (e) => {
			if (e.key === 'Enter' && !e.shiftKey && !e.isComposing) {
				e.preventDefault();
				save();
			} else if (e.key === 'Escape') {
				e.preventDefault();
				e.stopPropagation();
				stopEdit(true);
			}
		});
		async function save() {
			const text = area.value;
			if (text === m.content) {
				stopEdit(true);
				return;
			}
			if (!text.trim()) {
				err.textContent = 'A message cannot be empty; delete it instead.';
				return;
			}
			if (codePoints(text) > MAX_LEN) {
				err.textContent = `At most ${MAX_LEN} characters.`;
				return;
			}
			area.disabled = true;
			try {
				await editMessage(key, m.id, text);
				stopEdit(true);
			} catch (e) {
				area.disabled = false;
				err.textContent = errorText(e);
				area.focus();
			}
		}
	}

	function stopEdit(refocus) {
		const k = editing;
		editing = null;
		const rec = items.get(k);
		if (rec)
			rec.sig = null;
		draw();
		if (refocus && rec && rec.el.isConnected)
			rec.el.focus();
	}

	async function askDelete(k, skipQuestion) {
		const rec = items.get(k);
		if (!rec || !rec.item.m)
			return;
		const m = rec.item.m;
		const ok = skipQuestion || await confirmDialog({
			title: 'Delete message',
			message: [h('p', {text: 'Delete this message? This cannot be undone.'}),
			    h('div', {class: 'quote', text: m.content})],
			confirm: 'Delete',
			danger: true,
		});
		if (!ok)
			return;
		try {
			await deleteMessage(key, m.id);
		} catch (e) {
			toast(`The message was not deleted: ${errorText(e)}`, 'error');
		}
	}

	/* --- keys ---------------------------------------------------------- */

	function onListKey(e) {
		if (e.target.closest('textarea, input'))
			return;
		const li = e.target.closest('.msg');
		if (e.key === 'ArrowUp' || e.key === 'ArrowDown') {
			/* From message to message, over the dividers. */
			const els = [...list.children].filter((el) => el.classList.contains('msg'));
			if (els.length === 0)
				return;
			let next;
			if (!li)
				next = els[els.length - 1];
			else
				next = els[els.indexOf(li) + (e.key === 'ArrowUp' ? -1 : 1)];
			if (next) {
				e.preventDefault();
				next.focus();
				next.scrollIntoView({block: 'nearest'});
			}
			return;
		}
		if (!li || e.target !== li)
			return;
		const rec = items.get(li.dataset.k);
		if (!rec || !rec.item.m)
			return;
		if ((e.key === 'e' || e.key === 'E') && rec.item.m.author.id === store.me.id) {
			e.preventDefault();
			startEdit(li.dataset.k);
		} else if (e.key === 'r' || e.key === 'R') {
			e.preventDefault();
			startReply(rec.item.m);
		} else if (e.key === 'Delete' && li.querySelector('.icon-btn--danger')) {
			e.preventDefault();
			askDelete(li.dataset.k, false);
		}
	}

	function onComposerKey(e) {
		if (onSuggestKey(e))
			return;
		if (e.key === 'Escape' && replyingTo) {
			e.preventDefault();
			e.stopPropagation();
			setReply(null);
		} else if (e.key === 'Enter' && !e.shiftKey && !e.isComposing) {
			e.preventDefault();
			form.requestSubmit();
		} else if (e.key === 'ArrowUp' && input.value === '') {
			const c = store.convs.get(key);
			const mine = c ? c.messages.filter((m) => m.author.id === store.me.id) : [];
			if (mine.length > 0) {
				e.preventDefault();
				const m = mine[mine.length - 1];
				startEdit(m.nonce ? `n:${m.nonce}` : `m:${m.id}`);
			}
		}
	}

	function onSend(e) {
		e.preventDefault();
		const text = input.value;
		const files = tray.ready();
		if ((!text.trim() && files.length === 0) || key === null || tray.busy())
			return;
		if (codePoints(text) > MAX_LEN) {
			/* Say it again, where a screen reader hears it. */
			note.textContent = '';
			updateNote();
			note.setAttribute('role', 'alert');
			return;
		}
		note.removeAttribute('role');
		input.value = '';
		drafts.delete(key);
		tray.clear();
		updateNote();
		const to = replyingTo;
		setReply(null);
		/* A send goes below the newest messages: back there first. */
		if (detached())
			backToLatest();
		stickToBottom = true;
		sendMessage(key, text, to, files);
	}

	/*
	 * Near one end of the list: the loaded messages beyond what the DOM
	 * holds there come in (and as many go at the other end), or, at the
	 * last loaded one, the next page loads and comes in as it arrives.
	 * atEnd, edge, widen and load name the end (shown.js, older()/newer()).
	 */
	function showMore(atEnd, edge, widen, load) {
		const c = store.convs.get(key);
		if (!c || !c.loaded || shown === null)
			return;
		if (!atEnd(c.messages, shown) || shown[edge] !== null) {
			shown = widen(c.messages, shown);
			draw();
		} else {
			load();
		}
	}

	/* Near the top: older messages (pages back in history). */
	function showOlder() {
		showMore(atOldest, 'first', widenOlder, older);
	}

	/* Near the bottom: newer messages (pages forward after a jump). */
	function showNewer() {
		showMore(atNewest, 'last', widenNewer, newer);
	}

	async function older() {
		const c = store.convs.get(key);
		if (c && key === currentKey(store))
			await loadOlder(c).catch((e) => toast(`Older messages: ${errorText(e)}`, 'error'));
	}

	async function newer() {
		const c = store.convs.get(key);
		if (c && key === currentKey(store))
			await loadNewer(c).catch((e) => toast(`Newer messages: ${errorText(e)}`, 'error'));
	}

	return {
		show,
		update,
		togglePins,
		jumpTo,
		/* The message box, or the messages when the user may not write here. */
		focusComposer: () => (input.disabled ? scroller : input).focus(),
		/* Whether the user may write here. */
		get canWrite() {
			return !input.disabled;
		},
		get key() {
			return key;
		},
	};
}
