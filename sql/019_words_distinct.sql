-- SPDX-License-Identifier: ISC
-- The writers of the word index (017's) without their DISTINCT, which
-- compared the words as JSON_TABLE's column compares them,
-- utf8mb4_general_ci, and not as the index does (utf8mb4_unicode_520_ci):
-- "ıstanbul" and "İstanbul" are one word to the first and two to the
-- second, so a message holding both got the row of one only and was not
-- found by the other (tests/itest_search, test_sent_words_indexed).  The
-- writers, in routines.sql (which sohbetctl migrate applies after this
-- file), now leave it to the duplicate key, which makes two words one
-- row exactly when the index's collation finds them equal.  Here every
-- message's words are written again, adding the rows that were lost.

-- The rows the DISTINCT lost, written again: every message's words, in
-- transactions of 10,000 messages so that edits and sends wait for one
-- of them at most; a row already there is left as it is.  About 1.5
-- minutes a million messages on a 2-core box (operations.md, Upgrade).
DELIMITER //
CREATE PROCEDURE sohbet_019_words_again()
	MODIFIES SQL DATA
	SQL SECURITY INVOKER
BEGIN
	DECLARE v_from BIGINT UNSIGNED DEFAULT 0;
	DECLARE v_to BIGINT UNSIGNED;
	chunks: LOOP
		SELECT MAX(id) INTO v_to FROM (SELECT id FROM messages
		    WHERE id > v_from ORDER BY id LIMIT 10000) c;
		IF v_to IS NULL THEN
			LEAVE chunks;
		END IF;
		START TRANSACTION;
		INSERT IGNORE INTO message_words (word, in_dm, scope_id,
		    message_id, channel_id)
		    SELECT LEFT(t.w, 64), m.dm_channel_id IS NOT NULL,
		    COALESCE(c.server_id, m.dm_channel_id), m.id, m.channel_id
		    FROM messages m LEFT JOIN channels c ON c.id = m.channel_id,
		    JSON_TABLE(search_words(m.content), '$[*]'
		    COLUMNS (w VARCHAR(4000) CHARACTER SET utf8mb4 PATH '$')) t
		    WHERE m.id > v_from AND m.id <= v_to AND NOT m.deleted
		    AND t.w <> '';
		COMMIT;
		SET v_from = v_to;
	END LOOP;
END//
DELIMITER ;
CALL sohbet_019_words_again();
DROP PROCEDURE sohbet_019_words_again;
