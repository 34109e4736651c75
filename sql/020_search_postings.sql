-- SPDX-License-Identifier: ISC
-- The word index as posting rows (docs/hacking.md, "Search"): one row per
-- word, server or DM, and batch of messages, holding the ids of the
-- batch's messages that have the word, instead of one row per word and
-- message.  A send writes a row per distinct word of its batch (sends
-- are batched under load, sendbatch.c), so the words its messages share
-- are one write; each of a message's ~6 rows in message_words cost
-- InnoDB 4-5 µs whatever its key (docs/benchmarks.md, issue 24).
--
--   word, in_dm, scope_id	as in message_words (017): the word, and a
--				server (0, its id) or a DM (1, its channel)
--   last_id, first_id		the newest and the oldest message id the
--				row holds; a word's rows in a scope lie in
--				last_id order, so a search reads them
--				newest first, and each holds no id above
--				its last_id
--   ids			the messages, newest first, as
--				"id:channel_id,..." (channel_id 0 in a DM)
--
-- Sends do not write them: a send or an edit queues its message in
-- search_queue (one row of its id), and each host's keeper turns the
-- queue into posting rows a chunk of up to 1,000 messages at a time
-- (routines.sql, message_words_drain; keeper.c): the words a chunk's
-- messages share are one row, and the words are cut a chunk at a time.
-- search.c checks the queued messages on their text, so a message is
-- found as soon as it is committed.  Rows are never updated for an edit
-- or a deletion: search.c checks what they find against the messages as
-- they are (not deleted; an edited message's words against its text).
CREATE TABLE message_postings (
	word			VARCHAR(64) NOT NULL,
	in_dm			BOOL NOT NULL,
	scope_id		BIGINT UNSIGNED NOT NULL,
	last_id			BIGINT UNSIGNED NOT NULL,
	first_id		BIGINT UNSIGNED NOT NULL,
	ids			MEDIUMTEXT CHARACTER SET ascii
				    COLLATE ascii_bin NOT NULL,
	PRIMARY KEY (word, in_dm, scope_id, last_id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_520_ci;

CREATE TABLE search_queue (
	message_id		BIGINT UNSIGNED NOT NULL,
	PRIMARY KEY (message_id)
) ENGINE=InnoDB;

-- message_words' rows, converted a chunk of 10,000 messages at a time:
-- one row per word and scope in each chunk.  The writers of routines.sql
-- (which sohbetctl migrate applies right after this file) queue; until
-- then the old ones fail, the table they write being gone (operations.md,
-- Upgrade).
DELIMITER //
CREATE PROCEDURE sohbet_020_postings()
	MODIFIES SQL DATA
	SQL SECURITY INVOKER
BEGIN
	DECLARE v_from BIGINT UNSIGNED DEFAULT 0;
	DECLARE v_to BIGINT UNSIGNED;
	DECLARE v_started DATETIME(3) DEFAULT NOW(3);
	SET SESSION group_concat_max_len = GREATEST(@@group_concat_max_len,
	    16777216);
	chunks: LOOP
		SELECT MAX(id) INTO v_to FROM (SELECT id FROM messages
		    WHERE id > v_from ORDER BY id LIMIT 10000) c;
		IF v_to IS NULL THEN
			LEAVE chunks;
		END IF;
		INSERT INTO message_postings (word, in_dm, scope_id, last_id,
		    first_id, ids)
		    SELECT w.word, w.in_dm, w.scope_id, MAX(w.message_id),
		    MIN(w.message_id), GROUP_CONCAT(w.message_id, ':',
		    IFNULL(w.channel_id, 0) ORDER BY w.message_id DESC
		    SEPARATOR ',')
		    FROM message_words w
		    WHERE w.message_id > v_from AND w.message_id <= v_to
		    GROUP BY w.word, w.in_dm, w.scope_id;
		SET v_from = v_to;
	END LOOP;
	-- What the old writers indexed after its chunk was converted: the
	-- messages sent since, and those edited since the start, queued.
	INSERT IGNORE INTO search_queue (message_id)
	    SELECT id FROM messages WHERE id > v_from
	    OR edited_at >= v_started;
END//
DELIMITER ;

CALL sohbet_020_postings();
DROP PROCEDURE sohbet_020_postings;
DROP TABLE message_words;
