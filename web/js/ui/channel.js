/* SPDX-License-Identifier: ISC */
/*
 * channel.js: a channel's settings, for those who may change it. Tabs,
 * shown as the user's permissions in that channel allow: Overview
 * (rename, delete; manage_channels) and Permissions (its permission
 * overwrites, overwrites.js; manage_roles). The dialog closes when the
 * channel goes, or when the user can no longer see it.
 */

import {h, icon} from '../dom.js';
import {myChannelAccess, isPrivate} from '../perm.js';
import {store} from '../store.js';
import {renameChannel, deleteChannel} from '../send.js';
import {confirmDialog, errorText, toast, field, showFormError} from './dialog.js';
import {openTabbed} from './tabbed.js';
import {createOverwriteEditor} from './overwrites.js';

/* Whether access a (perm.js, myChannelAccess) may open a channel's settings. */
export function canOpenChannelSettings(a) {
	return a.has('manage_channels') || a.has('manage_roles');
}

/*
 * Open the settings of channel channelId of server entry s. hooks: tab
 * (optional: "overview" or "permissions", the tab to open on).
 */
export function openChannelSettings(s, channelId, hooks = {}) {
	const serverId = s.id;
	const entry = () => store.servers.get(serverId);
	const channel = () => entry().channels.get(channelId);
	const overwrites = createOverwriteEditor(serverId, channelId, {redraw: () => tabbed.draw(false)});
	const tabs = [
		{id: 'overview', label: 'Overview', show: (a) => a.has('manage_channels'), draw: overview},
		{id: 'permissions', label: 'Permissions', show: (a) => a.has('manage_roles'), draw: overwrites.draw},
	];
	const tabbed = openTabbed({
		title: () => `#${channel().name} \u2014 channel settings`,
		tabs,
		tab: hooks.tab,
		access: () => myChannelAccess(entry(), store.me.id, channel()),
		gone: () => {
			const now = entry();
			return !now || !now.channels || !now.channels.has(channelId);
		},
		redraws: (topics) => topics.has(`server:${serverId}`) || topics.has(`members:${serverId}`),
	});

	function overview() {
		const c = channel();
		const name = field('Channel name', {name: 'name', required: true, maxlength: 100,
		    value: c.name, dataset: {focusKey: 'channel-name'}});
		const general = h('div', {class: 'form-error', role: 'alert'});
		return [h('h3', null, 'Overview'),
		    h('form', {onsubmit: async (e) => {
			e.preventDefault();
			try {
				await renameChannel(channelId, name.input.value.trim());
				toast('Channel renamed.');
			} catch (err) {
				showFormError(err, general, {name});
			}
		    }}, name.wrap, general,
			h('div', {class: 'row'},
			    h('button', {type: 'submit', class: 'btn btn--small'}, 'Save'),
			    h('button', {type: 'button', class: 'btn btn--small btn--danger', onclick: () => remove(c)},
				'Delete channel')))];
	}

	async function remove(c) {
		const ok = await confirmDialog({title: `Delete #${c.name}`,
		    message: `Delete #${c.name} and all of its messages?`,
		    confirm: 'Delete channel', danger: true});
		if (!ok)
			return;
		try {
			await deleteChannel(entry(), channelId);
		} catch (err) {
			toast(errorText(err), 'error');
		}
	}

	return tabbed;
}

/* The icon before a channel's name: a lock for a private channel, else a hash. */
export function channelIcon(s, c) {
	return isPrivate(s, c) ? icon('lock', 'Private channel') : icon('hash');
}
