/* SPDX-License-Identifier: ISC */
/*
 * search.test.mjs: the query words and highlighting of web/js/search.js
 * (docs/api.md, Search): words as the server cuts them, the last one a
 * prefix unless quoted, matches ignoring case and accents, and pieces
 * that put the text back together exactly.
 */

import {test} from 'node:test';
import assert from 'node:assert/strict';
import {queryWords, highlightPieces, searchQuery} from '../../web/js/search.js';

test('a query is words; operators are separators; the last is a prefix', () => {
	assert.deepEqual(queryWords('+fox -quick* (c++)'), [
		{text: 'fox', prefix: false},
		{text: 'quick', prefix: false},
		{text: 'c', prefix: true},
	]);
	assert.deepEqual(queryWords('"big red" ball'), [
		{text: 'big', prefix: false},
		{text: 'red', prefix: false},
		{text: 'ball', prefix: true},
	]);
	/* Quoted last: no prefix.  An unpaired '"' is text. */
	assert.deepEqual(queryWords('ball "big red"').map((w) => w.prefix),
	    [false, false, false]);
	assert.deepEqual(queryWords('"redder').map((w) => w.prefix), [true]);
	assert.deepEqual(queryWords('+-*@~<>()'), []);
});

test('highlighting marks whole words, the last also by prefix', () => {
	const words = queryWords('go hom');
	const pieces = highlightPieces('ago: go homes, gone', words);
	assert.equal(pieces.map((p) => p.text).join(''), 'ago: go homes, gone');
	assert.deepEqual(pieces.filter((p) => p.hit).map((p) => p.text), ['go', 'homes']);
});

test('highlighting ignores case and accents', () => {
	const pieces = highlightPieces('Un CAFÉ crème, İstanbul', queryWords('cafe istanbul'));
	assert.deepEqual(pieces.filter((p) => p.hit).map((p) => p.text), ['CAFÉ', 'İstanbul']);
});

test('text with no match is one piece', () => {
	assert.deepEqual(highlightPieces('<b>hi</b>', queryWords('zzz')),
	    [{text: '<b>hi</b>', hit: false}]);
});

test('the query string carries only the filters that are set', () => {
	assert.equal(searchQuery('a b', {}), 'q=a+b');
	assert.equal(searchQuery('x', {authorId: '5', channelId: '7', before: '9'}),
	    'q=x&author_id=5&channel_id=7&before=9');
});
