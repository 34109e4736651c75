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
