-- SPDX-License-Identifier: ISC
-- Bans (API.md, Bans; issue 28): a banned user is kept out of a server
-- (a join through any invite answers 403 banned) until unbanned.  A user
-- may be banned before they ever join.  The permission ban_members is a
-- name in roles.permissions: no role holds it until one is given it, and
-- owners and administrators have it implicitly (perm.c), so no existing
-- row changes.  banned_by is who banned them, NULL once that account is
-- gone.
CREATE TABLE server_bans (
	server_id		BIGINT UNSIGNED NOT NULL,
	user_id			BIGINT UNSIGNED NOT NULL,
	reason			VARCHAR(512) NOT NULL DEFAULT '',
	banned_by		BIGINT UNSIGNED NULL,
	created_at		DATETIME(3) NOT NULL
				    DEFAULT CURRENT_TIMESTAMP(3),
	PRIMARY KEY (server_id, user_id),
	KEY server_bans_user (user_id),
	KEY server_bans_banned_by (banned_by),
	CONSTRAINT server_bans_server_fk FOREIGN KEY (server_id)
	    REFERENCES servers (id) ON DELETE CASCADE,
	CONSTRAINT server_bans_user_fk FOREIGN KEY (user_id)
	    REFERENCES users (id) ON DELETE CASCADE,
	CONSTRAINT server_bans_banned_by_fk FOREIGN KEY (banned_by)
	    REFERENCES users (id) ON DELETE SET NULL
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_520_ci;
