-- SPDX-License-Identifier: ISC
-- Typing and presence (API.md, Typing and presence; issue 22).
--
-- ephemeral_relay carries the ephemeral events (typing.start,
-- presence.update) from one app host to the others when the cluster
-- watcher is on (events.cluster_poll_ms; ephemeral.c): the host that
-- makes one inserts a row, every other host's keeper reads the rows of
-- the last seconds by created_ms (the database's clock, in
-- milliseconds) and passes them to its own long-polls.  Rows are deleted
-- after 30 seconds.  A single host (no watcher) never writes here.
-- InnoDB, not MEMORY, so that a Galera cluster replicates it.
CREATE TABLE ephemeral_relay (
	id			BIGINT UNSIGNED NOT NULL AUTO_INCREMENT,
	host_id			BIGINT UNSIGNED NOT NULL,
	created_ms		BIGINT NOT NULL,
	at_ms			BIGINT NOT NULL,
	kind			TINYINT UNSIGNED NOT NULL,
	status			TINYINT UNSIGNED NOT NULL DEFAULT 0,
	server_id		BIGINT UNSIGNED NOT NULL DEFAULT 0,
	channel_id		BIGINT UNSIGNED NOT NULL DEFAULT 0,
	dm_channel_id		BIGINT UNSIGNED NOT NULL DEFAULT 0,
	user_id			BIGINT UNSIGNED NOT NULL,
	expires_ms		BIGINT NOT NULL DEFAULT 0,
	PRIMARY KEY (id),
	KEY ephemeral_relay_created (created_ms)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_520_ci;

-- Presence.  users.presence is the status the user chose (0 online,
-- 1 idle, 2 dnd, 3 invisible; presence.c), shown while they are
-- connected.  presence_connections has a row per user and app host
-- they are connected to (an /events poll open there or ended less than
-- presence_linger seconds ago), written by that host's keeper when it
-- changes, never by a poll.  A row counts while its host's keeper
-- beats in app_hosts (every 10 s; seen_ms by the database's clock), so
-- a host that dies stops counting by itself.
ALTER TABLE users ADD COLUMN presence TINYINT UNSIGNED NOT NULL DEFAULT 0;

CREATE TABLE app_hosts (
	host_id			BIGINT UNSIGNED NOT NULL,
	seen_ms			BIGINT NOT NULL,
	PRIMARY KEY (host_id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_520_ci;

CREATE TABLE presence_connections (
	user_id			BIGINT UNSIGNED NOT NULL,
	host_id			BIGINT UNSIGNED NOT NULL,
	PRIMARY KEY (user_id, host_id),
	KEY presence_connections_host (host_id),
	CONSTRAINT presence_connections_user_fk FOREIGN KEY (user_id)
	    REFERENCES users (id) ON DELETE CASCADE
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_520_ci;
