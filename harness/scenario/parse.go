package scenario

import (
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
)

// ParseDuration parses a Go-style duration ("150ms", "3s"). A bare number is
// rejected, except "0". Negative durations are rejected.
func ParseDuration(s string) (time.Duration, error) {
	t := strings.TrimSpace(s)
	if t == "0" {
		return 0, nil
	}
	d, err := time.ParseDuration(t)
	if err != nil {
		return 0, fmt.Errorf("invalid duration %q (want e.g. 150ms)", s)
	}
	if d < 0 {
		return 0, fmt.Errorf("negative duration %q", s)
	}
	return d, nil
}

var sizeUnits = []struct {
	suffix string
	mult   int64
}{
	{"GiB", 1 << 30},
	{"MiB", 1 << 20},
	{"KiB", 1 << 10},
	{"B", 1},
}

// ParseSize parses a byte size: a non-negative integer with an optional unit
// B, KiB, MiB or GiB ("1KiB" = 1024, "512B", "512"). Decimal units such as
// KB are rejected as ambiguous.
func ParseSize(s string) (int64, error) {
	t := strings.TrimSpace(s)
	bad := fmt.Errorf("invalid size %q (want e.g. 1KiB, 512B)", s)
	if t == "" {
		return 0, bad
	}
	mult := int64(1)
	for _, u := range sizeUnits {
		if strings.HasSuffix(t, u.suffix) {
			t = strings.TrimSpace(strings.TrimSuffix(t, u.suffix))
			mult = u.mult
			break
		}
	}
	if t == "" || strings.ContainsAny(t, "+-") {
		return 0, bad
	}
	n, err := strconv.ParseInt(t, 10, 64)
	if err != nil {
		var ne *strconv.NumError
		if errors.As(err, &ne) && errors.Is(ne.Err, strconv.ErrRange) {
			return 0, fmt.Errorf("size %q too large", s)
		}
		return 0, bad
	}
	if n > math.MaxInt64/mult {
		return 0, fmt.Errorf("size %q too large", s)
	}
	return n * mult, nil
}

// FormatSize renders n bytes with the largest binary unit that divides it
// exactly ("1KiB", "1536B"); ParseSize reads it back.
func FormatSize(n int64) string {
	if n == 0 {
		return "0B"
	}
	for _, u := range sizeUnits {
		if n%u.mult == 0 {
			return strconv.FormatInt(n/u.mult, 10) + u.suffix
		}
	}
	return strconv.FormatInt(n, 10) + "B"
}

// ParseRate parses a rate in messages per second written "N/s" ("100/s",
// "2.5/s"). The rate must be a finite number ≥ 0.
func ParseRate(s string) (float64, error) {
	t := strings.TrimSpace(s)
	num, ok := strings.CutSuffix(t, "/s")
	if !ok {
		return 0, fmt.Errorf("invalid rate %q (want e.g. 100/s)", s)
	}
	f, err := strconv.ParseFloat(strings.TrimSpace(num), 64)
	if err != nil || math.IsNaN(f) || math.IsInf(f, 0) {
		return 0, fmt.Errorf("invalid rate %q (want e.g. 100/s)", s)
	}
	if f < 0 {
		return 0, fmt.Errorf("negative rate %q", s)
	}
	return f, nil
}

// FormatRate renders a rate per second as "N/s".
func FormatRate(f float64) string { return formatFloat(f) + "/s" }

func formatInt(n int64) string { return strconv.FormatInt(n, 10) }

func formatFloat(f float64) string { return strconv.FormatFloat(f, 'g', -1, 64) }

// formatDuration renders d so that ParseDuration reads it back.
func formatDuration(d time.Duration) string { return d.String() }
