package serialize

import (
	"bytes"
	"encoding/base64"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// Cell is one value in canonical compact JSON. Two cells hold the same
// logical value exactly when their bytes are equal.
type Cell []byte

// NullCell is the cell of an SQL NULL.
var NullCell = Cell("null")

// AppendConverted appends the cell of column to for a driver value of
// column from, as another engine holds it: read as from's type, then as
// to's where they differ (a boolean into an integer column, JSON into
// text). It is the one conversion of values between engines.
func AppendConverted(dst []byte, from, to *Column, v any) ([]byte, error) {
	if from.Type == to.Type {
		return AppendCell(dst, from, v)
	}
	cell, err := AppendCell(nil, from, v)
	if err != nil {
		return dst, err
	}
	val, err := Value(from, cell)
	if err != nil {
		return dst, err
	}
	if b, ok := val.(bool); ok && to.Type == Int {
		val = map[bool]int64{false: 0, true: 1}[b]
	}
	return AppendCell(dst, to, val)
}

// AppendCell appends the canonical cell for v, a value as a database driver
// returns it (nil, int64, uint64, float64, float32, bool, string, []byte,
// time.Time), read from a column of logical type c.Type.
//
// A *[]byte is read as the []byte it points to: drivers that reuse one
// buffer per column pass pointers to avoid boxing a slice for every value.
func AppendCell(dst []byte, c *Column, v any) ([]byte, error) {
	switch x := v.(type) {
	case nil:
		return append(dst, "null"...), nil
	case *[]byte:
		return appendText(dst, c, *x)
	case string:
		if out, ok := appendTextFast(dst, c, x); ok {
			return out, nil
		}
	case []byte:
		if out, ok := appendTextFast(dst, c, x); ok {
			return out, nil
		}
	}
	return appendValue(dst, c, v)
}

// appendValue is AppendCell's general conversion, of every value of every
// type; appendTextFast leaves it the uncommon texts.
func appendValue(dst []byte, c *Column, v any) ([]byte, error) {
	if v == nil {
		return append(dst, "null"...), nil
	}
	switch c.Type {
	case Int:
		return appendInt(dst, v)
	case Float:
		return appendFloat(dst, v)
	case Decimal:
		return appendDecimal(dst, v, c.Scale)
	case Text:
		s, ok := asText(v)
		switch x := v.(type) { // SQLite stores numbers in untyped columns
		case int64:
			s, ok = strconv.FormatInt(x, 10), true
		case float64:
			s, ok = string(AppendFloat(nil, x, 64)), true
		}
		if !ok {
			return dst, typeError(v, "text")
		}
		if !utf8.ValidString(s) {
			return dst, fmt.Errorf("text is not valid UTF-8 (declare the column as bytes)")
		}
		return AppendString(dst, s), nil
	case Bytes:
		var b []byte
		switch x := v.(type) {
		case []byte:
			b = x
		case string:
			b = []byte(x)
		default:
			return dst, typeError(v, "bytes")
		}
		dst = append(dst, '"')
		dst = base64.StdEncoding.AppendEncode(dst, b)
		return append(dst, '"'), nil
	case Boolean:
		return appendBool(dst, v)
	case Date, Time, Timestamp, TimestampTZ:
		s, err := timeText(c.Type, v)
		if err != nil {
			return dst, err
		}
		return AppendString(dst, s), nil
	case JSON:
		switch x := v.(type) { // SQLite's NUMERIC affinity stores the JSON 10 as an integer
		case int64:
			return strconv.AppendInt(dst, x, 10), nil
		case float64:
			return AppendFloat(dst, x, 64), nil
		}
		s, ok := asText(v)
		if !ok {
			return dst, typeError(v, "JSON text")
		}
		n, err := Parse([]byte(s))
		if err != nil {
			return dst, err
		}
		return AppendCanonical(dst, &n, "", "")
	case UUID:
		s, err := uuidText(v)
		if err != nil {
			return dst, err
		}
		return AppendString(dst, s), nil
	}
	return dst, fmt.Errorf("unknown logical type %q", c.Type)
}

// appendText is AppendCell for a value in an engine's text form (NULL
// when nil).
func appendText(dst []byte, c *Column, b []byte) ([]byte, error) {
	if b == nil {
		return append(dst, "null"...), nil
	}
	if out, ok := appendTextFast(dst, c, b); ok {
		return out, nil
	}
	return appendValue(dst, c, b)
}

// appendTextFast appends the cell of the texts engines commonly write for
// a column's type, as appendValue would, without its strings and
// parsers: an export converts one per row and column. It reports false,
// having appended nothing, for any other text (another form, an error),
// which appendValue then converts.
func appendTextFast[T string | []byte](dst []byte, c *Column, s T) ([]byte, bool) {
	switch c.Type {
	case Int:
		if plainInt(s) {
			return append(dst, s...), true
		}
	case Text:
		if validUTF8(s) {
			return appendString(dst, s), true
		}
	case Decimal:
		return appendPlainDecimal(dst, s, c.Scale)
	case Boolean:
		if len(s) == 1 && (s[0] == 't' || s[0] == 'f' || s[0] == '0' || s[0] == '1') {
			return strconv.AppendBool(dst, s[0] == 't' || s[0] == '1'), true
		}
	case Float:
		if f, err := strconv.ParseFloat(string(s), 64); err == nil {
			return AppendFloat(dst, f, 64), true
		}
	case Date, Timestamp, TimestampTZ:
		return appendTimeCell(dst, c.Type, s)
	case Time:
		return appendClockCell(dst, s)
	case UUID:
		if plainUUID(s) {
			return appendString(dst, s), true
		}
	case Bytes:
		if b, ok := any(s).([]byte); ok {
			dst = append(dst, '"')
			dst = base64.StdEncoding.AppendEncode(dst, b)
			return append(dst, '"'), true
		}
	}
	return dst, false
}

func validUTF8[T string | []byte](s T) bool {
	if b, ok := any(s).([]byte); ok {
		return utf8.Valid(b)
	}
	return utf8.ValidString(string(s))
}

func typeError(v any, want string) error {
	return fmt.Errorf("the database holds %s, %s, where %s is expected", kindOf(v), Preview(v), want)
}

// kindOf names what a driver value is, in the database's words.
func kindOf(v any) string {
	switch v.(type) {
	case nil:
		return "NULL"
	case int64, int32, int, uint64:
		return "an integer"
	case float64, float32:
		return "a floating-point number"
	case bool:
		return "a boolean"
	case string, []byte, *[]byte:
		return "text"
	case time.Time:
		return "a timestamp"
	}
	return "a value"
}

// Preview shows a driver value for a message: quoted, cut at 40 bytes.
func Preview(v any) string {
	if p, ok := v.(*[]byte); ok { // a reused slot of raw text
		if p == nil || *p == nil {
			return "NULL"
		}
		v = *p
	}
	s := fmt.Sprint(v)
	if b, ok := v.([]byte); ok {
		s = string(b)
	}
	if len(s) > 40 {
		s = s[:40] + "…"
	}
	return strconv.Quote(s)
}

func asText(v any) (string, bool) {
	switch x := v.(type) {
	case string:
		return x, true
	case []byte:
		return string(x), true
	}
	return "", false
}

func appendInt(dst []byte, v any) ([]byte, error) {
	switch x := v.(type) {
	case int64:
		return strconv.AppendInt(dst, x, 10), nil
	case int32:
		return strconv.AppendInt(dst, int64(x), 10), nil
	case int:
		return strconv.AppendInt(dst, int64(x), 10), nil
	case uint64:
		return strconv.AppendUint(dst, x, 10), nil
	case float64:
		if x == math.Trunc(x) && math.Abs(x) <= 1<<53 {
			return strconv.AppendInt(dst, int64(x), 10), nil
		}
	case bool:
		if x {
			return append(dst, '1'), nil
		}
		return append(dst, '0'), nil
	case string, []byte:
		s, _ := asText(v)
		if n, err := strconv.ParseInt(s, 10, 64); err == nil {
			return strconv.AppendInt(dst, n, 10), nil
		}
		if n, err := strconv.ParseUint(s, 10, 64); err == nil {
			return strconv.AppendUint(dst, n, 10), nil
		}
	}
	return dst, typeError(v, "an integer")
}

func appendFloat(dst []byte, v any) ([]byte, error) {
	var f float64
	bits := 64
	switch x := v.(type) {
	case float64:
		f = x
	case float32:
		f, bits = float64(x), 32
	case int64:
		f = float64(x)
	case string, []byte:
		s, _ := asText(v)
		var err error
		if f, err = strconv.ParseFloat(s, 64); err != nil {
			return dst, typeError(v, "a number")
		}
	default:
		return dst, typeError(v, "a number")
	}
	return AppendFloat(dst, f, bits), nil
}

// AppendFloat appends f in ECMAScript form (RFC 8785 §3.2.2.3), using the
// shortest digits that read back as the same float of the given bit size.
// NaN and the infinities, which JSON cannot hold as numbers, are strings.
func AppendFloat(dst []byte, f float64, bits int) []byte {
	switch {
	case math.IsNaN(f):
		return append(dst, `"NaN"`...)
	case math.IsInf(f, 1):
		return append(dst, `"Infinity"`...)
	case math.IsInf(f, -1):
		return append(dst, `"-Infinity"`...)
	}
	var lit [32]byte
	out, _ := appendNumber(dst, strconv.AppendFloat(lit[:0], f, 'e', -1, bits))
	return out
}

// appendDecimal writes a decimal as a JSON number with exactly scale
// fractional digits (when the scale is fixed), so 12.30 stays 12.30.
func appendDecimal(dst []byte, v any, scale int) ([]byte, error) {
	var s string
	var num [32]byte // a number's text, off the heap
	switch x := v.(type) {
	case string:
		if out, ok := appendPlainDecimal(dst, x, scale); ok {
			return out, nil
		}
		s = x
	case []byte:
		if out, ok := appendPlainDecimal(dst, x, scale); ok {
			return out, nil
		}
		s = string(x)
	case int64:
		if out, ok := appendPlainDecimal(dst, strconv.AppendInt(num[:0], x, 10), scale); ok {
			return out, nil
		}
		s = strconv.FormatInt(x, 10)
	case float64:
		if out, ok := appendPlainDecimal(dst, strconv.AppendFloat(num[:0], x, 'f', scale, 64), scale); ok {
			return out, nil
		}
		s = strconv.FormatFloat(x, 'f', scale, 64)
	default:
		return dst, typeError(v, "a decimal")
	}
	d, err := NormalizeDecimal(s, scale)
	if err != nil {
		return dst, err
	}
	if d == "NaN" || d == "Infinity" || d == "-Infinity" {
		return AppendString(dst, d), nil
	}
	return append(dst, d...), nil
}

// NormalizeDecimal returns the canonical text of a decimal: no sign on zero,
// no leading zeros, and exactly scale fractional digits when scale >= 0
// (more non-zero digits than that are an error, never rounded away).
func NormalizeDecimal(s string, scale int) (string, error) {
	switch s {
	case "NaN", "Infinity", "-Infinity":
		return s, nil
	}
	bad := func() error { return fmt.Errorf("%q is not a decimal number", s) }
	if strings.ContainsAny(s, "eE") {
		// Exponent form (from a float): expand exactly.
		n, err := NormalizeNumber(s)
		if err != nil || strings.ContainsAny(n, "eE") {
			return "", bad()
		}
		s = n
	}
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(strings.TrimPrefix(s, "-"), "+")
	intPart, frac, _ := strings.Cut(s, ".")
	if intPart == "" && frac == "" || !allDigits(intPart) || !allDigits(frac) {
		return "", bad()
	}
	intPart = strings.TrimLeft(intPart, "0")
	if intPart == "" {
		intPart = "0"
	}
	if scale >= 0 {
		if len(frac) > scale {
			if strings.Trim(frac[scale:], "0") != "" {
				return "", fmt.Errorf("%q has more than %d decimal places", s, scale)
			}
			frac = frac[:scale]
		}
		frac += strings.Repeat("0", scale-len(frac))
	}
	out := intPart
	if frac != "" {
		out += "." + frac
	}
	if neg && strings.Trim(out, "0.") != "" {
		out = "-" + out
	}
	return out, nil
}

// appendPlainDecimal appends what NormalizeDecimal makes of a decimal in
// the plain form databases write (-12.50, 7, .5), without its strings: an
// export converts one per row and column. It reports false, having
// appended nothing, for any other text (an exponent, a "+", NaN, an
// error), which NormalizeDecimal then handles.
func appendPlainDecimal[T string | []byte](dst []byte, s T, scale int) ([]byte, bool) {
	neg := len(s) > 0 && s[0] == '-'
	if neg {
		s = s[1:]
	}
	intPart, frac := s, s[len(s):]
	for i := 0; i < len(s); i++ {
		if s[i] == '.' {
			intPart, frac = s[:i], s[i+1:]
			break
		}
	}
	if len(intPart) == 0 && len(frac) == 0 || !allDigits(intPart) || !allDigits(frac) {
		return dst, false
	}
	for len(intPart) > 0 && intPart[0] == '0' {
		intPart = intPart[1:]
	}
	if scale >= 0 && len(frac) > scale {
		if !allZeros(frac[scale:]) {
			return dst, false
		}
		frac = frac[:scale]
	}
	if neg && (len(intPart) > 0 || !allZeros(frac)) {
		dst = append(dst, '-')
	}
	if len(intPart) == 0 {
		dst = append(dst, '0')
	} else {
		dst = append(dst, intPart...)
	}
	pad := max(scale-len(frac), 0)
	if len(frac)+pad > 0 {
		dst = append(dst, '.')
		dst = append(dst, frac...)
		for ; pad > 0; pad-- {
			dst = append(dst, '0')
		}
	}
	return dst, true
}

func allZeros[T string | []byte](s T) bool {
	for i := 0; i < len(s); i++ {
		if s[i] != '0' {
			return false
		}
	}
	return true
}

func allDigits[T string | []byte](s T) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

func appendBool(dst []byte, v any) ([]byte, error) {
	var b bool
	switch x := v.(type) {
	case bool:
		b = x
	case int64:
		if x != 0 && x != 1 {
			return dst, typeError(v, "a boolean (0 or 1)")
		}
		b = x == 1
	case string, []byte:
		s, _ := asText(v)
		switch strings.ToLower(s) {
		case "1", "t", "true", "y", "yes", "on":
			b = true
		case "0", "f", "false", "n", "no", "off":
		default:
			return dst, typeError(v, "a boolean")
		}
	default:
		return dst, typeError(v, "a boolean")
	}
	return strconv.AppendBool(dst, b), nil
}

// Canonical text layouts of the time types.
const (
	dateLayout      = "2006-01-02"
	timeLayout      = "15:04:05.999999999"
	timestampLayout = "2006-01-02T15:04:05.999999999"
)

// timeInputs are the text forms accepted from databases, SQLite's among them
// (https://www.sqlite.org/lang_datefunc.html, formats 2–10).
var timeInputs = []string{
	"2006-01-02T15:04:05.999999999Z07:00",
	"2006-01-02 15:04:05.999999999Z07:00",
	"2006-01-02T15:04:05.999999999",
	"2006-01-02 15:04:05.999999999",
	"2006-01-02T15:04",
	"2006-01-02 15:04",
	"2006-01-02",
}

func timeText(t Type, v any) (string, error) {
	var tm time.Time
	switch x := v.(type) {
	case time.Time:
		tm = x
	case int64: // Unix seconds, as SQLite's unixepoch() stores them
		tm = time.Unix(x, 0).UTC()
	case string, []byte:
		s, _ := asText(v)
		if t == Time {
			tt, err := time.Parse(timeLayout, s)
			if err != nil {
				return "", typeError(v, "a time of day (HH:MM:SS)")
			}
			return tt.Format(timeLayout), nil
		}
		var err error
		if tm, err = parseTimestamp(s); err != nil {
			return "", typeError(v, "a "+string(t))
		}
	default:
		return "", typeError(v, "a "+string(t))
	}
	switch t {
	case Date:
		if h, m, s := tm.Clock(); h != 0 || m != 0 || s != 0 || tm.Nanosecond() != 0 {
			return "", typeError(v, "a date without a time of day")
		}
		return tm.Format(dateLayout), nil
	case Time:
		return tm.Format(timeLayout), nil
	case Timestamp:
		return tm.Format(timestampLayout), nil
	default: // TimestampTZ
		return tm.UTC().Format(timestampLayout) + "Z", nil
	}
}

// canonicalTime writes the commonest texts of a date or a timestamp
// without a zone (YYYY-MM-DD, YYYY-MM-DD[ T]HH:MM:SS[.fraction]) in
// canonical form without time.Format, as it would: T between date and
// time, the fraction without trailing zeros. It reports false for
// anything else.
func canonicalTime(t Type, s string) (string, bool) {
	if !isoShape(t, s) {
		return "", false
	}
	if t == Date {
		return s, true
	}
	if len(s) > 19 {
		s = strings.TrimRight(s, "0")
		s = strings.TrimSuffix(s, ".")
	}
	if s[10] == 'T' {
		return s, true
	}
	return s[:10] + "T" + s[11:], true
}

// isoShape reports a date (t Date) or a timestamp without a zone (t
// Timestamp) in one of the forms canonicalTime and appendTimeCell write
// without time.Format.
func isoShape[T string | []byte](t Type, s T) bool {
	switch {
	case t == Date && len(s) == 10:
	case t == Timestamp && len(s) >= 19 && (len(s) == 19 || s[19] == '.'):
	default:
		return false
	}
	_, ok := parseISO(s)
	return ok
}

// appendTimeCell appends the cell canonicalTime makes of a date or a
// timestamp, quoted; for a timestamp with a time zone, of a timestamp
// without one, which is UTC (what PostgreSQL's reader leaves of +00, what
// SQLite and MySQL store), with its Z.
func appendTimeCell[T string | []byte](dst []byte, t Type, s T) ([]byte, bool) {
	shape := t
	if t == TimestampTZ {
		shape = Timestamp
	}
	if !isoShape(shape, s) {
		return dst, false
	}
	dst = append(dst, '"')
	if t == Date {
		dst = append(dst, s...)
		return append(dst, '"'), true
	}
	if len(s) > 19 {
		for s[len(s)-1] == '0' {
			s = s[:len(s)-1]
		}
		if s[len(s)-1] == '.' {
			s = s[:len(s)-1]
		}
	}
	dst = append(dst, s[:10]...)
	dst = append(dst, 'T')
	dst = append(dst, s[11:]...)
	if t == TimestampTZ {
		dst = append(dst, 'Z')
	}
	return append(dst, '"'), true
}

// appendClockCell appends the cell of a time of day written HH:MM:SS with
// up to nine digits of fraction, as time.Format writes it: the fraction
// without trailing zeros. It reports false for any other text (a single
// digit of hour, 24:00:00, MySQL's durations), for time.Parse to judge.
func appendClockCell[T string | []byte](dst []byte, s T) ([]byte, bool) {
	if len(s) < 8 || len(s) == 9 || len(s) > 18 || s[2] != ':' || s[5] != ':' || len(s) > 8 && s[8] != '.' {
		return dst, false
	}
	two := func(i int) int {
		if s[i] < '0' || s[i] > '9' || s[i+1] < '0' || s[i+1] > '9' {
			return 99
		}
		return int(s[i]-'0')*10 + int(s[i+1]-'0')
	}
	if two(0) > 23 || two(3) > 59 || two(6) > 59 || !allDigits(s[min(9, len(s)):]) {
		return dst, false
	}
	for len(s) > 8 && (s[len(s)-1] == '0' || s[len(s)-1] == '.') {
		s = s[:len(s)-1]
	}
	dst = append(dst, '"')
	dst = append(dst, s...)
	return append(dst, '"'), true
}

// parseTimestamp reads the ISO 8601 forms databases write; the common
// ones without time.Parse, which is slow when it tries several layouts.
func parseTimestamp(s string) (time.Time, error) {
	if t, ok := parseISO(s); ok {
		return t, nil
	}
	var err error
	for _, layout := range timeInputs {
		var tm time.Time
		if tm, err = time.Parse(layout, s); err == nil {
			return tm, nil
		}
	}
	return time.Time{}, err
}

// parseISO parses YYYY-MM-DD[( |T)HH:MM[:SS[.fraction]]] in UTC, or
// reports false for anything else (zones included), for time.Parse to try.
func parseISO[T string | []byte](s T) (time.Time, bool) {
	num := func(i, n int) (int, bool) {
		if i+n > len(s) {
			return 0, false
		}
		v := 0
		for j := i; j < i+n; j++ {
			c := s[j]
			if c < '0' || c > '9' {
				return 0, false
			}
			v = v*10 + int(c-'0')
		}
		return v, true
	}
	y, ok1 := num(0, 4)
	mo, ok2 := num(5, 2)
	d, ok3 := num(8, 2)
	if !ok1 || !ok2 || !ok3 || s[4] != '-' || s[7] != '-' {
		return time.Time{}, false
	}
	var h, mi, sec, nsec int
	if len(s) > 10 {
		var ok4, ok5 bool
		h, ok4 = num(11, 2)
		mi, ok5 = num(14, 2)
		if (s[10] != ' ' && s[10] != 'T') || !ok4 || !ok5 || s[13] != ':' {
			return time.Time{}, false
		}
		rest := s[16:]
		if len(rest) > 0 {
			var ok bool
			if sec, ok = num(17, 2); !ok || rest[0] != ':' {
				return time.Time{}, false
			}
			rest = s[19:]
		}
		if len(rest) > 0 {
			if rest[0] != '.' || len(rest) < 2 || len(rest) > 10 {
				return time.Time{}, false
			}
			frac, ok := num(20, len(rest)-1)
			if !ok {
				return time.Time{}, false
			}
			for i := len(rest) - 1; i < 9; i++ {
				frac *= 10
			}
			nsec = frac
		}
	} else if len(s) != 10 {
		return time.Time{}, false
	}
	t := time.Date(y, time.Month(mo), d, h, mi, sec, nsec, time.UTC)
	// time.Date normalizes 2024-02-30 to March: reject what it moved.
	if t.Year() != y || int(t.Month()) != mo || t.Day() != d || t.Hour() != h || t.Minute() != mi || t.Second() != sec {
		return time.Time{}, false
	}
	return t, true
}

func uuidText(v any) (string, error) {
	var s string
	switch x := v.(type) {
	case string:
		s = x
	case []byte:
		if len(x) == 16 {
			const hex = "0123456789abcdef"
			var b strings.Builder
			for i, c := range x {
				if i == 4 || i == 6 || i == 8 || i == 10 {
					b.WriteByte('-')
				}
				b.WriteByte(hex[c>>4])
				b.WriteByte(hex[c&0xf])
			}
			return b.String(), nil
		}
		s = string(x)
	case [16]byte:
		return uuidText(x[:])
	default:
		return "", typeError(v, "a UUID")
	}
	s = strings.ToLower(strings.Trim(s, "{}"))
	if len(s) != 36 || s[8] != '-' || s[13] != '-' || s[18] != '-' || s[23] != '-' ||
		!isHex(s[:8]+s[9:13]+s[14:18]+s[19:23]+s[24:]) {
		return "", typeError(v, "a UUID")
	}
	return s, nil
}

// plainUUID reports a UUID in its canonical text: lowercase hex digits
// grouped 8-4-4-4-12, which uuidText leaves as it is.
func plainUUID[T string | []byte](s T) bool {
	if len(s) != 36 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if i == 8 || i == 13 || i == 18 || i == 23 {
			if c != '-' {
				return false
			}
		} else if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f') {
			return false
		}
	}
	return true
}

