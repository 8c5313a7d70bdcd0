package deploy

import (
	"fmt"
	"maps"
	"path"
	"slices"
	"strings"
)

// DataCheck is what the failure path found when it compared the databases
// with the swap's restore point, after a new version started and failed.
// In JSON it is its word (docs/json.md), which never changes.
type DataCheck string

// Data checks.
const (
	// SchemaChanged: the failed version changed the schema of at least
	// one database (PRAGMA schema_version or user_version differ from the
	// restore point), so the old version could not work on it.
	SchemaChanged DataCheck = "schema_changed"
	// SchemaUnchanged: every schema is as the old version left it; the
	// data stays as the failed version left it.
	SchemaUnchanged DataCheck = "schema_unchanged"
	// DataNotChecked: ship knows no databases on the host, or could not
	// read them: whether the schema changed is unknown.
	DataNotChecked DataCheck = "not_checked"
)

// DataUndo is what the data step of the failure path (Request.Undo) did.
type DataUndo struct {
	Check DataCheck
	// Restored: every database is back as the old version left it, from
	// the restore point of this swap, and its schema matches it again.
	Restored bool
	// Databases are the databases compared, in config order.
	Databases []DatabaseUndo
	// Note says what a person must know: why the schema was not checked,
	// or what went wrong putting the data back; "" when all went well.
	Note string
}

// DatabaseUndo is one database after a failed start: the JSON object of
// docs/json.md's hosts[].databases.
type DatabaseUndo struct {
	Database      string `json:"database"` // its path inside the app container
	SchemaChanged bool   `json:"schema_changed"`
	// SetAside is the directory on the host, beside the database, that
	// holds the failed version's files; "" when they were not set aside.
	SetAside string `json:"set_aside,omitempty"`
	// RowChanges are the tables whose row count differs between the files
	// set aside and the restore point: the failed version's count minus
	// the restore point's. Rows it added are only in SetAside now.
	RowChanges map[string]int64 `json:"row_changes,omitempty"`
}

// summary is the sentence the outcome's error, the audit log and the step
// summary carry about the data, for failed (the version that failed) and
// from (the one put back).
func (u *DataUndo) summary(failed, from string) string {
	if u == nil {
		return ""
	}
	var b strings.Builder
	switch u.Check {
	case DataNotChecked:
		fmt.Fprintf(&b, "ship could not check whether %s changed a database's schema: %s", failed, u.Note)
		return b.String()
	case SchemaUnchanged:
		fmt.Fprintf(&b, "%s changed no database's schema, so the data stays as it left it", failed)
		return b.String()
	}
	fmt.Fprintf(&b, "%s changed the schema of %s", failed, strings.Join(u.changed(), ", "))
	if !u.Restored {
		fmt.Fprintf(&b, ", and putting the data back failed: %s", u.Note)
		return b.String()
	}
	fmt.Fprintf(&b, ", so every database was put back as %s left it (the restore point of this deploy) and %s's files were set aside beside each database, in NAME%s",
		from, failed, u.asideSuffix())
	if u.Note != "" {
		b.WriteString("; " + u.Note)
	}
	return b.String()
}

// wrote says what the failed version wrote before it failed, by the row
// counts of the files set aside, and where those rows are; "" when the
// counts are those of the restore point.
func (u *DataUndo) wrote(failed string) string {
	if u == nil {
		return ""
	}
	var parts []string
	for _, d := range u.Databases {
		if len(d.RowChanges) == 0 {
			continue
		}
		var tables []string
		for _, t := range slices.Sorted(maps.Keys(d.RowChanges)) {
			tables = append(tables, fmt.Sprintf("%s %+d", t, d.RowChanges[t]))
		}
		parts = append(parts, fmt.Sprintf("%s in %s", strings.Join(tables, ", "), path.Join(d.SetAside, path.Base(d.Database))))
	}
	if len(parts) == 0 {
		return ""
	}
	return fmt.Sprintf("%s wrote rows before it failed, which are now only in its files set aside, never deleted (rows per table against the restore point): %s", failed, strings.Join(parts, "; "))
}

// asideSuffix is what the names of the directories set aside add to the
// database's name: ".failed-VERSION-TIME", the same for every database.
func (u *DataUndo) asideSuffix() string {
	for _, d := range u.Databases {
		if d.SetAside != "" {
			return strings.TrimPrefix(path.Base(d.SetAside), path.Base(d.Database))
		}
	}
	return ""
}

func (u *DataUndo) changed() []string {
	var out []string
	for _, d := range u.Databases {
		if d.SchemaChanged {
			out = append(out, d.Database)
		}
	}
	return out
}

func (u *DataUndo) asides() []string {
	var out []string
	for _, d := range u.Databases {
		if d.SetAside != "" {
			out = append(out, d.SetAside)
		}
	}
	return out
}

// restoredData says whether the failure path left the old version on the
// data it expects: no schema changed, or the restore point is back.
func (u *DataUndo) restoredData() bool {
	return u == nil || u.Check != SchemaChanged || u.Restored
}
