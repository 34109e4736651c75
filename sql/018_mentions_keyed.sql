-- SPDX-License-Identifier: ISC
-- Mentions in one B-tree (issue 20: a send with mentions within 10 % of
-- a plain one).  013 wrote each mention into two B-trees, its primary
-- key (message_id, position) and the count key (channel_id, kind,
-- target_id, message_id, author_id), and checked a foreign key to
-- messages; bench/mentioncost measured those rows at +17 µs a message of
-- two mentions over an 18 µs message row, against +9 µs for one B-tree
-- keyed by what is counted (docs/benchmarks.md).  So:
--
-- 1. messages.mentions: what a message's mentions are, for showing it,
--    kept in its own row: a JSON array [[kind, "target_id"], ...] in
--    order of first appearance (kind 1 a user, 2 a role, 0 @everyone /
--    @here with target "0"), or NULL for none.  A history page reads
--    them with the row, no probe of another table.
-- 2. message_mentions: only what is counted, keyed by it (channel, kind,
--    target, message), the author carried so that a count is a range
--    scan of the primary key alone.  Server channels only: nothing
--    counts the mentions of a DM (every message of the other participant
--    mentions you).  The foreign key to channels takes the rows with a
--    channel or its server; nothing else deletes a server channel's
--    messages outright (users are never deleted).  A message deleted or
--    edited loses its rows by their keys, read from its mentions
--    (mentions.c).
--
-- The rows there are copied, the tables swap names, and what the old
-- table got meanwhile is copied after (as 017 did); then every message
-- with mentions gets its column, in one pass over the old table.  13 s
-- for a million mention rows (two on each of 500,000 of 1,000,000
-- messages) on a 2-core box; the table loses its second index
-- (operations.md, Upgrade).  Between the swap and the restart of an
-- older sohbetd, its sends with mentions fail until routines.sql is
-- applied right after this file, and it shows the mentions of messages
-- it reads without their names.

ALTER TABLE messages
	ADD COLUMN mentions VARCHAR(1500) CHARACTER SET ascii
	    COLLATE ascii_bin NULL;

CREATE TABLE message_mentions_keyed (
	channel_id		BIGINT UNSIGNED NOT NULL,
	kind			TINYINT UNSIGNED NOT NULL,
	target_id		BIGINT UNSIGNED NOT NULL,
	message_id		BIGINT UNSIGNED NOT NULL,
	author_id		BIGINT UNSIGNED NOT NULL,
	PRIMARY KEY (channel_id, kind, target_id, message_id),
	CONSTRAINT message_mentions_kinds CHECK (kind IN (0, 1, 2)),
	CONSTRAINT message_mentions_channel_fk FOREIGN KEY (channel_id)
	    REFERENCES channels (id) ON DELETE CASCADE
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_520_ci;

-- The copy reads the table as it was when it began.  A message names a
-- target once (mentions.c keeps the first appearance), so no two rows
-- share a key; IGNORE all the same, against rows written by hand.
SET @sohbet_mentions_copied = (SELECT COALESCE(MAX(id), 0) FROM messages);
SET @sohbet_mentions_started = NOW(3);
INSERT IGNORE INTO message_mentions_keyed (channel_id, kind, target_id,
    message_id, author_id)
    SELECT channel_id, kind, target_id, message_id, author_id
    FROM message_mentions
    WHERE channel_id IS NOT NULL
    AND message_id <= @sohbet_mentions_copied;
RENAME TABLE message_mentions TO message_mentions_unkeyed,
    message_mentions_keyed TO message_mentions;

-- What the old table got during the copy: the rows of the messages sent
-- since it began, and those of messages edited or deleted meanwhile,
-- again.
DELETE mm FROM message_mentions mm JOIN messages m ON m.id = mm.message_id
    WHERE m.deleted OR m.edited_at >= @sohbet_mentions_started;
INSERT IGNORE INTO message_mentions (channel_id, kind, target_id,
    message_id, author_id)
    SELECT o.channel_id, o.kind, o.target_id, o.message_id, o.author_id
    FROM message_mentions_unkeyed o JOIN messages m ON m.id = o.message_id
    WHERE o.channel_id IS NOT NULL AND NOT m.deleted
    AND (o.message_id > @sohbet_mentions_copied
    OR m.edited_at >= @sohbet_mentions_started);

-- Every message's mentions in its row, from the old table as it ended
-- (a deleted message has none there).
UPDATE messages m JOIN (
    SELECT message_id, CONCAT('[', GROUP_CONCAT('[', kind, ',"', target_id,
    '"]' ORDER BY position SEPARATOR ','), ']') AS list
    FROM message_mentions_unkeyed GROUP BY message_id) o
    ON o.message_id = m.id
    SET m.mentions = o.list;

DROP TABLE message_mentions_unkeyed;
SET @sohbet_mentions_copied = NULL;
SET @sohbet_mentions_started = NULL;
