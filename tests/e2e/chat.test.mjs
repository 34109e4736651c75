/* SPDX-License-Identifier: ISC */
/*
 * chat.test.mjs: the web client in a real browser (Debian's Chromium,
 * headless, driven by playwright-core), against a running sohbet at
 * $SOHBET_TEST_URL (tools/dev test starts one and runs tests/e2e/run).
 *
 * Two users in two browser contexts: A registers, creates a server and an
 * invite; B registers and joins with the code; A posts and B sees it
 * without reloading within 2 s; B edits its message and A sees the edit;
 * A deletes a message and B sees it vanish; a failed send is retried
 * with the same nonce and shows once; a DM both ways; A kicks B and B
 * loses the server from its list live.
 *
 * The member list changes in place: in a small server (by name) a
 * member who joins, takes a nickname or gets a role shows up in the
 * right place and group with the counts right, and keyboard focus stays
 * on the row it was on (or moves to the next one when that member
 * leaves).
 *
 * Long lists: a server made over the API with more members than two
 * pages of GET /members and more messages than one page of history. Its
 * member list shows the first page in id order with its count as "100+";
 * "Load more members" used from the keyboard adds the next page at the
 * end and puts focus on its first member; scrolled to the end it shows
 * every member with exact counts; a member who joins above the view
 * appears in place without moving what is on screen; it follows a
 * leave. Scrolled up into the history, a new message from someone else
 * leaves the view where it is and shows a "Jump to latest" button that
 * brings the message into view.
 *
 * Replies, reactions and pins: a reply from a message's Reply button
 * (Escape cancels one), its quote jumping to an original older than the
 * loaded page; a reaction from the emoji picker (search, recent) and
 * chips that count, mark your own, toggle on click and name who reacted;
 * pins from the owner in the Pins panel of a member; all live.
 *
 * Many servers: a user in more servers than one page of GET
 * /users/@me/servers has every one of them in the server rail.
 *
 * Read state: a mention that arrives while the reader's tab is closed
 * is a red count on the rail and in the title after they reopen; the
 * channel then shows "New messages" above the first unread message,
 * tints the mention, and is read (also after a reload); the @
 * autocomplete offers members and roles and writes <@id> / <@&id>.
 *
 * Bans: the owner bans a member from their profile card with a reason
 * and "from the last day", and the member and their messages vanish; the
 * Bans tab of the settings lists the bans, searches them and unbans; the
 * banned user following an invite is told "You are banned from this
 * server".
 *
 * Typing and presence: two signed-in members see each other online
 * (a dot in the member list, the Online and Offline groups); "B is
 * typing…" shows while B types and goes when B's message arrives; two
 * typists; a hint ends by itself after 10 s; B's status menu (do not
 * disturb, invisible) shows on A's side; ten minutes without input make
 * B idle; the profile card shows the status.
 *
 * Search: a member types words in the header's search box and gets the
 * result with the words marked (the message's own markup shown as text),
 * narrows it with the "in:" chip, and a click on it goes to its channel,
 * where it shows highlighted among the messages around it; "New message"
 * finds the server's owner by a part of their name and opens a DM with
 * them.
 *
 * No page may log a console error. Screenshots of the chat view go to
 * tests/artifacts/.
 */

import {test} from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';

import {
	BASE, ARTIFACTS, LIVE_MS, run, consoleErrors, expectConsoleErrors, useBrowser, newUser, register,
	signIn, message, send, confirmed, openServer, heading, step, apiCall, apiFetch, apiRegister,
	inPool, placeInMessages,
} from './harness.mjs';

useBrowser();

