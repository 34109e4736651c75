/* SPDX-License-Identifier: ISC */
/*
 * ban.js: the ban dialog (API.md, Bans), opened beside Kick from a
 * member's profile card and from the Members tab of the server settings:
 * a reason, and how far back to delete the member's messages. The server
 * removes the member (member.leave) and deletes those messages with their
 * message.delete events; the store takes the leave at once.
 */

import {api, seg} from '../api.js';
import {h} from '../dom.js';
import {applyToStore} from '../load.js';
import {openDialog, toast, field, showFormError} from './dialog.js';

/* The choices of "Delete messages", in seconds (delete_message_seconds). */
export const BAN_DELETE_CHOICES = [
	{seconds: 0, label: 'Don\u2019t delete any'},
	{seconds: 3600, label: 'From the last hour'},
	{seconds: 86400, label: 'From the last day'},
	{seconds: 604800, label: 'From the last week'},
];

/*
 * Ask for a ban of user (named name) in server entry s and send it.
 * Resolves true once banned, false when the dialog was closed.
 */
export function openBanDialog(s, user, name) {
	return new Promise((resolve) => {
		let banned = false;
		const reason = field('Reason (optional)', {name: 'reason', maxlength: 512,
		    placeholder: 'Shown to moderators in the Bans tab'});
		const del = field('Delete their messages', {tag: 'select', name: 'delete_message_seconds'});
		for (const c of BAN_DELETE_CHOICES)
			del.input.appendChild(h('option', {value: String(c.seconds)}, c.label));
		const general = h('div', {class: 'form-error', role: 'alert'});
		const submit = h('button', {type: 'submit', class: 'btn btn--danger'}, 'Ban');
		const form = h('form', {onsubmit: async (e) => {
			e.preventDefault();
			submit.disabled = true;
			try {
				await api.put(`/servers/${seg(s.id)}/bans/${seg(user.id)}`, {
					reason: reason.input.value.trim(),
					delete_message_seconds: Number(del.input.value),
				});
				applyToStore({type: 'member.leave', data: {server_id: s.id, user_id: user.id}});
				toast(`${name} was banned.`);
				banned = true;
				d.close();
			} catch (err) {
				showFormError(err, general, {reason, delete_message_seconds: del});
				submit.disabled = false;
			}
		}},
		h('p', {text: `Remove ${name} from ${s.server.name} and keep them out: ` +
		    'no invite will let them back in until they are unbanned.'}),
		reason.wrap, del.wrap, general,
		h('div', {class: 'row row--end'},
		    h('button', {type: 'button', class: 'btn btn--secondary', onclick: () => d.close()}, 'Cancel'),
		    submit));
		const d = openDialog({title: `Ban ${name}`, body: form, onClose: () => resolve(banned)});
	});
}
