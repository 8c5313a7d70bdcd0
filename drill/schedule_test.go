package drill

import (
	"reflect"
	"strings"
	"testing"
)

func TestParseSchedule(t *testing.T) {
	for _, tc := range []struct {
		spec                                   string
		minutes, hours, days, months, weekdays []int
		anyDay, anyWeekday                     bool
	}{
		{"hourly", []int{0}, seq(0, 23, 1), seq(1, 31, 1), seq(1, 12, 1), seq(0, 7, 1)[:7], true, true},
		{"daily", []int{0}, []int{0}, seq(1, 31, 1), seq(1, 12, 1), seq(0, 6, 1), true, true},
		{"*/15 9-17 * * 1-5", []int{0, 15, 30, 45}, seq(9, 17, 1), seq(1, 31, 1), seq(1, 12, 1), []int{1, 2, 3, 4, 5}, true, false},
		{"5,35 */6 1,15 1-12/3 7", []int{5, 35}, []int{0, 6, 12, 18}, []int{1, 15}, []int{1, 4, 7, 10}, []int{0}, false, false},
		{"10/20 0 * * 0,7", []int{10, 30, 50}, []int{0}, seq(1, 31, 1), seq(1, 12, 1), []int{0}, true, false},
	} {
		s, err := ParseSchedule(tc.spec)
		if err != nil {
			t.Errorf("%q: %v", tc.spec, err)
			continue
		}
		got := [][]int{s.Minutes, s.Hours, s.Days, s.Months, s.Weekdays}
		want := [][]int{tc.minutes, tc.hours, tc.days, tc.months, tc.weekdays}
		if !reflect.DeepEqual(got, want) || s.AnyDay != tc.anyDay || s.AnyWeekday != tc.anyWeekday || s.String() != tc.spec {
			t.Errorf("%q: got %v any day %v weekday %v, want %v %v %v", tc.spec, got, s.AnyDay, s.AnyWeekday, want, tc.anyDay, tc.anyWeekday)
		}
	}
}

func TestParseScheduleErrors(t *testing.T) {
	for spec, want := range map[string]string{
		"weekly":        "5 fields",
		"* * * *":       "5 fields",
		"60 * * * *":    "the minute field \"60\": 60 is out of range (0 to 59)",
		"* 24 * * *":    "the hour field",
		"* * 0 * *":     "the day of month field",
		"* * * 13 *":    "the month field",
		"* * * * 8":     "the day of week field",
		"* * * jan *":   "names such as mon or jan are not supported",
		"*/0 * * * *":   "the step \"0\" should be a whole number of 1 or more",
		"30-10 * * * *": "the range 30-10 runs backwards",
		"1,,2 * * * *":  "the minute field",
	} {
		_, err := ParseSchedule(spec)
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%q: %v, want an error with %q", spec, err, want)
		}
	}
}

func seq(from, to, step int) []int {
	var out []int
	for v := from; v <= to; v += step {
		out = append(out, v)
	}
	return out
}
