package database

import (
	"fmt"
	"slices"
	"testing"
)

// differences lists, in a stable order, how the replica's row counts
// differ from the live database's.
func TestDifferences(t *testing.T) {
	tests := []struct {
		name          string
		replica, live map[string]int64
		want          []string
	}{
		{"both empty", map[string]int64{}, map[string]int64{}, nil},
		{"nil maps", nil, nil, nil},
		{"equal", map[string]int64{"users": 3, "orders": 10, "empty": 0}, map[string]int64{"orders": 10, "users": 3, "empty": 0}, nil},
		{"table missing from the replica",
			map[string]int64{"users": 3},
			map[string]int64{"users": 3, "orders": 10},
			[]string{"table orders is missing from the replica"}},
		{"empty replica",
			nil,
			map[string]int64{"users": 3, "orders": 0},
			[]string{"table orders is missing from the replica", "table users is missing from the replica"}},
		{"table only in the replica",
			map[string]int64{"users": 3, "old_sessions": 7},
			map[string]int64{"users": 3},
			[]string{"table old_sessions is in the replica but not live"}},
		{"differing counts",
			map[string]int64{"users": 3, "orders": 9},
			map[string]int64{"users": 3, "orders": 10},
			[]string{"orders has 9 rows in the replica, 10 live"}},
		{"replica ahead",
			map[string]int64{"orders": 11},
			map[string]int64{"orders": 10},
			[]string{"orders has 11 rows in the replica, 10 live"}},
		{"everything at once, sorted",
			map[string]int64{"zeta": 1, "beta": 2, "gone": 5, "alpha": 0},
			map[string]int64{"zeta": 2, "beta": 2, "delta": 4, "alpha": 1},
			[]string{
				"alpha has 0 rows in the replica, 1 live",
				"table delta is missing from the replica",
				"zeta has 1 rows in the replica, 2 live",
				"table gone is in the replica but not live",
			}},
		{"odd names",
			map[string]int64{`we"ird t`: 1},
			map[string]int64{`we"ird t`: 2},
			[]string{`we"ird t has 1 rows in the replica, 2 live`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := differences(tt.replica, tt.live)
			if !slices.Equal(got, tt.want) {
				t.Errorf("differences =\n%q\nwant\n%q", got, tt.want)
			}
		})
	}
}

// Map order is random in Go: the same counts always give the same text.
func TestDifferencesDeterministic(t *testing.T) {
	replica, live := map[string]int64{}, map[string]int64{}
	for i := range 50 {
		name := fmt.Sprintf("t%02d", i)
		switch i % 4 {
		case 0:
			replica[name], live[name] = int64(i), int64(i)
		case 1:
			replica[name], live[name] = int64(i), int64(i+1)
		case 2:
			live[name] = int64(i)
		case 3:
			replica[name] = int64(i)
		}
	}
	first := differences(replica, live)
	if len(first) != 37 {
		t.Fatalf("%d differences, want 37: %q", len(first), first)
	}
	for range 100 {
		if got := differences(replica, live); !slices.Equal(got, first) {
			t.Fatalf("differences changed between calls:\n%q\n%q", first, got)
		}
	}
}
