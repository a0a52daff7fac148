// Package logfmt parses key=value structured log lines.
package logfmt

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// pairRe matches key=value pairs; values may be double-quoted with escapes.
var pairRe = regexp.MustCompile(`(\w+)=("(?:[^"\\]|\\.)*"|\S+)`)

// Entry is one parsed log line.
type Entry struct {
	Time    time.Time
	Level   string
	Message string
	Fields  map[string]string
}

// ParseLine parses a line such as
//
//	ts=2024-03-01T12:00:00Z level=info msg="user signed in" user=42
func ParseLine(line string) (Entry, error) {
	entry := Entry{Fields: make(map[string]string)}

	for _, m := range pairRe.FindAllStringSubmatch(line, -1) {
		key, value := m[1], m[2]
		if strings.HasPrefix(value, `"`) {
			unquoted, err := strconv.Unquote(value)
			if err != nil {
				return Entry{}, fmt.Errorf("logfmt: bad quoted value for %q: %w", key, err)
			}
			value = unquoted
		}

		switch key {
		case "ts":
			t, err := time.Parse(time.RFC3339, value)
			if err != nil {
				return Entry{}, fmt.Errorf("logfmt: bad timestamp: %w", err)
			}
			entry.Time = t
		case "level":
			entry.Level = strings.ToLower(value)
		case "msg":
			entry.Message = value
		default:
			entry.Fields[key] = value
		}
	}
	if entry.Time.IsZero() {
		return Entry{}, fmt.Errorf("logfmt: missing ts field")
	}
	return entry, nil
}
