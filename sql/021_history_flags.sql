-- SPDX-License-Identifier: ISC
-- A page of history in one statement when none of its messages has
-- reactions or attachments (issue 27: a page 50 before a random id was
-- three statements, the page, its reactions and its attachments, and
-- MariaDB's CPU was the bottleneck).  Two flags on the message's row,
-- read with the page:
--
-- - reacted: the message has or had reactions.  Set in the transaction
--   of any reaction added to a message without it (reactions.c,
--   reaction_add in routines.sql: the message's row is locked there
--   anyway), never cleared: a message whose reactions were all taken
--   away costs its page the reactions statement, nothing more.  Rows
--   written into reactions by hand need it set by hand too.
-- - attached: the message has attachments, set by the send that gives
--   them (attachments.c); attachments never come later.
--
-- Both columns are added in place (ALGORITHM=INSTANT: no copy of the
-- table, whatever its size), then set for the messages that have
-- reactions or attachments, one pass over each of those tables:
-- operations.md, Upgrade, says how long.  An older sohbetd adds reactions
-- without setting the flag: upgrade every host before starting it again.

ALTER TABLE messages
	ADD COLUMN reacted BOOL NOT NULL DEFAULT 0,
	ADD COLUMN attached BOOL NOT NULL DEFAULT 0,
	ALGORITHM=INSTANT;

UPDATE messages m
	JOIN (SELECT DISTINCT message_id FROM reactions) r
	    ON r.message_id = m.id
	SET m.reacted = 1;

UPDATE messages m
	JOIN (SELECT DISTINCT message_id FROM attachments
	    WHERE message_id IS NOT NULL) a ON a.message_id = m.id
	SET m.attached = 1;
