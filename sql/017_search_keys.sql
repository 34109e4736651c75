-- SPDX-License-Identifier: ISC
-- The word index keyed for search (docs/hacking.md, "Search"): a word's
-- rows lie together per server or DM, newest last, and carry the
-- message's channel, so that a search reads only the rows of where it
-- looks and leaves out the channels its reader may not view without
-- reading the messages.
--
--   in_dm, scope_id	a server's message: 0 and the server's id; a DM's:
--			1 and the DM channel's id
--   channel_id		the server channel (NULL in a DM)
--
-- A message never changes its conversation, nor a channel its server.
-- The rows already there are copied into the new table, the tables swap
-- names, the writers below are replaced, and what was written to the old
-- table meanwhile is copied after.  About 1.5 minutes a million messages
-- on a 2-core box (operations.md, Upgrade).

CREATE TABLE message_words_scoped (
	word			VARCHAR(64) NOT NULL,
	in_dm			BOOL NOT NULL,
	scope_id		BIGINT UNSIGNED NOT NULL,
	message_id		BIGINT UNSIGNED NOT NULL,
	channel_id		BIGINT UNSIGNED NULL,
	PRIMARY KEY (word, in_dm, scope_id, message_id),
	KEY message_words_of_message (message_id, word),
	CONSTRAINT message_words_of_message_fk FOREIGN KEY (message_id)
	    REFERENCES messages (id) ON DELETE CASCADE
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_520_ci;

-- The copy reads the index as it was when it began (and locks its rows
-- against the edits and deletions of those minutes, which wait).
SET @sohbet_words_copied = (SELECT COALESCE(MAX(id), 0) FROM messages);
SET @sohbet_words_started = NOW(3);
INSERT INTO message_words_scoped (word, in_dm, scope_id, message_id,
    channel_id)
    SELECT w.word, m.dm_channel_id IS NOT NULL,
    COALESCE(c.server_id, m.dm_channel_id), w.message_id, m.channel_id
    FROM message_words w JOIN messages m ON m.id = w.message_id
    LEFT JOIN channels c ON c.id = m.channel_id
    WHERE w.message_id <= @sohbet_words_copied;
RENAME TABLE message_words TO message_words_unscoped,
    message_words_scoped TO message_words;

-- The writers of the index, writing the new columns (at once after the
-- swap: the old ones cannot write the new table): the one of a single
-- message (the send procedure, words.c) takes them from the message's
-- row, which it follows; the batch send takes them from its rows.
DROP PROCEDURE IF EXISTS message_words_index;
DROP PROCEDURE IF EXISTS message_words_index_many;
DROP PROCEDURE IF EXISTS message_send_many;

DELIMITER //
CREATE PROCEDURE message_words_index(
	IN p_id			BIGINT UNSIGNED,
	IN p_content		TEXT CHARACTER SET utf8mb4)
	MODIFIES SQL DATA
	SQL SECURITY INVOKER
BEGIN
	INSERT INTO message_words (word, in_dm, scope_id, message_id,
	    channel_id)
	    SELECT DISTINCT LEFT(t.w, 64), m.dm_channel_id IS NOT NULL,
	    COALESCE(c.server_id, m.dm_channel_id), m.id, m.channel_id
	    FROM messages m LEFT JOIN channels c ON c.id = m.channel_id,
	    JSON_TABLE(search_words(p_content), '$[*]'
	    COLUMNS (w VARCHAR(4000) CHARACTER SET utf8mb4 PATH '$')) t
	    WHERE m.id = p_id AND t.w <> ''
	    ON DUPLICATE KEY UPDATE message_id = message_id;
END//

-- The words of a batch's messages (p_rows: message_send_many's rows),
-- apart so that a later change of the index replaces this alone.
CREATE PROCEDURE message_words_index_many(
	IN p_rows		LONGTEXT CHARACTER SET utf8mb4
				    COLLATE utf8mb4_bin)
	MODIFIES SQL DATA
	SQL SECURITY INVOKER
BEGIN
	INSERT INTO message_words (word, in_dm, scope_id, message_id,
	    channel_id)
	    SELECT DISTINCT LEFT(t.w, 64), r.dm_channel_id <> 0,
	    IF(r.dm_channel_id <> 0, r.dm_channel_id, r.server_id), r.id,
	    NULLIF(r.channel_id, 0)
	    FROM JSON_TABLE(p_rows, '$[*]' COLUMNS (
		id		BIGINT UNSIGNED PATH '$.id',
		channel_id	BIGINT UNSIGNED PATH '$.c',
		dm_channel_id	BIGINT UNSIGNED PATH '$.d',
		server_id	BIGINT UNSIGNED PATH '$.sv',
		content		TEXT CHARACTER SET utf8mb4 PATH '$.t')) AS r,
	    JSON_TABLE(search_words(r.content), '$[*]' COLUMNS (
		w		VARCHAR(4000) CHARACTER SET utf8mb4 PATH '$')) AS t
	    WHERE t.w <> ''
	    ON DUPLICATE KEY UPDATE message_id = message_id;
END//

