-- SPDX-License-Identifier: ISC
-- Several messages sent in one round trip and one transaction: a worker
-- that finds more sends waiting than one (sendbatch.c) writes them all
-- with one CALL, instead of one message_send (005) each.  Under load this
-- halves MariaDB's work per message: the procedure's frame, the
-- statements' setup and the commit are paid once per batch, not once per
-- message (docs/benchmarks.md).
--
-- p_rows is a JSON array with one object per message, written by
-- sendbatch.c:
--   id, c, d, a   the message id, channel id, DM channel id, author id
--                 (0 for the conversation kind it is not)
--   t, n, at      content, nonce (null if none), created_at
--   s             the seq of its message.create event
--   sv, sc, sd    the event's scope: server, channel and DM channel ids
--   e             the event's data, {message}, as a JSON text
-- p_nonces is 1 when some row has a nonce (when none has, the nonce
-- statement is skipped).
--
-- The statements read the rows from a user variable, not from p_rows:
-- MariaDB writes the text of each statement of a procedure with every
-- parameter's value pasted in (Item_splocal::append_for_log, even with
-- every log off), so naming p_rows in three statements would copy and
-- escape the whole batch three times.  A user variable is not pasted.
--
-- The statements are those of message_send, one row per message.  Any
-- error (a nonce already taken, a channel deleted meanwhile) rolls the
-- whole batch back and passes the error on; sendbatch.c then sends each
-- message alone, so each gets the answer it would have had.
--
-- SQL SECURITY INVOKER: as for message_send.
DELIMITER //
CREATE PROCEDURE message_send_many(
	IN p_rows		LONGTEXT CHARACTER SET utf8mb4
				    COLLATE utf8mb4_bin,
	IN p_nonces		BOOL)
	MODIFIES SQL DATA
	SQL SECURITY INVOKER
BEGIN
	DECLARE EXIT HANDLER FOR SQLEXCEPTION
	BEGIN
		ROLLBACK;
		SET @sohbet_send_rows = NULL;
		RESIGNAL;
	END;
	SET @sohbet_send_rows = p_rows;
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
END //
DELIMITER ;