test('two users chat live in the web client', {timeout: 180000}, async (t) => {
	const A = await newUser('A');
	const B = await newUser('B');
	const server = `E2E ${run}`;
	let code;

	await step(t, 'A registers and creates a server', async () => {
		await register(A);
		await A.page.getByRole('button', {name: 'Add a server'}).first().click();
		await A.page.getByRole('button', {name: /Create a server/}).click();
		await A.page.getByLabel('Server name').fill(server);
		await A.page.getByRole('button', {name: 'Create', exact: true}).click();
		await A.page.locator('.main-head h1', {hasText: 'general'}).waitFor();
		assert.equal(await heading(A.page), 'general');
	});

	await step(t, 'A creates an invite', async () => {
		await A.page.getByRole('button', {name: 'Invite people'}).click();
		const link = A.page.getByRole('textbox', {name: 'Invite link'});
		await A.page.waitForFunction(() => {
			const el = document.querySelector('input.invite-link');
			return el && el.value.includes('#invite/');
		});
		const value = await link.inputValue();
		code = await link.getAttribute('data-code');
		assert.match(code, /^[A-Za-z0-9_-]{8,}$/);
		assert.equal(value, `${BASE}/#invite/${code}`);
		await A.page.keyboard.press('Escape');
		await A.page.locator('dialog[open]').waitFor({state: 'detached'});
	});

	await step(t, 'B registers and joins with the code', async () => {
		await register(B);
		await B.page.getByRole('button', {name: 'Add a server'}).first().click();
		await B.page.getByRole('button', {name: /Join a server/}).click();
		await B.page.getByLabel('Invite link or code').fill(code);
		await B.page.getByRole('button', {name: 'Join server'}).click();
		await B.page.locator('.main-head h1', {hasText: 'general'}).waitFor();
		await B.page.getByRole('navigation', {name: 'Servers'}).getByRole('button', {name: server}).waitFor();
		/* A's member list shows B without a reload (member.join). */
		await A.page.locator(`.member-item[data-user-id]`, {hasText: B.name}).waitFor({timeout: LIVE_MS});
	});

	const hello = `hello from A ${run}`;
	await step(t, 'A posts and B sees it within 2 s', async () => {
		await send(A.page, hello);
		await confirmed(A.page, hello);
		const t0 = Date.now();
		await message(B.page, hello).waitFor({timeout: LIVE_MS});
		t.diagnostic(`B saw A's message ${Date.now() - t0} ms after A's send was confirmed`);
	});

	const mine = `B was here ${run}`;
	const edited = `B was here, edited ${run}`;
	await step(t, 'B edits its own message and A sees the edit', async () => {
		await send(B.page, mine);
		await confirmed(B.page, mine);
		await message(A.page, mine).waitFor({timeout: LIVE_MS});
		const li = message(B.page, mine);
		await li.hover();
		await li.getByRole('button', {name: 'Edit message'}).click();
		const box = B.page.getByRole('textbox', {name: 'Edit message'});
		await box.fill(edited);
		await box.press('Enter');
		await message(B.page, edited).locator('.msg-edited').waitFor();
		await message(A.page, edited).locator('.msg-edited').waitFor({timeout: LIVE_MS});
		assert.equal(await message(A.page, mine).count(), 0);
	});

	await step(t, 'A deletes its message and B sees it vanish', async () => {
		const li = message(A.page, hello);
		await li.hover();
		await li.getByRole('button', {name: 'Delete message'}).click();
		await A.page.getByRole('dialog', {name: 'Delete message'}).getByRole('button', {name: 'Delete'}).click();
		await message(A.page, hello).waitFor({state: 'detached'});
		await message(B.page, hello).waitFor({state: 'detached', timeout: LIVE_MS});
	});

	await step(t, 'a failed send is retried with the same nonce and shows once', async () => {
		/*
		 * The worst case: the server stores the message but its answer is
		 * lost. A's /events polls are held back meanwhile (else the
		 * message.create event would confirm the send before the failure
		 * shows), so the send fails for A, and Retry must post the same
		 * nonce and get the first message back (200), not a second one.
		 */
		const text = `retried ${run}`;
		let release;
		const gate = new Promise((resolve) => {
			release = resolve;
		});
		await A.page.route('**/api/v1/events?*', async (route) => {
			await gate;
			/* Unrouting may have let it through already. */
			await route.continue().catch(() => {});
		});
		/* A message of A's own ends the poll in flight; the next one waits. */
		const primer = `primer ${run}`;
		await send(A.page, primer);
		await confirmed(A.page, primer);
		const posts = [];
		A.page.on('request', (req) => {
			if (req.method() === 'POST' && /\/channels\/[0-9]+\/messages$/.test(req.url()))
				posts.push(req.postDataJSON());
		});
		const answers = [];
		A.page.on('response', (res) => {
			if (res.request().method() === 'POST' && /\/channels\/[0-9]+\/messages$/.test(res.url()))
				answers.push(res.status());
		});
		let lost = 0;
		await A.page.route('**/api/v1/channels/*/messages', async (route) => {
			if (route.request().method() !== 'POST' || lost > 0)
				return route.fallback();
			lost++;
			const real = await route.fetch();
			assert.equal(real.status(), 201);
			await route.fulfill({status: 503, contentType: 'application/json; charset=utf-8',
			    headers: {'Retry-After': '1'},
			    body: '{"error":{"code":"service_unavailable","message":"Lost in transit."}}'});
		});
		expectConsoleErrors(/status of 503/);
		try {
			await send(A.page, text);
			const failed = message(A.page, text).and(A.page.locator('.msg--failed'));
			await failed.getByRole('button', {name: 'Retry'}).click();
			await confirmed(A.page, text);
		} finally {
			expectConsoleErrors(null);
			await A.page.unroute('**/api/v1/channels/*/messages');
			release();
			await A.page.unroute('**/api/v1/events?*');
		}
		assert.equal(lost, 1);
		assert.equal(posts.length, 2);
		assert.equal(posts[0].nonce, posts[1].nonce);
		assert.equal(posts[1].content, text);
		/* The browser saw the faked 503, then the nonce's 200. */
		assert.deepEqual(answers, [503, 200]);
		await message(B.page, text).waitFor({timeout: LIVE_MS});
		/* A's polls go on: a message from B still arrives. */
		const after = `after the retry ${run}`;
		await send(B.page, after);
		await message(A.page, after).waitFor({timeout: LIVE_MS});
		assert.equal(await message(A.page, text).count(), 1);
		assert.equal(await message(B.page, text).count(), 1);
	});

	await step(t, 'the poll loop survives a network error and a 410', async () => {
		/*
		 * B's next poll fails at the network level (back-off, then the
		 * same cursor again); the one after is answered 410
		 * cursor_expired: B must take a fresh head cursor, reload its
		 * state and go on receiving events.
		 */
		let polls = 0;
		const heads = [];
		const reloads = [];
		B.page.on('request', (req) => {
			const u = new URL(req.url());
			if (u.pathname === '/api/v1/events' && !u.searchParams.has('after'))
				heads.push(Date.now());
			if (u.pathname === '/api/v1/users/@me/servers')
				reloads.push(Date.now());
		});
		await B.page.route('**/api/v1/events?*', async (route) => {
			polls++;
			if (polls === 1)
				return route.abort('connectionreset');
			if (polls === 2) {
				return route.fulfill({status: 410, contentType: 'application/json; charset=utf-8',
				    body: '{"error":{"code":"cursor_expired","message":"Too old."}}'});
			}
			return route.fallback();
		});
		expectConsoleErrors(/ERR_CONNECTION_RESET|status of 410/);
		try {
			/* An event ends B's poll in flight; the next ones are ours. */
			const wake = `wake up B ${run}`;
			await send(A.page, wake);
			await message(B.page, wake).waitFor({timeout: LIVE_MS});
			for (let i = 0; i < 100 && polls < 3; i++)
				await B.page.waitForTimeout(100);
		} finally {
			expectConsoleErrors(null);
			await B.page.unroute('**/api/v1/events?*');
		}
		assert.ok(polls >= 3, `B polled ${polls} times`);
		assert.equal(heads.length, 1, 'one fresh head cursor after the 410');
		assert.equal(reloads.length, 1, 'one reload of the state after the 410');
		const later = `after the reload ${run}`;
		await send(A.page, later);
		await message(B.page, later).waitFor({timeout: LIVE_MS});
		await B.page.locator('.banner').waitFor({state: 'hidden'});
	});

	await step(t, 'screenshots of the chat view', async () => {
		await A.page.screenshot({path: path.join(ARTIFACTS, 'chat-desktop.png')});
		await A.page.setViewportSize({width: 390, height: 844});
		await A.page.waitForTimeout(300);
		await A.page.screenshot({path: path.join(ARTIFACTS, 'chat-phone.png')});
		await A.page.getByRole('button', {name: 'Channels and servers'}).click();
		await A.page.waitForTimeout(300);
		await A.page.screenshot({path: path.join(ARTIFACTS, 'chat-phone-nav.png')});
		await A.page.keyboard.press('Escape');
		await A.page.setViewportSize({width: 1280, height: 800});
		t.diagnostic(`screenshots in ${ARTIFACTS}`);
	});

	const dmA = `psst, from A ${run}`;
	const dmB = `and back from B ${run}`;
	await step(t, 'a direct message both ways', async () => {
		await A.page.locator('.member-item', {hasText: B.name}).click();
		await A.page.getByRole('dialog', {name: 'Profile'}).getByRole('button', {name: 'Send message'}).click();
		await A.page.locator('.main-head h1', {hasText: B.name}).waitFor();
		await send(A.page, dmA);
		await confirmed(A.page, dmA);
		/* B is in the server channel: the DM shows up in its list live. */
		await B.page.getByRole('button', {name: /^Direct messages/}).click();
		await B.page.locator('.side-item', {hasText: A.name}).click({timeout: LIVE_MS});
		await message(B.page, dmA).waitFor({timeout: LIVE_MS});
		await send(B.page, dmB);
		await confirmed(B.page, dmB);
		await message(A.page, dmB).waitFor({timeout: LIVE_MS});
	});

	await step(t, 'A kicks B and B loses the server live', async () => {
		await openServer(A.page, server);
		await A.page.locator('.member-item', {hasText: B.name}).click();
		const profile = A.page.getByRole('dialog', {name: 'Profile'});
		await profile.getByRole('button', {name: `Kick ${B.name}`}).click();
		await A.page.getByRole('dialog', {name: `Kick ${B.name}`}).getByRole('button', {name: 'Kick'}).click();
		await A.page.locator('.member-item', {hasText: B.name}).waitFor({state: 'detached'});
		const rail = B.page.getByRole('navigation', {name: 'Servers'});
		await rail.getByRole('button', {name: server}).waitFor({state: 'detached', timeout: LIVE_MS});
		/* B's DM with A is still there. */
		await message(B.page, dmB).waitFor();
	});

	await step(t, 'a reload keeps the session (refresh token rotation)', async () => {
		await A.page.reload();
		await A.page.getByRole('button', {name: 'My account'}).waitFor();
		await A.page.getByRole('navigation', {name: 'Servers'}).getByRole('button', {name: server}).waitFor();
		await B.page.reload();
		await B.page.getByRole('button', {name: 'My account'}).waitFor();
		assert.equal(await B.page.getByRole('navigation', {name: 'Servers'})
		    .getByRole('button', {name: server}).count(), 0);
	});

	await step(t, 'sign out, which asks first', async () => {
		await B.page.getByRole('button', {name: 'Sign out'}).click();
		const ask = B.page.getByRole('dialog', {name: 'Sign out'});
		await ask.getByRole('button', {name: 'Cancel'}).click();
		await ask.waitFor({state: 'hidden'});
		await B.page.getByRole('button', {name: 'My account'}).waitFor();
		await B.page.getByRole('button', {name: 'Sign out'}).click();
		await ask.getByRole('button', {name: 'Sign out'}).click();
		await B.page.getByRole('button', {name: 'Sign in'}).waitFor();
		await B.page.reload();
		await B.page.getByRole('button', {name: 'Sign in'}).waitFor();
	});

});

