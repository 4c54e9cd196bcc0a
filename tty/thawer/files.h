/*
 * The thaw's descriptor code, internals shared by files.c (open files, counters,
 * file contents), channels.c (pipes, FIFOs, socket pairs) and watches.c (epoll and
 * inotify registrations).
 */
#ifndef CKPTY_THAWER_FILES_H
#define CKPTY_THAWER_FILES_H

#include "thawer.h"

#include <stddef.h>

/* "fd 3 of ed[1234]": a descriptor that names open file `ofile`, for messages. */
void fd_words(const struct thaw *t, size_t ofile, char *out, size_t size);

/* len bytes of the job's data area at off, read from the image (malloc'd; free it). NULL with errno. */
void *data_area_read(const struct thaw *t, uint64_t off, uint64_t len);

/* Set a descriptor's status flags to the image's (the ones F_SETFL may change), on one we opened. */
int set_status_flags(int fd, uint32_t flags);

/* fd moved into the helper range (close-on-exec), or -1 with e filled; fd is closed either way. */
int keep(const struct thaw *t, int fd, const char *what, struct ck_error *e);

/* ---- channels.c ---- */

/* The pipes' and socket pairs' ends, while the job's open files are made. */
struct channel_ends;
/* Every pipe (FIFO: its anchor) and socket pair of the job, holding the bytes buffered in it. */
int channels_create(struct thaw *t, struct channel_ends **ends, struct ck_error *e);
/* The descriptor of a PIPE, SOCKET or CLOSED_SOCKET open file. */
int channel_open(struct thaw *t, struct channel_ends *ends, size_t ofile, struct ck_error *e);
/* Every open file exists: shut down what was shut down. */
int channels_finish(struct thaw *t, struct ck_error *e);
/* Close our ends (those no open file holds go: their readers meet the end of the data) and free them. */
void channels_free(struct channel_ends *ends);
/* Before anything starts: a FIFO gone is a pipe again (noted); what the report should say. */
void channels_check(struct thaw *t, struct problems *notes);

/* ---- watches.c ---- */

/* Every epoll registration and inotify watch, once every open file exists. */
int watches_create(struct thaw *t, struct ck_error *e);
/* Before anything starts: watched paths that are gone. */
void watches_check(struct thaw *t, struct problems *p);

#endif
