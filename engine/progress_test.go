package engine

import (
	"strings"
	"testing"
)

func TestReadProgress(t *testing.T) {
	for stream, want := range map[string]string{
		`{"status":"Pushing"}{"status":"Pushed"}`:                             "",
		`{"status":"x"}{"error":"denied","errorDetail":{"message":"denied"}}`: "denied",
		`{"errorDetail":{"message":"only detail"}}{"status":"after"}`:         "only detail",
		`{"error":"first"}{"error":"second"}`:                                 "first",
		`{"status":`:                                                          "read progress stream",
	} {
		err := ReadProgress(strings.NewReader(stream))
		if (err == nil) != (want == "") || err != nil && !strings.Contains(err.Error(), want) {
			t.Errorf("ReadProgress(%s) = %v, want %q", stream, err, want)
		}
	}
}