/* Scroll the member list to its end, page after page, until n members show. */
async function scrollMembersTo(page, n) {
	const items = page.locator('.members-body .member-item');
	for (let shown = await items.count(); shown < n; shown = await items.count()) {
		await page.locator('.members-body').hover();
		await page.mouse.wheel(0, 100000);
		await page.waitForFunction((k) =>
			document.querySelectorAll('.members-body .member-item').length > k, shown, {timeout: 5000});
	}
}

/* The names in the member list, top to bottom. */
function memberNames(page) {
	return page.locator('.members-body .member-item .name').allTextContents();
}

/* The group headings of the member list, with their counts. */
function memberHeadings(page) {
	return page.locator('.members-body h3').allTextContents();
}

/* The user id of the member list row that has keyboard focus, or null. */
function focusedMember(page) {
	return page.evaluate(() => document.activeElement?.closest('.member-item')?.dataset.userId ?? null);
}

/* The first member row in view at the top of the member list, and where it is. */
function topMember(page) {
	return page.locator('.members-body').evaluate((list) => {
		const top = list.getBoundingClientRect().top;
		for (const el of list.querySelectorAll('.member-item')) {
			const r = el.getBoundingClientRect();
			if (r.bottom > top)
				return {id: el.dataset.userId, top: r.top};
		}
		return null;
	});
}

/* Users in the order of their ids (as GET /members gives them). */
function byId(a, b) {
	return a.id.length - b.id.length || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);
}

/* Scroll the message list up until the start of the conversation is in view. */
async function scrollToConversationStart(page) {
	const start = page.locator('.conv-start');
	const inView = async () => await start.count() > 0 && (await placeInMessages(start)).inView;
	for (let i = 0; i < 50 && !(await inView()); i++) {
		await page.locator('.messages').hover();
		await page.mouse.wheel(0, -100000);
		await page.waitForTimeout(100);
	}
	assert.ok(await inView(), 'the start of the conversation is in view');
}

test('a small member list changes in place', {timeout: 120000}, async (t) => {
	const P = await newUser('P');
	const server = `Small ${run}`;
	let owner;
	let serverId;
	let code;
	const u = {};

	await step(t, 'a server with four members, by name, counted exactly', async () => {
		owner = await apiRegister(P.name);
		serverId = (await apiCall('POST', '/servers', owner.token, {name: server})).id;
		code = (await apiCall('POST', `/servers/${serverId}/invites`, owner.token,
		    {max_uses: 0, max_age: 0})).code;
		for (const n of ['selin', 'bora', 'deniz', 'cemre'])
			u[n] = await apiRegister(`${n}_${run}`);
		for (const n of ['selin', 'bora', 'deniz'])
			await apiCall('POST', `/invites/${code}`, u[n].token);
		await signIn(P);
		await openServer(P.page, server);
		await P.page.locator('.members-body .member-item').nth(3).waitFor();
		/* P polls, so P is online; the others never signed in to a client. */
		assert.deepEqual(await memberNames(P.page), [P.name, u.bora.name, u.deniz.name, u.selin.name]);
		assert.deepEqual(await memberHeadings(P.page), ['Members \u00b7 Online \u2014 1', 'Members \u00b7 Offline \u2014 3']);
		assert.equal(await P.page.getByRole('button', {name: 'Load more members'}).count(), 0);
	});

	await step(t, 'a member joins into place by name; focus stays where it was', async () => {
		await P.page.locator(`.member-item[data-user-id="${u.deniz.id}"]`).focus();
		await apiCall('POST', `/invites/${code}`, u.cemre.token);
		await P.page.locator(`.member-item[data-user-id="${u.cemre.id}"]`).waitFor({timeout: LIVE_MS});
		assert.deepEqual(await memberNames(P.page),
		    [P.name, u.bora.name, u.cemre.name, u.deniz.name, u.selin.name]);
		assert.deepEqual(await memberHeadings(P.page), ['Members \u00b7 Online \u2014 1', 'Members \u00b7 Offline \u2014 4']);
		assert.equal(await focusedMember(P.page), u.deniz.id);
	});

	await step(t, 'a nickname moves the row, with focus on it', async () => {
		await apiCall('PATCH', `/servers/${serverId}/members/@me`, u.deniz.token, {nickname: 'Aardvark'});
		const row = P.page.locator(`.member-item[data-user-id="${u.deniz.id}"]`);
		await row.locator('.name', {hasText: 'Aardvark'}).waitFor({timeout: LIVE_MS});
		assert.deepEqual(await memberNames(P.page), [P.name, 'Aardvark', u.bora.name, u.cemre.name, u.selin.name]);
		assert.equal(await row.locator('.sub').textContent(), u.deniz.name);
		assert.equal(await focusedMember(P.page), u.deniz.id);
	});

	await step(t, 'a role moves a member into its own group; both counts follow', async () => {
		const role = await apiCall('POST', `/servers/${serverId}/roles`, owner.token, {name: 'Mods'});
		await apiCall('PUT', `/servers/${serverId}/members/${u.selin.id}/roles/${role.id}`, owner.token);
		await P.page.locator('.members-body h3', {hasText: 'Mods'}).waitFor({timeout: LIVE_MS});
		assert.deepEqual(await memberHeadings(P.page), ['Mods \u00b7 Offline \u2014 1', 'Members \u00b7 Online \u2014 1',
		    'Members \u00b7 Offline \u2014 3']);
		assert.deepEqual(await memberNames(P.page), [u.selin.name, P.name, 'Aardvark', u.bora.name, u.cemre.name]);
		assert.equal(await focusedMember(P.page), u.deniz.id);
	});

	await step(t, 'groups follow the role order when it changes', async () => {
		const modsRole = (await apiCall('GET', `/servers/${serverId}/roles`, owner.token))
		    .find((r) => r.name === 'Mods');
		const helpers = await apiCall('POST', `/servers/${serverId}/roles`, owner.token,
		    {name: 'Helpers', position: modsRole.position + 1});
		await apiCall('PUT', `/servers/${serverId}/members/${u.cemre.id}/roles/${helpers.id}`, owner.token);
		await P.page.locator('.members-body h3', {hasText: 'Helpers'}).waitFor({timeout: LIVE_MS});
		assert.deepEqual(await memberHeadings(P.page), ['Helpers \u00b7 Offline \u2014 1', 'Mods \u00b7 Offline \u2014 1',
		    'Members \u00b7 Online \u2014 1', 'Members \u00b7 Offline \u2014 2']);
		await apiCall('PATCH', `/servers/${serverId}/roles/${modsRole.id}`, owner.token,
		    {position: helpers.position + 1});
		await P.page.waitForFunction(() =>
			document.querySelector('.members-body h3')?.textContent.startsWith('Mods'), null, {timeout: LIVE_MS});
		assert.deepEqual(await memberHeadings(P.page), ['Mods \u00b7 Offline \u2014 1', 'Helpers \u00b7 Offline \u2014 1',
		    'Members \u00b7 Online \u2014 1', 'Members \u00b7 Offline \u2014 2']);
		assert.deepEqual(await memberNames(P.page), [u.selin.name, u.cemre.name, P.name, 'Aardvark', u.bora.name]);
		assert.equal(await focusedMember(P.page), u.deniz.id);
	});

	await step(t, 'the focused member leaves and focus goes to the next one', async () => {
		await P.page.locator(`.member-item[data-user-id="${u.bora.id}"]`).focus();
		await apiCall('DELETE', `/servers/${serverId}/members/@me`, u.bora.token);
		await P.page.locator(`.member-item[data-user-id="${u.bora.id}"]`).waitFor({state: 'detached', timeout: LIVE_MS});
		assert.deepEqual(await memberHeadings(P.page), ['Mods \u00b7 Offline \u2014 1', 'Helpers \u00b7 Offline \u2014 1',
		    'Members \u00b7 Online \u2014 1', 'Members \u00b7 Offline \u2014 1']);
		/* bora was the last row: focus goes back to the one above. */
		assert.equal(await focusedMember(P.page), u.deniz.id);
		await P.context.close();
	});
});

