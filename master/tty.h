/* The terminal of a headless run: Locust's keys w/W (add 1/10 users) and s/S (remove 1/10).
 * The only module that touches termios; a run without a terminal on stdin reads no keys. */
#ifndef HN_TTY_H
#define HN_TTY_H

/* Puts stdin in single-key mode when it is a terminal. Returns 1 if keys can be read. */
int hn_tty_open(void);
/* The next key pressed, without waiting, or -1. */
int hn_tty_key(void);
/* Gives the terminal back as it was (safe to call twice, or without open). */
void hn_tty_close(void);

/* What a key does to the user count: +1, +10, -1, -10, or 0 for any other key. Pure. */
int hn_tty_key_users(int key);

#endif
