using System;
using System.Collections.Generic;

namespace Acme.Orders
{
    public sealed class OrderLine
    {
        public string Sku { get; set; } = string.Empty;
        public int Quantity { get; set; }
        public decimal UnitPrice { get; set; }
    }

    public sealed class Order
    {
        public string CustomerId { get; set; } = string.Empty;
        public List<OrderLine> Lines { get; } = new List<OrderLine>();
        public string? ShippingCountry { get; set; }
    }

    public class OrderValidator
    {
        private const int MaxQuantityPerLine = 999;

        private static readonly HashSet<string> SupportedCountries =
            new HashSet<string>(StringComparer.OrdinalIgnoreCase) { "US", "CA", "GB", "DE", "FR" };

        /// <summary>Returns an error message, or null when the order is valid.</summary>
        public string? Validate(Order? order)
        {
            if (order == null)
                return "Order is required";
            if (string.IsNullOrWhiteSpace(order.CustomerId))
                return "Missing customer";
            if (order.Lines.Count == 0)
                return "Order has no lines";

            var invalidLine = FindLineWithInvalidQuantity(order.Lines);
            if (invalidLine != null)
                return $"Invalid quantity for {invalidLine.Sku}";

            if (!IsSupportedCountry(order.ShippingCountry))
                return "Unsupported shipping country";

            return null;
        }

        private static OrderLine? FindLineWithInvalidQuantity(IEnumerable<OrderLine> lines)
        {
            foreach (var line in lines)
            {
                if (line.Quantity <= 0 || line.Quantity > MaxQuantityPerLine)
                    return line;
            }
            return null;
        }

        private static bool IsSupportedCountry(string? country) =>
            country != null && SupportedCountries.Contains(country);
    }
}