test('long member lists and history', {timeout: 180000}, async (t) => {
	/* Three pages of members (the API gives at most 100 a page) and two
	 * of history (the client loads 50 messages a page). */
	const CROWD = 220;
	const HISTORY = 80;
	const O = await newUser('O');
	const server = `Crowd ${run}`;
	let owner;
	let crowd;
	let early;
	let code;
	let serverId;
	let channelId;
	/* Everyone in the order of GET /members. */
	let inOrder;
	const items = O.page.locator('.members-body .member-item');
	const row = (u) => O.page.locator(`.members-body .member-item[data-user-id="${u.id}"]`);

	await step(t, 'a server with many members and messages, made over the API', async () => {
		owner = await apiRegister(O.name);
		/* An account older than the crowd's, to join later. */
		early = await apiRegister(`early_${run}`);
		const sv = await apiCall('POST', '/servers', owner.token, {name: server});
		serverId = sv.id;
		channelId = (await apiCall('GET', `/servers/${serverId}/channels`, owner.token))[0].id;
		code = (await apiCall('POST', `/servers/${serverId}/invites`, owner.token,
		    {max_uses: 0, max_age: 0})).code;
		crowd = await inPool(Array.from({length: CROWD}, (_, i) => `m${i}_${run}`), 8, async (name) => {
			const u = await apiRegister(name);
			await apiCall('POST', `/invites/${code}`, u.token);
			return u;
		});
		inOrder = [owner, ...crowd].sort(byId);
		for (let i = 1; i <= HISTORY; i++) {
			await apiCall('POST', `/channels/${channelId}/messages`, crowd[i % 3].token,
			    {content: `history ${i} ${run}`});
		}
	});

	await step(t, 'the first page of members, in id order, counted as "100+"', async () => {
		await signIn(O);
		await openServer(O.page, server);
		await items.nth(99).waitFor();
		assert.equal(await items.count(), 100);
		assert.deepEqual(await memberNames(O.page), inOrder.slice(0, 100).map((x) => x.name));
		/* O, the first by id, is the one online. */
		assert.deepEqual(await memberHeadings(O.page), ['Members \u00b7 Online \u2014 1+', 'Members \u00b7 Offline \u2014 99+']);
	});

	await step(t, 'Load more members from the keyboard: the page lands at the end, focus on its first member', async () => {
		/* Hold the next page back, so that it arrives after the keys were pressed. */
		let release;
		const held = new Promise((r) => {
			release = r;
		});
		const nextPage = /\/members\?limit=100&after=/;
		await O.page.route(nextPage, async (route) => {
			await held;
			await route.continue();
		});
		await items.nth(99).focus();
		await O.page.keyboard.press('Tab');
		assert.equal(await O.page.evaluate(() => document.activeElement.classList.contains('members-more')), true,
		    'Tab from the last member reaches the button');
		await O.page.keyboard.press('Enter');
		release();
		await items.nth(199).waitFor();
		await O.page.unroute(nextPage);
		assert.equal(await focusedMember(O.page), inOrder[100].id, 'focus on the first member of the new page');
		assert.deepEqual(await memberNames(O.page), inOrder.slice(0, 200).map((x) => x.name));
		assert.deepEqual(await memberHeadings(O.page), ['Members \u00b7 Online \u2014 1+', 'Members \u00b7 Offline \u2014 199+']);
	});

	await step(t, 'the member list shows every member once scrolled to its end, counted exactly', async () => {
		await scrollMembersTo(O.page, CROWD + 1);
		assert.deepEqual(await memberNames(O.page), inOrder.map((x) => x.name));
		assert.deepEqual(await memberHeadings(O.page), ['Members \u00b7 Online \u2014 1', `Members \u00b7 Offline \u2014 ${CROWD}`]);
		assert.equal(await O.page.getByRole('button', {name: 'Load more members'}).count(), 0);
	});

	await step(t, 'a member joins above the view: in place, and the view does not move', async () => {
		await O.page.locator('.members-body').evaluate((el) => {
			el.scrollTop = el.scrollHeight / 2;
		});
		const before = await topMember(O.page);
		await apiCall('POST', `/invites/${code}`, early.token);
		await row(early).waitFor({timeout: LIVE_MS});
		inOrder = [...inOrder, early].sort(byId);
		assert.deepEqual(await memberNames(O.page), inOrder.map((x) => x.name));
		assert.deepEqual(await memberHeadings(O.page), ['Members \u00b7 Online \u2014 1', `Members \u00b7 Offline \u2014 ${CROWD + 1}`]);
		const after = await topMember(O.page);
		assert.equal(after.id, before.id, 'the same member at the top of the view');
		assert.ok(Math.abs(after.top - before.top) <= 1, `it stayed put (${before.top} -> ${after.top})`);
	});

	await step(t, 'a member from the last page leaves and the list follows', async () => {
		const leaver = inOrder[inOrder.length - 1];
		await apiCall('DELETE', `/servers/${serverId}/members/@me`, leaver.token);
		await row(leaver).waitFor({state: 'detached', timeout: LIVE_MS});
		assert.equal(await items.count(), CROWD + 1);
		assert.deepEqual(await memberHeadings(O.page), ['Members \u00b7 Online \u2014 1', `Members \u00b7 Offline \u2014 ${CROWD}`]);
	});

	const jump = O.page.getByRole('button', {name: /Jump to latest/});
	const scroller = O.page.locator('.messages');
	const scrollTop = () => scroller.evaluate((el) => el.scrollTop);

	await step(t, 'scrolled up into history, a new message shows a Jump to latest button', async () => {
		await message(O.page, `history ${HISTORY} ${run}`).waitFor();
		assert.equal(await jump.isVisible(), false, 'no Jump to latest at the bottom');
		await scrollToConversationStart(O.page);
		assert.ok((await placeInMessages(message(O.page, `history 1 ${run}`))).inView);
		const before = await scrollTop();
		const text = `news from below ${run}`;
		await apiCall('POST', `/channels/${channelId}/messages`, crowd[0].token, {content: text});
		await jump.filter({hasText: '1 new message'}).waitFor({timeout: LIVE_MS});
		const li = message(O.page, text);
		assert.equal((await placeInMessages(li)).inView, false, 'the new message waits below');
		assert.ok(Math.abs(await scrollTop() - before) <= 1, 'the view did not move');
		await O.page.screenshot({path: path.join(ARTIFACTS, 'jump-to-latest.png')});
		await jump.click();
		await jump.waitFor({state: 'hidden'});
		const place = await placeInMessages(li);
		assert.ok(place.inView && place.bottomGap >= 0, 'the new message is in view');
		assert.equal(await O.page.locator('.msg-list > li').last().getAttribute('data-id'),
		    await li.getAttribute('data-id'), 'the new message is the last one');
	});

	await step(t, 'scrolled up a little, the button appears only with a new message', async () => {
		await scroller.hover();
		await O.page.mouse.wheel(0, -150);
		await O.page.waitForFunction(() => {
			const el = document.querySelector('.messages');
			return el.scrollHeight - el.scrollTop - el.clientHeight > 100;
		});
		assert.equal(await jump.isVisible(), false, 'nothing new yet, and the bottom is near');
		const text = `more news ${run}`;
		await apiCall('POST', `/channels/${channelId}/messages`, crowd[1].token, {content: text});
		await jump.filter({hasText: '1 new message'}).waitFor({timeout: LIVE_MS});
		await jump.click();
		await jump.waitFor({state: 'hidden'});
		assert.ok((await placeInMessages(message(O.page, text))).inView);
	});
});

