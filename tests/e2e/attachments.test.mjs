/* SPDX-License-Identifier: ISC */
/*
 * attachments.test.mjs: files in the web client (API.md, Attachments;
 * issue 23), against a running sohbet at $SOHBET_TEST_URL.
 *
 * A attaches an image with the attach button: a progress bar while it
 * uploads (slowed down so that it is seen), "Ready" once up, and the
 * message shows it inline with its width and height set before the image
 * loaded; B sees it live, decoded, and its link opens the full size. A
 * pastes an image from the clipboard and sends it without text; A drops a
 * text file on the conversation and it shows as a card with its name,
 * size and a download link. An upload can be cancelled while it runs.
 * Failures are explained: a file over 25 MB ("Too large"), HTML sent as
 * a PNG ("Not allowed"). No page may log a console error.
 */

import {test} from 'node:test';
import assert from 'node:assert/strict';
import zlib from 'node:zlib';

import {
	LIVE_MS, run, consoleErrors, expectConsoleErrors, useBrowser, newUser, signIn, message,
	confirmed, openServer, step, apiCall, apiRegister,
} from './harness.mjs';

useBrowser();

/* A real PNG of w x h pixels (a gradient), which the browser decodes. */
function png(w, h) {
	const crcTable = Array.from({length: 256}, (_, n) => {
		let c = n;
		for (let k = 0; k < 8; k++)
			c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
		return c >>> 0;
	});
	const crc = (buf) => {
		let c = 0xffffffff;
		for (const b of buf)
			c = crcTable[(c ^ b) & 0xff] ^ (c >>> 8);
		return (c ^ 0xffffffff) >>> 0;
	};
	const chunk = (type, data) => {
		const len = Buffer.alloc(4);
		len.writeUInt32BE(data.length);
		const td = Buffer.concat([Buffer.from(type, 'ascii'), data]);
		const sum = Buffer.alloc(4);
		sum.writeUInt32BE(crc(td));
		return Buffer.concat([len, td, sum]);
	};
	const ihdr = Buffer.alloc(13);
	ihdr.writeUInt32BE(w, 0);
	ihdr.writeUInt32BE(h, 4);
	ihdr[8] = 8;
	ihdr[9] = 2;
	const rows = [];
	for (let y = 0; y < h; y++) {
		const row = Buffer.alloc(1 + 3 * w);
		for (let x = 0; x < w; x++) {
			row[1 + 3 * x] = (x * 255 / w) | 0;
			row[2 + 3 * x] = (y * 255 / h) | 0;
			row[3 + 3 * x] = 128;
		}
		rows.push(row);
	}
	return Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
	    chunk('IHDR', ihdr), chunk('IDAT', zlib.deflateSync(Buffer.concat(rows))),
	    chunk('IEND', Buffer.alloc(0))]);
}

/* Put files on the composer as a paste, or as a drop on the conversation. */
async function transfer(page, kind, files) {
	await page.evaluate(({kind, files}) => {
		const dt = new DataTransfer();
		for (const f of files)
			dt.items.add(new File([Uint8Array.from(atob(f.b64), (c) => c.charCodeAt(0))],
			    f.name, {type: f.type}));
		if (kind === 'paste') {
			document.querySelector('.composer textarea').dispatchEvent(
			    new ClipboardEvent('paste', {clipboardData: dt, bubbles: true, cancelable: true}));
			return;
		}
		const target = document.querySelector('.messages');
		for (const type of ['dragenter', 'dragover', 'drop'])
			target.dispatchEvent(new DragEvent(type, {dataTransfer: dt, bubbles: true, cancelable: true}));
	}, {kind, files: files.map((f) => ({name: f.name, type: f.type, b64: f.data.toString('base64')}))});
}

