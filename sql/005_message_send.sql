-- SPDX-License-Identifier: ISC
-- A message sent in one round trip instead of four (START TRANSACTION,
-- the row, its event, COMMIT): on a box where MariaDB, nginx and sohbetd
-- share two cores, each round trip is two context switches, and the four
-- of them were most of a send's cost (docs/benchmarks.md).
--
-- messages.c calls this for the common send: the shm sequencer has drawn
-- the message id and the event seq, and the nonce, if any, is new.  It
-- keeps its statement-by-statement path for the rest, which this does not
-- replace: a nonce already taken (the handler below rolls back and passes
-- the duplicate key on, and messages.c asks who holds it) and the db
-- sequencer, whose row lock must be the first statement of the
-- transaction.  The statements are those of that path (messages.c
-- q_insert and q_nonce_insert, events.c q_event_insert).
--
-- SQL SECURITY INVOKER: it runs with the privileges of sohbet's user, and
-- does not depend on the account that ran the migration.
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
	INSERT INTO events (seq, type, server_id, channel_id, dm_channel_id,
	    user_id, data)
	    VALUES (p_seq, p_type, NULLIF(p_server_id, 0),
	    NULLIF(p_scope_channel_id, 0), NULLIF(p_scope_dm_id, 0),
	    NULLIF(p_user_id, 0), p_data);
	COMMIT;
END //
DELIMITER ;
