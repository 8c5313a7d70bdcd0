package ssh

import "strings"

// Quote joins args into one POSIX sh command line, single-quoting every word
// that is not made only of characters the shell never interprets. The remote
// sshd hands the line to the user's login shell, so this is the only place
// where argv meets shell syntax.
func Quote(args ...string) string {
	words := make([]string, len(args))
	for i, arg := range args {
		words[i] = quoteWord(arg)
	}
	return strings.Join(words, " ")
}

func quoteWord(s string) string {
	if s == "" {
		return "''"
	}
	if strings.IndexFunc(s, needsQuote) < 0 {
		return s
	}
	// Inside single quotes nothing is special except the quote itself, which
	// is written as: close quote, escaped quote, reopen quote.
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

func needsQuote(r rune) bool {
	switch {
	case 'a' <= r && r <= 'z', 'A' <= r && r <= 'Z', '0' <= r && r <= '9':
		return false
	}
	return !strings.ContainsRune("@%+=:,./_-", r)
}
