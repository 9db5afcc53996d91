// Package shape holds tests of the code base's shape rather than of its
// behaviour: no function in pkg/ longer than the limit, and no GB_*
// variable read in the code without being documented.
package shape