func isHex(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f') {
			return false
		}
	}
	return true
}

// Value converts a cell back into a Go value for a database parameter:
// nil, int64 (uint64 above MaxInt64), float64, string (text, decimal, time
// types, UUID), []byte, bool, or for JSON the canonical JSON text. It
// rejects a cell that is not the canonical form of c.Type.
func Value(c *Column, cell Cell) (any, error) {
	if v, ok := fastValue(c, cell); ok {
		return v, nil
	}
	n, err := Parse(cell)
	if err != nil {
		return nil, err
	}
	v, err := nodeValue(c, &n)
	if err != nil {
		return nil, err
	}
	return v, nil
}

// fastValue reads the commonest cells without the JSON parser, as
// decodeCell does: null, a plain integer, text without escapes, canonical
// dates and timestamps.
func fastValue(c *Column, cell Cell) (any, bool) {
	switch {
	case string(cell) == "null":
		return nil, true
	case c.Type == Int && plainInt([]byte(cell)):
		if i, err := strconv.ParseInt(string(cell), 10, 64); err == nil {
			return i, true
		}
	case len(cell) < 2 || cell[0] != '"' || cell[len(cell)-1] != '"':
	case c.Type == Text:
		s := cell[1 : len(cell)-1]
		if bytes.IndexByte(s, '\\') < 0 && bytes.IndexByte(s, '"') < 0 && utf8.Valid(s) {
			return string(s), true
		}
	case c.Type == Date || c.Type == Timestamp || c.Type == TimestampTZ:
		// canonical already when canonicalTime leaves it as it is
		s := string(cell[1 : len(cell)-1])
		t, text := c.Type, s
		if t == TimestampTZ {
			t, text = Timestamp, strings.TrimSuffix(s, "Z")
			if len(text) == len(s) {
				return nil, false
			}
		}
		if canon, ok := canonicalTime(t, text); ok && canon == text {
			return s, true
		}
	}
	return nil, false
}

