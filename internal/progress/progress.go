// Package progress counts how far a long command has come, for a display
// to draw: the engine counts rows as it reads and writes them, the command
// layer polls the meter and draws. A nil meter counts nothing, so the
// engine never checks whether anyone is watching.
package progress

import (
	"sync"
	"sync/atomic"
	"time"
)

// Meter is the progress of the current phase of a command: rows read while
// exporting or planning, rows written while applying.
type Meter struct {
	mu      sync.Mutex
	phase   string
	total   int64 // -1 when unknown
	started time.Time
	done    atomic.Int64
}

// Start begins a phase of total rows (-1 when the total is unknown).
func (m *Meter) Start(phase string, total int64) {
	if m == nil {
		return
	}
	m.mu.Lock()
	m.phase, m.total, m.started = phase, total, time.Now()
	m.done.Store(0)
	m.mu.Unlock()
}

// Add counts n more rows done. It is cheap: one atomic addition.
func (m *Meter) Add(n int) {
	if m != nil {
		m.done.Add(int64(n))
	}
}

// Rate returns the rows done per second since the phase started.
func (m *Meter) Rate() float64 {
	m.mu.Lock()
	started := m.started
	m.mu.Unlock()
	if d := time.Since(started).Seconds(); d > 0 {
		return float64(m.done.Load()) / d
	}
	return 0
}

// Read returns the current phase, the rows done and the total.
func (m *Meter) Read() (phase string, done, total int64) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.phase, m.done.Load(), m.total
}
