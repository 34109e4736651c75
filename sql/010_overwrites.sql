-- SPDX-License-Identifier: ISC
-- Channel permission overwrites (API.md, Channel permission overwrites;
-- issue 19).  One row per channel and target: a role of the channel's
-- server (target_type 0; the default role included) or a member (1).
-- allow_bits and deny_bits are permission bits as perm.c numbers them
-- (bit i is the i-th name of perm_names[]; a bit's meaning never
-- changes, new permissions take new bits).  server_id is the channel's:
-- the long-polls load a server's overwrites at once (access.c), and a
-- member who leaves loses theirs there.  No foreign key can name the
-- target (a role or a user, by type): deleting a role and removing a
-- member delete their rows (roles.c, members.c).
CREATE TABLE channel_overwrites (
	channel_id		BIGINT UNSIGNED NOT NULL,
	target_type		TINYINT UNSIGNED NOT NULL,
	target_id		BIGINT UNSIGNED NOT NULL,
	server_id		BIGINT UNSIGNED NOT NULL,
	allow_bits		INT UNSIGNED NOT NULL DEFAULT 0,
	deny_bits		INT UNSIGNED NOT NULL DEFAULT 0,
	PRIMARY KEY (channel_id, target_type, target_id),
	KEY channel_overwrites_server (server_id, target_type, target_id),
	CONSTRAINT channel_overwrites_channel_fk FOREIGN KEY (channel_id)
	    REFERENCES channels (id) ON DELETE CASCADE,
	CONSTRAINT channel_overwrites_server_fk FOREIGN KEY (server_id)
	    REFERENCES servers (id) ON DELETE CASCADE
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_520_ci;

-- The members an event is for, when not everyone its scope names: the
-- channel.delete and channel.create a change of access sends to those
-- who lost or gained view of a channel, and the channel.delete of a
-- private channel (its viewers only).  Their user ids, sorted, as
-- 8-byte little-endian numbers; NULL for every other event.  Adding a
-- nullable column last is instant in MariaDB 10.11: the event log is not
-- rebuilt.
ALTER TABLE events ADD COLUMN audience MEDIUMBLOB NULL;
