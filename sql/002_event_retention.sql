-- SPDX-License-Identifier: ISC
-- Event retention: the highest seq the retention job has deleted.  A poll
-- whose cursor is below it may have missed events and gets 410
-- cursor_expired (API.md, Events).
CREATE TABLE event_retention (
	id			TINYINT UNSIGNED NOT NULL,
	pruned_upto		BIGINT UNSIGNED NOT NULL,
	PRIMARY KEY (id),
	CONSTRAINT event_retention_one_row CHECK (id = 1)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_520_ci;

INSERT INTO event_retention (id, pruned_upto) VALUES (1, 0);