test('a user in more servers than one page of the list sees them all', {timeout: 180000}, async (t) => {
	const M = await newUser('M');
	/* GET /users/@me/servers answers at most 200 a page. */
	const count = 203;
	const many = new RegExp(`^Many ${run} \\d+`);

	await step(t, `${count} servers made over the API are all in the server rail`, async () => {
		const owner = await apiRegister(M.name);
		await inPool([...Array(count).keys()], 8, (i) =>
		    apiCall('POST', '/servers', owner.token, {name: `Many ${run} ${i}`}));
		await signIn(M);
		const rail = M.page.getByRole('navigation', {name: 'Servers'});
		await rail.getByRole('button', {name: many}).first().waitFor();
		assert.equal(await rail.getByRole('button', {name: many}).count(), count);
	});
});

test('bans: the ban dialog, the Bans tab, and a banned user at an invite', {timeout: 120000}, async (t) => {
	const O = await newUser('Mod');
	const S = await newUser('Spam');
	const server = `Bans ${run}`;
	let owner;
	let spammer;
	let serverId;
	let channelId;
	let code;
	const trolls = [];

	await step(t, 'the owner bans a member from the profile card, deleting their last day', async () => {
		owner = await apiRegister(O.name);
		spammer = await apiRegister(S.name);
		serverId = (await apiCall('POST', '/servers', owner.token, {name: server})).id;
		channelId = (await apiCall('GET', `/servers/${serverId}/channels`, owner.token))[0].id;
		code = (await apiCall('POST', `/servers/${serverId}/invites`, owner.token,
		    {max_uses: 0, max_age: 0})).code;
		await apiCall('POST', `/invites/${code}`, spammer.token);
		const spam = [`buy now ${run}`, `cheap pills ${run}`];
		for (const text of spam)
			await apiCall('POST', `/channels/${channelId}/messages`, spammer.token, {content: text});
		await signIn(O);
		await openServer(O.page, server);
		await message(O.page, spam[1]).waitFor();
		await O.page.locator('.member-item', {hasText: S.name}).click();
		const profile = O.page.getByRole('dialog', {name: 'Profile'});
		await profile.getByRole('button', {name: `Kick ${S.name}`}).waitFor();
		await profile.getByRole('button', {name: `Ban ${S.name}`}).click();
		const dialog = O.page.getByRole('dialog', {name: `Ban ${S.name}`});
		await dialog.getByLabel('Reason (optional)').fill('spam links');
		await dialog.getByLabel('Delete their messages').selectOption({label: 'From the last day'});
		await dialog.getByRole('button', {name: 'Ban'}).click();
		await dialog.waitFor({state: 'detached'});
		await O.page.locator('.member-item', {hasText: S.name}).waitFor({state: 'detached'});
		for (const text of spam)
			await message(O.page, text).waitFor({state: 'detached', timeout: LIVE_MS});
		const ban = await apiCall('GET', `/servers/${serverId}/bans/${spammer.id}`, owner.token);
		assert.equal(ban.reason, 'spam links');
	});

	await step(t, 'the Bans tab lists them, searches, and unbans', async () => {
		for (const n of ['troll_one', 'troll_two'])
			trolls.push(await apiRegister(`${n}_${run}`));
		for (const u of trolls)
			await apiCall('PUT', `/servers/${serverId}/bans/${u.id}`, owner.token, {reason: 'trolling'});
		await O.page.getByRole('button', {name: 'Server settings'}).click();
		const settings = O.page.getByRole('dialog', {name: `${server} \u2014 settings`});
		await settings.getByRole('tab', {name: 'Bans'}).click();
		const pane = settings.getByRole('tabpanel');
		await pane.getByRole('button', {name: `Unban ${S.name}`}).waitFor();
		assert.equal(await pane.getByRole('button', {name: /^Unban /}).count(), 3);
		await pane.getByText('spam links').waitFor();
		await pane.getByRole('searchbox', {name: 'Search bans'}).fill('troll_');
		await pane.getByRole('button', {name: `Unban ${S.name}`}).waitFor({state: 'detached'});
		assert.equal(await pane.getByRole('button', {name: /^Unban /}).count(), 2);
		await pane.getByRole('searchbox', {name: 'Search bans'}).fill(trolls[1].name);
		await pane.getByRole('button', {name: `Unban ${trolls[1].name}`}).click();
		await pane.getByText('No ban matches your search.').waitFor();
		const res = await apiFetch('GET', `/servers/${serverId}/bans/${trolls[1].id}`, owner.token);
		assert.equal(res.status(), 404);
		await pane.getByRole('searchbox', {name: 'Search bans'}).fill('');
		assert.equal(await pane.getByRole('button', {name: /^Unban /}).count(), 2);
		await settings.getByRole('button', {name: 'Close'}).click();
	});

	await step(t, 'the banned user following the invite is told they are banned', async () => {
		expectConsoleErrors(/status of 403/);
		try {
			await signIn(S);
			await S.page.goto(`/#invite/${code}`);
			const join = S.page.getByRole('dialog', {name: 'Join a server'});
			await join.getByText(server).waitFor();
			await join.getByRole('button', {name: 'Join server'}).click();
			await join.getByRole('alert').filter({hasText: 'You are banned from this server.'}).waitFor();
			assert.equal(await S.page.getByRole('navigation', {name: 'Servers'})
			    .getByRole('button', {name: server}).count(), 0);
		} finally {
			expectConsoleErrors(null);
		}
		await O.context.close();
		await S.context.close();
	});
});

/*
 * Replies, reactions and pins (docs/api.md): two members signed in, each
 * change made in one browser shows in the other without a reload.
 */
