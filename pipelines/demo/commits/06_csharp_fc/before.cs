using System;
using System.Collections.Generic;
using System.Linq;

namespace Acme.Billing
{
    public sealed record Invoice(string Number, string CustomerId, decimal Amount, DateTime IssuedAt);

    public sealed class PagedResult<T>
    {
        public PagedResult(IReadOnlyList<T> items, int page, int pageSize, int totalCount)
        {
            Items = items;
            Page = page;
            PageSize = pageSize;
            TotalCount = totalCount;
        }

        public IReadOnlyList<T> Items { get; }
        public int Page { get; }
        public int PageSize { get; }
        public int TotalCount { get; }
        public int TotalPages => TotalCount / PageSize;
        public bool HasNextPage => Page < TotalPages;
    }

    public static class InvoicePager
    {
        public const int DefaultPageSize = 25;
        public const int MaxPageSize = 200;

        /// <summary>
        /// Returns one page of a customer's invoices, newest first.
        /// <paramref name="page"/> is 1-based.
        /// </summary>
        public static PagedResult<Invoice> GetPage(
            IReadOnlyList<Invoice> invoices, int page, int pageSize = DefaultPageSize)
        {
            if (invoices == null) throw new ArgumentNullException(nameof(invoices));
            if (pageSize <= 0 || pageSize > MaxPageSize)
                throw new ArgumentOutOfRangeException(nameof(pageSize));
            if (page < 1) page = 1;

            var items = invoices
                .OrderByDescending(i => i.IssuedAt)
                .Skip(page * pageSize)
                .Take(pageSize)
                .ToList();

            return new PagedResult<Invoice>(items, page, pageSize, invoices.Count);
        }
    }
}
