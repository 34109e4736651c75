/* SPDX-License-Identifier: ISC */
/*
 * words.c: the word index of messages (message_words, sql/014_search.sql,
 * keyed by sql/017_search_keys.sql),
 * which search.c reads.  Every path that writes a message's text keeps it
 * in the same transaction: the send procedures index what they insert
 * (sql/routines.sql), and messages.c and seed.c call
 * these for a message written statement by statement, an edit, a
 * deletion and a seeded batch.  The words are cut by the database's
 * search_words(), the one definition that search.c splits a query with.
 *
 * Not triggers: on Galera, a brute-force abort that reaches a session
 * while it loads the triggers of messages leaves them "has an error in
 * its body" in the table cache, and every later write of a message on
 * that node fails until the table is flushed.
 */
#include "sohbet.h"

static struct db_stmt q_index = DB_STMT(
    "CALL message_words_index(?, ?)");
static struct db_stmt q_forget = DB_STMT(
    "DELETE FROM message_words WHERE message_id = ?");
/* The index of the messages of an id range (sohbetctl seed). */
static struct db_stmt q_index_range = DB_STMT(
    "INSERT INTO message_words (word, in_dm, scope_id, message_id,"
    " channel_id) SELECT LEFT(t.w, 64), m.dm_channel_id IS NOT NULL,"
    " COALESCE(c.server_id, m.dm_channel_id), m.id, m.channel_id"
    " FROM messages m LEFT JOIN channels c ON c.id = m.channel_id,"
    " JSON_TABLE(search_words(m.content), '$[*]'"
    " COLUMNS (w VARCHAR(4000) CHARACTER SET utf8mb4 PATH '$')) t"
    " WHERE m.id BETWEEN ? AND ? AND NOT m.deleted AND t.w <> ''"
    " ON DUPLICATE KEY UPDATE message_id = message_id");

/* Index the words of a new message; 0, or -1 on a database error. */
int
words_index(uint64_t id, const char *content, size_t len)
{
	return db_exec(&q_index, "ub", id, content, len) == -1 ? -1 : 0;
}

/* Forget the words of a deleted message; 0, or -1. */
int
words_forget(uint64_t id)
{
	return db_exec(&q_forget, "u", id) == -1 ? -1 : 0;
}

/* Replace the words of an edited message with those of content; 0, or -1. */
int
words_reindex(uint64_t id, const char *content, size_t len)
{
	return words_forget(id) == -1 ? -1 : words_index(id, content, len);
}

/* Index the messages with ids from first to last; 0, or -1. */
int
words_index_range(uint64_t first, uint64_t last)
{
	return db_exec(&q_index_range, "uu", first, last) == -1 ? -1 : 0;
}
