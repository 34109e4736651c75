-- What the event log may still tell (API.md, Events; issue 16):
--
-- 1. A deleted message's text must not stay readable through the
--    message.create (and message.update) events stored before the
--    delete, nor an edited message's older text through older events.
--    events.message_id names the message a message.create or
--    message.update event carries, so that the edit or delete can rewrite
--    those events' data in its own transaction (messages.c).  It is
--    computed from the data, not written by the inserts: the sends
--    (message_send, message_send_many and the statement path) stay as
--    they are.
-- 2. A member must not receive server events from before they joined:
--    server_members.joined_seq is the sequencer's number at the join
--    (servers.c); a server's events at or below it are not theirs
--    (api-events.c).  Members from before this migration keep 0, so
--    nothing they could read is taken from them.
ALTER TABLE events
	ADD COLUMN message_id BIGINT UNSIGNED AS (CASE WHEN type IN
	    ('message.create', 'message.update') THEN
	    CAST(JSON_VALUE(data, '$.message.id') AS UNSIGNED) END) VIRTUAL,
	ADD KEY events_message (message_id);

ALTER TABLE server_members
	ADD COLUMN joined_seq BIGINT UNSIGNED NOT NULL DEFAULT 0;

-- The text of messages deleted or edited before this migration, erased
-- or brought up to date in the events that still hold it.
UPDATE events e JOIN messages m ON m.id = e.message_id
	SET e.data = JSON_REPLACE(e.data, '$.message.content', m.content)
	WHERE m.deleted = 1 OR m.edited_at IS NOT NULL;
