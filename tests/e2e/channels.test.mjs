/* SPDX-License-Identifier: ISC */
/*
 * channels.test.mjs: private channels and channel permission overwrites
 * in the web client (API.md, Channel permission overwrites), with two
 * users in two browser contexts: the owner O and a member M.
 *
 * The Permissions tab of a channel's settings: O denies @everyone
 * "Send messages" in #lounge and M's message box there closes live;
 * O denies M "View channels" and #lounge leaves M's sidebar live while
 * M is in it: M lands in #general with focus in its message box.
 *
 * The "Private channel" switch: O creates #secret private and lands in
 * it, shown with a lock; M never sees it (not live, not after a reload,
 * 404 over the API). O then allows the role Crew "View channels" in
 * #secret, and M, who holds Crew, gets #secret in the sidebar live, with
 * its lock, and can talk in it; removing that overwrite takes it away
 * again. Renaming it in the Overview tab renames the dialog too.
 *
 * A moderator (manage_roles, below an "Admins" role) sees what they may
 * not change: the overwrite of a role above theirs is read-only, and in
 * @everyone's the permissions they lack in the channel (which it denies,
 * so they cannot remove it); saving it is refused by the server (403
 * missing_permission: it names one of those), which is shown in its
 * words.
 *
 * No page may log a console error.
 */

import {test} from 'node:test';
import assert from 'node:assert/strict';

import {
	LIVE_MS, run, consoleErrors, expectConsoleErrors, useBrowser, newUser, signIn, message, send,
	confirmed, openServer, heading, step, apiCall, apiFetch, apiRegister,
} from './harness.mjs';

useBrowser();

/* The sidebar button of the channel called name. */
function channelItem(page, name) {
	return page.locator('.sidebar-body .side-item')
	    .filter({has: page.locator('.name').getByText(name, {exact: true})});
}

/* The aria-label of the element that has keyboard focus. */
function focused(page) {
	return page.evaluate(() => document.activeElement?.getAttribute('aria-label') ?? null);
}

/* Open the Permissions tab of channel name's settings from the sidebar; resolves the tab panel. */
async function openPermissions(page, name) {
	await channelItem(page, name).hover();
	await page.getByRole('button', {name: `Edit channel ${name}`}).click();
	const dialog = page.getByRole('dialog', {name: `#${name} \u2014 channel settings`});
	await dialog.getByRole('tab', {name: 'Permissions'}).click();
	return dialog.getByRole('tabpanel');
}

/* In a Permissions tab: set permission label (e.g. "View channels") to Deny, Neutral or Allow. */
async function setPermission(pane, label, state) {
	await pane.getByRole('group', {name: new RegExp(`^${label}`)}).getByRole('radio', {name: state}).check();
}

/* Save the overwrite shown in a Permissions tab and wait for the server's answer. */
async function saveOverwrite(page, pane) {
	const answer = page.waitForResponse((res) => res.request().method() === 'PUT' &&
	    /\/overwrites\/(role|member)\/[0-9]+$/.test(res.url()));
	await pane.getByRole('button', {name: 'Save changes'}).click();
	assert.equal((await answer).status(), 200);
	await pane.getByRole('button', {name: 'Save changes'}).and(pane.locator(':disabled')).waitFor();
}

