package testapp

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// scanInterval is the pause between scans: short, so that a command that
// lives a few milliseconds is still seen.
const scanInterval = 2 * time.Millisecond

// ArgvScanner watches this machine's command lines for a needle.
type ArgvScanner struct {
	t      testing.TB
	needle []byte
	stop   chan struct{}
	done   chan struct{}
	once   sync.Once

	// Owned by the scanning goroutine until done is closed.
	found []string
	seen  map[string]bool
	err   error
}

// ScanArgv scans /proc/*/cmdline until Stop, for processes whose arguments
// contain needle. It covers every process on this machine, those of both
// test hosts' containers and sshd sessions included. A process that lives
// less than one scan, a few milliseconds, can slip through.
func ScanArgv(t testing.TB, needle string) *ArgvScanner {
	t.Helper()
	if needle == "" {
		t.Fatal("testapp: ScanArgv with an empty needle")
	}
	s := &ArgvScanner{
		t:      t,
		needle: []byte(needle),
		stop:   make(chan struct{}),
		done:   make(chan struct{}),
		seen:   map[string]bool{},
	}
	go s.run()
	t.Cleanup(s.halt)
	return s
}

// Stop ends the scan and returns each process seen with the needle in its
// arguments, as "pid N: ARGV" with the needle replaced by [REDACTED].
func (s *ArgvScanner) Stop() []string {
	s.t.Helper()
	s.halt()
	if s.err != nil {
		s.t.Errorf("testapp: scan command lines: %v", s.err)
	}
	return s.found
}

func (s *ArgvScanner) halt() {
	s.once.Do(func() { close(s.stop) })
	<-s.done
}

func (s *ArgvScanner) run() {
	defer close(s.done)
	for {
		if err := s.scan(); err != nil {
			s.err = err
			return
		}
		select {
		case <-s.stop:
			return
		case <-time.After(scanInterval):
		}
	}
}

func (s *ArgvScanner) scan() error {
	entries, err := os.ReadDir("/proc")
	if err != nil {
		return fmt.Errorf("list processes: %w", err)
	}
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue // not a process
		}
		// Read errors mean the process has exited meanwhile.
		cmdline, err := os.ReadFile(filepath.Join("/proc", e.Name(), "cmdline"))
		if err != nil {
			continue
		}
		// Arguments are NUL-separated; joined with spaces, a needle split
		// across arguments by a shell is found too.
		argv := bytes.TrimRight(bytes.ReplaceAll(cmdline, []byte{0}, []byte{' '}), " ")
		if !bytes.Contains(argv, s.needle) {
			continue
		}
		hit := fmt.Sprintf("pid %d: %s", pid, strings.ReplaceAll(string(argv), string(s.needle), "[REDACTED]"))
		if !s.seen[hit] {
			s.seen[hit] = true
			s.found = append(s.found, hit)
		}
	}
	return nil
}
