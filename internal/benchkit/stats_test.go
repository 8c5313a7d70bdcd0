package benchkit

import (
	"testing"
	"time"
)

func TestMedian(t *testing.T) {
	for _, tc := range []struct {
		in   []time.Duration
		want time.Duration
	}{
		{nil, 0},
		{[]time.Duration{3, 1, 2}, 2},
		{[]time.Duration{4, 1, 3, 2}, 2}, // (2+3)/2, rounded down
		{[]time.Duration{10, 20}, 15},
	} {
		if got := Median(tc.in); got != tc.want {
			t.Errorf("Median(%v) = %v, want %v", tc.in, got, tc.want)
		}
	}
}

func TestPercentile(t *testing.T) {
	var sorted []time.Duration
	for i := 1; i <= 200; i++ {
		sorted = append(sorted, time.Duration(i))
	}
	for _, tc := range []struct {
		p    float64
		want time.Duration
	}{{0.50, 100}, {0.99, 198}, {1, 200}, {0, 1}} {
		if got := Percentile(sorted, tc.p); got != tc.want {
			t.Errorf("Percentile(1..200, %v) = %v, want %v", tc.p, got, tc.want)
		}
	}
	if got := Percentile(nil, 0.5); got != 0 {
		t.Errorf("Percentile(nil) = %v, want 0", got)
	}
}

func TestMS(t *testing.T) {
	if got := MS(1500 * time.Microsecond); got != "1.5" {
		t.Errorf("MS(1.5ms) = %q", got)
	}
	if got := MS(1234 * time.Millisecond); got != "1234" {
		t.Errorf("MS(1.234s) = %q", got)
	}
}
