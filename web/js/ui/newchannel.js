/* SPDX-License-Identifier: ISC */
/*
 * newchannel.js: the "Create channel" dialog: a name, and a "Private
 * channel" switch that makes the channel visible from its first moment
 * only to the roles picked (and to the owner and administrators, who see
 * everything): it is created with an overwrite of the default role that
 * denies view_channels and one per role picked that allows it (API.md,
 * Channel permission overwrites).
 */

import {h} from '../dom.js';
import {myAccess, privateOverwrites} from '../perm.js';
import {store, sortedRoles} from '../store.js';
import {createChannel} from '../send.js';
import {openDialog, field, showFormError, toast} from './dialog.js';

/*
 * Create a channel in server entry s. hooks: goChannel(id) (optional:
 * go to the new channel).
 */
export function openCreateChannel(s, hooks = {}) {
	const a = myAccess(s, store.me.id);
	const name = field('Channel name', {name: 'name', required: true, maxlength: 100,
	    placeholder: 'new-channel', autocomplete: 'off'});
	/* Making it private sets overwrites, which needs manage_roles. */
	const mayPrivate = a.has('manage_roles');
	const privateBox = h('input', {type: 'checkbox', role: 'switch', name: 'private',
	    disabled: !mayPrivate, onchange: () => {
		rolesBox.hidden = !privateBox.checked;
	}});
	const roles = sortedRoles(s).filter((r) => !r.is_default);
	const roleChecks = roles.map((r) => {
		/* Without being the owner, only roles below your rank (API.md). */
		const may = a.owner || r.position < a.rank;
		return h('label', {class: ['check', !may && 'check--disabled']},
		    h('input', {type: 'checkbox', name: 'role', value: r.id, disabled: !may}),
		    h('span', null, r.name));
	});
	const rolesBox = h('fieldset', {class: 'perm-list', hidden: true},
	    h('legend', {class: 'label'}, 'Roles that can see it'),
	    roles.length > 0 ? roleChecks : h('p', {class: 'hint', text: 'This server has no roles yet: ' +
		'only the owner and administrators will see the channel.'}),
	    a.has('administrator') ? null : h('p', {class: 'hint', text: 'You will see it too.'}));
	const general = h('div', {class: 'form-error', role: 'alert'});
	const submit = h('button', {type: 'submit', class: 'btn'}, 'Create channel');
	const form = h('form', {onsubmit: async (e) => {
		e.preventDefault();
		const picked = privateBox.checked ?
		    [...form.querySelectorAll('input[name="role"]:checked')].map((x) => x.value) : null;
		const overwrites = picked ? privateOverwrites(s, a, store.me.id, picked) : [];
		submit.disabled = true;
		try {
			const channel = await createChannel(s, name.input.value.trim(), overwrites);
			d.close();
			toast(`#${channel.name} created.`);
			if (hooks.goChannel)
				hooks.goChannel(channel.id);
		} catch (err) {
			showFormError(err, general, {name});
			submit.disabled = false;
		}
	}}, name.wrap,
	h('label', {class: ['check', 'switch', !mayPrivate && 'check--disabled']}, privateBox,
	    h('span', null, h('strong', null, 'Private channel'),
		h('span', {class: 'hint switch-hint'}, mayPrivate ?
		    'Only the roles you pick, the owner and administrators can see it.' :
		    'Making a channel private needs the Manage roles permission.'))),
	rolesBox, general, h('div', {class: 'row row--end'}, submit));
	const d = openDialog({title: 'Create channel', body: form});
	name.input.focus();
}
