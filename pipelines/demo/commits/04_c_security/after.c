/*
 * http_header.c - build the request line and headers sent to upstreams.
 */
#include <stdio.h>
#include <string.h>

#define HOST_MAX 256

struct request_info {
    const char *method;
    const char *host;
    const char *path;
    const char *user_agent;
};

static int has_crlf(const char *s)
{
    return strpbrk(s, "\r\n") != NULL;
}

static int copy_host(char *dst, size_t dst_len, const char *host)
{
    const char *colon = strchr(host, ':');
    size_t len = strlen(host);

    if (len >= dst_len)
        return -1;
    memcpy(dst, host, len + 1);
    if (colon != NULL)
        dst[colon - host] = '\0';   /* drop the port, upstream adds its own */
    return 0;
}

/*
 * Writes the full header block into `buf` and returns its length,
 * or -1 on error.
 */
int build_request_header(const struct request_info *req,
                         char *buf, size_t buf_len)
{
    char host[HOST_MAX];
    int n;

    if (has_crlf(req->host) || has_crlf(req->path) || has_crlf(req->user_agent))
        return -1;
    if (copy_host(host, sizeof(host), req->host) != 0)
        return -1;

    n = snprintf(buf, buf_len,
            "%s %s HTTP/1.1\r\n"
            "Host: %s\r\n"
            "User-Agent: %s\r\n"
            "Connection: close\r\n"
            "\r\n",
            req->method, req->path, host, req->user_agent);
    if (n < 0 || (size_t)n >= buf_len)
        return -1;
    return n;
}
