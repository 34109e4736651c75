-- SPDX-License-Identifier: ISC
-- Mentions and read state (API.md, "Mentions and read state"; issue 20).
--
-- 1. message_mentions: the mentions a message resolved to on send or edit
--    (mentions.c), one row each, in order of first appearance: kind 1 a
--    user, 2 a role, 0 @everyone / @here (target 0).  A history page
--    reads them with its messages (one probe of the primary key per
--    message, MESSAGES_SELECT); a mention count is a range scan of
--    message_mentions_count, (channel, kind, target, message) newer than
--    the read position, the author carried so that the scan needs no
--    message row.  A deleted message loses its rows (messages.c).  DM
--    messages keep rows too (channel_id NULL) to be shown; in a DM every
--    message of the other participant mentions you, so nothing counts
--    them here.
-- 2. channel_read_states / dm_read_states: the position a user
--    acknowledged in a conversation, written only by an ack
--    (readstate.c).  A conversation never acknowledged counts as read up
--    to server_members.joined_seq (007): ids come from one sequence, so
--    the number drawn at the join is "the last message before you
--    joined" for every channel of the server, those created later
--    included.  A send writes nothing here: the author's read position
--    is also their newest message of the conversation, found by
--    messages_author, which now has the conversation in it.
-- 3. The conversation indexes carry author_id and deleted, so that an
--    unread count (others' messages that are not deleted, newer than a
--    position, stopping at 100) reads the index alone.
--
-- An upgraded database has no read states: so that members do not find
-- every conversation unread after the upgrade, each member's channels
-- and each DM's participants are given one row at its newest message
-- (one-off rows, written here only; a join writes none).
CREATE TABLE message_mentions (
	message_id		BIGINT UNSIGNED NOT NULL,
	position		SMALLINT UNSIGNED NOT NULL,
	kind			TINYINT UNSIGNED NOT NULL,
	target_id		BIGINT UNSIGNED NOT NULL,
	channel_id		BIGINT UNSIGNED NULL,
	author_id		BIGINT UNSIGNED NOT NULL,
	PRIMARY KEY (message_id, position),
	KEY message_mentions_count (channel_id, kind, target_id, message_id,
	    author_id),
	CONSTRAINT message_mentions_kind CHECK (kind IN (0, 1, 2)),
	CONSTRAINT message_mentions_message_fk FOREIGN KEY (message_id)
	    REFERENCES messages (id) ON DELETE CASCADE
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_520_ci;

CREATE TABLE channel_read_states (
	user_id			BIGINT UNSIGNED NOT NULL,
	channel_id		BIGINT UNSIGNED NOT NULL,
	last_read_id		BIGINT UNSIGNED NOT NULL,
	PRIMARY KEY (user_id, channel_id),
	KEY channel_read_states_channel (channel_id),
	CONSTRAINT channel_read_states_user_fk FOREIGN KEY (user_id)
	    REFERENCES users (id) ON DELETE CASCADE,
	CONSTRAINT channel_read_states_channel_fk FOREIGN KEY (channel_id)
	    REFERENCES channels (id) ON DELETE CASCADE
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_520_ci;

CREATE TABLE dm_read_states (
	user_id			BIGINT UNSIGNED NOT NULL,
	dm_channel_id		BIGINT UNSIGNED NOT NULL,
	last_read_id		BIGINT UNSIGNED NOT NULL,
	PRIMARY KEY (user_id, dm_channel_id),
	KEY dm_read_states_dm_channel (dm_channel_id),
	CONSTRAINT dm_read_states_user_fk FOREIGN KEY (user_id)
	    REFERENCES users (id) ON DELETE CASCADE,
	CONSTRAINT dm_read_states_dm_channel_fk FOREIGN KEY (dm_channel_id)
	    REFERENCES dm_channels (id) ON DELETE CASCADE
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_520_ci;

ALTER TABLE messages
	DROP KEY messages_channel,
	DROP KEY messages_dm_channel,
	DROP KEY messages_author,
	ADD KEY messages_channel (channel_id, id, author_id, deleted),
	ADD KEY messages_dm_channel (dm_channel_id, id, author_id, deleted),
	ADD KEY messages_author (author_id, channel_id, dm_channel_id);

INSERT INTO channel_read_states (user_id, channel_id, last_read_id)
	SELECT sm.user_id, l.channel_id, l.last_id
	FROM (SELECT channel_id, MAX(id) AS last_id FROM messages
	    WHERE channel_id IS NOT NULL GROUP BY channel_id) l
	JOIN channels c ON c.id = l.channel_id
	JOIN server_members sm ON sm.server_id = c.server_id;

INSERT INTO dm_read_states (user_id, dm_channel_id, last_read_id)
	SELECT IF(p.side = 1, d.user1_id, d.user2_id), l.dm_channel_id,
	    l.last_id
	FROM (SELECT dm_channel_id, MAX(id) AS last_id FROM messages
	    WHERE dm_channel_id IS NOT NULL GROUP BY dm_channel_id) l
	JOIN dm_channels d ON d.id = l.dm_channel_id
	JOIN (SELECT 1 AS side UNION ALL SELECT 2) p;

-- The sends of 005 and 006 write a message's mentions in the same round
-- trip.  p_mentions is a JSON array of rows [kind, "target_id", position,
-- "message_id", "channel_id", "author_id"] written by mentions.c (a
-- single send takes the last three from its own parameters), or NULL when
-- no message mentions anyone, and then nothing more is done than before.
-- A batch passes them apart from p_rows, so that their JSON_TABLE reads
-- a short array and not the batch with its events again.
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
