-- SPDX-License-Identifier: ISC
-- Replies, reactions and pins (API.md, "Replies, reactions and pins").
--
-- A reply names the message it answers (reply_to_id, in the same
-- conversation: messages.c checks it); the preview is read by joining the
-- row, so a deleted or edited original shows as it is now.  Messages are
-- only ever soft-deleted, so no foreign key is needed to keep it valid.
--
-- A pinned message has pin_order set: its place among the pins of its
-- conversation, one above the highest when it was pinned (pins.c, under
-- a lock of the conversation), so the most recently pinned comes first
-- however close two pins were.  A delete clears it with the content, so
-- a deleted message is unpinned by the statement that deletes it.  The
-- pins of a conversation are a range of its index (channel_id or
-- dm_channel_id, pin_order).
--
-- A reaction is one row per message, emoji and user: the primary key
-- makes a second PUT (or two racing ones) add nothing.  emoji_order is
-- the emoji's place on its message, the same in each of its rows: one
-- above the highest when the emoji came (reactions.c, under a lock of the
-- message), kept while anyone still has it.  emoji is the fully qualified
-- form (emoji.c), at most 32 bytes.
ALTER TABLE messages
	ADD COLUMN reply_to_id BIGINT UNSIGNED NULL,
	ADD COLUMN pin_order BIGINT UNSIGNED NULL,
	ADD KEY messages_reply_to (reply_to_id),
	ADD KEY messages_channel_pins (channel_id, pin_order),
	ADD KEY messages_dm_channel_pins (dm_channel_id, pin_order);

CREATE TABLE reactions (
	message_id		BIGINT UNSIGNED NOT NULL,
	emoji			VARBINARY(32) NOT NULL,
	user_id			BIGINT UNSIGNED NOT NULL,
	emoji_order		INT UNSIGNED NOT NULL,
	PRIMARY KEY (message_id, emoji, user_id),
	KEY reactions_user (user_id),
	CONSTRAINT reactions_message_fk FOREIGN KEY (message_id)
	    REFERENCES messages (id) ON DELETE CASCADE,
	CONSTRAINT reactions_user_fk FOREIGN KEY (user_id)
	    REFERENCES users (id) ON DELETE CASCADE
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;

-- A reaction added in one round trip instead of six (START TRANSACTION,
-- the message locked, how it stands, the row, its event, COMMIT), as
-- message_send (005) does for a send: reactions.c calls it when the shm
-- sequencer has drawn the event's seq, and keeps its statement-by-
-- statement path for the db sequencer and for a database restored
-- without its routines.  The statements are those of that path
-- (reactions.c q_lock, q_emoji, q_spread, q_insert; events.c
-- q_event_insert): the emoji is looked up by the primary key, and the
-- message's reactions are counted only when the emoji is new to it.
--
-- A reaction that is there already changes nothing (rolled back, no
-- event).  A message that is not one of the conversation's, or is
-- deleted, and a new emoji past p_max are refused with a SIGNAL that
-- reactions.c answers (404, 400): MYSQL_ERRNO 30404 and 30400.
--
-- SQL SECURITY INVOKER: as for message_send.
DELIMITER //
CREATE PROCEDURE reaction_add(
	IN p_message_id		BIGINT UNSIGNED,
	IN p_channel_id		BIGINT UNSIGNED,
	IN p_dm_channel_id	BIGINT UNSIGNED,
	IN p_emoji		VARBINARY(32),
	IN p_user_id		BIGINT UNSIGNED,
	IN p_max		INT,
	IN p_seq		BIGINT UNSIGNED,
	IN p_server_id		BIGINT UNSIGNED,
	IN p_data		MEDIUMTEXT CHARACTER SET utf8mb4
				    COLLATE utf8mb4_bin)
	MODIFIES SQL DATA
	SQL SECURITY INVOKER
BEGIN
	DECLARE v_found		BIGINT UNSIGNED DEFAULT NULL;
	DECLARE v_distinct	INT DEFAULT 0;
	DECLARE v_mine		INT DEFAULT 0;
	DECLARE v_order		INT UNSIGNED DEFAULT 0;
	DECLARE v_last		INT UNSIGNED DEFAULT 0;
	DECLARE EXIT HANDLER FOR SQLEXCEPTION
	BEGIN
		ROLLBACK;
		RESIGNAL;
	END;
	START TRANSACTION;
	SELECT id INTO v_found FROM messages WHERE id = p_message_id
	    AND channel_id <=> NULLIF(p_channel_id, 0)
	    AND dm_channel_id <=> NULLIF(p_dm_channel_id, 0)
	    AND deleted = 0 FOR UPDATE;
	IF v_found IS NULL THEN
		SIGNAL SQLSTATE '45000' SET MYSQL_ERRNO = 30404,
		    MESSAGE_TEXT = 'no such message';
	END IF;
	SELECT COALESCE((SELECT emoji_order FROM reactions
	    WHERE message_id = p_message_id AND emoji = p_emoji LIMIT 1), 0),
	    EXISTS (SELECT 1 FROM reactions WHERE message_id = p_message_id
	    AND emoji = p_emoji AND user_id = p_user_id)
	    INTO v_order, v_mine;
	IF v_mine THEN
		ROLLBACK;
	ELSE
		IF v_order = 0 THEN
			SELECT COUNT(DISTINCT emoji), COALESCE(MAX(emoji_order), 0)
			    INTO v_distinct, v_last
			    FROM reactions WHERE message_id = p_message_id;
			IF v_distinct >= p_max THEN
				SIGNAL SQLSTATE '45000' SET MYSQL_ERRNO = 30400,
				    MESSAGE_TEXT = 'too many different reactions';
			END IF;
			SET v_order = v_last + 1;
		END IF;
		INSERT INTO reactions (message_id, emoji, user_id, emoji_order)
		    VALUES (p_message_id, p_emoji, p_user_id, v_order);
		INSERT INTO events (seq, type, server_id, channel_id,
		    dm_channel_id, user_id, data)
		    VALUES (p_seq, 'reaction.add', NULLIF(p_server_id, 0),
		    NULLIF(p_channel_id, 0), NULLIF(p_dm_channel_id, 0), NULL,
		    p_data);
		COMMIT;
	END IF;
END //
DELIMITER ;
