-- SPDX-License-Identifier: ISC
-- Every read of the event log is a range of seq (the primary key): the
-- polls (events.c), the cluster watcher (keeper.c) and the sequencer's
-- start.  Each poll's scope is matched in C.  The four scope keys served
-- no query, and every event written updated each of them: four more
-- B-tree inserts per message sent.
ALTER TABLE events
	DROP KEY events_server,
	DROP KEY events_channel,
	DROP KEY events_dm_channel,
	DROP KEY events_user;
