package ssh

import (
	"context"
	"path"
	"strings"
)

// Runner runs commands on a host; *Conn is one. Packages that only run
// commands take a Runner, so that their tests can run the same commands
// on this machine.
type Runner interface {
	Run(ctx context.Context, cmd Cmd) error
}

var _ Runner = (*Conn)(nil)

// Script is the command that runs script, the text of one of ship's
// embedded .sh files, with args as its positional parameters $1, $2, ...
// The shell is the one its shebang names: bash for "#!/usr/bin/env bash"
// or "#!/bin/bash", sh otherwise. $0 is that shell's name.
//
// Arguments travel as separate words, never spliced into the script, so
// they need no quoting of their own.
func Script(script string, args ...string) Cmd {
	return NamedScript(shell(script), script, args...)
}

// NamedScript is Script with $0 set to name, which the shell puts before
// its own error messages ("name: line 3: ...").
func NamedScript(name, script string, args ...string) Cmd {
	return Cmd{Args: append([]string{shell(script), "-c", script, name}, args...)}
}

// shell is the shell that script's shebang line names: "bash" or "sh".
func shell(script string) string {
	line, _, _ := strings.Cut(script, "\n")
	rest, ok := strings.CutPrefix(line, "#!")
	if !ok {
		return "sh"
	}
	words := strings.Fields(rest)
	if len(words) > 1 && path.Base(words[0]) == "env" {
		words = words[1:]
	}
	if len(words) > 0 && path.Base(words[0]) == "bash" {
		return "bash"
	}
	return "sh"
}
