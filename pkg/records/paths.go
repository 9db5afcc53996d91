package records

// The exact bytes of the path fields that have a _b64 sibling (see
// EncodePath). Consumers use these, never the display form.

// ExactKey is the atom key.
func (a Atom) ExactKey() (string, error) { return DecodePath(a.Key, a.KeyB64) }

// ExactPath is where the atom is read.
func (a Atom) ExactPath() (string, error) { return DecodePath(a.Path, a.PathB64) }

// ExactFrom is the first path of the part.
func (p Part) ExactFrom() (string, error) { return DecodePath(p.From, p.FromB64) }

// ExactAtom is the atom key.
func (a BagAtom) ExactAtom() (string, error) { return DecodePath(a.Atom, a.AtomB64) }

// ExactPath is where the atom is read.
func (a BagAtom) ExactPath() (string, error) { return DecodePath(a.Path, a.PathB64) }

// ExactFrom is the first path of the part ("" when not split).
func (a BagAtom) ExactFrom() (string, error) { return DecodePath(a.From, a.FromB64) }

// ExactTo is the first path of the next part ("" for the last part).
func (a BagAtom) ExactTo() (string, error) { return DecodePath(a.To, a.ToB64) }

// ExactAtom is the atom key.
func (k Keep) ExactAtom() (string, error) { return DecodePath(k.Atom, k.AtomB64) }

// ExactAtom is the atom key.
func (g Gone) ExactAtom() (string, error) { return DecodePath(g.Atom, g.AtomB64) }

// ExactAtom is the atom key.
func (f Forget) ExactAtom() (string, error) { return DecodePath(f.Atom, f.AtomB64) }

// ExactPath is the entry concerned.
func (w Warning) ExactPath() (string, error) { return DecodePath(w.Path, w.PathB64) }
