// Package billing renders monthly usage reports for customers.
package billing

import (
	"fmt"
	"io"
	"sort"
)

const (
	// Customers whose monthly usage exceeds this many cents get a discount.
	volumeDiscountThresholdCents = 100000
	volumeDiscountPercent        = 5
)

// LineItem is one metered product on a usage report.
type LineItem struct {
	Product  string
	Quantity int64
	UnitCost int64 // in cents
}

// WriteReport writes a plain-text usage report for one customer.
func WriteReport(w io.Writer, customer string, items []LineItem) error {
	sort.Slice(items, func(i, j int) bool { return items[i].Product < items[j].Product })

	ew := &errWriter{w: w}
	ew.printf("Usage report for %s\n", customer)
	ew.printf("%-24s %10s %12s\n", "Product", "Quantity", "Amount")

	var total int64
	for _, item := range items {
		amount := item.Quantity * item.UnitCost
		total += amount
		ew.printf("%-24s %10d %12s\n", item.Product, item.Quantity, formatCents(amount))
	}

	if total > volumeDiscountThresholdCents {
		discount := total * volumeDiscountPercent / 100
		ew.printf("%-24s %10s %12s\n", "Volume discount", "", formatCents(-discount))
		total -= discount
	}
	ew.printf("%-24s %10s %12s\n", "Total", "", formatCents(total))
	return ew.err
}

// errWriter remembers the first write error so callers can check it once.
type errWriter struct {
	w   io.Writer
	err error
}

func (ew *errWriter) printf(format string, args ...any) {
	if ew.err != nil {
		return
	}
	_, ew.err = fmt.Fprintf(ew.w, format, args...)
}

// formatCents renders an amount in cents as a signed decimal, e.g. -0.45.
func formatCents(cents int64) string {
	sign := ""
	if cents < 0 {
		sign, cents = "-", -cents
	}
	return fmt.Sprintf("%s%d.%02d", sign, cents/100, cents%100)
}