test('replies, reactions and pins, live for both', {timeout: 180000}, async (t) => {
	const R = await newUser('R');
	const Q = await newUser('Q');
	const server = `Reacts ${run}`;
	let owner;
	let member;
	let channelId;
	const ids = {};
	const THUMBS = '\u{1f44d}';

	await step(t, 'a server with history older than one page, both signed in', async () => {
		owner = await apiRegister(R.name);
		member = await apiRegister(Q.name);
		const s = await apiCall('POST', '/servers', owner.token, {name: server});
		const code = (await apiCall('POST', `/servers/${s.id}/invites`, owner.token, {})).code;
		await apiCall('POST', `/invites/${code}`, member.token);
		channelId = (await apiCall('GET', `/servers/${s.id}/channels`, owner.token))[0].id;
		ids.old = (await apiCall('POST', `/channels/${channelId}/messages`, owner.token,
		    {content: `the very first message ${run}`})).id;
		await inPool(Array.from({length: 60}, (_, i) => i), 4, (i) =>
			apiCall('POST', `/channels/${channelId}/messages`, owner.token,
			    {content: `filler ${i} ${run}`}));
		ids.late = (await apiCall('POST', `/channels/${channelId}/messages`, owner.token,
		    {content: `an old question?`, reply_to: ids.old})).id;
		await signIn(R);
		await signIn(Q);
		await openServer(R.page, server);
		await openServer(Q.page, server);
		await message(Q.page, 'an old question?').waitFor();
	});

	await step(t, 'Q replies from the message\u2019s Reply button; Escape cancels a reply', async () => {
		const question = `what time is it ${run}`;
		await send(R.page, question);
		await message(Q.page, question).waitFor({timeout: LIVE_MS});
		let li = message(Q.page, question);
		await li.hover();
		await li.getByRole('button', {name: 'Reply'}).click();
		const bar = Q.page.locator('.reply-bar');
		await bar.getByText(question).waitFor();
		await Q.page.locator('.composer textarea').press('Escape');
		await bar.waitFor({state: 'hidden'});
		li = message(Q.page, question);
		await li.hover();
		await li.getByRole('button', {name: 'Reply'}).click();
		await send(Q.page, `noon ${run}`);
		await bar.waitFor({state: 'hidden'});
		const reply = message(R.page, `noon ${run}`);
		await reply.waitFor({timeout: LIVE_MS});
		assert.equal((await reply.locator('.msg-quote-text').textContent()).trim(), question);
	});

	await step(t, 'a click on a quote loads the page around the original, scrolls to it and highlights it',
	    async () => {
		const quote = message(Q.page, 'an old question?').locator('.msg-quote');
		await quote.click();
		const old = message(Q.page, `the very first message ${run}`);
		await old.and(Q.page.locator('.msg--highlight')).waitFor();
		assert.ok(await old.isVisible());
	});

	await step(t, 'reactions: the picker adds one, both see the chip, a click takes it away', async () => {
		const text = `react to me ${run}`;
		await send(R.page, text);
		await message(Q.page, text).waitFor({timeout: LIVE_MS});
		const li = message(Q.page, text);
		await li.hover();
		await li.getByRole('button', {name: 'Add reaction'}).click();
		const picker = Q.page.getByRole('dialog', {name: 'Emoji picker'});
		await picker.getByRole('searchbox', {name: 'Search emoji'}).fill('thumbs up');
		await picker.getByRole('button', {name: 'thumbs up'}).first().click();
		await picker.waitFor({state: 'detached'});
		const mine = message(Q.page, text).locator('.reaction--mine', {hasText: THUMBS});
		await mine.waitFor();
		const theirs = message(R.page, text).locator('.reaction', {hasText: THUMBS});
		await theirs.waitFor({timeout: LIVE_MS});
		assert.equal(await theirs.getAttribute('aria-pressed'), 'false');
		assert.equal((await theirs.locator('.reaction-count').textContent()).trim(), '1');
		/* R adds theirs with a click on the chip: 2 for both. */
		await theirs.click();
		await message(R.page, text).locator('.reaction--mine .reaction-count', {hasText: '2'}).waitFor();
		await message(Q.page, text).locator('.reaction--mine .reaction-count', {hasText: '2'})
		    .waitFor({timeout: LIVE_MS});
		/* The tooltip names who reacted. */
		await mine.hover();
		await Q.page.waitForFunction((names) => {
			const chip = document.querySelector('.reaction--mine');
			return chip && names.every((n) => chip.title.includes(n));
		}, [R.name, Q.name]);
		/* The picker remembers it among the recent ones. */
		await li.hover();
		await li.getByRole('button', {name: 'Add reaction'}).first().click();
		await picker.locator('h3', {hasText: 'Recent'}).waitFor();
		await Q.page.keyboard.press('Escape');
		await picker.waitFor({state: 'detached'});
		/* Q takes theirs away: 1 for both, Q's chip no longer marked. */
		await mine.click();
		await message(Q.page, text).locator('.reaction:not(.reaction--mine) .reaction-count', {hasText: '1'})
		    .waitFor();
		await message(R.page, text).locator('.reaction--mine .reaction-count', {hasText: '1'})
		    .waitFor({timeout: LIVE_MS});
	});

	await step(t, 'pins: the owner pins, the Pins panel lists it live for the member', async () => {
		const text = `keep this one ${run}`;
		await send(R.page, text);
		await message(Q.page, text).waitFor({timeout: LIVE_MS});
		/* A member without manage_messages has no Pin button. */
		await message(Q.page, text).hover();
		assert.equal(await message(Q.page, text).getByRole('button', {name: 'Pin message'}).count(), 0);
		await Q.page.getByRole('button', {name: 'Pinned messages'}).click();
		await Q.page.locator('.pins-body', {hasText: 'No pinned messages yet.'}).waitFor();
		const li = message(R.page, text);
		await li.hover();
		await li.getByRole('button', {name: 'Pin message'}).click();
		await message(R.page, text).locator('.msg-pinned').waitFor();
		await Q.page.locator('.pins-list .pin', {hasText: text}).waitFor({timeout: LIVE_MS});
		await message(Q.page, text).locator('.msg-pinned').waitFor();
		await R.page.screenshot({path: path.join(ARTIFACTS, 'reactions-pins.png')});
		/* Unpinned by the owner: gone from the member's panel. */
		await li.hover();
		await li.getByRole('button', {name: 'Unpin message'}).click();
		await Q.page.locator('.pins-body', {hasText: 'No pinned messages yet.'}).waitFor({timeout: LIVE_MS});
	});

	await step(t, 'a deleted original shows as deleted in its reply', async () => {
		await apiCall('DELETE', `/channels/${channelId}/messages/${ids.old}`, owner.token);
		await message(Q.page, 'an old question?').locator('.msg-quote--gone').waitFor({timeout: LIVE_MS});
	});
	await R.context.close();
	await Q.context.close();
});

/* The presence dot of a member list row, as its class names it. */
async function memberStatus(page, userId) {
	const dot = page.locator(`.members-body .member-item[data-user-id="${userId}"] .presence-dot`);
	const cls = await dot.getAttribute('class');
	return cls.match(/presence-dot--(\w+)/)[1];
}

/* Wait until a member list row shows a status (the keeper looks once a second). */
async function awaitMemberStatus(page, userId, status, timeout = PRESENCE_MS) {
	await page.locator(`.members-body .member-item[data-user-id="${userId}"] .presence-dot--${status}`)
	    .waitFor({timeout});
}

/* "Sees it within the keeper's second and the delivery." */
const PRESENCE_MS = 4000;

