-- Replies, reactions and pins (API.md, "Replies, reactions and pins").
--
-- A reply names the message it answers (reply_to_id, in the same
-- conversation: messages.c checks it); the preview is read by joining the
-- row, so a deleted or edited original shows as it is now.  Messages are
-- only ever soft-deleted, so no foreign key is needed to keep it valid.
--
-- A pinned message has pinned_at set (most recently pinned first); a
-- delete clears it with the content, so a deleted message is unpinned by
-- the statement that deletes it.  The pins of a conversation are a range
-- of its index (channel_id or dm_channel_id, pinned_at).
--
-- A reaction is one row per message, emoji and user: the primary key
-- makes a second PUT (or two racing ones) add nothing.  id orders the
-- emoji of a message by their first reaction.  emoji is the fully
-- qualified form (emoji.c), at most 32 bytes.
ALTER TABLE messages
	ADD COLUMN reply_to_id BIGINT UNSIGNED NULL,
	ADD COLUMN pinned_at DATETIME(3) NULL,
	ADD KEY messages_reply_to (reply_to_id),
	ADD KEY messages_channel_pins (channel_id, pinned_at),
	ADD KEY messages_dm_channel_pins (dm_channel_id, pinned_at);

CREATE TABLE reactions (
	message_id		BIGINT UNSIGNED NOT NULL,
	emoji			VARBINARY(32) NOT NULL,
	user_id			BIGINT UNSIGNED NOT NULL,
	id			BIGINT UNSIGNED NOT NULL AUTO_INCREMENT,
	PRIMARY KEY (message_id, emoji, user_id),
	UNIQUE KEY reactions_order (id),
	KEY reactions_user (user_id),
	CONSTRAINT reactions_message_fk FOREIGN KEY (message_id)
	    REFERENCES messages (id) ON DELETE CASCADE,
	CONSTRAINT reactions_user_fk FOREIGN KEY (user_id)
	    REFERENCES users (id) ON DELETE CASCADE
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;
