-- SPDX-License-Identifier: ISC
-- Attachments (API.md, Attachments; issue 23).  One row per uploaded
-- file; the file itself is in the store ([files] directory of
-- sohbet.conf) under the row's id, never under the client's name.
-- An upload belongs to the conversation it was sent to (channel_id or
-- dm_channel_id, as messages) and to its uploader; message_id is NULL
-- until a message of that uploader in that conversation takes it (once:
-- messages.c sets it only where it is NULL).  Uploads left unattached for
-- an hour are deleted by the keeper (attachments_prune); a deleted
-- message's rows are deleted with it and its files unlinked after the
-- commit (attachments.c).  width and height are filled for the four image
-- types whose bytes were checked (imagehead.c), NULL otherwise.
CREATE TABLE attachments (
	id			BIGINT UNSIGNED NOT NULL AUTO_INCREMENT,
	uploader_id		BIGINT UNSIGNED NOT NULL,
	channel_id		BIGINT UNSIGNED NULL,
	dm_channel_id		BIGINT UNSIGNED NULL,
	message_id		BIGINT UNSIGNED NULL,
	filename		VARCHAR(255) COLLATE utf8mb4_bin NOT NULL,
	content_type		VARCHAR(255) COLLATE ascii_bin NOT NULL,
	size			BIGINT UNSIGNED NOT NULL,
	width			INT UNSIGNED NULL,
	height			INT UNSIGNED NULL,
	created_at		DATETIME(3) NOT NULL
				    DEFAULT CURRENT_TIMESTAMP(3),
	PRIMARY KEY (id),
	KEY attachments_message (message_id, created_at),
	KEY attachments_uploader (uploader_id),
	CONSTRAINT attachments_one_conversation
	    CHECK ((channel_id IS NULL) <> (dm_channel_id IS NULL)),
	CONSTRAINT attachments_channel_fk FOREIGN KEY (channel_id)
	    REFERENCES channels (id) ON DELETE CASCADE,
	CONSTRAINT attachments_dm_channel_fk FOREIGN KEY (dm_channel_id)
	    REFERENCES dm_channels (id) ON DELETE CASCADE
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_520_ci;
