-- SPDX-License-Identifier: ISC
-- The word index of messages (014) without triggers.  On Galera, a
-- brute-force abort that reaches a session while it loads a table's
-- triggers leaves them marked "has an error in its body" in the table
-- cache: every later INSERT or UPDATE of messages on that node failed
-- until the table was flushed (tests/itest_galera found it).  So the
-- index is written by the paths that write a message, in the same
-- transaction: the send procedures below (013's, with the index added),
-- and words.c for a message written statement by statement, an edit, a
-- deletion and sohbetctl seed.

DROP TRIGGER IF EXISTS messages_words_insert;
DROP TRIGGER IF EXISTS messages_words_update;

-- 013's procedures, each indexing the words of what it inserts: the
-- single send through message_words_index(), the batch in one statement
-- over its rows.
DROP PROCEDURE IF EXISTS message_send;
DROP PROCEDURE IF EXISTS message_send_many;

DELIMITER //
CREATE PROCEDURE message_send(
	IN p_id			BIGINT UNSIGNED,
	IN p_channel_id		BIGINT UNSIGNED,
	IN p_dm_channel_id	BIGINT UNSIGNED,
	IN p_author_id		BIGINT UNSIGNED,
	IN p_content		TEXT CHARACTER SET utf8mb4,
	IN p_nonce		VARCHAR(64) CHARACTER SET utf8mb4
				    COLLATE utf8mb4_bin,
	IN p_created_at		DATETIME(3),
	IN p_seq		BIGINT UNSIGNED,
	IN p_type		VARCHAR(32) CHARACTER SET utf8mb4
				    COLLATE utf8mb4_bin,
	IN p_server_id		BIGINT UNSIGNED,
	IN p_scope_channel_id	BIGINT UNSIGNED,
	IN p_scope_dm_id	BIGINT UNSIGNED,
	IN p_user_id		BIGINT UNSIGNED,
	IN p_data		MEDIUMTEXT CHARACTER SET utf8mb4
				    COLLATE utf8mb4_bin,
	IN p_mentions		TEXT CHARACTER SET utf8mb4
				    COLLATE utf8mb4_bin)
	MODIFIES SQL DATA
	SQL SECURITY INVOKER
BEGIN
	DECLARE EXIT HANDLER FOR SQLEXCEPTION
	BEGIN
		ROLLBACK;
		RESIGNAL;
	END;
	START TRANSACTION;
	INSERT INTO messages (id, channel_id, dm_channel_id, author_id,
	    content, nonce, created_at)
	    VALUES (p_id, NULLIF(p_channel_id, 0), NULLIF(p_dm_channel_id, 0),
	    p_author_id, p_content, p_nonce, p_created_at);
	IF p_nonce IS NOT NULL THEN
		INSERT INTO message_nonces (author_id, channel_id,
		    dm_channel_id, nonce, message_id, created_at)
		    VALUES (p_author_id, p_channel_id, p_dm_channel_id,
		    p_nonce, p_id, NOW(3));
	END IF;
	CALL message_words_index(p_id, p_content);
	IF p_mentions IS NOT NULL THEN
		INSERT INTO message_mentions (message_id, position, kind,
		    target_id, channel_id, author_id)
		    SELECT p_id, j.position, j.kind, j.target_id,
		    NULLIF(p_channel_id, 0), p_author_id
		    FROM JSON_TABLE(p_mentions, '$[*]' COLUMNS (
			kind		TINYINT UNSIGNED PATH '$[0]',
			target_id	BIGINT UNSIGNED PATH '$[1]',
			position	SMALLINT UNSIGNED PATH '$[2]')) AS j;
	END IF;
	INSERT INTO events (seq, type, server_id, channel_id, dm_channel_id,
	    user_id, data)
	    VALUES (p_seq, p_type, NULLIF(p_server_id, 0),
	    NULLIF(p_scope_channel_id, 0), NULLIF(p_scope_dm_id, 0),
	    NULLIF(p_user_id, 0), p_data);
	COMMIT;
END //

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
	INSERT INTO message_words (word, message_id)
	    SELECT DISTINCT LEFT(t.w, 64), r.id
	    FROM JSON_TABLE(@sohbet_send_rows, '$[*]' COLUMNS (
		id		BIGINT UNSIGNED PATH '$.id',
		content		TEXT CHARACTER SET utf8mb4 PATH '$.t')) AS r,
	    JSON_TABLE(search_words(r.content), '$[*]' COLUMNS (
		w		VARCHAR(4000) CHARACTER SET utf8mb4 PATH '$')) AS t
	    WHERE t.w <> ''
	    ON DUPLICATE KEY UPDATE message_id = message_id;
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
