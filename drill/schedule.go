package drill

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
)

// Schedule is when a drill runs: a 5-field cron expression in the host's
// local time, each field expanded in Go into the list of values it
// matches, so that the script on the host only looks a minute up in a
// list and never parses cron.
type Schedule struct {
	Spec string // as the user wrote it: hourly, daily, or the expression
	// Minutes, Hours, Days, Months and Weekdays (0 is Sunday) are the
	// values each field matches.
	Minutes, Hours, Days, Months, Weekdays []int
	// AnyDay and AnyWeekday say the day-of-month or day-of-week field was
	// *: as in cron, when both are restricted a day matching either runs.
	AnyDay, AnyWeekday bool
}

// String is the schedule as the user wrote it.
func (s Schedule) String() string { return s.Spec }

// field is one of cron's five fields and its range.
type field struct {
	name     string
	min, max int
}

var fields = [5]field{
	{"minute", 0, 59},
	{"hour", 0, 23},
	{"day of month", 1, 31},
	{"month", 1, 12},
	{"day of week", 0, 7},
}

// ParseSchedule reads hourly, daily (at minute 0, and at 00:00), or a
// 5-field cron expression whose fields are *, */N, N, N-M, N-M/S or
// comma lists of those. An error names the field at fault.
func ParseSchedule(spec string) (Schedule, error) {
	expr := strings.TrimSpace(spec)
	switch expr {
	case "hourly", "@hourly":
		expr = "0 * * * *"
	case "daily", "@daily":
		expr = "0 0 * * *"
	}
	parts := strings.Fields(expr)
	if len(parts) != 5 {
		return Schedule{}, fmt.Errorf("schedule %q: want hourly, daily, or a cron expression of 5 fields (minute hour day-of-month month day-of-week), such as \"*/15 * * * *\"", spec)
	}
	s := Schedule{Spec: strings.TrimSpace(spec), AnyDay: parts[2] == "*", AnyWeekday: parts[4] == "*"}
	lists := []*[]int{&s.Minutes, &s.Hours, &s.Days, &s.Months, &s.Weekdays}
	for i, p := range parts {
		values, err := expand(p, fields[i])
		if err != nil {
			return Schedule{}, fmt.Errorf("schedule %q: the %s field %q: %w", spec, fields[i].name, p, err)
		}
		*lists[i] = values
	}
	// 7 is Sunday too.
	if slices.Contains(s.Weekdays, 7) {
		s.Weekdays = slices.DeleteFunc(s.Weekdays, func(d int) bool { return d == 7 })
		if !slices.Contains(s.Weekdays, 0) {
			s.Weekdays = append([]int{0}, s.Weekdays...)
		}
	}
	return s, nil
}

// expand lists the values a field matches, in order.
func expand(p string, f field) ([]int, error) {
	set := map[int]bool{}
	for item := range strings.SplitSeq(p, ",") {
		rng, stepText, stepped := strings.Cut(item, "/")
		step := 1
		if stepped {
			n, err := strconv.Atoi(stepText)
			if err != nil || n < 1 {
				return nil, fmt.Errorf("the step %q should be a whole number of 1 or more", stepText)
			}
			step = n
		}
		lo, hi := f.min, f.max
		switch {
		case rng == "*":
		case strings.Contains(rng, "-"):
			a, b, _ := strings.Cut(rng, "-")
			var err error
			if lo, err = value(a, f); err != nil {
				return nil, err
			}
			if hi, err = value(b, f); err != nil {
				return nil, err
			}
			if lo > hi {
				return nil, fmt.Errorf("the range %s runs backwards", rng)
			}
		default:
			v, err := value(rng, f)
			if err != nil {
				return nil, err
			}
			lo, hi = v, v
			if stepped {
				hi = f.max // N/S is N, N+S, ... as in cron
			}
		}
		for v := lo; v <= hi; v += step {
			set[v] = true
		}
	}
	out := make([]int, 0, len(set))
	for v := range set {
		out = append(out, v)
	}
	slices.Sort(out)
	return out, nil
}

func value(s string, f field) (int, error) {
	n, err := strconv.Atoi(s)
	if err != nil {
		return 0, fmt.Errorf("%q should be a number from %d to %d (names such as mon or jan are not supported)", s, f.min, f.max)
	}
	if n < f.min || n > f.max {
		return 0, fmt.Errorf("%d is out of range (%d to %d)", n, f.min, f.max)
	}
	return n, nil
}

// list is a field's values as the script reads them: comma-separated.
func list(values []int) string {
	s := make([]string, len(values))
	for i, v := range values {
		s[i] = strconv.Itoa(v)
	}
	return strings.Join(s, ",")
}
