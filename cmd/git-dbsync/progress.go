package main

import (
	"fmt"
	"io"
	"sync"
	"time"

	"github.com/schollz/progressbar/v3"

	"github.com/gitdbsync/git-dbsync/internal/progress"
)

// progressAfter is how long a command runs before its progress shows: work
// that ends sooner never draws.
const progressAfter = time.Second

// progressDisplay draws the engine's meter on stderr, a terminal, while a
// command runs. Everything else the command writes to stdout or stderr
// goes through it (pausing), so a bar never mixes with other output: a
// write clears the bar, and it stays hidden until the meter moves again,
// so a question waiting for an answer keeps its line.
type progressDisplay struct {
	meter progress.Meter
	term  io.Writer
	stop  chan struct{}
	done  chan struct{}

	mu        sync.Mutex
	bar       *progressbar.ProgressBar
	phase     string
	shown     bool
	hiddenAt  int64 // the rows done when a write hid the bar
	hiddenFor string
}

func newProgressDisplay(term io.Writer) *progressDisplay {
	d := &progressDisplay{term: term, stop: make(chan struct{}), done: make(chan struct{})}
	go d.run()
	return d
}

func (d *progressDisplay) run() {
	defer close(d.done)
	select {
	case <-d.stop:
		return
	case <-time.After(progressAfter):
	}
	tick := time.NewTicker(100 * time.Millisecond)
	defer tick.Stop()
	for {
		d.draw()
		select {
		case <-d.stop:
			return
		case <-tick.C:
		}
	}
}

// draw redraws the bar for the meter's phase, unless output hid it and the
// meter has not moved since.
func (d *progressDisplay) draw() {
	d.mu.Lock()
	defer d.mu.Unlock()
	phase, done, total := d.meter.Read()
	if phase == "" || !d.shown && d.hiddenFor == phase && d.hiddenAt == done {
		return
	}
	if d.bar == nil || phase != d.phase {
		// One line at a time: the previous phase's line goes, and its bar
		// is told so (a finished bar draws nothing more).
		d.clear()
		if d.bar != nil {
			_ = d.bar.Exit()
		}
		d.phase = phase
		options := []progressbar.Option{
			progressbar.OptionSetWriter(d.term),
			progressbar.OptionSetDescription(phase),
			progressbar.OptionSetWidth(30),
			progressbar.OptionSetPredictTime(false), // its clock starts with the bar, not the phase
			progressbar.OptionThrottle(0),
			progressbar.OptionUseANSICodes(true),
			progressbar.OptionSpinnerType(14),
			// No redraws of its own: the library's spinner ticker would
			// keep drawing an old phase over the next one's line, and over
			// output that hid it. draw, every 100 ms, is the one painter.
			progressbar.OptionSetSpinnerChangeInterval(0),
		}
		if total >= 0 {
			options = append(options, progressbar.OptionShowCount())
		}
		d.bar = progressbar.NewOptions64(total, options...)
	}
	// The rate is the meter's, since its phase began: the bar starts
	// later (a phase is shown once it has taken a while), and its own
	// rate would count every row done before as done at once.
	desc := phase
	if total < 0 { // a spinner: the count goes in the description
		desc += " " + plural(int(done), "row")
	}
	if rate := d.meter.Rate(); rate >= 1 {
		desc += fmt.Sprintf(" (%.0f rows/s)", rate)
	}
	d.bar.Describe(desc)
	_ = d.bar.Set64(done)
	d.shown = true
}

// clear erases the bar from the terminal; the caller holds mu.
func (d *progressDisplay) clear() {
	if d.shown {
		_ = d.bar.Clear()
		d.shown = false
	}
}

// pause wraps a stream the command writes to: each write clears the bar
// first.
func (d *progressDisplay) pause(w io.Writer) io.Writer {
	return writerFunc(func(p []byte) (int, error) {
		d.mu.Lock()
		defer d.mu.Unlock()
		if d.shown {
			d.clear()
		}
		d.hiddenFor, d.hiddenAt, _ = d.meter.Read()
		return w.Write(p)
	})
}

// close stops drawing and erases the bar.
func (d *progressDisplay) close() {
	close(d.stop)
	<-d.done
	d.mu.Lock()
	d.clear()
	d.mu.Unlock()
}

type writerFunc func([]byte) (int, error)

func (f writerFunc) Write(p []byte) (int, error) { return f(p) }
