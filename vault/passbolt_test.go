package vault

import (
	"strings"
	"testing"
)

func TestPassboltFetchAtTheRoot(t *testing.T) {
	f := &fake{answers: answers(`passbolt list resources --filter Name == "A" || Name == "B" --column name --column password --json`,
		`[{"id":"1","folder_parent_id":"","name":"B","password":"b"},{"id":"2","folder_parent_id":"","name":"A","password":"a"}]`)}
	if got := fetchJSON(t, f, Request{Adapter: "passbolt", Secrets: []string{"A", "B"}}); got != `{"B":"b","A":"a"}` {
		t.Errorf("got %s", got)
	}
	wantRan(t, f, "passbolt --version", "passbolt verify",
		`passbolt list resources --filter Name == "A" || Name == "B" --column name --column password --json`)
}

func TestPassboltNestedFolders(t *testing.T) {
	f := &fake{answers: answers(
		`passbolt list folders --filter Name == "proj" --json`, `[{"id":"p1","folder_parent_id":"","name":"proj"}]`,
		`passbolt list folders --filter Name == "sub" && FolderParentID == "p1" --json`, `[{"id":"s 1","folder_parent_id":"p1","name":"sub"}]`,
		`passbolt list resources --filter (Name == "A" && FolderParentID == "s\\ 1") --folder p1 --folder s 1 --column name --column password --json`,
		`[{"id":"9","folder_parent_id":"s 1","name":"A","password":"a"}]`,
	)}
	if got := fetchJSON(t, f, Request{Adapter: "passbolt", From: "proj/sub", Secrets: []string{"A"}}); got != `{"A":"a"}` {
		t.Errorf("got %s (ran %q)", got, f.ran)
	}
}

func TestPassboltMissing(t *testing.T) {
	f := &fake{answers: answers(`passbolt list folders --filter Name == "proj" --json`, `[]`)}
	if msg := fetchErr(t, f, Request{Adapter: "passbolt", Secrets: []string{"proj/A"}}); msg != "Could not find the following folders in Passbolt: proj" {
		t.Errorf("folder: %s", msg)
	}
	f = &fake{answers: answers(`passbolt list resources --filter Name == "A" || Name == "B" --column name --column password --json`, `[{"name":"A","password":"a"}]`)}
	if msg := fetchErr(t, f, Request{Adapter: "passbolt", Secrets: []string{"A", "B"}}); msg != "Could not find the following secrets in Passbolt: B" {
		t.Errorf("secret: %s", msg)
	}
	f = &fake{fail: map[string]bool{"passbolt verify": true}}
	if msg := fetchErr(t, f, Request{Adapter: "passbolt", Secrets: []string{"A"}}); !strings.Contains(msg, "Failed to login to Passbolt") || !strings.Contains(msg, "passbolt configure") {
		t.Errorf("login: %s", msg)
	}
}
