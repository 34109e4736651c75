-- SPDX-License-Identifier: ISC
-- The stored routines sohbet calls, as they are now: the one place a
-- routine is changed (docs/hacking.md, "Where a change goes").  The
-- migrator (src/migrate.c) runs this file after the last migration when
-- its text differs from the one applied last (schema_routines holds its
-- SHA-256), when a migration was applied in the same run, or when the
-- database has another number of routines than it left (a dump restored
-- without --routines): so a restart of an up-to-date database re-creates
-- nothing (under Galera each CREATE is a DDL that the whole cluster
-- applies in turn).
--
-- A migration that needs a routine mid-way (to convert its data) keeps a
-- copy of its own, as it was then; this file replaces it afterwards.
-- Each routine is created with CREATE OR REPLACE, one statement: a CALL
-- of another connection meanwhile finds the old definition or the new,
-- never none (DROP then CREATE would leave a moment without it).  A
-- routine no longer used is dropped here with DROP ... IF EXISTS, so
-- that the database holds exactly the routines of this file.
--
-- SQL SECURITY INVOKER everywhere: a routine runs with the privileges of
-- sohbet's user, and does not depend on the account that migrated.

DELIMITER //

-- The words of a text as a JSON array of strings, in order ("" when it
-- has none): runs of letters, digits and combining marks (PCRE's \p{L},
-- \p{N}, \p{M}), the one definition of a word that the index and a
-- search's query are cut by (docs/hacking.md, "Search").  Words hold no
-- '"' or '\', so the array needs no escaping.
CREATE OR REPLACE FUNCTION search_words(p_text TEXT CHARACTER SET utf8mb4)
	RETURNS TEXT CHARACTER SET utf8mb4
	DETERMINISTIC
	NO SQL
	SQL SECURITY INVOKER
BEGIN
	RETURN CONCAT('["', REPLACE(TRIM(REGEXP_REPLACE(p_text,
	    '[^\\p{L}\\p{N}\\p{M}]+', ' ')), ' ', '","'), '"]');
END//

-- The word index (sql/020_search_postings.sql) is written apart from the
-- sends: a send, an edit (words.c) and message_send queue the message in
-- search_queue, one row of its id, and message_words_drain() turns the
-- queue into posting rows a chunk at a time (the keeper of each host
-- calls it, keeper.c).  search.c checks the queued messages on their
-- text, so what is queued is found at once (docs/hacking.md, "Search").

-- Queue one message (an edit, a send written statement by statement;
-- message_send).  Queued already: it stays queued.
CREATE OR REPLACE PROCEDURE message_words_index(
	IN p_id			BIGINT UNSIGNED)
	MODIFIES SQL DATA
	SQL SECURITY INVOKER
BEGIN
	INSERT IGNORE INTO search_queue (message_id) VALUES (p_id);
END//

-- Queue a batch's messages (message_send_many's rows, which it holds in
-- @sohbet_send_rows), apart so that a change of the index replaces this
-- alone.  The rows come in the user variable, not as a parameter: a
-- statement naming a parameter gets its value pasted into its text,
-- escaped (message_send_many says more), which for the whole batch cost
-- sends 1-2 % of MariaDB's time (docs/benchmarks.md, issue 20).
CREATE OR REPLACE PROCEDURE message_words_index_many()
	MODIFIES SQL DATA
	SQL SECURITY INVOKER
BEGIN
	INSERT INTO search_queue (message_id)
	    SELECT r.id FROM JSON_TABLE(@sohbet_send_rows, '$[*]' COLUMNS (
		id		BIGINT UNSIGNED PATH '$.id')) AS r;
END//

