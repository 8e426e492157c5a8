#include "master/tty.h"

#include <poll.h>
#include <termios.h>
#include <unistd.h>

static struct termios g_saved;
static int g_open;

int hn_tty_open(void)
{
    if (g_open)
        return 1;
    /* a run in the background (hornet ... &) leaves the terminal alone: changing it from there
     * would stop the process (SIGTTOU) */
    if (!isatty(STDIN_FILENO) || tcgetpgrp(STDIN_FILENO) != getpgrp() ||
        tcgetattr(STDIN_FILENO, &g_saved) != 0)
        return 0;
    struct termios raw = g_saved;
    raw.c_lflag &= (tcflag_t) ~(ICANON | ECHO); /* a key arrives without Enter, unechoed */
    raw.c_cc[VMIN] = 0;
    raw.c_cc[VTIME] = 0;
    if (tcsetattr(STDIN_FILENO, TCSANOW, &raw) != 0)
        return 0;
    g_open = 1;
    return 1;
}

int hn_tty_key(void)
{
    if (!g_open)
        return -1;
    struct pollfd p = {STDIN_FILENO, POLLIN, 0};
    unsigned char c;
    if (poll(&p, 1, 0) != 1 || read(STDIN_FILENO, &c, 1) != 1)
        return -1;
    return c;
}

void hn_tty_close(void)
{
    if (!g_open)
        return;
    tcsetattr(STDIN_FILENO, TCSANOW, &g_saved);
    g_open = 0;
}

int hn_tty_key_users(int key)
{
    switch (key) {
    case 'w': return 1;
    case 'W': return 10;
    case 's': return -1;
    case 'S': return -10;
    default: return 0;
    }
}
