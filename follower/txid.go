package follower

import (
	"fmt"
	"strconv"
	"strings"
)

// TXID is a Litestream transaction ID. Litestream writes it as 16
// lowercase hex digits, in DB-txid and in its JSON, and reads only that
// form back (ltx.ParseTXID).
type TXID uint64

// String is the TXID as Litestream writes it.
func (t TXID) String() string { return fmt.Sprintf("%016x", uint64(t)) }

// ParseTXID reads a TXID as Litestream writes it; surrounding space (the
// newline DB-txid ends with) is ignored, as Litestream ignores it.
func ParseTXID(s string) (TXID, error) {
	s = strings.TrimSpace(s)
	if len(s) != 16 {
		return 0, fmt.Errorf("transaction ID %q: want 16 hex digits", s)
	}
	v, err := strconv.ParseUint(s, 16, 64)
	if err != nil {
		return 0, fmt.Errorf("transaction ID %q: want 16 hex digits", s)
	}
	return TXID(v), nil
}