-- The posting rows of the messages p_ids names (a JSON array of ids;
-- message_words_drain, and sohbetctl seed's batches through words.c):
-- one row per distinct word and server or DM of them, holding the ids of
-- those that have the word, newest first, keyed by the newest.  The words
-- are grouped as the index's collation compares them (the COLLATE:
-- JSON_TABLE's column compares as utf8mb4_general_ci, 019).  A key there
-- already (a word of an edited message that was the newest of its row)
-- takes the ids in.
CREATE OR REPLACE PROCEDURE message_words_post(
	IN p_ids		LONGTEXT CHARACTER SET ascii)
	MODIFIES SQL DATA
	SQL SECURITY INVOKER
BEGIN
	INSERT INTO message_postings (word, in_dm, scope_id, last_id,
	    first_id, ids)
	    SELECT LEFT(t.w, 64) COLLATE utf8mb4_unicode_520_ci,
	    m.dm_channel_id IS NOT NULL,
	    COALESCE(c.server_id, m.dm_channel_id), MAX(m.id), MIN(m.id),
	    GROUP_CONCAT(m.id, ':', IFNULL(m.channel_id, 0)
	    ORDER BY m.id DESC SEPARATOR ',')
	    FROM JSON_TABLE(p_ids, '$[*]' COLUMNS (
		id	BIGINT UNSIGNED PATH '$')) AS q
	    JOIN messages m ON m.id = q.id
	    LEFT JOIN channels c ON c.id = m.channel_id,
	    JSON_TABLE(search_words(m.content), '$[*]' COLUMNS (
		w	VARCHAR(4000) CHARACTER SET utf8mb4 PATH '$')) AS t
	    WHERE NOT m.deleted AND t.w <> ''
	    GROUP BY LEFT(t.w, 64) COLLATE utf8mb4_unicode_520_ci,
	    m.dm_channel_id IS NOT NULL,
	    COALESCE(c.server_id, m.dm_channel_id)
	    ORDER BY LEFT(t.w, 64) COLLATE utf8mb4_unicode_520_ci,
	    m.dm_channel_id IS NOT NULL,
	    COALESCE(c.server_id, m.dm_channel_id)
	    ON DUPLICATE KEY UPDATE ids = CONCAT(VALUES(ids), ',', ids),
	    first_id = LEAST(first_id, VALUES(first_id));
END//

-- Index the oldest p_limit queued messages (p_n: how many there were),
-- in one transaction: their posting rows (message_words_post).
--
-- The queue's rows are taken with SKIP LOCKED, so that the keepers of
-- several hosts take different ones, and the messages are read as
-- committed (READ COMMITTED): an edit that queues its message while it
-- is taken here waits for this to commit, then queues it again, to be
-- indexed with its new text.  A deleted message leaves the queue with
-- no row.
--
-- The rows taken are deleted one by one, by their key: a statement
-- that deletes several (IN, a join) reads the whole queue when it is
-- short, and so waits for the row an edit holds (message_words_forget)
-- while that edit waits for the posting rows written here: a deadlock.
-- The posting rows are locked in the order of their key, as the forget
-- locks them, so that neither waits for the other holding a row the
-- other wants.
CREATE OR REPLACE PROCEDURE message_words_drain(
	IN p_limit		INT,
	OUT p_n			INT)
	MODIFIES SQL DATA
	SQL SECURITY INVOKER
BEGIN
	DECLARE v_ids		LONGTEXT CHARACTER SET ascii;
	DECLARE v_id		BIGINT UNSIGNED;
	DECLARE v_done		BOOL DEFAULT FALSE;
	DECLARE taken CURSOR FOR SELECT j.id FROM JSON_TABLE(v_ids, '$[*]'
	    COLUMNS (id BIGINT UNSIGNED PATH '$')) AS j;
	DECLARE CONTINUE HANDLER FOR NOT FOUND SET v_done = TRUE;
	DECLARE EXIT HANDLER FOR SQLEXCEPTION
	BEGIN
		ROLLBACK;
		RESIGNAL;
	END;
	SET SESSION group_concat_max_len = GREATEST(@@group_concat_max_len,
	    16777216);
	SET TRANSACTION ISOLATION LEVEL READ COMMITTED;
	START TRANSACTION;
	SELECT CONCAT('[', GROUP_CONCAT(q.message_id), ']'), COUNT(*)
	    INTO v_ids, p_n
	    FROM (SELECT message_id FROM search_queue ORDER BY message_id
	    LIMIT p_limit FOR UPDATE SKIP LOCKED) q;
	IF p_n > 0 THEN
		CALL message_words_post(v_ids);
		OPEN taken;
		FETCH taken INTO v_id;
		WHILE NOT v_done DO
			DELETE FROM search_queue WHERE message_id = v_id;
			FETCH taken INTO v_id;
		END WHILE;
		CLOSE taken;
	END IF;
	COMMIT;
END//

-- Take a message's words out of the index before its text goes (an
-- edit, a deletion; messages.c through words_forget()), so that no
-- posting row keeps the id of a message under a word its text no longer
-- has.  The caller holds the message's row FOR UPDATE.  Its queue row is
-- deleted first: a drain that holds it is waited for, so that the rows it
-- wrote are committed and seen by the UPDATE below (READ COMMITTED, a
-- locking read); an edit queues the message again.  Then its token
-- ("id:channel") leaves every row of each of its words (grouped as the
-- drain groups them) in its server or DM whose bounds enclose it, and the
-- rows left empty go.  A row's last_id and first_id stay as they were:
-- bounds of what it holds, which search.c reads them as.
--
-- The words are taken one by one in the order of the rows' key, as the
-- drain writes its rows (message_words_post), so that an edit and a
-- drain, or two edits, lock the rows they share in the same order and
-- never each wait for the other (a deadlock InnoDB would end by rolling
-- one back).
CREATE OR REPLACE PROCEDURE message_words_forget(
	IN p_id			BIGINT UNSIGNED)
	MODIFIES SQL DATA
	SQL SECURITY INVOKER
