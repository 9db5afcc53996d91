// Package fault lets tests kill a stage with SIGKILL at a named point, so
// "kill -9 in the middle" is tested at exactly the moments that matter
// instead of whenever a timer happens to fire. GB_FAULT=point[:n] kills
// the process the n-th time (default 1st) it reaches point.
//
// The killing is compiled in only with the build tag gbfault (the
// end-to-end tests build the commands with -tags gbfault). Without it,
// as in scripts/build.sh, go build and go install, Point does nothing and
// GB_FAULT is never read: a variable left in a production environment
// cannot kill a backup.
package fault

// Env is the variable that names the points, read only with -tags gbfault.
const Env = "GB_FAULT"
