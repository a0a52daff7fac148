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
    char *out = malloc(1);
    size_t i;

    if (out == NULL)
        return NULL;
    out[0] = '\0';

    for (i = 0; i < strlen(src); i++) {
        const char *esc = escape_for(src[i]);
        char single[2] = { src[i], '\0' };
        const char *piece = esc ? esc : single;
        char *grown = realloc(out, strlen(out) + strlen(piece) + 1);

        if (grown == NULL) {
            free(out);
            return NULL;
        }
        out = grown;
        strcat(out, piece);
    }
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
