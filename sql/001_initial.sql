-- SPDX-License-Identifier: ISC
-- 001_initial.sql: the whole schema of sohbet 1.
--
-- Applied by `sohbetctl migrate`, which splits this file into statements at
-- each line ending in ';' and skips lines starting with '--': keep
-- statements free of ';' at line ends inside them, and of procedures and
-- triggers.  schema_version is created by migrate.c itself.
--
-- InnoDB and utf8mb4 throughout.  Text that must match ignoring case
-- (usernames, emails) uses utf8mb4_unicode_520_ci, the table default; it
-- exists on MySQL 8 and MariaDB 10.11 alike (utf8mb4_0900_ai_ci does not
-- exist on MariaDB 10.11).  Names stored exactly as sent, codes, nonces and
-- JSON use utf8mb4_bin.  Ids are BIGINT UNSIGNED.  Times are DATETIME(3)
-- in UTC: every connection runs with time_zone '+00:00' (db.c), which is
-- what the CURRENT_TIMESTAMP(3) defaults rely on.  updated_at is set by the
-- application, never ON UPDATE, so bookkeeping columns (failed_logins,
-- token_generation) do not show as profile changes.  Every table has a
-- primary key (Galera needs one).

CREATE TABLE users (
	id			BIGINT UNSIGNED NOT NULL AUTO_INCREMENT,
	username		VARCHAR(32) NOT NULL,
	email			VARCHAR(254) NOT NULL,
	password_hash		VARCHAR(255) COLLATE utf8mb4_bin NOT NULL,
	-- Bumped by logout-all and password changes; access tokens carry
	-- it and fail once it moved on.
	token_generation	INT UNSIGNED NOT NULL DEFAULT 0,
	failed_logins		INT UNSIGNED NOT NULL DEFAULT 0,
	failed_login_window	DATETIME(3) NULL,
	created_at		DATETIME(3) NOT NULL
				    DEFAULT CURRENT_TIMESTAMP(3),
	updated_at		DATETIME(3) NOT NULL
				    DEFAULT CURRENT_TIMESTAMP(3),
	PRIMARY KEY (id),
	UNIQUE KEY users_username (username),
	UNIQUE KEY users_email (email)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_520_ci;

-- Refresh tokens, stored as the SHA-256 of the token.  family_id is the
-- id of the first token of the login (that row has family_id = id: insert
-- it, then set family_id from the insert id in the same transaction); a
-- rotated token inherits it, so reuse revokes the whole chain.
CREATE TABLE refresh_tokens (
	id			BIGINT UNSIGNED NOT NULL AUTO_INCREMENT,
	user_id			BIGINT UNSIGNED NOT NULL,
	token			BINARY(32) NOT NULL,
	family_id		BIGINT UNSIGNED NOT NULL,
	consumed_at		DATETIME(3) NULL,
	revoked_at		DATETIME(3) NULL,
	expires_at		DATETIME(3) NOT NULL,
	created_at		DATETIME(3) NOT NULL
				    DEFAULT CURRENT_TIMESTAMP(3),
	PRIMARY KEY (id),
	UNIQUE KEY refresh_tokens_token (token),
	KEY refresh_tokens_user (user_id),
	KEY refresh_tokens_family (family_id),
	KEY refresh_tokens_expires (expires_at),
	CONSTRAINT refresh_tokens_user_fk FOREIGN KEY (user_id)
	    REFERENCES users (id) ON DELETE CASCADE
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_520_ci;

CREATE TABLE servers (
	id			BIGINT UNSIGNED NOT NULL AUTO_INCREMENT,
	name			VARCHAR(100) COLLATE utf8mb4_bin NOT NULL,
	owner_id		BIGINT UNSIGNED NOT NULL,
	created_at		DATETIME(3) NOT NULL
				    DEFAULT CURRENT_TIMESTAMP(3),
	PRIMARY KEY (id),
	KEY servers_owner (owner_id),
	CONSTRAINT servers_owner_fk FOREIGN KEY (owner_id)
	    REFERENCES users (id) ON DELETE CASCADE
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_520_ci;

CREATE TABLE server_members (
	server_id		BIGINT UNSIGNED NOT NULL,
	user_id			BIGINT UNSIGNED NOT NULL,
	nickname		VARCHAR(32) COLLATE utf8mb4_bin NULL,
	joined_at		DATETIME(3) NOT NULL
				    DEFAULT CURRENT_TIMESTAMP(3),
	PRIMARY KEY (server_id, user_id),
	KEY server_members_user (user_id),
	CONSTRAINT server_members_server_fk FOREIGN KEY (server_id)
	    REFERENCES servers (id) ON DELETE CASCADE,
	CONSTRAINT server_members_user_fk FOREIGN KEY (user_id)
	    REFERENCES users (id) ON DELETE CASCADE
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_520_ci;

-- Roles.  permissions is a JSON array of permission names (MariaDB's JSON
-- is LONGTEXT with a JSON_VALID check).  default_for is the server id for
-- the server's default role (@everyone) and NULL for every other role, so
-- the unique key allows one default role per server.  The unique key on
-- (id, server_id) lets server_member_roles require that a role belongs to
-- the server of the membership it is given in.
CREATE TABLE roles (
	id			BIGINT UNSIGNED NOT NULL AUTO_INCREMENT,
	server_id		BIGINT UNSIGNED NOT NULL,
	name			VARCHAR(100) COLLATE utf8mb4_bin NOT NULL,
	permissions		JSON NOT NULL,
	position		INT NOT NULL DEFAULT 0,
	is_default		BOOL NOT NULL DEFAULT 0,
	default_for		BIGINT UNSIGNED AS
				    (IF(is_default, server_id, NULL)) STORED,
	created_at		DATETIME(3) NOT NULL
				    DEFAULT CURRENT_TIMESTAMP(3),
	PRIMARY KEY (id),
	UNIQUE KEY roles_id_server (id, server_id),
	UNIQUE KEY roles_default (default_for),
	KEY roles_server_position (server_id, position),
	CONSTRAINT roles_permissions_array
	    CHECK (JSON_TYPE(permissions) = 'ARRAY'),
	CONSTRAINT roles_server_fk FOREIGN KEY (server_id)
	    REFERENCES servers (id) ON DELETE CASCADE
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_520_ci;

CREATE TABLE server_member_roles (
	server_id		BIGINT UNSIGNED NOT NULL,
	user_id			BIGINT UNSIGNED NOT NULL,
	role_id			BIGINT UNSIGNED NOT NULL,
	PRIMARY KEY (server_id, user_id, role_id),
	KEY server_member_roles_role (role_id, server_id),
	CONSTRAINT server_member_roles_member_fk
	    FOREIGN KEY (server_id, user_id)
	    REFERENCES server_members (server_id, user_id) ON DELETE CASCADE,
	CONSTRAINT server_member_roles_role_fk FOREIGN KEY (role_id, server_id)
	    REFERENCES roles (id, server_id) ON DELETE CASCADE
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_520_ci;

CREATE TABLE channels (
	id			BIGINT UNSIGNED NOT NULL AUTO_INCREMENT,
	server_id		BIGINT UNSIGNED NOT NULL,
	name			VARCHAR(100) COLLATE utf8mb4_bin NOT NULL,
	created_at		DATETIME(3) NOT NULL
				    DEFAULT CURRENT_TIMESTAMP(3),
	PRIMARY KEY (id),
	KEY channels_server (server_id, id),
	CONSTRAINT channels_server_fk FOREIGN KEY (server_id)
	    REFERENCES servers (id) ON DELETE CASCADE
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_520_ci;

-- One DM channel per pair of users, the smaller id first.
CREATE TABLE dm_channels (
	id			BIGINT UNSIGNED NOT NULL AUTO_INCREMENT,
	user1_id		BIGINT UNSIGNED NOT NULL,
	user2_id		BIGINT UNSIGNED NOT NULL,
	created_at		DATETIME(3) NOT NULL
				    DEFAULT CURRENT_TIMESTAMP(3),
	PRIMARY KEY (id),
	UNIQUE KEY dm_channels_pair (user1_id, user2_id),
	KEY dm_channels_user2 (user2_id),
	CONSTRAINT dm_channels_order CHECK (user1_id < user2_id),
	CONSTRAINT dm_channels_user1_fk FOREIGN KEY (user1_id)
	    REFERENCES users (id) ON DELETE CASCADE,
	CONSTRAINT dm_channels_user2_fk FOREIGN KEY (user2_id)
	    REFERENCES users (id) ON DELETE CASCADE
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_520_ci;

-- Messages.  id is drawn from the event sequencer and inserted explicitly
-- (no AUTO_INCREMENT), so ids become visible in commit order.  History is
-- a range scan of (channel_id, id) or (dm_channel_id, id).  A deleted
-- message keeps its row with deleted = 1 and content ''.  nonce is kept
-- here only to be returned; deduplication uses message_nonces below.
CREATE TABLE messages (
	id			BIGINT UNSIGNED NOT NULL,
	channel_id		BIGINT UNSIGNED NULL,
	dm_channel_id		BIGINT UNSIGNED NULL,
	author_id		BIGINT UNSIGNED NOT NULL,
	content			TEXT NOT NULL,
	nonce			VARCHAR(64) COLLATE utf8mb4_bin NULL,
	deleted			BOOL NOT NULL DEFAULT 0,
	created_at		DATETIME(3) NOT NULL
				    DEFAULT CURRENT_TIMESTAMP(3),
	edited_at		DATETIME(3) NULL,
	PRIMARY KEY (id),
	KEY messages_channel (channel_id, id),
	KEY messages_dm_channel (dm_channel_id, id),
	KEY messages_author (author_id),
	CONSTRAINT messages_one_conversation
	    CHECK ((channel_id IS NULL) <> (dm_channel_id IS NULL)),
	CONSTRAINT messages_content_length CHECK (CHAR_LENGTH(content) <= 4000),
	CONSTRAINT messages_channel_fk FOREIGN KEY (channel_id)
	    REFERENCES channels (id) ON DELETE CASCADE,
	CONSTRAINT messages_dm_channel_fk FOREIGN KEY (dm_channel_id)
	    REFERENCES dm_channels (id) ON DELETE CASCADE,
	CONSTRAINT messages_author_fk FOREIGN KEY (author_id)
	    REFERENCES users (id) ON DELETE CASCADE
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_520_ci;

-- Nonce deduplication ("a second send with the same author, conversation
-- and nonce within 10 minutes returns the first message").
--
-- A UNIQUE key on messages cannot do it: channel_id or dm_channel_id is
-- NULL in every row and NULLs never collide in a unique key; a key there
-- would also forbid a nonce for ever rather than for 10 minutes, and cost
-- every message an index entry.  Instead a send with a nonce inserts one
-- row here, in the transaction that inserts the message.  The conversation
-- is (channel_id, dm_channel_id) with 0 for the kind it is not (ids start
-- at 1), so the primary key has no NULLs and is the race arbiter:
--   1. DELETE the row for (author, conversation, nonce) if it is older
--      than 10 minutes (an expired nonce may be used again);
--   2. INSERT the message, then INSERT its row here;
--   3. on ER_DUP_ENTRY (1062) roll back and answer 200 with the message
--      named by the existing row.  A racing second send blocks on the
--      first one's uncommitted key and gets 1062 once that commits (or
--      succeeds if it rolled back), so exactly one message is posted.
-- Rows older than 10 minutes are useless: the retention job deletes them
-- by created_at.  Deleting a message (channel, DM, user) cascades here.
CREATE TABLE message_nonces (
	author_id		BIGINT UNSIGNED NOT NULL,
	channel_id		BIGINT UNSIGNED NOT NULL DEFAULT 0,
	dm_channel_id		BIGINT UNSIGNED NOT NULL DEFAULT 0,
	nonce			VARCHAR(64) COLLATE utf8mb4_bin NOT NULL,
	message_id		BIGINT UNSIGNED NOT NULL,
	created_at		DATETIME(3) NOT NULL
				    DEFAULT CURRENT_TIMESTAMP(3),
	PRIMARY KEY (author_id, channel_id, dm_channel_id, nonce),
	KEY message_nonces_message (message_id),
	KEY message_nonces_created (created_at),
	CONSTRAINT message_nonces_one_conversation
	    CHECK ((channel_id = 0) <> (dm_channel_id = 0)),
	CONSTRAINT message_nonces_message_fk FOREIGN KEY (message_id)
	    REFERENCES messages (id) ON DELETE CASCADE
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_520_ci;

-- Invites.  max_uses 0 is unlimited; expires_at NULL never expires.  A
-- join is one UPDATE ... SET uses = uses + 1 WHERE code = ? AND (max_uses
-- = 0 OR uses < max_uses) AND (expires_at IS NULL OR expires_at > now),
-- which two racing joins cannot both pass on the last use.
CREATE TABLE invites (
	code			VARCHAR(32) COLLATE utf8mb4_bin NOT NULL,
	server_id		BIGINT UNSIGNED NOT NULL,
	inviter_id		BIGINT UNSIGNED NOT NULL,
	uses			INT UNSIGNED NOT NULL DEFAULT 0,
	max_uses		INT UNSIGNED NOT NULL DEFAULT 0,
	expires_at		DATETIME(3) NULL,
	created_at		DATETIME(3) NOT NULL
				    DEFAULT CURRENT_TIMESTAMP(3),
	PRIMARY KEY (code),
	KEY invites_server (server_id),
	KEY invites_inviter (inviter_id),
	CONSTRAINT invites_server_fk FOREIGN KEY (server_id)
	    REFERENCES servers (id) ON DELETE CASCADE,
	CONSTRAINT invites_inviter_fk FOREIGN KEY (inviter_id)
	    REFERENCES users (id) ON DELETE CASCADE
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_520_ci;

-- The event log (DESIGN.md, Events).  seq is drawn from the sequencer, not
-- AUTO_INCREMENT.  No foreign keys: an event outlives what it describes
-- (channel.delete names a channel that is gone).  The scope columns are
-- NULL when not set; each has an index by (column, seq) for the polls, and
-- created_at one for the retention job.
CREATE TABLE events (
	seq			BIGINT UNSIGNED NOT NULL,
	type			VARCHAR(32) COLLATE utf8mb4_bin NOT NULL,
	server_id		BIGINT UNSIGNED NULL,
	channel_id		BIGINT UNSIGNED NULL,
	dm_channel_id		BIGINT UNSIGNED NULL,
	user_id			BIGINT UNSIGNED NULL,
	data			MEDIUMTEXT COLLATE utf8mb4_bin NOT NULL,
	created_at		DATETIME(3) NOT NULL
				    DEFAULT CURRENT_TIMESTAMP(3),
	PRIMARY KEY (seq),
	KEY events_server (server_id, seq),
	KEY events_channel (channel_id, seq),
	KEY events_dm_channel (dm_channel_id, seq),
	KEY events_user (user_id, seq),
	KEY events_created (created_at)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_520_ci;

-- The database row-lock sequencer's one row (events.sequencer = db).
CREATE TABLE sequence (
	id			TINYINT UNSIGNED NOT NULL,
	value			BIGINT UNSIGNED NOT NULL,
	PRIMARY KEY (id),
	CONSTRAINT sequence_one_row CHECK (id = 1)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_520_ci;

INSERT INTO sequence (id, value) VALUES (1, 0);
