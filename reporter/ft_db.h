/*
** ft_db.h — creating and opening trace databases safely: files are created
** mode 0600, never through a symlink, the schema comes from schema/v1.sql
** (embedded at build time), and the meta table names the schema version.
*/
#ifndef FT_DB_H
#define FT_DB_H

#include <sqlite3.h>
#include <stddef.h>

#define FT_SCHEMA_VERSION 1

extern const char ft_schema_v1_sql[]; /* generated from schema/v1.sql */

/* Create a new trace at path (replacing a regular file we own; refusing a
** symlink or anything else), load the schema and meta rows, and leave it
** open with bulk-load pragmas. Returns 0 or -1 with a message in err. */
int ft_db_create(const char *path, sqlite3 **out, char *err, size_t errlen);

/* Open an existing trace for appending more processes (creating it like
** ft_db_create when it does not exist). Checks schema_version. */
int ft_db_open_append(const char *path, sqlite3 **out, char *err, size_t errlen);

/* Open an existing trace read-only, checking that it is a fragtrace trace of
** a schema version we know. Returns 0, or -1 with a one-line message. */
int ft_db_open_readonly(const char *path, sqlite3 **out, char *err, size_t errlen);

#endif
