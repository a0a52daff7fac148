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
        private static readonly HashSet<string> SupportedCountries =
            new HashSet<string>(StringComparer.OrdinalIgnoreCase) { "US", "CA", "GB", "DE", "FR" };

        /// <summary>Returns an error message, or null when the order is valid.</summary>
        public string? Validate(Order? order)
        {
            string? error = null;
            if (order != null)
            {
                if (!string.IsNullOrWhiteSpace(order.CustomerId))
                {
                    if (order.Lines.Count > 0)
                    {
                        foreach (var line in order.Lines)
                        {
                            if (line.Quantity <= 0 || line.Quantity > 999)
                            {
                                error = $"Invalid quantity for {line.Sku}";
                                break;
                            }
                        }
                        if (error == null)
                        {
                            if (order.ShippingCountry == null
                                || !SupportedCountries.Contains(order.ShippingCountry))
                            {
                                error = "Unsupported shipping country";
                            }
                        }
                    }
                    else
                    {
                        error = "Order has no lines";
                    }
                }
                else
                {
                    error = "Missing customer";
                }
            }
            else
            {
                error = "Order is required";
            }
            return error;
        }
    }
}
