/* Output paths: folders made on demand, and a check before the run that a file can be written
 * where a flag says (so an unusable --json, --html or --db is found before any load, not after). */
#ifndef HN_PATHS_H
#define HN_PATHS_H

/* Creates the folders above prefix's last '/' (like mkdir -p). 0, or -1 with errno. */
int hn_mkdir_parents(const char *prefix);
/* path exists as a writable regular file, or its folder exists (created for every flag but
 * --db) and is writable. Otherwise one line on stderr naming flag and path, and HN_EIO. */
int hn_check_output_path(const char *flag, const char *path);

#endif
