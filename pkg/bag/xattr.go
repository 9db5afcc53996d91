package bag

import (
	"archive/tar"
	"bytes"
	"errors"
	"fmt"
	"sort"
	"strings"
	"syscall"

	"golang.org/x/sys/unix"
)

// Extended attributes go into the bag as PAX "SCHILY.xattr.<name>"
// records, the form GNU tar and bsdtar write and read. gb keeps:
//
//   - user.*: the user's own metadata (tags, origin URLs, checksums);
//   - system.posix_acl_access and system.posix_acl_default: POSIX ACLs, in
//     the kernel's binary form, so they come back exactly (numeric ids).
//
// and leaves out security.* (SELinux labels, capabilities: they belong to
// the machine's policy, and restoring them takes privileges), trusted.*
// (root only, used by the system itself) and any other system.* attribute.
// `tar --xattrs --xattrs-include='*' -x` restores them all; without
// --xattrs-include GNU tar restores user.* only.

// maxXattrBytes bounds the xattr values stored for one entry (Linux allows
// 64 KiB per value, and Go's tar reader refuses PAX headers over 1 MiB).
const maxXattrBytes = 256 << 10

// keepXattr reports whether gb archives the extended attribute name.
func keepXattr(name string) bool {
	return strings.HasPrefix(name, "user.") || name == "system.posix_acl_access" || name == "system.posix_acl_default"
}

// xattrs adds the extended attributes gb keeps of abs (or of f, when the
// file is open) to hdr.PAXRecords and their names to e.Xattrs. A file
// without any costs one system call. The error is a warning: attributes
// that could not be read are left out, the entry is still written.
func (w *Writer) xattrs(abs string, f srcFile, hdr *tar.Header, e *Entry) error {
	if w.xnames == nil {
		w.xnames = make([]byte, 1024)
	}
	list := func(buf []byte) (int, error) {
		if f != nil {
			return unix.Flistxattr(int(f.Fd()), buf)
		}
		return unix.Llistxattr(abs, buf)
	}
	n, err := list(w.xnames)
	for errors.Is(err, syscall.ERANGE) {
		var need int
		if need, err = list(nil); err != nil {
			break
		}
		w.xnames = make([]byte, max(need, 2*len(w.xnames)))
		n, err = list(w.xnames)
	}
	if err != nil {
		if errors.Is(err, syscall.ENOTSUP) {
			return nil
		}
		return fmt.Errorf("extended attributes not archived: %v", err)
	}
	var problems []string
	total := 0
	names := w.xnames[:n]
	for len(names) > 0 {
		i := bytes.IndexByte(names, 0)
		if i < 0 {
			i = len(names)
		}
		name := string(names[:i])
		names = names[min(i+1, len(names)):]
		if !keepXattr(name) {
			continue
		}
		if strings.Contains(name, "=") {
			problems = append(problems, fmt.Sprintf("%q: a tar record key cannot hold '='", name))
			continue
		}
		v, err := w.getxattr(abs, f, name)
		if errors.Is(err, syscall.ENODATA) {
			continue // removed since it was listed
		}
		if err != nil {
			problems = append(problems, fmt.Sprintf("%s: %v", name, err))
			continue
		}
		if total += len(name) + len(v); total > maxXattrBytes {
			problems = append(problems, fmt.Sprintf("%s: more than %d bytes of attributes", name, maxXattrBytes))
			continue
		}
		if hdr.PAXRecords == nil {
			hdr.PAXRecords = map[string]string{}
		}
		hdr.PAXRecords["SCHILY.xattr."+name] = string(v)
		e.Xattrs = append(e.Xattrs, name)
	}
	sort.Strings(e.Xattrs)
	if len(problems) > 0 {
		return fmt.Errorf("extended attributes not archived: %s", strings.Join(problems, "; "))
	}
	return nil
}

// getxattr reads one attribute's value into the writer's reusable buffer
// (valid until the next call).
func (w *Writer) getxattr(abs string, f srcFile, name string) ([]byte, error) {
	if w.xvals == nil {
		w.xvals = make([]byte, 4096)
	}
	get := func(buf []byte) (int, error) {
		if f != nil {
			return unix.Fgetxattr(int(f.Fd()), name, buf)
		}
		return unix.Lgetxattr(abs, name, buf)
	}
	for {
		n, err := get(w.xvals)
		if !errors.Is(err, syscall.ERANGE) {
			if err != nil {
				return nil, err
			}
			return w.xvals[:n], nil
		}
		need, err := get(nil)
		if err != nil {
			return nil, err
		}
		w.xvals = make([]byte, max(need, 2*len(w.xvals)))
	}
}

// joinWarn puts two warnings about one entry in one.
func joinWarn(a, b error) error {
	switch {
	case a == nil:
		return b
	case b == nil:
		return a
	}
	return fmt.Errorf("%w; %v", a, b)
}