BEGIN
	DECLARE v_content	TEXT CHARACTER SET utf8mb4 DEFAULT NULL;
	DECLARE v_in_dm		BOOL;
	DECLARE v_scope		BIGINT UNSIGNED;
	DECLARE v_token		VARCHAR(64) CHARACTER SET ascii
				    COLLATE ascii_bin;
	DECLARE CONTINUE HANDLER FOR NOT FOUND SET v_content = NULL;
	SELECT m.content, m.dm_channel_id IS NOT NULL,
	    COALESCE(c.server_id, m.dm_channel_id),
	    CONCAT(',', m.id, ':', IFNULL(m.channel_id, 0), ',')
	    INTO v_content, v_in_dm, v_scope, v_token
	    FROM messages m LEFT JOIN channels c ON c.id = m.channel_id
	    WHERE m.id = p_id AND NOT m.deleted;
	DELETE FROM search_queue WHERE message_id = p_id;
	IF v_content IS NOT NULL AND v_content <> '' THEN
		CALL message_words_forget_words(p_id, v_content, v_in_dm,
		    v_scope, v_token);
	END IF;
END//

-- message_words_forget's removal of p_token from the rows of each word
-- of p_content in the scope, a word at a time, in the key's order.
CREATE OR REPLACE PROCEDURE message_words_forget_words(
	IN p_id			BIGINT UNSIGNED,
	IN p_content		TEXT CHARACTER SET utf8mb4,
	IN p_in_dm		BOOL,
	IN p_scope		BIGINT UNSIGNED,
	IN p_token		VARCHAR(64) CHARACTER SET ascii
				    COLLATE ascii_bin)
	MODIFIES SQL DATA
	SQL SECURITY INVOKER
