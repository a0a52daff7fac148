using System;
using System.Collections.Generic;
using System.IO;

namespace Acme.Ops.Logs
{
    public sealed record LogStats(
        int Total, int Errors, int Warnings, IReadOnlyDictionary<string, int> ErrorsBySource);

    public class LogScanner
    {
        private readonly string _logDirectory;

        public LogScanner(string logDirectory)
        {
            _logDirectory = logDirectory ?? throw new ArgumentNullException(nameof(logDirectory));
        }

        public LogStats Scan(DateTime day)
        {
            var path = Path.Combine(_logDirectory, $"app-{day:yyyyMMdd}.log");
            var errorsBySource = new Dictionary<string, int>(StringComparer.Ordinal);
            int total = 0, errors = 0, warnings = 0;

            foreach (var line in File.ReadLines(path))
            {
                total++;
                var level = ExtractLevel(line);
                if (level == "ERROR")
                {
                    errors++;
                    var source = ExtractSource(line);
                    errorsBySource.TryGetValue(source, out var count);
                    errorsBySource[source] = count + 1;
                }
                else if (level == "WARN")
                {
                    warnings++;
                }
            }

            return new LogStats(total, errors, warnings, errorsBySource);
        }

        // Line format: 2024-05-01T10:00:00Z [LEVEL] source: message
        private static string ExtractLevel(string line)
        {
            int open = line.IndexOf('[');
            int close = open < 0 ? -1 : line.IndexOf(']', open + 1);
            return close > open + 1 ? line.Substring(open + 1, close - open - 1) : string.Empty;
        }

        private static string ExtractSource(string line)
        {
            int close = line.IndexOf(']');
            int colon = close < 0 ? -1 : line.IndexOf(':', close + 1);
            return colon > close + 1 ? line.Substring(close + 1, colon - close - 1).Trim() : "unknown";
        }
    }
}
