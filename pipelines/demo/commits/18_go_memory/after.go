// Package feeds downloads product feeds from partner endpoints.
package feeds

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
)

// Product is one item in a partner feed.
type Product struct {
	SKU   string  `json:"sku"`
	Title string  `json:"title"`
	Price float64 `json:"price"`
	Stock int     `json:"stock"`
}

// Client fetches feeds over HTTP.
type Client struct {
	HTTP *http.Client
}

// FetchFeed downloads the JSON array at url and calls fn for every
// product that is in stock.
func (c *Client) FetchFeed(ctx context.Context, url string, fn func(Product) error) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return err
	}
	resp, err := c.HTTP.Do(req)
	if err != nil {
		return fmt.Errorf("fetch %s: %w", url, err)
	}
	defer resp.Body.Close()

	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("fetch %s: unexpected status %s", url, resp.Status)
	}

	dec := json.NewDecoder(resp.Body)
	if _, err := dec.Token(); err != nil { // opening '['
		return fmt.Errorf("decode %s: %w", url, err)
	}

	for dec.More() {
		var p Product
		if err := dec.Decode(&p); err != nil {
			return fmt.Errorf("decode %s: %w", url, err)
		}
		if p.Stock <= 0 {
			continue
		}
		if err := fn(p); err != nil {
			return err
		}
	}
	if _, err := dec.Token(); err != nil { // closing ']'
		return fmt.Errorf("decode %s: %w", url, err)
	}
	return nil
}
