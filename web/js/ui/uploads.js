/* SPDX-License-Identifier: ISC */
/*
 * uploads.js: the files waiting in the composer (API.md, Attachments).
 * A file added with the attach button, dropped on the conversation or
 * pasted into the message box uploads at once, each with a progress bar
 * fed by XMLHttpRequest's progress events and a button that cancels it
 * (or, once uploaded or failed, removes it). A failure says why: too
 * large, not allowed here, not the image it claims to be. Sending the
 * message takes the files that finished uploading.
 */

import {upload} from '../api.js';
import {h, icon, replace} from '../dom.js';
import {formatSize} from './attachments.js';
import {errorText} from './dialog.js';

/* The server's default limits (sohbet.conf [files] max_size; per message). */
export const MAX_FILE_BYTES = 25 * 1024 * 1024;
export const MAX_FILES = 10;

/* Why an upload failed, in words. */
function reasonOf(e) {
	if (e.status === 413 || e.code === 'payload_too_large')
		return `Too large: files can be up to ${formatSize(MAX_FILE_BYTES)}.`;
	if (e.code === 'missing_permission')
		return 'Not allowed: you may not attach files here.';
	if (e.code === 'validation_failed' && e.field === 'file')
		return `Not allowed: ${e.message}`;
	if (e.code === 'validation_failed' && e.field === 'filename')
		return 'Not allowed: the file name has characters that are not taken.';
	return errorText(e);
}

/*
 * Make the tray. onChange() is called when an upload starts, ends or is
 * removed. Returns {el, add(files, path), ready(), busy(), clear()}.
 */
export function createUploadTray(onChange) {
	const el = h('ul', {class: 'upload-tray', 'aria-label': 'Files to send', hidden: true});
	let entries = [];

	/* Start uploading files (a FileList or array) to conversation path. */
	function add(files, path) {
		for (const file of files) {
			const entry = {file, state: 'uploading', loaded: 0, attachment: null,
			    error: null, ctrl: new AbortController()};
			entries.push(entry);
			if (entries.length > MAX_FILES) {
				fail(entry, `At most ${MAX_FILES} files go with one message.`);
			} else if (file.size > MAX_FILE_BYTES) {
				fail(entry, `Too large: files can be up to ${formatSize(MAX_FILE_BYTES)}.`);
			} else if (file.size === 0) {
				fail(entry, 'The file is empty.');
			} else {
				start(entry, path);
			}
		}
		draw();
		onChange();
	}

	function fail(entry, why) {
		entry.state = 'failed';
		entry.error = why;
	}

	async function start(entry, path) {
		const query = `?filename=${encodeURIComponent(entry.file.name || 'file')}`;
		try {
			entry.attachment = await upload(`${path}/attachments${query}`, entry.file,
			    (loaded) => {
				entry.loaded = loaded;
				drawEntry(entry);
			    }, entry.ctrl.signal);
			entry.state = 'done';
		} catch (e) {
			if (e.name === 'AbortError')
				return;
			fail(entry, reasonOf(e));
		}
		draw();
		onChange();
	}

	/* Cancel an upload in progress, or take a file off the tray. */
	function remove(entry) {
		entry.ctrl.abort();
		entries = entries.filter((x) => x !== entry);
		draw();
		onChange();
	}

	function drawEntry(entry) {
		if (!entry.li)
			entry.li = h('li', {class: 'upload'});
		const name = entry.file.name || 'file';
		let status;
		if (entry.state === 'uploading') {
			status = h('progress', {class: 'upload-progress', max: String(entry.file.size),
			    value: String(entry.loaded), 'aria-label': `Uploading ${name}`});
		} else if (entry.state === 'failed') {
			status = h('span', {class: 'upload-error', role: 'alert', text: entry.error});
		} else {
			status = h('span', {class: 'upload-done', text: 'Ready'});
		}
		replace(entry.li,
		    h('span', {class: 'upload-name', text: name}),
		    h('span', {class: 'upload-size', text: formatSize(entry.file.size)}),
		    status,
		    h('button', {type: 'button', class: 'icon-btn',
			'aria-label': entry.state === 'uploading' ? `Cancel ${name}` : `Remove ${name}`,
			title: entry.state === 'uploading' ? 'Cancel' : 'Remove',
			onclick: () => remove(entry)}, icon('x')));
		entry.li.className = `upload upload--${entry.state}`;
	}

	function draw() {
		for (const entry of entries)
			drawEntry(entry);
		replace(el, entries.map((x) => x.li));
		el.hidden = entries.length === 0;
	}

	return {
		el,
		add,
		/* The attachments uploaded and not yet sent. */
		ready: () => entries.filter((x) => x.state === 'done').map((x) => x.attachment),
		/* Whether an upload is still running. */
		busy: () => entries.some((x) => x.state === 'uploading'),
		/* Cancel what runs and empty the tray (sent, or left). */
		clear() {
			for (const x of entries)
				x.ctrl.abort();
			entries = [];
			draw();
		},
	};
}
