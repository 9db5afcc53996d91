package find

import "unicode/utf8"

// RawArg recovers the exact bytes of a command-line argument that the
// flag parser (kong) has read as a Go string with each byte that is not
// UTF-8 turned into U+FFFD: the argument in args that reads as parsed.
// It returns parsed itself when no argument, or more than one different
// one, fits.
func RawArg(args []string, parsed string) string {
	if !utf8.ValidString(parsed) {
		return parsed
	}
	found := ""
	for _, a := range args {
		if a == parsed {
			return parsed
		}
		if utf8.ValidString(a) || string([]rune(a)) != parsed {
			continue
		}
		if found != "" && found != a {
			return parsed
		}
		found = a
	}
	if found == "" {
		return parsed
	}
	return found
}
