package deploy

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"path"
	"strings"
	"time"

	"github.com/shipdeploy/ship/config"
	"github.com/shipdeploy/ship/host"
	"github.com/shipdeploy/ship/queue"
	"github.com/shipdeploy/ship/spec"
	"github.com/shipdeploy/ship/ssh"
)

// deployedFile records, per role, the newest deploy done from each source
// (queue.Order.Source). It lives on the primary host only, beside the
// role's healthy-version record there, and is read and written only by
// the deployer holding the queue.
func deployedFile(home string, c *config.Config, role string) string {
	return path.Join(spec.AppDir(home, c), "deployed", role)
}

// Latest is the newest deploy of a role done from one source. A deploy
// from that source whose order is older steps aside rather than take
// production backwards; a re-run or --no-coalesce goes ahead and says it
// replaced this one.
type Latest struct {
	Version   string      `json:"version"`
	Order     queue.Order `json:"order"`
	Performer string      `json:"performer"`
	From      string      `json:"from"`      // the machine ship ran on
	Requested time.Time   `json:"requested"` // when the deploy was queued
	At        time.Time   `json:"at"`        // when it was recorded, deployed
}

// Ticket names the deploy as it was named while it waited in the queue.
func (d Latest) Ticket() queue.Ticket {
	return queue.Ticket{Performer: d.Performer, Command: "deploy", Version: d.Version, Since: d.Requested, From: d.From, Order: d.Order}
}

// ReadLatest reads a role's record on h, the primary host: each
// source's newest deploy, by source. A role never deployed from a source
// has none.
func ReadLatest(ctx context.Context, h *host.Host, c *config.Config, role string) (map[string]Latest, error) {
	home, err := h.Home(ctx)
	if err != nil {
		return nil, err
	}
	file := deployedFile(home, c, role)
	var out bytes.Buffer
	cmd := ssh.Script(readHealthyScript, file) // prints a file if it exists
	cmd.Stdout = &out
	if err := h.Shell.Run(ctx, cmd); err != nil {
		return nil, fmt.Errorf("read the record of deployed versions %s on %s: %w", file, h.Name, err)
	}
	record := map[string]Latest{}
	if text := strings.TrimSpace(out.String()); text != "" {
		if err := json.Unmarshal([]byte(text), &record); err != nil {
			return nil, fmt.Errorf("%s on %s is not ship's record of deployed versions (%v); remove it, and the next deploy starts it afresh", file, h.Name, err)
		}
	}
	return record, nil
}

// WriteLatest replaces a role's record on h, the primary host, whole:
// it is written aside and renamed, so a reader never sees half of it.
func WriteLatest(ctx context.Context, h *host.Host, c *config.Config, role string, record map[string]Latest) error {
	home, err := h.Home(ctx)
	if err != nil {
		return err
	}
	data, err := json.Marshal(record)
	if err != nil {
		return err
	}
	file := deployedFile(home, c, role)
	if err := h.Shell.Run(ctx, ssh.Cmd{Args: []string{"mkdir", "-p", path.Dir(file)}}); err != nil {
		return fmt.Errorf("record the deployed version in %s on %s: %w", file, h.Name, err)
	}
	if err := h.Shell.Upload(ctx, file, bytes.NewReader(append(data, '\n')), 0o600, ""); err != nil {
		return fmt.Errorf("record the deployed version in %s on %s: %w", file, h.Name, err)
	}
	return nil
}

// ForgetLatest removes every role's record on h, the primary host: once
// the app is removed, nothing is deployed that a deploy could be older
// than.
func ForgetLatest(ctx context.Context, h *host.Host, c *config.Config) error {
	home, err := h.Home(ctx)
	if err != nil {
		return err
	}
	dir := path.Dir(deployedFile(home, c, "role"))
	if err := h.Shell.Run(ctx, ssh.Cmd{Args: []string{"rm", "-rf", dir}}); err != nil {
		return fmt.Errorf("remove the record of deployed versions %s on %s: %w", dir, h.Name, err)
	}
	return nil
}