CREATE PROCEDURE message_send_many(
	IN p_rows		LONGTEXT CHARACTER SET utf8mb4
				    COLLATE utf8mb4_bin,
	IN p_nonces		BOOL,
	IN p_mentions		LONGTEXT CHARACTER SET utf8mb4
				    COLLATE utf8mb4_bin)
	MODIFIES SQL DATA
	SQL SECURITY INVOKER
BEGIN
	DECLARE EXIT HANDLER FOR SQLEXCEPTION
	BEGIN
		ROLLBACK;
		SET @sohbet_send_rows = NULL;
		SET @sohbet_send_mentions = NULL;
		RESIGNAL;
	END;
	SET @sohbet_send_rows = p_rows;
	SET @sohbet_send_mentions = p_mentions;
	START TRANSACTION;
	INSERT INTO messages (id, channel_id, dm_channel_id, author_id,
	    content, nonce, created_at)
	    SELECT r.id, NULLIF(r.channel_id, 0), NULLIF(r.dm_channel_id, 0),
	    r.author_id, r.content, r.nonce, r.created_at
	    FROM JSON_TABLE(@sohbet_send_rows, '$[*]' COLUMNS (
		id		BIGINT UNSIGNED PATH '$.id',
		channel_id	BIGINT UNSIGNED PATH '$.c',
		dm_channel_id	BIGINT UNSIGNED PATH '$.d',
		author_id	BIGINT UNSIGNED PATH '$.a',
		content		TEXT CHARACTER SET utf8mb4 PATH '$.t',
		nonce		VARCHAR(64) CHARACTER SET utf8mb4
				    COLLATE utf8mb4_bin PATH '$.n',
		created_at	DATETIME(3) PATH '$.at')) AS r;
	IF p_nonces THEN
		INSERT INTO message_nonces (author_id, channel_id, dm_channel_id,
		    nonce, message_id, created_at)
		    SELECT r.author_id, r.channel_id, r.dm_channel_id, r.nonce, r.id,
		    NOW(3)
		    FROM JSON_TABLE(@sohbet_send_rows, '$[*]' COLUMNS (
			id		BIGINT UNSIGNED PATH '$.id',
			channel_id	BIGINT UNSIGNED PATH '$.c',
			dm_channel_id	BIGINT UNSIGNED PATH '$.d',
			author_id	BIGINT UNSIGNED PATH '$.a',
			nonce		VARCHAR(64) CHARACTER SET utf8mb4
					    COLLATE utf8mb4_bin PATH '$.n')) AS r
		    WHERE r.nonce IS NOT NULL;
	END IF;
	CALL message_words_index_many(@sohbet_send_rows);
	IF p_mentions IS NOT NULL THEN
		INSERT INTO message_mentions (message_id, position, kind,
		    target_id, channel_id, author_id)
		    SELECT j.message_id, j.position, j.kind, j.target_id,
		    NULLIF(j.channel_id, 0), j.author_id
		    FROM JSON_TABLE(@sohbet_send_mentions, '$[*]' COLUMNS (
			kind		TINYINT UNSIGNED PATH '$[0]',
			target_id	BIGINT UNSIGNED PATH '$[1]',
			position	SMALLINT UNSIGNED PATH '$[2]',
			message_id	BIGINT UNSIGNED PATH '$[3]',
			channel_id	BIGINT UNSIGNED PATH '$[4]',
			author_id	BIGINT UNSIGNED PATH '$[5]')) AS j;
	END IF;
	INSERT INTO events (seq, type, server_id, channel_id, dm_channel_id,
	    user_id, data)
	    SELECT r.seq, 'message.create', NULLIF(r.server_id, 0),
	    NULLIF(r.channel_id, 0), NULLIF(r.dm_channel_id, 0), NULL, r.data
	    FROM JSON_TABLE(@sohbet_send_rows, '$[*]' COLUMNS (
		seq		BIGINT UNSIGNED PATH '$.s',
		server_id	BIGINT UNSIGNED PATH '$.sv',
		channel_id	BIGINT UNSIGNED PATH '$.sc',
		dm_channel_id	BIGINT UNSIGNED PATH '$.sd',
		data		MEDIUMTEXT CHARACTER SET utf8mb4
				    COLLATE utf8mb4_bin PATH '$.e')) AS r;
	COMMIT;
	SET @sohbet_send_rows = NULL;
	SET @sohbet_send_mentions = NULL;
END //
DELIMITER ;

-- What was written to the old table during the copy: the words of the
-- messages sent since it began, and of those edited or deleted
-- meanwhile, again.
DELETE w FROM message_words w JOIN messages m ON m.id = w.message_id
    WHERE m.deleted OR m.edited_at >= @sohbet_words_started;
INSERT IGNORE INTO message_words (word, in_dm, scope_id, message_id,
    channel_id)
    SELECT w.word, m.dm_channel_id IS NOT NULL,
    COALESCE(c.server_id, m.dm_channel_id), w.message_id, m.channel_id
    FROM message_words_unscoped w JOIN messages m ON m.id = w.message_id
    LEFT JOIN channels c ON c.id = m.channel_id
    WHERE NOT m.deleted AND (w.message_id > @sohbet_words_copied
    OR m.edited_at >= @sohbet_words_started);
DROP TABLE message_words_unscoped;
SET @sohbet_words_copied = NULL;
SET @sohbet_words_started = NULL;
