using System;
using System.Collections.Generic;
using System.Linq;

namespace Acme.Crm.Import
{
    public sealed class Contact
    {
        public string Email { get; set; } = string.Empty;
        public string DisplayName { get; set; } = string.Empty;
        public string? Company { get; set; }
    }

    public sealed class MergeReport
    {
        public List<Contact> Added { get; } = new List<Contact>();
        public List<Contact> Skipped { get; } = new List<Contact>();
    }

    public class ContactMerger
    {
        /// <summary>
        /// Appends incoming contacts whose email is not already known and
        /// reports which ones were added or skipped.
        /// </summary>
        public MergeReport Merge(IList<Contact> existing, IEnumerable<Contact> incoming)
        {
            var report = new MergeReport();
            var seen = new HashSet<string>(existing.Select(c => Normalize(c.Email)));

            foreach (var contact in incoming)
            {
                var email = Normalize(contact.Email);
                if (email.Length == 0)
                {
                    report.Skipped.Add(contact);
                    continue;
                }

                if (seen.Add(email))
                {
                    report.Added.Add(contact);
                }
                else
                {
                    report.Skipped.Add(contact);
                }
            }

            foreach (var contact in report.Added)
            {
                existing.Add(contact);
            }
            return report;
        }

        private static string Normalize(string? email) =>
            (email ?? string.Empty).Trim().ToLowerInvariant();
    }
}
