-- SPDX-License-Identifier: ISC
-- What the event log may still tell (API.md, Events; issue 16):
--
-- 1. A deleted message's text must not stay readable through the
--    message.create (and message.update) events stored before the
--    delete, nor an edited message's older text through older events.
--    The edit or delete rewrites those events' data in its own
--    transaction (messages.c, events.c).  The message.create event is
--    found forward from the message id by the primary key (its seq is
--    drawn a few numbers after the id); the message.update events are
--    listed in message_updates as the edits write them (pruned with the
--    events).  The sends pay nothing for either.  This migration lists
--    the updates already stored and erases the text of messages deleted
--    or edited before it.
-- 2. A member must not receive server events from before they joined:
--    server_members.joined_seq is the sequencer's number at the join
--    (members.c); a server's events at or below it are not theirs
--    (api-events.c).  Members from before this migration keep 0, so
--    nothing they could read is taken from them.
ALTER TABLE server_members
	ADD COLUMN joined_seq BIGINT UNSIGNED NOT NULL DEFAULT 0;

CREATE TABLE message_updates (
	message_id		BIGINT UNSIGNED NOT NULL,
	seq			BIGINT UNSIGNED NOT NULL,
	PRIMARY KEY (message_id, seq),
	KEY message_updates_seq (seq),
	CONSTRAINT message_updates_message FOREIGN KEY (message_id)
	    REFERENCES messages (id) ON DELETE CASCADE
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_520_ci;

INSERT INTO message_updates (message_id, seq)
	SELECT m.id, e.seq FROM events e JOIN messages m
	ON m.id = CAST(JSON_VALUE(e.data, '$.message.id') AS UNSIGNED)
	WHERE e.type = 'message.update';

UPDATE events e JOIN messages m
	ON m.id = CAST(JSON_VALUE(e.data, '$.message.id') AS UNSIGNED)
	SET e.data = JSON_REPLACE(e.data, '$.message.content', m.content)
	WHERE e.type IN ('message.create', 'message.update')
	AND (m.deleted = 1 OR m.edited_at IS NOT NULL);
