package main

import (
	"slices"
	"strings"
	"testing"
)

func TestParseSizes(t *testing.T) {
	got, err := parseSizes("1, 100,1000")
	if err != nil || !slices.Equal(got, []int{1, 100, 1000}) {
		t.Fatalf("parseSizes(1, 100,1000) = %v, %v; want [1 100 1000]", got, err)
	}
	for _, bad := range []string{"1,,2", "0", "1,big"} {
		if _, err := parseSizes(bad); err == nil || !strings.Contains(err.Error(), "not a whole number of megabytes") {
			t.Errorf("parseSizes(%q) = %v; want an error naming the bad size", bad, err)
		}
	}
}

func TestSizedKeysListTheDatabase(t *testing.T) {
	keys := sizedKeys(sizedHost(300))
	for _, want := range []string{"host: db-300.bench-swap.test", "databases: [/data/app.sqlite3]"} {
		if !strings.Contains(keys, want) {
			t.Errorf("sizedKeys lacks %q:\n%s", want, keys)
		}
	}
}