BEGIN
	DECLARE v_word		VARCHAR(64) CHARACTER SET utf8mb4
				    COLLATE utf8mb4_unicode_520_ci;
	DECLARE v_done		BOOL DEFAULT FALSE;
	DECLARE words CURSOR FOR SELECT DISTINCT
	    LEFT(t.w, 64) COLLATE utf8mb4_unicode_520_ci AS w
	    FROM JSON_TABLE(search_words(p_content), '$[*]' COLUMNS (
		w	VARCHAR(4000) CHARACTER SET utf8mb4 PATH '$')) AS t
	    WHERE t.w <> '' ORDER BY w;
	DECLARE CONTINUE HANDLER FOR NOT FOUND SET v_done = TRUE;
	OPEN words;
	FETCH words INTO v_word;
	WHILE NOT v_done DO
		UPDATE message_postings
		    SET ids = TRIM(BOTH ',' FROM REGEXP_REPLACE(
			CONCAT(',', ids, ','),
			CONCAT(LEFT(p_token, LENGTH(p_token) - 1), '(?=,)'), ''))
		    WHERE word = v_word AND in_dm = p_in_dm
		    AND scope_id = p_scope AND last_id >= p_id
		    AND first_id <= p_id
		    AND LOCATE(p_token, CONCAT(',', ids, ',')) > 0;
		DELETE FROM message_postings
		    WHERE word = v_word AND in_dm = p_in_dm
		    AND scope_id = p_scope AND last_id >= p_id
		    AND first_id <= p_id AND ids = '';
		FETCH words INTO v_word;
	END WHILE;
	CLOSE words;
END//

-- A message sent in one round trip instead of four (START TRANSACTION,
-- the row, its event, COMMIT; docs/benchmarks.md).  messages.c calls it
-- for the common send: the shm sequencer has drawn the message id and
-- the event seq, and the nonce, if any, is new.  It keeps its statement-
-- by-statement path for the rest: a nonce already taken (the handler
-- rolls back and passes the duplicate key on, and messages.c asks who
-- holds it) and the db sequencer, whose row lock must be the first
-- statement of the transaction.  The statements are those of that path
-- (messages.c q_insert, q_nonce_insert, the mentions; words.c; events.c
-- q_event_insert).  p_mentions: the message's mentions as
-- messages.mentions keeps them, [[kind, "target_id"], ...] (mentions.c),
-- or NULL; a server channel's are also written to message_mentions, to
-- be counted (sql/018), but the author's mention of themselves, which
-- nothing counts (mentions.c, mentions_counted()).
CREATE OR REPLACE PROCEDURE message_send(
	IN p_id			BIGINT UNSIGNED,
	IN p_channel_id		BIGINT UNSIGNED,
	IN p_dm_channel_id	BIGINT UNSIGNED,
	IN p_author_id		BIGINT UNSIGNED,
	IN p_content		TEXT CHARACTER SET utf8mb4,
	IN p_nonce		VARCHAR(64) CHARACTER SET utf8mb4
				    COLLATE utf8mb4_bin,
	IN p_created_at		DATETIME(3),
	IN p_seq		BIGINT UNSIGNED,
	IN p_type		VARCHAR(32) CHARACTER SET utf8mb4
				    COLLATE utf8mb4_bin,
	IN p_server_id		BIGINT UNSIGNED,
	IN p_scope_channel_id	BIGINT UNSIGNED,
	IN p_scope_dm_id	BIGINT UNSIGNED,
	IN p_user_id		BIGINT UNSIGNED,
	IN p_data		MEDIUMTEXT CHARACTER SET utf8mb4
				    COLLATE utf8mb4_bin,
	IN p_mentions		VARCHAR(1500) CHARACTER SET ascii
				    COLLATE ascii_bin)
	MODIFIES SQL DATA
	SQL SECURITY INVOKER
BEGIN
	DECLARE EXIT HANDLER FOR SQLEXCEPTION
	BEGIN
		ROLLBACK;
		RESIGNAL;
	END;
	START TRANSACTION;
	INSERT INTO messages (id, channel_id, dm_channel_id, author_id,
	    content, nonce, created_at, mentions)
	    VALUES (p_id, NULLIF(p_channel_id, 0), NULLIF(p_dm_channel_id, 0),
	    p_author_id, p_content, p_nonce, p_created_at, p_mentions);
	IF p_nonce IS NOT NULL THEN
		INSERT INTO message_nonces (author_id, channel_id,
		    dm_channel_id, nonce, message_id, created_at)
		    VALUES (p_author_id, p_channel_id, p_dm_channel_id,
		    p_nonce, p_id, NOW(3));
	END IF;
	CALL message_words_index(p_id);
	IF p_mentions IS NOT NULL AND p_channel_id <> 0 THEN
		INSERT INTO message_mentions (channel_id, kind, target_id,
		    message_id, author_id)
		    SELECT p_channel_id, j.kind, j.target_id, p_id,
		    p_author_id
		    FROM JSON_TABLE(p_mentions, '$[*]' COLUMNS (
			kind		TINYINT UNSIGNED PATH '$[0]',
			target_id	BIGINT UNSIGNED PATH '$[1]')) AS j
		    WHERE NOT (j.kind = 1 AND j.target_id = p_author_id);
	END IF;
	INSERT INTO events (seq, type, server_id, channel_id, dm_channel_id,
	    user_id, data)
	    VALUES (p_seq, p_type, NULLIF(p_server_id, 0),
	    NULLIF(p_scope_channel_id, 0), NULLIF(p_scope_dm_id, 0),
	    NULLIF(p_user_id, 0), p_data);
	COMMIT;
