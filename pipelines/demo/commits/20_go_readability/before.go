// Package billing renders monthly usage reports for customers.
package billing

import (
	"fmt"
	"io"
	"sort"
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

	if _, err := fmt.Fprintf(w, "Usage report for %s\n", customer); err != nil {
		return err
	}
	if _, err := fmt.Fprintf(w, "%-24s %10s %12s\n", "Product", "Quantity", "Amount"); err != nil {
		return err
	}

	var total int64
	for _, it := range items {
		amt := it.Quantity * it.UnitCost
		total += amt
		if _, err := fmt.Fprintf(w, "%-24s %10d %9d.%02d\n", it.Product, it.Quantity, amt/100, amt%100); err != nil {
			return err
		}
	}

	if total > 100000 {
		disc := total * 5 / 100
		if _, err := fmt.Fprintf(w, "%-24s %10s %9d.%02d\n", "Volume discount", "", -disc/100, disc%100); err != nil {
			return err
		}
		total -= disc
	}
	if _, err := fmt.Fprintf(w, "%-24s %10s %9d.%02d\n", "Total", "", total/100, total%100); err != nil {
		return err
	}
	return nil
}
