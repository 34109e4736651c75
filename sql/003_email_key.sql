-- SPDX-License-Identifier: ISC
-- Emails are unique ignoring case only (API.md), not accents: the table's
-- collation (utf8mb4_unicode_520_ci) would also treat "josé@x" and
-- "jose@x" as one address.  The unique key moves to the lower-cased address
-- compared byte for byte; sign-in by email looks it up the same way.
ALTER TABLE users
	ADD COLUMN email_key VARCHAR(254) COLLATE utf8mb4_bin
	    AS (LOWER(email)) STORED,
	DROP KEY users_email,
	ADD UNIQUE KEY users_email_key (email_key);