END//

-- Several messages sent in one round trip and one transaction: a worker
-- that finds more sends waiting than one (sendbatch.c) writes them all
-- with one CALL.  The procedure's frame, the statements' setup and the
-- commit are paid once per batch, not once per message.
--
-- p_rows is a JSON array with one object per message, written by
-- sendbatch.c:
--   id, c, d, a   the message id, channel id, DM channel id, author id
--                 (0 for the conversation kind it is not)
--   t, n, at      content, nonce (null if none), created_at
--   m             its mentions as messages.mentions keeps them (a JSON
--                 text in a string), or null
-- p_nonces is 1 when some row has a nonce (when none has, the nonce
-- statement is skipped).  p_mentions: the rows of message_mentions, the
-- mentions of the batch's server channel messages that are counted
-- (mentions.c, mentions_gen_rows()), as a JSON array of
-- [kind, "target_id", "message_id", "channel_id", "author_id"], or NULL
-- when there are none.  p_events: the message.create events, a JSON
-- array with one object per message, in the order of p_rows:
--   s             the seq of its event
--   sv, sc, sd    the event's scope: server, channel and DM channel ids
--   e             the event's data, {message}, as a JSON text
--
-- The events are an array apart because they are most of a batch's
-- bytes (each message again, escaped as a string, with its mentions'
-- names), and JSON_TABLE reads every byte of an array each time a
-- statement reads it: in p_rows they were read by the messages' INSERT
-- and message_words_index_many too, which need none of them.  Apart,
-- MariaDB spent 4-9 µs less a message, the more the longer the events
-- (docs/benchmarks.md, issue 20: a send's mentions lengthen its event).
--
-- The statements read the rows from user variables, not from the
-- parameters: MariaDB writes the text of each statement of a procedure
-- with every parameter's value pasted in (Item_splocal::append_for_log,
-- even with every log off), so naming p_rows in three statements would
-- copy and escape the whole batch three times.  A user variable is not
-- pasted; a procedure called here reads the variable too
-- (message_words_index_many), since handing it on as a parameter would
-- paste it there.  The SETs that fill them paste each parameter once.
--
-- Any error (a nonce already taken, a channel deleted meanwhile) rolls
-- the whole batch back and passes the error on; sendbatch.c then sends
-- each message alone, so each gets the answer it would have had.
CREATE OR REPLACE PROCEDURE message_send_many(
	IN p_rows		LONGTEXT CHARACTER SET utf8mb4
				    COLLATE utf8mb4_bin,
	IN p_nonces		BOOL,
	IN p_mentions		LONGTEXT CHARACTER SET utf8mb4
				    COLLATE utf8mb4_bin,
	IN p_events		LONGTEXT CHARACTER SET utf8mb4
				    COLLATE utf8mb4_bin)
	MODIFIES SQL DATA
	SQL SECURITY INVOKER
