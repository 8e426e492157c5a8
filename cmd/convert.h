/* hornet convert FILE: a Locust locustfile to a hornet scenario on stdout, by the converter
 * script carried in the binary (cmd/locust_convert.py), run with the system's python3. */
#ifndef HN_CONVERT_H
#define HN_CONVERT_H

/* Returns the converter's exit code: 0 all converted, 1 converted with parts left out (each
 * named on stderr with its line), 2 unreadable or no user class, 5 python3 missing. */
int hn_convert_run(int argc, char **argv);

#endif