test('typing and presence between two users', {timeout: 180000}, async (t) => {
	const A = await newUser('TA');
	const B = await newUser('TB');
	const server = `Typing ${run}`;
	let a;
	let b;
	let c;
	let serverId;
	let channelId;
	let typedAt;
	const line = () => A.page.locator('.typing-line');

	await step(t, 'two members in a server both signed in see each other online', async () => {
		a = await apiRegister(A.name);
		b = await apiRegister(B.name);
		c = await apiRegister(`tc_${run}`);
		serverId = (await apiCall('POST', '/servers', a.token, {name: server})).id;
		channelId = (await apiCall('GET', `/servers/${serverId}/channels`, a.token))[0].id;
		const code = (await apiCall('POST', `/servers/${serverId}/invites`, a.token,
		    {max_uses: 0, max_age: 0})).code;
		await apiCall('POST', `/invites/${code}`, b.token);
		await apiCall('POST', `/invites/${code}`, c.token);
		await signIn(A);
		await signIn(B);
		await openServer(A.page, server);
		await openServer(B.page, server);
		await awaitMemberStatus(A.page, b.id, 'online');
		await awaitMemberStatus(B.page, a.id, 'online');
		assert.equal(await memberStatus(A.page, c.id), 'offline', 'c never signed in');
		assert.deepEqual(await memberHeadings(A.page), ['Members \u00b7 Online \u2014 2',
		    'Members \u00b7 Offline \u2014 1']);
	});

	await step(t, 'B types: A reads "B is typing…" until B\u2019s message arrives', async () => {
		/* The server's 5 s throttle starts before it answers the hint. */
		const hint = B.page.waitForResponse((res) => res.url().endsWith('/typing'));
		await B.page.locator('.composer textarea').fill('hello the');
		await hint;
		typedAt = Date.now();
		await line().filter({hasText: `${B.name} is typing\u2026`}).waitFor({timeout: LIVE_MS});
		assert.equal(await B.page.locator('.typing-line').textContent(), '', 'never one\u2019s own');
		await B.page.locator('.composer textarea').press('Enter');
		await message(A.page, 'hello the').waitFor({timeout: LIVE_MS});
		await A.page.waitForFunction(() => document.querySelector('.typing-line').textContent === '',
		    null, {timeout: LIVE_MS});
	});

	await step(t, 'two typists, then a hint that ends by itself after 10 s', async () => {
		/* One hint per user and conversation every 5 s goes on (the server's throttle). */
		await new Promise((r) => setTimeout(r, Math.max(0, typedAt + 5200 - Date.now())));
		/* B's hint first, then C's: the line names them in that order. */
		const hint = B.page.waitForResponse((res) => res.url().endsWith('/typing'));
		await B.page.locator('.composer textarea').fill('again');
		await hint;
		await apiCall('POST', `/channels/${channelId}/typing`, c.token);
		await line().filter({hasText: `${B.name} and tc_${run} are typing\u2026`})
		    .waitFor({timeout: LIVE_MS});
		await B.page.locator('.composer textarea').fill('');
		const since = Date.now();
		await A.page.waitForFunction(() => document.querySelector('.typing-line').textContent === '',
		    null, {timeout: 13000});
		const took = Date.now() - since;
		assert.ok(took > 7000, `the hints lasted their 10 s (${took} ms after the last)`);
	});

	await step(t, 'a hint sent just before its typist\u2019s message does not come back after it', async () => {
		/*
		 * C's message wakes A's poll, and A polls again at once; C's hint
		 * then waits for that poll's hold (it was answered less than 0.5 s
		 * before), and C's next message comes within it: the poll answers
		 * with the message alone and the hint follows with A's next poll
		 * (docs/api.md, Events). A's client applies an answer before it
		 * polls again with the answer's ephemeral value, so once that poll
		 * is sent, the line shows what the hint left: nothing, as the hint
		 * is older than C's message. (When the box is too slow for the
		 * hold, the hint comes first and the message ends it: the same.)
		 */
		const text = `sent while typing ${run}`;
		const polls = [];
		let hintEphemeral = null;
		const isPoll = (url) => url.includes('/api/v1/events?');
		const onRequest = (req) => {
			if (isPoll(req.url()))
				polls.push(req.url());
		};
		const onResponse = (res) => {
			if (isPoll(res.url()) && res.ok())
				res.json().then((body) => {
					if (body.events.some((e) => e.type === 'typing.start'))
						hintEphemeral = body.ephemeral;
				}, () => {});
		};
		A.page.on('request', onRequest);
		A.page.on('response', onResponse);
		await apiCall('POST', `/channels/${channelId}/messages`, c.token, {content: `${text} (1)`});
		await apiCall('POST', `/channels/${channelId}/typing`, c.token);
		await apiCall('POST', `/channels/${channelId}/messages`, c.token, {content: `${text} (2)`});
		await message(A.page, `${text} (2)`).waitFor({timeout: LIVE_MS});
		const polledAfterHint = () => hintEphemeral !== null && polls.some((url) =>
		    url.includes(`ephemeral=${encodeURIComponent(hintEphemeral)}`));
		const deadline = Date.now() + LIVE_MS;
		while (!polledAfterHint() && Date.now() < deadline)
			await new Promise((r) => setTimeout(r, 50));
		A.page.off('request', onRequest);
		A.page.off('response', onResponse);
		assert.ok(polledAfterHint(), 'the hint reached A, and A polled again');
		assert.equal(await line().textContent(), '', 'no hint older than its typist\u2019s message');
	});

	await step(t, 'B\u2019s status menu: do not disturb, then invisible, shown to A', async () => {
		const menu = B.page.getByRole('combobox', {name: 'Status'});
		await menu.selectOption('dnd');
		await awaitMemberStatus(A.page, b.id, 'dnd');
		assert.equal(await B.page.locator('.userbar .presence-dot--dnd').count(), 1);
		await menu.selectOption('invisible');
		await awaitMemberStatus(A.page, b.id, 'offline');
		assert.deepEqual(await memberHeadings(A.page), ['Members \u00b7 Online \u2014 1',
		    'Members \u00b7 Offline \u2014 2']);
		await B.page.screenshot({path: path.join(ARTIFACTS, 'status-menu.png')});
		await menu.selectOption('online');
		await awaitMemberStatus(A.page, b.id, 'online');
	});

	await step(t, 'ten minutes without input: B goes idle, and back online at the next key', async () => {
		/* The client looks at the time every 15 s (real timers: they were
		 * set before the fake clock); the clock jumps 10.5 minutes. */
		await B.page.clock.install();
		await B.page.clock.fastForward('10:30');
		await awaitMemberStatus(A.page, b.id, 'idle', 15000 + PRESENCE_MS);
		assert.equal(await B.page.getByRole('combobox', {name: 'Status'}).inputValue(), 'idle');
		await B.page.locator('.composer textarea').press('a');
		await awaitMemberStatus(A.page, b.id, 'online');
	});

	await step(t, 'the profile card shows the status', async () => {
		await A.page.locator(`.members-body .member-item[data-user-id="${b.id}"]`).click();
		const card = A.page.getByRole('dialog', {name: 'Profile'});
		await card.locator('.profile-status', {hasText: 'Online'}).waitFor();
		assert.equal(await card.locator('.presence-dot--online').count(), 1);
		await A.page.screenshot({path: path.join(ARTIFACTS, 'presence-profile.png')});
		await A.page.keyboard.press('Escape');
		await A.context.close();
		await B.context.close();
	});
});

