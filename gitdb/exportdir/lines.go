package exportdir

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"

	"github.com/gitdbsync/git-dbsync/serialize"
)

// oldLines reads the previous lines file alongside the new rows.
type oldLines struct {
	f    *os.File
	r    *bufio.Reader
	meta *serialize.Table
	line []byte // current old line, nil at the end; valid until next
	long []byte // holds a line longer than r's buffer
}

func openLines(p string, meta *serialize.Table) (*oldLines, error) {
	o := &oldLines{meta: meta}
	f, err := os.Open(p)
	if errors.Is(err, fs.ErrNotExist) {
		return o, nil
	}
	if err != nil {
		return nil, err
	}
	o.f, o.r = f, bufio.NewReaderSize(f, 1<<16)
	return o, o.next()
}

func (o *oldLines) close() {
	if o.f != nil {
		o.f.Close()
	}
}

func (o *oldLines) next() error {
	if o.r == nil {
		o.line = nil
		return nil
	}
	line, err := readLine(o.r, &o.long) // only compared before the next is read
	if bytes.HasPrefix(line, []byte("<<<<<<< ")) {
		return fmt.Errorf("%s holds conflict markers: resolve them, or restore the file (git checkout), before exporting over it", o.f.Name())
	}
	if err == io.EOF {
		if len(line) == 0 {
			o.line = nil
			return nil
		}
		err = nil // a last line without newline differs from ours and counts as changed
	}
	o.line = line
	return err
}

// match advances the old file past the row whose new line is given and
// counts whether that row was added, changed or unchanged.
func (o *oldLines) match(line []byte, r serialize.Row, c *Counts) error {
	for o.line != nil {
		if bytes.Equal(o.line, line) {
			return o.next()
		}
		oldKey, err := o.meta.DecodeKey(o.line)
		cmp := -1 // an unreadable old line counts as removed
		if err == nil {
			cmp = o.meta.CompareKeys(oldKey, r)
		}
		switch {
		case cmp < 0:
			c.Removed++
			if err := o.next(); err != nil {
				return err
			}
			continue
		case cmp == 0:
			c.Changed++
			return o.next()
		}
		break
	}
	c.Added++
	return nil
}

// rest counts the old rows after the last new one as removed.
func (o *oldLines) rest(c *Counts) error {
	for o.line != nil {
		c.Removed++
		if err := o.next(); err != nil {
			return err
		}
	}
	return nil
}

// readLine reads the next line without copying it (ReadBytes made a copy
// of every line): the line is the reader's buffer, valid until the next
// read, or *long, which holds a line longer than the buffer.
func readLine(r *bufio.Reader, long *[]byte) ([]byte, error) {
	line, err := r.ReadSlice('\n')
	if err != bufio.ErrBufferFull {
		return line, err
	}
	*long = append((*long)[:0], line...)
	for err == bufio.ErrBufferFull {
		line, err = r.ReadSlice('\n')
		*long = append(*long, line...)
	}
	return *long, err
}
