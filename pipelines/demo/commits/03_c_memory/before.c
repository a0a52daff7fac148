/*
 * config_load.c - minimal key=value config loader for the agent daemon.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CONFIG_LINE_MAX 512

struct config_entry {
    char *key;
    char *value;
    struct config_entry *next;
};

static char *trim(char *s)
{
    char *end;

    while (*s == ' ' || *s == '\t')
        s++;
    end = s + strlen(s);
    while (end > s && (end[-1] == ' ' || end[-1] == '\t' ||
                       end[-1] == '\n' || end[-1] == '\r'))
        *--end = '\0';
    return s;
}

void config_free(struct config_entry *head)
{
    while (head != NULL) {
        struct config_entry *next = head->next;

        free(head->key);
        free(head->value);
        free(head);
        head = next;
    }
}

struct config_entry *config_load(const char *path)
{
    char line[CONFIG_LINE_MAX];
    struct config_entry *head = NULL;
    FILE *fp = fopen(path, "r");

    if (fp == NULL)
        return NULL;

    while (fgets(line, sizeof(line), fp) != NULL) {
        char *text = trim(line);
        char *eq;
        struct config_entry *entry;

        if (*text == '\0' || *text == '#')
            continue;
        eq = strchr(text, '=');
        if (eq == NULL)
            return NULL;    /* malformed line */
        *eq = '\0';

        entry = malloc(sizeof(*entry));
        if (entry == NULL)
            return NULL;
        entry->key = strdup(trim(text));
        entry->value = strdup(trim(eq + 1));
        entry->next = head;
        head = entry;
    }
    return head;
}