test('unread survives a reload: mention counts, the divider, the @ autocomplete', {timeout: 120000}, async (t) => {
	const R = await newUser('Reader');
	const server = `Reads ${run}`;
	let reader;
	let writer;
	let channelId;
	let roleName;
	const rail = () => R.page.getByRole('navigation', {name: 'Servers'});

	await step(t, 'a server of two, made over the API; the reader reads it', async () => {
		reader = await apiRegister(R.name);
		writer = await apiRegister(`w_${run}`);
		const serverId = (await apiCall('POST', '/servers', writer.token, {name: server})).id;
		channelId = (await apiCall('GET', `/servers/${serverId}/channels`, writer.token))[0].id;
		const code = (await apiCall('POST', `/servers/${serverId}/invites`, writer.token, {})).code;
		await apiCall('POST', `/invites/${code}`, reader.token);
		roleName = `crew${run}`;
		await apiCall('POST', `/servers/${serverId}/roles`, writer.token, {name: roleName});
		await apiCall('POST', `/channels/${channelId}/messages`, writer.token, {content: `already read ${run}`});
		await signIn(R);
		await openServer(R.page, server);
		await message(R.page, `already read ${run}`).waitFor();
		/* Read: nothing counts on the rail any more. */
		await R.page.waitForFunction(() => !/^\(\d+\)/.test(document.title));
	});

	await step(t, 'a mention while the tab is closed is a red count after reopening', async () => {
		await R.page.goto('about:blank');
		await apiCall('POST', `/channels/${channelId}/messages`, writer.token, {content: `first unread ${run}`});
		await apiCall('POST', `/channels/${channelId}/messages`, writer.token,
		    {content: `hey <@${reader.id}> look ${run}`});
		await R.page.goto('/');
		await rail().getByRole('button', {name: `${server} (1 mention)`}).waitFor();
		assert.equal(await rail().locator('.rail-badge').first().textContent(), '1');
		await R.page.waitForFunction(() => document.title.startsWith('(1) '));
	});

	await step(t, 'entering shows "New messages" above the first unread one, and reads it', async () => {
		await openServer(R.page, server);
		const divider = R.page.locator('.msg-list > li.msg-divider');
		await divider.waitFor();
		assert.equal(await divider.textContent(), 'New messages');
		const around = await divider.evaluate((el) => [el.previousElementSibling.textContent,
		    el.nextElementSibling.textContent]);
		assert.ok(around[0].includes(`already read ${run}`), `above the divider: ${around[0]}`);
		assert.ok(around[1].includes(`first unread ${run}`), `below the divider: ${around[1]}`);
		const mention = message(R.page, `look ${run}`);
		assert.ok(await mention.evaluate((el) => el.classList.contains('msg--mentioned')), 'tinted');
		assert.equal(await mention.locator('.mention').textContent(), `@${reader.name}`);
		await R.page.waitForFunction(() => !document.title.startsWith('('));
		await rail().getByRole('button', {name: `${server} (1 mention)`}).waitFor({state: 'detached'});
		/* And it stays read after a reload. */
		await R.page.reload();
		await rail().getByRole('button', {name: server}).waitFor();
		assert.equal(await rail().locator('.rail-badge').count(), 0);
	});

	await step(t, 'the @ autocomplete offers members and roles, and writes the mention', async () => {
		await openServer(R.page, server);
		const box = R.page.locator('.composer textarea');
		const options = R.page.getByRole('listbox', {name: 'Mention'}).getByRole('option');
		await box.fill('');
		await box.pressSequentially('ping @w_');
		await options.first().waitFor();
		assert.equal(await options.count(), 1);
		assert.equal(await options.first().locator('.mention-option-name').textContent(), writer.name);
		await box.press('Enter');
		assert.equal(await box.inputValue(), `ping <@${writer.id}> `);
		await box.pressSequentially('and @crew');
		await options.first().waitFor();
		assert.equal(await options.first().locator('.mention-option-name').textContent(), `@${roleName}`);
		await box.press('Tab');
		/* No mention_everyone: everyone is not offered. */
		await box.pressSequentially(`@everyone ${run}`);
		assert.equal(await options.count(), 0);
		await box.press('Enter');
		const sent = message(R.page, `@everyone ${run}`);
		await sent.waitFor();
		await sent.and(R.page.locator(':not(.msg--pending)')).waitFor();
		assert.deepEqual(await sent.locator('.mention').allTextContents(), [`@${writer.name}`, `@${roleName}`]);
	});
	await R.context.close();
});

test('search: the header box, marked words, a jump to a result, a DM by name', {timeout: 120000}, async (t) => {
	const F = await newUser('Finder');
	const server = `Search ${run}`;
	let owner;
	let channelId;
	const target = `the launch is on tuesday <b>${run}</b>`;

	await step(t, 'a search from the header marks the words; a click jumps to the result in its channel', async () => {
		owner = await apiRegister(`owner_${run}`);
		const finder = await apiRegister(F.name);
		const serverId = (await apiCall('POST', '/servers', owner.token, {name: server})).id;
		channelId = (await apiCall('GET', `/servers/${serverId}/channels`, owner.token))[0].id;
		const code = (await apiCall('POST', `/servers/${serverId}/invites`, owner.token, {})).code;
		await apiCall('POST', `/invites/${code}`, finder.token);
		await apiCall('POST', `/channels/${channelId}/messages`, owner.token, {content: 'before it'});
		await apiCall('POST', `/channels/${channelId}/messages`, owner.token, {content: target});
		/* More than a page of history after it: it is not on screen. */
		for (let i = 0; i < 60; i++)
			await apiCall('POST', `/channels/${channelId}/messages`, owner.token, {content: `filler ${i}`});
		await signIn(F);
		await openServer(F.page, server);
		await message(F.page, 'filler 59').waitFor();
		const box = F.page.getByRole('searchbox', {name: 'Search messages'});
		await box.fill('LAUNCH tues');
		await box.press('Enter');
		const dialog = F.page.getByRole('dialog', {name: 'Search'});
		await dialog.getByRole('status').filter({hasText: '1 result'}).waitFor();
		const item = dialog.locator('.search-item');
		assert.equal(await item.count(), 1);
		assert.deepEqual(await item.locator('mark').allTextContents(), ['launch', 'tuesday']);
		/* The text is text: the <b> of the message is shown, not obeyed. */
		assert.equal(await item.locator('b').count(), 0);
		await item.getByText(`<b>${run}</b>`).waitFor();
		/* The "in:" chip narrows to one channel: still found. */
		await dialog.getByLabel('In').selectOption({label: 'in: #general'});
		await dialog.getByRole('status').filter({hasText: '1 result'}).waitFor();
		await item.click();
		await dialog.waitFor({state: 'detached'});
		assert.equal(await heading(F.page), 'general');
		const hit = message(F.page, `<b>${run}</b>`).and(F.page.locator('.msg--highlight'));
		await hit.waitFor();
		assert.ok((await placeInMessages(hit)).inView, 'the result is in view');
		await message(F.page, 'before it').waitFor();
		await message(F.page, 'filler 0').first().waitFor();
	});

	await step(t, '"New message" finds a person by name and opens the DM', async () => {
		await F.page.getByRole('button', {name: /^Direct messages/}).click();
		await F.page.getByRole('button', {name: 'New direct message'}).click();
		const dialog = F.page.getByRole('dialog', {name: 'New message'});
		await dialog.getByLabel('Find someone by name').fill(`OWNER_${run}`.slice(0, 12));
		await dialog.getByRole('button', {name: owner.name}).click();
		await dialog.waitFor({state: 'detached'});
		assert.equal(await heading(F.page), owner.name);
		await F.context.close();
	});
});

test('no page logged a console error', () => {
	assert.deepEqual(consoleErrors, []);
});
