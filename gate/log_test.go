package gate

import (
	"testing"
	"time"
)

func TestLastEntry(t *testing.T) {
	text := `{"time":"2026-12-06T10:00:00.125Z","state":"out","reason":"shop-follower is exited (137)","containers":["shop-replicas-v2"]}
{"time":"2026-12-06T10:01:00.500Z","state":"in","reason":"every follower runs","containers":["shop-replicas-v2"]}
{"time":"2026-12-06T10:02:00.000Z","state":"out","rea`
	e := lastEntry(text)
	if e == nil || e.State != In || e.State.String() != "in" || e.Containers[0] != "shop-replicas-v2" ||
		!e.Time.Equal(time.Date(2026, 12, 6, 10, 1, 0, 500e6, time.UTC)) {
		t.Errorf("the last whole entry: %+v", e)
	}
	if lastEntry("") != nil || lastEntry("not json\n") != nil {
		t.Error("an entry from no log")
	}
}
