package follower

import "testing"

// A TXID round-trips in Litestream's form, and DB-txid's newline is
// accepted, as Litestream's ReadTXIDFile accepts it.
func TestTXID(t *testing.T) {
	for in, want := range map[string]TXID{
		"0000000000000001":   1,
		"00000000000a3f21\n": 0xa3f21,
		" ffffffffffffffff ": 1<<64 - 1,
	} {
		got, err := ParseTXID(in)
		if err != nil || got != want {
			t.Errorf("ParseTXID(%q) = %v, %v; want %v", in, got, err, want)
		}
	}
	for _, bad := range []string{"", "1", "000000000000000g", "00000000000000001", "0x00000000000001"} {
		if _, err := ParseTXID(bad); err == nil {
			t.Errorf("ParseTXID(%q) accepted it", bad)
		}
	}
}
