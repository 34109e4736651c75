/* SPDX-License-Identifier: ISC */
/*
 * emoji.test.mjs: :shortcodes: (web/js/emoji.js): the names made from
 * Unicode's, and the composer's conversion of the one just typed.
 */

import {describe, test} from 'node:test';
import assert from 'node:assert/strict';
import {shortcodeName, shortcodeTable, typingShortcode, replaceShortcode, replaceShortcodesBefore}
    from '../../web/js/emoji.js';

/* A piece of the generated data (tools/emoji-table js), in its shape. */
const GROUPS = [
	['Smileys & Emotion', [['\u{1f602}', 'face with tears of joy', []], ['\u2764\ufe0f', 'red heart', []]]],
	['People & Body', [['\u{1f44d}', 'thumbs up', ['\u{1f44d}\u{1f3fb}']]]],
	['Flags', [['\u{1f1e8}\u{1f1ee}', 'flag: C\u00f4te d\u2019Ivoire', []], ['\u{1f3c1}', 'chequered flag', []]]],
	['Symbols', [['#\ufe0f\u20e3', 'keycap: #', []], ['\u{1f170}\ufe0f', 'A button (blood type)', []]]],
];

describe('shortcodes', () => {
	test('names in lower case with underscores, accents and punctuation dropped', () => {
		assert.equal(shortcodeName('face with tears of joy'), 'face_with_tears_of_joy');
		assert.equal(shortcodeName('flag: C\u00f4te d\u2019Ivoire'), 'flag_cote_d_ivoire');
		assert.equal(shortcodeName('keycap: #'), 'keycap');
		assert.equal(shortcodeName('A button (blood type)'), 'a_button_blood_type');
		const t = shortcodeTable(GROUPS);
		assert.equal(t.get('thumbs_up'), '\u{1f44d}');
		assert.equal(t.get('red_heart'), '\u2764\ufe0f');
		assert.equal(t.size, 7);
	});

	test('the shortcode just typed becomes its emoji, the caret after it', () => {
		const t = shortcodeTable(GROUPS);
		const v = 'nice :thumbs_up: ok';
		assert.deepEqual(replaceShortcode(v, 16, t), {value: 'nice \u{1f44d} ok', caret: 7});
		assert.deepEqual(replaceShortcode(':RED_HEART:', 11, t), {value: '\u2764\ufe0f', caret: 2});
		for (const [value, caret] of [[':thumbs_up', 10], [':nope:', 6], ['a:thumbs_up:', 12],
		    ['12:30:', 6], ['::thumbs_up:', 12], [v, 15]])
			assert.equal(replaceShortcode(value, caret, t), null, value);
	});

	test('the codes typed while the table loaded convert when it comes, only before the caret', () => {
		const t = shortcodeTable(GROUPS);
		const v = 'so good :thumbs_up: and :red_heart: but 12:30:45 stays :nope: :thumbs_up:';
		const caret = v.length - ' :thumbs_up:'.length;
		assert.deepEqual(replaceShortcodesBefore(v, caret, t), {
			value: 'so good \u{1f44d} and \u2764\ufe0f but 12:30:45 stays :nope: :thumbs_up:',
			caret: caret - ':thumbs_up:'.length - ':red_heart:'.length + 2 + 2});
		assert.equal(replaceShortcodesBefore('at 12:30:45 :nope:', 18, t), null);
		assert.equal(replaceShortcodesBefore('a:thumbs_up:', 12, t), null);
	});

	test('what counts as typing one (the table loads then)', () => {
		assert.ok(typingShortcode('hi :th', 6));
		assert.ok(typingShortcode(':thumbs_up:', 11));
		assert.ok(!typingShortcode('hi :', 4));
		assert.ok(!typingShortcode('at 12:30', 8));
		assert.ok(!typingShortcode('hi :th ere', 10));
	});
});
