// Package ratelimit implements a per-client token bucket limiter.
package ratelimit

import (
	"sync"
	"time"
)

// Bucket is a token bucket that refills continuously at a fixed rate.
// It is safe for concurrent use.
type Bucket struct {
	mu sync.Mutex

	capacity   float64
	tokens     float64
	refillRate float64 // tokens per second
	lastRefill time.Time
	now        func() time.Time
}

// NewBucket returns a full bucket holding up to capacity tokens.
func NewBucket(capacity int, perSecond float64) *Bucket {
	b := &Bucket{
		capacity:   float64(capacity),
		tokens:     float64(capacity),
		refillRate: perSecond,
		now:        time.Now,
	}
	b.lastRefill = b.now()
	return b
}

// Allow reports whether one request may proceed, consuming a token if so.
func (b *Bucket) Allow() bool {
	return b.AllowN(1)
}

// AllowN reports whether n requests may proceed, consuming n tokens if so.
func (b *Bucket) AllowN(n int) bool {
	b.mu.Lock()
	defer b.mu.Unlock()

	b.refill()
	if b.tokens < float64(n) {
		return false
	}
	b.tokens -= float64(n)
	return true
}

// Remaining returns the number of whole tokens currently available.
func (b *Bucket) Remaining() int {
	b.mu.Lock()
	defer b.mu.Unlock()

	b.refill()
	return int(b.tokens)
}

// refill must be called with b.mu held.
func (b *Bucket) refill() {
	now := b.now()
	elapsed := now.Sub(b.lastRefill).Seconds()
	if elapsed <= 0 {
		return
	}
	b.tokens += elapsed * b.refillRate
	if b.tokens > b.capacity {
		b.tokens = b.capacity
	}
	b.lastRefill = now
}