BEGIN
	DECLARE EXIT HANDLER FOR SQLEXCEPTION
	BEGIN
		ROLLBACK;
		SET @sohbet_send_rows = NULL;
		SET @sohbet_send_mentions = NULL;
		SET @sohbet_send_events = NULL;
		RESIGNAL;
	END;
	SET @sohbet_send_rows = p_rows;
	SET @sohbet_send_mentions = p_mentions;
	SET @sohbet_send_events = p_events;
	START TRANSACTION;
	INSERT INTO messages (id, channel_id, dm_channel_id, author_id,
	    content, nonce, created_at, mentions)
	    SELECT r.id, NULLIF(r.channel_id, 0), NULLIF(r.dm_channel_id, 0),
	    r.author_id, r.content, r.nonce, r.created_at, r.mentions
	    FROM JSON_TABLE(@sohbet_send_rows, '$[*]' COLUMNS (
		id		BIGINT UNSIGNED PATH '$.id',
		channel_id	BIGINT UNSIGNED PATH '$.c',
		dm_channel_id	BIGINT UNSIGNED PATH '$.d',
		author_id	BIGINT UNSIGNED PATH '$.a',
		content		TEXT CHARACTER SET utf8mb4 PATH '$.t',
		nonce		VARCHAR(64) CHARACTER SET utf8mb4
				    COLLATE utf8mb4_bin PATH '$.n',
		created_at	DATETIME(3) PATH '$.at',
		mentions	VARCHAR(1500) CHARACTER SET ascii
				    COLLATE ascii_bin PATH '$.m')) AS r;
	IF p_nonces THEN
		INSERT INTO message_nonces (author_id, channel_id, dm_channel_id,
		    nonce, message_id, created_at)
		    SELECT r.author_id, r.channel_id, r.dm_channel_id, r.nonce, r.id,
		    NOW(3)
		    FROM JSON_TABLE(@sohbet_send_rows, '$[*]' COLUMNS (
			id		BIGINT UNSIGNED PATH '$.id',
			channel_id	BIGINT UNSIGNED PATH '$.c',
			dm_channel_id	BIGINT UNSIGNED PATH '$.d',
			author_id	BIGINT UNSIGNED PATH '$.a',
			nonce		VARCHAR(64) CHARACTER SET utf8mb4
					    COLLATE utf8mb4_bin PATH '$.n')) AS r
		    WHERE r.nonce IS NOT NULL;
	END IF;
	CALL message_words_index_many();
	IF p_mentions IS NOT NULL THEN
		INSERT INTO message_mentions (channel_id, kind, target_id,
		    message_id, author_id)
		    SELECT j.channel_id, j.kind, j.target_id, j.message_id,
		    j.author_id
		    FROM JSON_TABLE(@sohbet_send_mentions, '$[*]' COLUMNS (
			kind		TINYINT UNSIGNED PATH '$[0]',
			target_id	BIGINT UNSIGNED PATH '$[1]',
			message_id	BIGINT UNSIGNED PATH '$[2]',
			channel_id	BIGINT UNSIGNED PATH '$[3]',
			author_id	BIGINT UNSIGNED PATH '$[4]')) AS j;
	END IF;
	INSERT INTO events (seq, type, server_id, channel_id, dm_channel_id,
	    user_id, data)
	    SELECT r.seq, 'message.create', NULLIF(r.server_id, 0),
	    NULLIF(r.channel_id, 0), NULLIF(r.dm_channel_id, 0), NULL, r.data
	    FROM JSON_TABLE(@sohbet_send_events, '$[*]' COLUMNS (
		seq		BIGINT UNSIGNED PATH '$.s',
		server_id	BIGINT UNSIGNED PATH '$.sv',
		channel_id	BIGINT UNSIGNED PATH '$.sc',
		dm_channel_id	BIGINT UNSIGNED PATH '$.sd',
		data		MEDIUMTEXT CHARACTER SET utf8mb4
				    COLLATE utf8mb4_bin PATH '$.e')) AS r;
	COMMIT;
	SET @sohbet_send_rows = NULL;
	SET @sohbet_send_mentions = NULL;
	SET @sohbet_send_events = NULL;
END//