// nodeValue validates a parsed cell against the column type and returns
// its Go value.
func nodeValue(c *Column, n *Node) (any, error) {
	if n.Kind == Null {
		return nil, nil
	}
	want := func(k Kind, what string) error {
		if n.Kind != k {
			return fmt.Errorf("want %s for a %s column", what, c.Type)
		}
		return nil
	}
	switch c.Type {
	case Int:
		if err := want(Number, "an integer"); err != nil {
			return nil, err
		}
		if i, err := strconv.ParseInt(n.Text, 10, 64); err == nil {
			return i, nil
		}
		if u, err := strconv.ParseUint(n.Text, 10, 64); err == nil {
			return u, nil
		}
		return nil, fmt.Errorf("%s is not a 64-bit integer", n.Text)
	case Float:
		if n.Kind == String {
			switch n.Text {
			case "NaN":
				return math.NaN(), nil
			case "Infinity":
				return math.Inf(1), nil
			case "-Infinity":
				return math.Inf(-1), nil
			}
		}
		if err := want(Number, "a number"); err != nil {
			return nil, err
		}
		return strconv.ParseFloat(n.Text, 64)
	case Decimal:
		if n.Kind == String {
			return NormalizeDecimal(n.Text, -1)
		}
		if err := want(Number, "a number"); err != nil {
			return nil, err
		}
		return NormalizeDecimal(n.Text, c.Scale)
	case Boolean:
		if err := want(Bool, "true or false"); err != nil {
			return nil, err
		}
		return n.Text == "true", nil
	case JSON, Ref:
		out, err := AppendCanonical(nil, n, "", "")
		return string(out), err
	}
	if err := want(String, "a string"); err != nil {
		return nil, err
	}
	switch c.Type {
	case Text:
		return n.Text, nil
	case Bytes:
		return base64.StdEncoding.DecodeString(n.Text)
	case UUID:
		return uuidText(n.Text)
	case Time:
		return timeText(c.Type, n.Text)
	case Date, Timestamp, TimestampTZ:
		tm, err := parseTimestamp(strings.TrimSuffix(n.Text, "Z"))
		if err != nil {
			return nil, fmt.Errorf("%q is not a %s", n.Text, c.Type)
		}
		return timeText(c.Type, tm)
	}
	return nil, fmt.Errorf("unknown logical type %q", c.Type)
}
