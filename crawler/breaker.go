package crawler

import (
	"fmt"
	"sync"
	"time"
)

// breaker is a per-marketplace circuit breaker: after a run of failures it
// refuses requests for a cool-down, then lets one trial through; the
// trial's outcome closes or re-opens it.
type breaker struct {
	threshold int
	cooldown  time.Duration

	mu        sync.Mutex
	failures  int
	openUntil time.Time
	trial     bool // a half-open trial is in flight
}

func newBreaker(threshold int, cooldown time.Duration) *breaker {
	return &breaker{threshold: threshold, cooldown: cooldown}
}

// allow reports ErrCircuitOpen while the breaker is open.
func (b *breaker) allow() error {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.openUntil.IsZero() {
		return nil
	}
	now := time.Now()
	if now.Before(b.openUntil) {
		return fmt.Errorf("open for %s more: %w", b.openUntil.Sub(now).Round(time.Millisecond), ErrCircuitOpen)
	}
	if b.trial {
		return fmt.Errorf("half-open, trial in flight: %w", ErrCircuitOpen)
	}
	b.trial = true
	return nil
}

func (b *breaker) success() {
	b.mu.Lock()
	b.failures = 0
	b.openUntil = time.Time{}
	b.trial = false
	b.mu.Unlock()
}

func (b *breaker) failure() {
	b.mu.Lock()
	b.failures++
	if b.trial || b.failures >= b.threshold {
		b.openUntil = time.Now().Add(b.cooldown)
		b.trial = false
	}
	b.mu.Unlock()
}

// trip opens the breaker at once (a block page).
func (b *breaker) trip() {
	b.mu.Lock()
	b.failures = b.threshold
	b.openUntil = time.Now().Add(b.cooldown)
	b.trial = false
	b.mu.Unlock()
}

// neutral ends a half-open trial whose outcome says nothing about the site
// (our own refusal, a cancelled context), so that the next request may try.
func (b *breaker) neutral() {
	b.mu.Lock()
	b.trial = false
	b.mu.Unlock()
}
