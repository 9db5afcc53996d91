//go:build !gbfault

package fault

// Enabled reports whether this build kills at fault points.
const Enabled = false

// Point does nothing: this build has no fault injection.
func Point(name string) {}
