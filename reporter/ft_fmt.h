/*
** ft_fmt.h — formatting and parsing shared by the reporting commands
** (report, diff, export): human units ("1.5 MiB", "2.3 ms", "1.2M/s"),
** parsers for the units users type on the command line ("250ms", "64MiB",
** "100k", "5%"), a streaming JSON writer with correct string escaping, and
** aligned tables printed as plain text or as GitHub-flavoured markdown.
**
** Every formatter writes into a caller's buffer and returns it, so several
** can be used in one printf. FT_FMT_CAP is always enough for one value.
*/
#ifndef FT_FMT_H
#define FT_FMT_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#define FT_FMT_CAP 32

/* ---- human units --------------------------------------------------------- */

/* Bytes in binary units: "512 B", "1.5 KiB", "12.0 MiB", "3.2 GiB" (one
** decimal from KiB up; negative values keep their sign). */
const char *ft_fmt_bytes(char *buf, size_t cap, double bytes);

/* A duration given in ns: "850 ns", "12.5 µs", "2.3 ms", "1.50 s", "2.0 min",
** "1.5 h". Seconds get two decimals below a minute. */
const char *ft_fmt_duration(char *buf, size_t cap, double ns);

/* A count in SI units for rates and big numbers: "950", "12.3k", "1.2M",
** "4.0G" (exact integer below 1000). */
const char *ft_fmt_si(char *buf, size_t cap, double n);

/* An integer with thousands separators: "1,234,567". */
const char *ft_fmt_int(char *buf, size_t cap, int64_t n);

/* A percentage with one decimal: "12.5%" ("0%" and "100%" exactly). */
const char *ft_fmt_pct(char *buf, size_t cap, double pct);

/* ---- parsers (0 on success, -1 on a malformed or out-of-range value) ---- */

/* A duration: a non-negative decimal number with a unit ns, us, µs, ms, s,
** min or h ("250ms", "1.5s", "100us"); "0" alone needs no unit. Rounded to
** whole nanoseconds. */
int ft_parse_duration(const char *s, int64_t *ns);

/* A size in bytes: a non-negative number with an optional unit: B; K, M,
** G, T and KiB, MiB, GiB, TiB (powers of 1024); KB, MB, GB, TB (powers of
** 1000), as GNU coreutils reads them. "64MiB", "1.5G", "4096". */
int ft_parse_size(const char *s, int64_t *bytes);

/* A non-negative number with an optional SI suffix k, M, G (powers of
** 1000) and an optional "/s": "100000", "250k", "1.5M/s". */
int ft_parse_si(const char *s, double *value);

/* A percentage 0..100 with an optional '%': "5", "12.5%". */
int ft_parse_pct(const char *s, double *pct);

/* A non-negative integer that fits in int64 (decimal only). */
int ft_parse_int(const char *s, int64_t *value);

/* ---- JSON ---------------------------------------------------------------- */

/* A streaming JSON writer: containers nest up to FT_JSON_MAXDEPTH, commas
** and indentation (two spaces) are handled here. Keys are given to the
** value that follows (NULL inside arrays). */
#define FT_JSON_MAXDEPTH 32

typedef struct ft_json {
  FILE *out;
  int depth;
  int count[FT_JSON_MAXDEPTH]; /* values written so far at each level */
  char kind[FT_JSON_MAXDEPTH];  /* '{' or '[' opened at each level */
} ft_json;

void ft_json_init(ft_json *j, FILE *out);
void ft_json_object(ft_json *j, const char *key); /* opens { */
void ft_json_array(ft_json *j, const char *key);  /* opens [ */
void ft_json_end(ft_json *j);                     /* closes the innermost; a newline after the last */
void ft_json_str(ft_json *j, const char *key, const char *value); /* NULL writes null */
void ft_json_int(ft_json *j, const char *key, int64_t value);
void ft_json_num(ft_json *j, const char *key, double value);      /* non-finite writes null */
void ft_json_bool(ft_json *j, const char *key, int value);
void ft_json_null(ft_json *j, const char *key);

/* Write s as a JSON string literal (quotes included): ", \, control
** characters escaped, invalid UTF-8 bytes replaced by U+FFFD. */
void ft_json_write_string(FILE *out, const char *s);

/* ---- tables -------------------------------------------------------------- */

typedef enum ft_style { FT_STYLE_TEXT, FT_STYLE_MARKDOWN } ft_style;

/* A table of strings with a header row. align has one letter per column:
** 'l' left, 'r' right (numbers). Cells are copied. */
typedef struct ft_table ft_table;

ft_table *ft_table_new(int ncols, const char *const *headers, const char *align);

/* Append a row of ncols cells (NULL cells print empty). 0, or -1 when out
** of memory (the table stays usable). */
int ft_table_row(ft_table *t, const char *const *cells);

/* Number of rows added so far. */
size_t ft_table_rows(const ft_table *t);

/* Print the table. Text: columns padded to their widest cell (display
** width of UTF-8), two spaces apart, each line prefixed with indent, a
** dashed rule under the header. Markdown: a GitHub pipe table with '|'
** escaped in cells and ---: for right-aligned columns. */
void ft_table_print(const ft_table *t, FILE *out, ft_style style, const char *indent);

void ft_table_free(ft_table *t);

/* Display width of a UTF-8 string (code points; no wide characters are
** produced by fragtrace). */
size_t ft_utf8_width(const char *s);

/* Write s with markdown's special characters in inline text escaped
** (|, *, _, `, <, >, [, ], \). */
void ft_md_escape(FILE *out, const char *s);

#endif
