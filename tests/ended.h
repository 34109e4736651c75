/* SPDX-License-Identifier: ISC */
/*
 * ended.h: which requests of a unit test ended through request_done(),
 * how often and with which status, for the tests of what answers them.
 */
#ifndef ENDED_H
#define ENDED_H

struct request;

/* A request a test watches. */
struct ended {
	struct request	*req;		/* until it ended (then freed) */
	int		 count;		/* request_done() calls */
	int		 status;	/* the status it ended with */
};

/* Watch requests from now on, none yet. */
void		 ended_init(void);
/* Watch a request until it ends; e must not move meanwhile. */
void		 ended_watch(struct ended *, struct request *);

#endif /* ENDED_H */
