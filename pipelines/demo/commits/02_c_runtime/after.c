/*
 * json_escape.c - escape C strings for embedding in JSON log output.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *escape_for(char c)
{
    switch (c) {
    case '"':  return "\\\"";
    case '\\': return "\\\\";
    case '\n': return "\\n";
    case '\r': return "\\r";
    case '\t': return "\\t";
    default:   return NULL;
    }
}

/*
 * Returns a newly allocated escaped copy of `src`, or NULL on allocation
 * failure. The caller owns the result.
 */
char *json_escape(const char *src)
{
    size_t len = strlen(src);
    /* Every escape sequence is two bytes, so 2 * len bounds the output. */
    char *out = malloc(2 * len + 1);
    char *cursor;
    size_t i;

    if (out == NULL)
        return NULL;

    cursor = out;
    for (i = 0; i < len; i++) {
        const char *esc = escape_for(src[i]);

        if (esc != NULL) {
            *cursor++ = esc[0];
            *cursor++ = esc[1];
        } else {
            *cursor++ = src[i];
        }
    }
    *cursor = '\0';
    return out;
}

int json_write_string(FILE *fp, const char *src)
{
    char *escaped = json_escape(src);
    int rc;

    if (escaped == NULL)
        return -1;
    rc = fprintf(fp, "\"%s\"", escaped);
    free(escaped);
    return rc < 0 ? -1 : 0;
}
