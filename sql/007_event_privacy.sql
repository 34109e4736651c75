-- What the event log may still tell (API.md, Events; issue 16):
--
-- 1. A deleted message's text must not stay readable through the
--    message.create (and message.update) events stored before the
--    delete, nor an edited message's older text through older events.
--    The edit or delete rewrites those events' data in its own
--    transaction (messages.c, events.c): they are the events of the
--    message's conversation after its id (an event's seq is drawn after
--    the message id it carries), found by the events_channel and
--    events_dm_channel indexes, so the sends pay nothing for it.  This
--    migration erases the text of messages deleted or edited before it.
-- 2. A member must not receive server events from before they joined:
--    server_members.joined_seq is the sequencer's number at the join
--    (members.c); a server's events at or below it are not theirs
--    (api-events.c).  Members from before this migration keep 0, so
--    nothing they could read is taken from them.
ALTER TABLE server_members
	ADD COLUMN joined_seq BIGINT UNSIGNED NOT NULL DEFAULT 0;

UPDATE events e JOIN messages m
	ON m.id = CAST(JSON_VALUE(e.data, '$.message.id') AS UNSIGNED)
	SET e.data = JSON_REPLACE(e.data, '$.message.content', m.content)
	WHERE e.type IN ('message.create', 'message.update')
	AND (m.deleted = 1 OR m.edited_at IS NOT NULL);
