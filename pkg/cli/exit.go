package cli

import (
	"errors"
	"fmt"
	"io"

	"github.com/gbarchive/gb/pkg/config"
	"github.com/gbarchive/gb/pkg/exitcode"
	"github.com/gbarchive/gb/pkg/records"
)

// Code is the exit code of a command whose run returned err. It is the
// one place where errors become codes (the table is pkg/exitcode's): an
// error that carries its code (exitcode.Coder) decides; a configuration
// or input-file error (config.Error) is a usage error; warnings
// (records.ErrWarnings) are done-with-warnings; anything else failed.
func Code(err error) int {
	if c, ok := exitcode.Of(err); ok {
		return c
	}
	switch {
	case errors.Is(err, records.ErrWarnings):
		return exitcode.Warnings
	case config.IsConfigError(err):
		return exitcode.Usage
	}
	return exitcode.Failure
}

// Report says err once on w, as the command's last word, and returns its
// exit code: an error line (and a hint line when the error has one) for a
// failure or a usage error, a warning line for warnings. The other codes
// are outcomes (no match, bags still thawing or frozen, nothing changed)
// that the command's own summary line has already told: a bare
// exitcode.Error adds nothing to it and is not printed; one wrapped with
// more to say (which lock is held) is printed as a plain line.
func Report(w io.Writer, name string, err error) int {
	code := Code(err)
	switch code {
	case exitcode.OK:
	case exitcode.Warnings:
		fmt.Fprintf(w, "%s: warning: %v\n", name, err)
		hint(w, name, err)
	case exitcode.Failure, exitcode.Usage:
		fmt.Fprintf(w, "%s: error: %v\n", name, err)
		hint(w, name, err)
	default:
		var e exitcode.Error
		if !errors.As(err, &e) || err.Error() != e.Msg {
			fmt.Fprintf(w, "%s: %v\n", name, err)
		}
	}
	return code
}

// hint writes the error's hint line, when it has one: what to do about it.
func hint(w io.Writer, name string, err error) {
	var h interface{ HintText() string }
	if errors.As(err, &h) && h.HintText() != "" {
		fmt.Fprintf(w, "%s: hint: %s\n", name, h.HintText())
	}
}
