package benchkit

import (
	"fmt"
	"slices"
	"time"
)

// MS formats d in milliseconds, with a decimal for the short ones.
func MS(d time.Duration) string {
	m := float64(d) / float64(time.Millisecond)
	if m < 100 {
		return fmt.Sprintf("%.1f", m)
	}
	return fmt.Sprintf("%.0f", m)
}

// Median is the median of ds, the mean of the middle two for an even
// count, and 0 for none.
func Median(ds []time.Duration) time.Duration {
	s := slices.Sorted(slices.Values(ds))
	n := len(s)
	if n == 0 {
		return 0
	}
	if n%2 == 1 {
		return s[n/2]
	}
	return (s[n/2-1] + s[n/2]) / 2
}

// Percentile is the nearest-rank percentile p (0 to 1) of sorted ds, and
// 0 for none.
func Percentile(sorted []time.Duration, p float64) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	i := int(float64(len(sorted))*p+0.999999) - 1
	return sorted[min(max(i, 0), len(sorted)-1)]
}