-- A reaction added in one round trip instead of six (START TRANSACTION,
-- the message locked, how it stands, the row, its event, COMMIT):
-- reactions.c calls it when the shm sequencer has drawn the event's seq,
-- and keeps its statement-by-statement path for the db sequencer and for
-- a database restored without its routines.  The statements are those
-- of that path (reactions.c q_lock, q_emoji, q_spread, q_insert;
-- events.c q_event_insert): the emoji is looked up by the primary key,
-- and the message's reactions are counted only when the emoji is new to
-- it.
--
-- A reaction that is there already changes nothing (rolled back, no
-- event).  A message that is not one of the conversation's, or is
-- deleted, and a new emoji past p_max are refused with a SIGNAL that
-- reactions.c answers (404, 400): MYSQL_ERRNO 30404 and 30400.
CREATE OR REPLACE PROCEDURE reaction_add(
	IN p_message_id		BIGINT UNSIGNED,
	IN p_channel_id		BIGINT UNSIGNED,
	IN p_dm_channel_id	BIGINT UNSIGNED,
	IN p_emoji		VARBINARY(32),
	IN p_user_id		BIGINT UNSIGNED,
	IN p_max		INT,
	IN p_seq		BIGINT UNSIGNED,
	IN p_server_id		BIGINT UNSIGNED,
	IN p_data		MEDIUMTEXT CHARACTER SET utf8mb4
				    COLLATE utf8mb4_bin)
	MODIFIES SQL DATA
	SQL SECURITY INVOKER
BEGIN
	DECLARE v_found		BIGINT UNSIGNED DEFAULT NULL;
	DECLARE v_reacted	BOOL DEFAULT 0;
	DECLARE v_distinct	INT DEFAULT 0;
	DECLARE v_mine		INT DEFAULT 0;
	DECLARE v_order		INT UNSIGNED DEFAULT 0;
	DECLARE v_last		INT UNSIGNED DEFAULT 0;
	DECLARE EXIT HANDLER FOR SQLEXCEPTION
	BEGIN
		ROLLBACK;
		RESIGNAL;
	END;
	START TRANSACTION;
	SELECT id, reacted INTO v_found, v_reacted FROM messages
	    WHERE id = p_message_id
	    AND channel_id <=> NULLIF(p_channel_id, 0)
	    AND dm_channel_id <=> NULLIF(p_dm_channel_id, 0)
	    AND deleted = 0 FOR UPDATE;
	IF v_found IS NULL THEN
		SIGNAL SQLSTATE '45000' SET MYSQL_ERRNO = 30404,
		    MESSAGE_TEXT = 'no such message';
	END IF;
	SELECT COALESCE((SELECT emoji_order FROM reactions
	    WHERE message_id = p_message_id AND emoji = p_emoji LIMIT 1), 0),
	    EXISTS (SELECT 1 FROM reactions WHERE message_id = p_message_id
	    AND emoji = p_emoji AND user_id = p_user_id)
	    INTO v_order, v_mine;
	IF v_mine THEN
		ROLLBACK;
	ELSE
		IF v_order = 0 THEN
			SELECT COUNT(DISTINCT emoji), COALESCE(MAX(emoji_order), 0)
			    INTO v_distinct, v_last
			    FROM reactions WHERE message_id = p_message_id;
			IF v_distinct >= p_max THEN
				SIGNAL SQLSTATE '45000' SET MYSQL_ERRNO = 30400,
				    MESSAGE_TEXT = 'too many different reactions';
			END IF;
			SET v_order = v_last + 1;
		END IF;
		-- A reaction on a message without the flag sets it (021).
		IF NOT v_reacted THEN
			UPDATE messages SET reacted = 1 WHERE id = p_message_id;
		END IF;
		INSERT INTO reactions (message_id, emoji, user_id, emoji_order)
		    VALUES (p_message_id, p_emoji, p_user_id, v_order);
		INSERT INTO events (seq, type, server_id, channel_id,
		    dm_channel_id, user_id, data)
		    VALUES (p_seq, 'reaction.add', NULLIF(p_server_id, 0),
		    NULLIF(p_channel_id, 0), NULLIF(p_dm_channel_id, 0), NULL,
		    p_data);
		COMMIT;
	END IF;
END//

DELIMITER ;
