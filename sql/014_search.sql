-- SPDX-License-Identifier: ISC
-- Message search (API.md, Search): a word index that InnoDB keeps in the
-- same transaction as the message, so that it replicates with Galera like
-- every other row, is searchable the moment the message commits, and
-- follows every edit and deletion.  docs/hacking.md ("Search") says why
-- this and not InnoDB FULLTEXT or Mroonga, with the measurements.
--
-- A word is a run of letters, digits and combining marks (PCRE's \p{L},
-- \p{N}, \p{M}): search_words() is the one definition, used by the
-- triggers below and by search.c to split a query, so that a query's
-- words are always cut as the stored ones were.  Words are compared as
-- the column's collation compares (utf8mb4_unicode_520_ci: case and
-- accents ignored), there are no stopwords and no minimum length, and a
-- word longer than 64 characters is kept (and searched) by its first 64.

DELIMITER //
-- The words of a text as a JSON array of strings, in order ("" when it
-- has none).  Words hold no '"' or '\', so the array needs no escaping.
CREATE FUNCTION IF NOT EXISTS search_words(p_text TEXT CHARACTER SET utf8mb4)
	RETURNS TEXT CHARACTER SET utf8mb4
	DETERMINISTIC
	NO SQL
	SQL SECURITY INVOKER
BEGIN
	RETURN CONCAT('["', REPLACE(TRIM(REGEXP_REPLACE(p_text,
	    '[^\\p{L}\\p{N}\\p{M}]+', ' ')), ' ', '","'), '"]');
END//
DELIMITER ;

-- One row per distinct word of a message that is not deleted.  The
-- primary key lists a word's messages newest last (search.c reads it
-- backwards); message_words_message answers "has this message that
-- word (or a word with that prefix)" for one candidate.
CREATE TABLE IF NOT EXISTS message_words (
	word			VARCHAR(64) NOT NULL,
	message_id		BIGINT UNSIGNED NOT NULL,
	PRIMARY KEY (word, message_id),
	KEY message_words_message (message_id, word),
	CONSTRAINT message_words_message_fk FOREIGN KEY (message_id)
	    REFERENCES messages (id) ON DELETE CASCADE
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_520_ci;

-- Index a message's words: every path that writes a message (the send
-- procedures, an edit, a deletion, the ban sweep) goes through the two
-- triggers below, so the index cannot miss one.  Two words equal under
-- the collation are one row.
DELIMITER //
CREATE PROCEDURE IF NOT EXISTS message_words_index(
	IN p_id			BIGINT UNSIGNED,
	IN p_content		TEXT CHARACTER SET utf8mb4)
	MODIFIES SQL DATA
	SQL SECURITY INVOKER
BEGIN
	INSERT INTO message_words (word, message_id)
	    SELECT DISTINCT LEFT(t.w, 64), p_id
	    FROM JSON_TABLE(search_words(p_content), '$[*]'
	    COLUMNS (w VARCHAR(4000) CHARACTER SET utf8mb4 PATH '$')) t
	    WHERE t.w <> ''
	    ON DUPLICATE KEY UPDATE message_id = message_id;
END//

CREATE TRIGGER IF NOT EXISTS messages_words_insert AFTER INSERT ON messages
FOR EACH ROW
BEGIN
	IF NOT NEW.deleted THEN
		CALL message_words_index(NEW.id, NEW.content);
	END IF;
END//

-- An edit indexes the new text; a deletion (content erased) leaves none.
CREATE TRIGGER IF NOT EXISTS messages_words_update AFTER UPDATE ON messages
FOR EACH ROW
BEGIN
	IF NOT (NEW.content <=> OLD.content) OR NEW.deleted <> OLD.deleted
	THEN
		DELETE FROM message_words WHERE message_id = NEW.id;
		IF NOT NEW.deleted THEN
			CALL message_words_index(NEW.id, NEW.content);
		END IF;
	END IF;
END//
DELIMITER ;

-- The messages already there (about 3 minutes for a million on a 2-core
-- box; see docs/operations.md before upgrading a large database).
-- No DISTINCT here: over every message it would sort all the words in a
-- temporary table; the duplicate key does that work row by row.
INSERT INTO message_words (word, message_id)
    SELECT LEFT(t.w, 64), m.id
    FROM messages m, JSON_TABLE(search_words(m.content), '$[*]'
    COLUMNS (w VARCHAR(4000) CHARACTER SET utf8mb4 PATH '$')) t
    WHERE NOT m.deleted AND t.w <> ''
    ON DUPLICATE KEY UPDATE message_id = message_id;