test('files in the web client', {timeout: 180000}, async (t) => {
	const A = await newUser('A');
	const B = await newUser('B');
	const server = `Files ${run}`;
	const img = png(640, 360);

	await step(t, 'A and B share a server', async () => {
		const a = await apiRegister(A.name);
		const b = await apiRegister(B.name);
		const s = await apiCall('POST', '/servers', a.token, {name: server});
		const inv = await apiCall('POST', `/servers/${s.id}/invites`, a.token, {});
		await apiCall('POST', `/invites/${inv.code}`, b.token, {});
		await signIn(A);
		await signIn(B);
		await openServer(A.page, server);
		await openServer(B.page, server);
		await A.page.locator('.main-head h1', {hasText: 'general'}).waitFor();
		await B.page.locator('.main-head h1', {hasText: 'general'}).waitFor();
	});

	const caption = `a gradient ${run}`;
	await step(t, 'A attaches an image with the button, sees it upload, and sends it', async () => {
		/* Slow the upload down so that its progress is seen. */
		const cdp = await A.context.newCDPSession(A.page);
		await cdp.send('Network.enable');
		await cdp.send('Network.emulateNetworkConditions', {offline: false, latency: 0,
		    downloadThroughput: -1, uploadThroughput: 256 * 1024});
		const big = Buffer.concat([img, Buffer.alloc(600 * 1024 - img.length)]);
		await A.page.locator('input.attach-input').setInputFiles({name: 'gradient.png',
		    mimeType: 'image/png', buffer: big});
		const bar = A.page.locator('.upload-tray progress.upload-progress');
		await bar.waitFor();
		await A.page.waitForFunction(() => {
			const p = document.querySelector('.upload-tray progress');
			return p && p.value > 0 && p.value < p.max;
		});
		await A.page.locator('.upload-tray .upload-done', {hasText: 'Ready'}).waitFor({timeout: 30000});
		await cdp.send('Network.emulateNetworkConditions', {offline: false, latency: 0,
		    downloadThroughput: -1, uploadThroughput: -1});
		const box = A.page.locator('.composer textarea');
		await box.fill(caption);
		await box.press('Enter');
		await confirmed(A.page, caption);
		assert.equal(await A.page.locator('.upload-tray li').count(), 0, 'the tray empties on send');
		const shown = message(A.page, caption).locator('.att-image img');
		/* 640 x 360 scaled into 400 x 300: the box is set before loading. */
		assert.equal(await shown.getAttribute('width'), '400');
		assert.equal(await shown.getAttribute('height'), '225');
	});

	await step(t, 'B sees the image live, decoded, at its reserved size', async () => {
		const shown = message(B.page, caption).locator('.att-image img');
		await shown.waitFor({timeout: LIVE_MS});
		await B.page.waitForFunction((text) => {
			for (const li of document.querySelectorAll('.msg-list > li.msg')) {
				const im = li.textContent.includes(text) && li.querySelector('.att-image img');
				if (im && im.complete && im.naturalWidth === 640)
					return true;
			}
			return false;
		}, caption);
		const box = await shown.boundingBox();
		assert.equal(Math.round(box.width), 400);
		assert.equal(Math.round(box.height), 225);
		/* A click opens the full size: a link to the signed URL, new tab. */
		const link = message(B.page, caption).locator('a.att-image');
		assert.equal(await link.getAttribute('target'), '_blank');
		const res = await B.page.request.get(await link.getAttribute('href'));
		assert.equal(res.status(), 200);
		assert.equal(res.headers()['content-type'], 'image/png');
		assert.equal(res.headers()['content-disposition'].split(';')[0], 'inline');
	});

	await step(t, 'A pastes an image and sends it without text', async () => {
		await A.page.locator('.composer textarea').focus();
		await transfer(A.page, 'paste', [{name: 'image.png', type: 'image/png', data: png(32, 48)}]);
		await A.page.locator('.upload-tray .upload-done', {hasText: 'Ready'}).waitFor();
		await A.page.locator('.composer textarea').press('Enter');
		const shown = B.page.locator('.att-image img[alt="image.png"]');
		await shown.waitFor({timeout: LIVE_MS});
		assert.equal(await shown.getAttribute('width'), '32');
		assert.equal(await shown.getAttribute('height'), '48');
	});

	const notes = `notes ${run}`;
	await step(t, 'A drops a text file: a card with name, size and download link', async () => {
		await transfer(A.page, 'drop', [{name: 'notes.txt', type: 'text/plain',
		    data: Buffer.from('x'.repeat(2048))}]);
		await A.page.locator('.upload-tray .upload-done', {hasText: 'Ready'}).waitFor();
		const box = A.page.locator('.composer textarea');
		await box.fill(notes);
		await box.press('Enter');
		const card = message(B.page, notes).locator('.att-card');
		await card.waitFor({timeout: LIVE_MS});
		assert.equal((await card.locator('.att-card-name').textContent()).trim(), 'notes.txt');
		assert.equal((await card.locator('.att-card-size').textContent()).trim(), '2.0 KB');
		const href = await card.locator('.att-card-name').getAttribute('href');
		assert.equal(await card.locator('.att-card-name').getAttribute('download'), 'notes.txt');
		const res = await B.page.request.get(href);
		assert.equal(res.status(), 200);
		assert.equal(res.headers()['content-disposition'].split(';')[0], 'attachment');
		assert.equal((await res.body()).length, 2048);
	});

	await step(t, 'an upload in progress can be cancelled', async () => {
		const cdp = await A.context.newCDPSession(A.page);
		await cdp.send('Network.enable');
		await cdp.send('Network.emulateNetworkConditions', {offline: false, latency: 0,
		    downloadThroughput: -1, uploadThroughput: 64 * 1024});
		await A.page.locator('input.attach-input').setInputFiles({name: 'slow.bin',
		    mimeType: 'application/octet-stream', buffer: Buffer.alloc(4 * 1024 * 1024, 7)});
		await A.page.locator('.upload-tray progress').waitFor();
		await A.page.getByRole('button', {name: 'Cancel slow.bin'}).click();
		assert.equal(await A.page.locator('.upload-tray li').count(), 0);
		assert.equal(await A.page.locator('.upload-tray').isHidden(), true);
		await cdp.send('Network.emulateNetworkConditions', {offline: false, latency: 0,
		    downloadThroughput: -1, uploadThroughput: -1});
	});

	await step(t, 'failures are explained: too large, not the image it claims', async () => {
		await A.page.locator('input.attach-input').setInputFiles({name: 'huge.bin',
		    mimeType: 'application/octet-stream', buffer: Buffer.alloc(25 * 1024 * 1024 + 1)});
		await A.page.locator('.upload-tray .upload-error', {hasText: 'Too large'}).waitFor();
		await A.page.getByRole('button', {name: 'Remove huge.bin'}).click();
		/* The server refuses it (400): an expected console error. */
		expectConsoleErrors(/400/);
		await A.page.locator('input.attach-input').setInputFiles({name: 'fake.png',
		    mimeType: 'image/png', buffer: Buffer.from('<html><script>alert(1)</script></html>')});
		const err = A.page.locator('.upload-tray .upload-error');
		await err.waitFor();
		assert.match(await err.textContent(), /^Not allowed: .*not a image\/png image/);
		await A.page.getByRole('button', {name: 'Remove fake.png'}).click();
		expectConsoleErrors(null);
	});

	await step(t, 'no console errors', async () => {
		assert.deepEqual(consoleErrors, []);
	});
});
