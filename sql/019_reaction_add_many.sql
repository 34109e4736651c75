-- SPDX-License-Identifier: ISC
-- The reaction PUTs a worker holds for a batch (reactbatch.c), added in
-- one round trip instead of six or seven (START TRANSACTION, the messages
-- locked, each emoji's place, the messages' spread of emoji, the rows,
-- their events, COMMIT), as message_send_many (006, 013) does for sends.
-- reactions.c calls it when the shm sequencer has drawn a seq for each
-- addition, and keeps its statement-by-statement batch for a database
-- restored without its routines.
--
-- p_rows is a JSON array of {m, c, d, e, u, s, sv, data}: the message,
-- its channel or DM (0 for the other), the emoji (fully qualified,
-- reactions.c), the user, the event's seq and server (0: a DM) and the
-- reaction.add's data.  reactions.c orders them by message id, so that
-- the messages are locked in id order and two batches wait for each
-- other instead of deadlocking.  Each addition is judged as reaction_add
-- (011) judges one, after the additions before it in the array: the
-- message is not one of the conversation's or is deleted ('n'), the
-- user has the emoji on it already ('u'), the emoji is new to it past
-- p_max different ones ('t'), or the row and its event are written
-- ('a').  The procedure answers one row: those letters, in the array's
-- order; an addition that is not written leaves its seq unused.
--
-- SQL SECURITY INVOKER: as for message_send.
DELIMITER //
CREATE PROCEDURE reaction_add_many(
	IN p_rows		MEDIUMTEXT CHARACTER SET utf8mb4
				    COLLATE utf8mb4_bin,
	IN p_max		INT)
	MODIFIES SQL DATA
	SQL SECURITY INVOKER
BEGIN
	DECLARE v_done		INT DEFAULT 0;
	DECLARE v_found		INT DEFAULT 0;
	DECLARE v_mine		INT DEFAULT 0;
	DECLARE v_distinct	INT DEFAULT 0;
	DECLARE v_order		INT UNSIGNED DEFAULT 0;
	DECLARE v_last		INT UNSIGNED DEFAULT 0;
	DECLARE v_m, v_c, v_d, v_u, v_s, v_sv	BIGINT UNSIGNED;
	DECLARE v_e		VARBINARY(32);
	DECLARE v_data		MEDIUMTEXT CHARACTER SET utf8mb4
				    COLLATE utf8mb4_bin;
	DECLARE v_results	VARCHAR(255) CHARACTER SET ascii DEFAULT '';
	DECLARE v_rows CURSOR FOR
	    SELECT j.m, j.c, j.d, CAST(j.e AS BINARY), j.u, j.s, j.sv, j.data
	    FROM JSON_TABLE(p_rows, '$[*]' COLUMNS (
		k FOR ORDINALITY,
		m BIGINT UNSIGNED PATH '$.m',
		c BIGINT UNSIGNED PATH '$.c',
		d BIGINT UNSIGNED PATH '$.d',
		e VARCHAR(32) CHARACTER SET utf8mb4 COLLATE utf8mb4_bin
		    PATH '$.e',
		u BIGINT UNSIGNED PATH '$.u',
		s BIGINT UNSIGNED PATH '$.s',
		sv BIGINT UNSIGNED PATH '$.sv',
		data MEDIUMTEXT CHARACTER SET utf8mb4 COLLATE utf8mb4_bin
		    PATH '$.data')) AS j
	    ORDER BY j.k;
	DECLARE CONTINUE HANDLER FOR NOT FOUND SET v_done = 1;
	DECLARE EXIT HANDLER FOR SQLEXCEPTION
	BEGIN
		ROLLBACK;
		RESIGNAL;
	END;
	START TRANSACTION;
	OPEN v_rows;
	each_row: LOOP
		FETCH v_rows INTO v_m, v_c, v_d, v_e, v_u, v_s, v_sv, v_data;
		IF v_done THEN
			LEAVE each_row;
		END IF;
		-- COUNT(*) answers a row when there is none (SELECT INTO
		-- would raise NOT FOUND, which ends the loop).
		SELECT COUNT(*) INTO v_found FROM messages WHERE id = v_m
		    AND channel_id <=> NULLIF(v_c, 0)
		    AND dm_channel_id <=> NULLIF(v_d, 0)
		    AND deleted = 0 FOR UPDATE;
		IF v_found = 0 THEN
			SET v_results = CONCAT(v_results, 'n');
			ITERATE each_row;
		END IF;
		SELECT COALESCE((SELECT emoji_order FROM reactions
		    WHERE message_id = v_m AND emoji = v_e LIMIT 1), 0),
		    EXISTS (SELECT 1 FROM reactions WHERE message_id = v_m
		    AND emoji = v_e AND user_id = v_u)
		    INTO v_order, v_mine;
		IF v_mine THEN
			SET v_results = CONCAT(v_results, 'u');
			ITERATE each_row;
		END IF;
		IF v_order = 0 THEN
			SELECT COUNT(DISTINCT emoji), COALESCE(MAX(emoji_order), 0)
			    INTO v_distinct, v_last
			    FROM reactions WHERE message_id = v_m;
			IF v_distinct >= p_max THEN
				SET v_results = CONCAT(v_results, 't');
				ITERATE each_row;
			END IF;
			SET v_order = v_last + 1;
		END IF;
		INSERT INTO reactions (message_id, emoji, user_id, emoji_order)
		    VALUES (v_m, v_e, v_u, v_order);
		INSERT INTO events (seq, type, server_id, channel_id,
		    dm_channel_id, user_id, data)
		    VALUES (v_s, 'reaction.add', NULLIF(v_sv, 0),
		    NULLIF(v_c, 0), NULLIF(v_d, 0), NULL, v_data);
		SET v_results = CONCAT(v_results, 'a');
	END LOOP;
	CLOSE v_rows;
	COMMIT;
	SELECT v_results;
END //
DELIMITER ;
