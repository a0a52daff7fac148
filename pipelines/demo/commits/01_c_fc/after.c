/*
 * ringbuf.c - fixed-size byte ring buffer shared by the UART RX/TX paths.
 *
 * Not thread-safe: callers serialise access with the driver lock.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

struct ringbuf {
    uint8_t *data;
    size_t capacity;
    size_t head;    /* next write position */
    size_t tail;    /* next read position */
    size_t count;   /* bytes currently stored */
};

struct ringbuf *ringbuf_create(size_t capacity)
{
    struct ringbuf *rb;

    if (capacity == 0)
        return NULL;
    rb = calloc(1, sizeof(*rb));
    if (rb == NULL)
        return NULL;
    rb->data = malloc(capacity);
    if (rb->data == NULL) {
        free(rb);
        return NULL;
    }
    rb->capacity = capacity;
    return rb;
}

void ringbuf_destroy(struct ringbuf *rb)
{
    if (rb == NULL)
        return;
    free(rb->data);
    free(rb);
}

bool ringbuf_is_full(const struct ringbuf *rb)
{
    return rb->count == rb->capacity;
}

size_t ringbuf_write(struct ringbuf *rb, const uint8_t *src, size_t len)
{
    size_t written = 0;

    while (written < len && !ringbuf_is_full(rb)) {
        rb->data[rb->head] = src[written++];
        rb->head = (rb->head + 1) % rb->capacity;
        rb->count++;
    }
    return written;
}

size_t ringbuf_read(struct ringbuf *rb, uint8_t *dst, size_t len)
{
    size_t first, second;

    if (len > rb->count)
        len = rb->count;
    if (len == 0)
        return 0;

    first = rb->capacity - rb->tail;
    if (first > len)
        first = len;
    memcpy(dst, rb->data + rb->tail, first);

    second = len - first;
    memcpy(dst + first, rb->data, second);

    rb->tail = (rb->tail + len) % rb->capacity;
    rb->count -= len;
    return len;
}