test('private channels and permission overwrites, live', {timeout: 180000}, async (t) => {
	const O = await newUser('Owner');
	const M = await newUser('Member');
	const server = `Private ${run}`;
	let owner;
	let mem;
	let serverId;
	let crew;
	let secretId;

	await step(t, 'a server with #general and #lounge; M is a member', async () => {
		owner = await apiRegister(O.name);
		mem = await apiRegister(M.name);
		serverId = (await apiCall('POST', '/servers', owner.token, {name: server})).id;
		await apiCall('POST', `/servers/${serverId}/channels`, owner.token, {name: 'lounge'});
		crew = await apiCall('POST', `/servers/${serverId}/roles`, owner.token, {name: 'Crew'});
		const {code} = await apiCall('POST', `/servers/${serverId}/invites`, owner.token, {});
		await apiCall('POST', `/invites/${code}`, mem.token);
		await signIn(O);
		await openServer(O.page, server);
		await signIn(M);
		await openServer(M.page, server);
		await channelItem(M.page, 'lounge').click();
		await M.page.locator('.main-head h1', {hasText: 'lounge'}).waitFor();
		await M.page.getByRole('textbox', {name: 'Message #lounge'}).click();
	});

	await step(t, 'denying @everyone "Send messages" closes M\u2019s message box live', async () => {
		const pane = await openPermissions(O.page, 'lounge');
		await pane.getByRole('button', {name: '@everyone'}).and(pane.locator('[aria-pressed="true"]')).waitFor();
		await setPermission(pane, 'Send messages', 'Deny');
		await pane.getByRole('button', {name: /@everyone \(not saved\)/}).waitFor();
		await saveOverwrite(O.page, pane);
		const box = M.page.locator('.composer textarea');
		await box.and(M.page.locator(':disabled')).waitFor({timeout: LIVE_MS});
		assert.equal(await box.getAttribute('placeholder'), 'You do not have permission to send messages here.');
		/* The owner is not affected. */
		await O.page.keyboard.press('Escape');
		await channelItem(O.page, 'lounge').click();
		await O.page.getByRole('textbox', {name: 'Message #lounge'}).and(O.page.locator(':enabled')).waitFor();
	});

	await step(t, 'denying M "View channels" takes #lounge from M live; M lands in #general', async () => {
		const pane = await openPermissions(O.page, 'lounge');
		await pane.getByLabel('Role or member to add').selectOption({label: M.name});
		await pane.getByRole('button', {name: 'Add', exact: true}).click();
		await pane.getByRole('button', {name: new RegExp(`^${M.name}`)})
		    .and(pane.locator('[aria-pressed="true"]')).waitFor();
		await setPermission(pane, 'View channels', 'Deny');
		/* Focus on the channel on screen, as a keyboard user would have it. */
		await channelItem(M.page, 'lounge').focus();
		await saveOverwrite(O.page, pane);
		await channelItem(M.page, 'lounge').waitFor({state: 'detached', timeout: LIVE_MS});
		await M.page.locator('.main-head h1', {hasText: 'general'}).waitFor();
		assert.equal(await heading(M.page), 'general');
		assert.equal(await focused(M.page), 'Message #general', 'focus is in the message box of #general');
		assert.match(M.page.url(), /#\/s\/[0-9]+\/[0-9]+$/);
		/* The owner still has it, and the overwrite is listed. */
		await pane.getByRole('button', {name: M.name, exact: true}).waitFor();
		await O.page.keyboard.press('Escape');
		await channelItem(O.page, 'lounge').waitFor();
		/* M can still talk in #general. */
		await channelItem(O.page, 'general').click();
		const hello = `still here ${run}`;
		await send(M.page, hello);
		await confirmed(M.page, hello);
		await message(O.page, hello).waitFor({timeout: LIVE_MS});
	});

	await step(t, 'the Private channel switch makes a channel M never sees, with a lock for O', async () => {
		await O.page.getByRole('button', {name: 'Create channel'}).click();
		const dialog = O.page.getByRole('dialog', {name: 'Create channel'});
		await dialog.getByLabel('Channel name').fill('secret');
		await dialog.getByRole('switch', {name: /Private channel/}).check();
		await dialog.getByRole('checkbox', {name: 'Crew'}).waitFor();
		const created = O.page.waitForResponse((res) => res.request().method() === 'POST' &&
		    /\/servers\/[0-9]+\/channels$/.test(res.url()));
		await dialog.getByRole('button', {name: 'Create channel'}).click();
		const res = await created;
		assert.equal(res.status(), 201);
		const body = res.request().postDataJSON();
		secretId = (await res.json()).id;
		assert.deepEqual(body.overwrites, [{type: 'role', id: (await apiCall('GET',
		    `/servers/${serverId}/roles`, owner.token)).find((r) => r.is_default).id,
		allow: [], deny: ['view_channels']}], 'the owner picked no role and needs no overwrite');
		await O.page.locator('.main-head h1', {hasText: 'secret'}).waitFor();
		assert.equal(await focused(O.page), 'Message #secret', 'O lands in its message box');
		await channelItem(O.page, 'secret').getByRole('img', {name: 'Private channel'}).waitFor();
		assert.equal(await channelItem(O.page, 'general').getByRole('img').count(), 0, 'no lock on #general');
		/* Something after it that M does see: M's events are past the creation. */
		const later = `after the secret ${run}`;
		await channelItem(O.page, 'general').click();
		await send(O.page, later);
		await message(M.page, later).waitFor({timeout: LIVE_MS});
		assert.equal(await channelItem(M.page, 'secret').count(), 0);
		await M.page.reload();
		await M.page.getByRole('button', {name: 'My account'}).waitFor();
		await channelItem(M.page, 'general').waitFor();
		assert.equal(await channelItem(M.page, 'secret').count(), 0, 'not after a reload either');
		assert.equal((await apiFetch('GET', `/channels/${secretId}`, mem.token)).status(), 404);
	});

	await step(t, 'allowing Crew to view #secret makes it appear live for M, who holds Crew', async () => {
		await apiCall('PUT', `/servers/${serverId}/members/${mem.id}/roles/${crew.id}`, owner.token);
		const pane = await openPermissions(O.page, 'secret');
		await pane.getByLabel('Role or member to add').selectOption({label: 'Crew'});
		await pane.getByRole('button', {name: 'Add', exact: true}).click();
		await setPermission(pane, 'View channels', 'Allow');
		await saveOverwrite(O.page, pane);
		const item = channelItem(M.page, 'secret');
		await item.waitFor({timeout: LIVE_MS});
		await item.getByRole('img', {name: 'Private channel'}).waitFor();
		await O.page.keyboard.press('Escape');
		await item.click();
		const text = `crew only ${run}`;
		await send(M.page, text);
		await confirmed(M.page, text);
		await channelItem(O.page, 'secret').click();
		await message(O.page, text).waitFor({timeout: LIVE_MS});
	});

	await step(t, 'removing the overwrite takes #secret away again', async () => {
		const pane = await openPermissions(O.page, 'secret');
		await pane.getByRole('button', {name: 'Crew'}).click();
		const answer = O.page.waitForResponse((res) => res.request().method() === 'DELETE' &&
		    res.url().endsWith(`/overwrites/role/${crew.id}`));
		await pane.getByRole('button', {name: 'Remove overwrite'}).click();
		assert.equal((await answer).status(), 204);
		await pane.getByRole('button', {name: 'Crew'}).waitFor({state: 'detached'});
		await channelItem(M.page, 'secret').waitFor({state: 'detached', timeout: LIVE_MS});
		assert.equal(await heading(M.page), 'general');
	});

	await step(t, 'the Overview tab renames the channel; the dialog follows', async () => {
		const dialog = O.page.getByRole('dialog', {name: '#secret \u2014 channel settings'});
		await dialog.getByRole('tab', {name: 'Overview'}).click();
		await dialog.getByLabel('Channel name').fill('hideout');
		await dialog.getByRole('button', {name: 'Save'}).click();
		await O.page.getByRole('dialog', {name: '#hideout \u2014 channel settings'}).waitFor();
		await channelItem(O.page, 'hideout').getByRole('img', {name: 'Private channel'}).waitFor();
		await O.context.close();
		await M.context.close();
	});
});

test('a moderator\'s Permissions tab: what they may not change, and a refusal', {timeout: 120000}, async (t) => {
	const D = await newUser('Mod');
	const server = `Modded ${run}`;
	let owner;
	let serverId;
	let general;
	let everyoneId;

	await step(t, 'the overwrite of a role above the moderator\'s is read-only', async () => {
		owner = await apiRegister(`boss_${run}`);
		const mod = await apiRegister(D.name);
		serverId = (await apiCall('POST', '/servers', owner.token, {name: server})).id;
		general = (await apiCall('GET', `/servers/${serverId}/channels`, owner.token))[0];
		const mods = await apiCall('POST', `/servers/${serverId}/roles`, owner.token,
		    {name: 'Mods', permissions: ['manage_roles'], position: 2});
		const admins = await apiCall('POST', `/servers/${serverId}/roles`, owner.token,
		    {name: 'Admins', permissions: [], position: 3});
		everyoneId = (await apiCall('GET', `/servers/${serverId}/roles`, owner.token))
		    .find((r) => r.is_default).id;
		const {code} = await apiCall('POST', `/servers/${serverId}/invites`, owner.token, {});
		await apiCall('POST', `/invites/${code}`, mod.token);
		await apiCall('PUT', `/servers/${serverId}/members/${mod.id}/roles/${mods.id}`, owner.token);
		await apiCall('PUT', `/channels/${general.id}/overwrites/role/${everyoneId}`, owner.token,
		    {allow: [], deny: ['manage_messages']});
		await apiCall('PUT', `/channels/${general.id}/overwrites/role/${admins.id}`, owner.token,
		    {allow: [], deny: ['send_messages']});
		await signIn(D);
		await openServer(D.page, server);
		const pane = await openPermissions(D.page, 'general');
		assert.deepEqual(await pane.getByRole('group', {name: 'Roles and members'}).getByRole('button')
		    .allTextContents(), ['Admins', '@everyone']);
		await pane.getByRole('button', {name: 'Admins'}).click();
		await pane.getByText('This role is not below your highest role').waitFor();
		assert.equal(await pane.getByRole('radio').and(pane.locator(':enabled')).count(), 0);
		assert.equal(await pane.getByRole('button', {name: 'Remove overwrite'}).count(), 0);
	});

	await step(t, 'in @everyone\'s only the permissions the moderator has can change', async () => {
		const pane = D.page.getByRole('tabpanel');
		await pane.getByRole('button', {name: '@everyone'}).click();
		const enabled = async (label) => await pane.getByRole('group', {name: new RegExp(`^${label}`)})
		    .getByRole('radio').and(pane.locator(':enabled')).count() === 3;
		assert.equal(await enabled('Send messages'), true);
		assert.equal(await enabled('View channels'), true);
		assert.equal(await enabled('Manage messages'), false);
		assert.equal(await enabled('Manage channels'), false);
		assert.equal(await pane.getByRole('group', {name: /^Manage messages/})
		    .getByRole('radio', {name: 'Deny'}).isChecked(), true);
		await pane.getByRole('button', {name: 'Remove overwrite'}).and(pane.locator(':disabled')).waitFor();
	});

	await step(t, 'the server refuses the save and says why', async () => {
		const pane = D.page.getByRole('tabpanel');
		await setPermission(pane, 'Send messages', 'Deny');
		const answer = D.page.waitForResponse((res) => res.request().method() === 'PUT');
		expectConsoleErrors(/status of 403/);
		try {
			await pane.getByRole('button', {name: 'Save changes'}).click();
			assert.equal((await answer).status(), 403);
			await pane.getByRole('alert').filter({hasText: 'You may only allow or deny permissions you have ' +
			    'in this channel'}).waitFor();
		} finally {
			expectConsoleErrors(null);
		}
		await pane.getByRole('button', {name: /@everyone \(not saved\)/}).waitFor();
		const now = await apiCall('GET', `/channels/${general.id}`, owner.token);
		assert.deepEqual(now.overwrites.find((o) => o.id === everyoneId),
		    {type: 'role', id: everyoneId, allow: [], deny: ['manage_messages']});
		await D.context.close();
	});
});

test('no page logged a console error', () => {
	assert.deepEqual(consoleErrors, []);
});
