/* SPDX-License-Identifier: ISC */
/*
 * chat.h: helpers of the integration tests of conversations (itest_messages,
 * itest_dms): accounts, a server with its general channel, a DM channel,
 * posting and reading messages.  Each asserts what it relies on.
 */
#ifndef CHAT_H
#define CHAT_H

#include "itest.h"

/* A registered account; the strings are owned. */
struct chat_user {
	char	*id;
	char	*username;
	char	*token;
};

/* Two users in a channel: a server's owner and a plain member. */
struct chat_room {
	struct chat_user	 owner;
	struct chat_user	 member;
	char			*server;
	char			*channel;	/* its general channel */
	char			*base;		/* API_PREFIX "/channels/ID" */
};

void		 chat_user(struct chat_user *, const char *);
void		 chat_user_free(struct chat_user *);
char		*chat_login(const struct chat_user *);
void		 chat_room_open(struct chat_room *, const char *);
void		 chat_room_close(struct chat_room *);
char		*chat_server(const struct chat_user *, char **);
char		*chat_invite(const struct chat_user *, const char *,
		    const char *);
void		 chat_join(const struct chat_user *, const char *,
		    const struct chat_user *);
char		*chat_dm(const struct chat_user *, const struct chat_user *);
char		*chat_path(const char *, const char *, const char *);
char		*chat_post(const struct chat_user *, const char *, const char *);
struct itest_response *chat_history(const struct chat_user *, const char *,
		    const char *);
void		 chat_expect_ids(struct itest_response *, char *const *,
		    size_t);
int		 chat_holds(struct itest_response *, const char *);
void		 chat_race(int, const char *, const char *,
		    const char *const *, const char *const *, long *, char **);
void		 chat_race_paths(int, const char *, const char *const *,
		    const char *const *, const char *const *, long *, char **,
		    int *);
void		 chat_default_permissions(const struct chat_user *,
		    const char *, const char *);
void		 chat_member_overwrite(const struct chat_user *,
		    const char *, const struct chat_user *, const char *);
struct itest_response *chat_events(const struct chat_user *, const char *);
struct itest_response *chat_send(const struct chat_user *, const char *,
		    const char *);

#endif /* CHAT_H */
