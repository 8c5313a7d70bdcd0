package onhost

import "testing"

func TestConf(t *testing.T) {
	var c Conf
	c.Add("name", "shop")
	c.Add("db", "/data/a", "/data/b")
	c.Add("empty")
	if b, err := c.Text(); err != nil || string(b) != "name shop\ndb /data/a\ndb /data/b\n" {
		t.Errorf("text %q %v", b, err)
	}
	c.Add("url", "https://x\nrm -rf /")
	if _, err := c.Text(); err == nil {
		t.Error("a line break was passed to the host")
	}
}
